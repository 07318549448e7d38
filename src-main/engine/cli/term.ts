/**
 * Text from a model file (tensor names, metadata keys and values, error messages quoting them) is
 * untrusted: raw control characters reach the terminal as commands (OSC title changes, screen clears,
 * `\r` overwriting a line, C1 CSI), and bidi overrides reorder what the user reads. Every CLI printer
 * passes such text through termSafe, which shows those characters as visible escapes instead.
 */

// C0 (U+0000-U+001F), DEL, C1 (U+0080-U+009F), the bidi controls (LRM, RLM, ALM, embeddings,
// overrides, isolates) and the Unicode line/paragraph separators.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(ch: string): string {
  const c = ch.charCodeAt(0);
  return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
}

/** s with every control, DEL, C1 and bidi character written as `\x1b` / `\u202e`; other text as is. */
export function termSafe(s: string): string {
  return s.replace(UNSAFE, escapeChar);
}

/** termSafe for a message that keeps its own line breaks: each line made safe separately. */
export function termSafeLines(s: string): string {
  return s
    .split('\n')
    .map((l) => termSafe(l))
    .join('\n');
}
