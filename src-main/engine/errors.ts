/** One-line error text for users: the message's first line, never a stack. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return (e.message || e.name).split('\n')[0].trim();
  return String(e).split('\n')[0];
}
