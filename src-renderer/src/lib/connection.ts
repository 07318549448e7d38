/** Re-authentication after `quantscope serve` restarted with a new token (pure, unit-tested). */

/**
 * Where to go with what the user pasted: the URL the server printed (any origin: the port may have
 * changed too) or the bare token (this page again, with it). Returns an error line when neither.
 */
export function reauthTarget(input: string, currentHref: string): { href: string } | { error: string } {
  const text = input.trim();
  if (!text) return { error: 'Paste the URL that `quantscope serve` printed, or its token.' };
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return { error: `"${text.slice(0, 80)}" is not a URL.` };
    }
    if (!url.searchParams.get('token'))
      return { error: 'That URL has no ?token=…: paste the whole line `quantscope serve` printed.' };
    return { href: url.href };
  }
  if (!/^[A-Za-z0-9._~-]{8,256}$/.test(text))
    return { error: 'A token is 8–256 letters, digits, ".", "_", "~" or "-"; or paste the whole URL.' };
  const url = new URL(currentHref);
  url.searchParams.set('token', text);
  url.hash = '';
  return { href: url.href };
}
