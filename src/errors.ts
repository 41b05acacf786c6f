/**
 * Error kinds and their exit codes.
 *
 * A UserError is bad input the user can fix (config, files, flags): exit 2, one line.
 * Anything else is a bug or an environment failure: exit 1, stack with --verbose.
 */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** A one-line description of any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0] ?? String(e);
  return String(e);
}
