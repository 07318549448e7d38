/**
 * JSON written in pieces, byte-identical to JSON.stringify(value, null, 2), so a report of a
 * hundred thousand rows or a header of a million tensors never exists as one string. Arrays and
 * objects at the top two levels are streamed; anything iterable there (a generator) is written as
 * an array, so rows can be produced while they are written.
 */

const INDENT = '  ';
const STREAM_DEPTH = 2;

function isIterable(v: unknown): v is Iterable<unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
  );
}

function skipped(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** The pieces of JSON.stringify(value, null, 2); their concatenation is exactly that string. */
export function jsonChunks(value: unknown): Generator<string> {
  return chunks(value, true, 0);
}

/** The pieces of JSON.stringify(value) (no indentation), streamed like jsonChunks. */
export function compactJsonChunks(value: unknown): Generator<string> {
  return chunks(value, false, 0);
}

/** pretty: JSON.stringify's 2-space layout (a newline and the indent before each member), else none */
function* chunks(value: unknown, pretty: boolean, depth: number): Generator<string> {
  const pad = pretty ? INDENT.repeat(depth) : '';
  const open = pretty ? `\n${pad}${INDENT}` : ''; // before each member
  const close = pretty ? `\n${pad}` : ''; // before the closing bracket
  if (depth < STREAM_DEPTH && isIterable(value) && typeof value !== 'string') {
    let first = true;
    for (const el of value) {
      yield `${first ? '[' : ','}${open}`;
      first = false;
      // JSON.stringify writes undefined and functions inside arrays as null.
      if (skipped(el)) yield 'null';
      else yield* chunks(el, pretty, depth + 1);
    }
    yield first ? '[]' : `${close}]`;
    return;
  }
  if (
    depth < STREAM_DEPTH &&
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { toJSON?: unknown }).toJSON !== 'function'
  ) {
    let first = true;
    for (const [k, v] of Object.entries(value)) {
      if (skipped(v)) continue;
      yield `${first ? '{' : ','}${open}${JSON.stringify(k)}:${pretty ? ' ' : ''}`;
      first = false;
      yield* chunks(v, pretty, depth + 1);
    }
    yield first ? '{}' : `${close}}`;
    return;
  }
  if (!pretty) {
    yield JSON.stringify(value) ?? 'null';
    return;
  }
  const s = JSON.stringify(value, null, 2) ?? 'null';
  // JSON text never holds a raw newline inside a string, so each newline starts a new line.
  yield depth === 0 ? s : s.replace(/\n/g, `\n${pad}`);
}

export interface Sink {
  write(chunk: string): boolean;
  once(event: 'drain', cb: () => void): unknown;
}

/** Writes text pieces in writes of about 1 MB, honouring backpressure. */
export async function writeChunks(out: Sink, chunks: Iterable<string>): Promise<void> {
  let buf: string[] = [];
  let size = 0;
  const flush = async () => {
    const ok = out.write(buf.join(''));
    buf = [];
    size = 0;
    if (!ok) await new Promise<void>((resolve) => out.once('drain', resolve));
  };
  for (const c of chunks) {
    buf.push(c);
    size += c.length;
    if (size >= 1 << 20) await flush();
  }
  if (size > 0) await flush();
}

/** Writes value as indented JSON plus a newline, in pieces of about 1 MB, honouring backpressure. */
export async function writeJson(out: Sink, value: unknown): Promise<void> {
  await writeChunks(
    out,
    (function* () {
      yield* jsonChunks(value);
      yield '\n';
    })(),
  );
}
