/** How errors cross every boundary: one line a user can act on, never a stack. */

/** Longest error line a face passes on. */
export const MAX_ERROR_CHARS = 500;

/** The first line of an error's message, trimmed and bounded. */
export function oneLine(e: unknown, maxChars = MAX_ERROR_CHARS): string {
  const msg = e instanceof Error ? e.message || e.name : String(e);
  const line = msg.split('\n')[0].trim() || 'unknown error';
  return line.length > maxChars ? `${line.slice(0, maxChars - 3)}...` : line;
}

/** Arguments that do not match the method table's schema (the HTTP server answers 400). */
export class ApiArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiArgumentError';
  }
}

export function isApiArgumentError(e: unknown): e is ApiArgumentError {
  return e instanceof Error && e.name === 'ApiArgumentError';
}

/**
 * A call that names something the engine does not have: a run id or a record id that is unknown
 * (never was, or no longer kept). The HTTP server answers 404; every face shows the message.
 */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export function isNotFoundError(e: unknown): e is NotFoundError {
  return e instanceof Error && e.name === 'NotFoundError';
}
