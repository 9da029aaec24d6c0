// Exit codes shared by every subcommand, and the error for bad usage.

export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;
export const EXIT_UNKNOWN = 2;
/** Bad usage or bad input: never a verdict. */
export const EXIT_USAGE = 254;

/** A flag or value the user got wrong; the message names it and what is allowed. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function exitCodeFor(valid: true | false | 'unknown'): number {
  return valid === true ? EXIT_VALID : valid === false ? EXIT_INVALID : EXIT_UNKNOWN;
}
