// Exit codes shared by every subcommand, the error for bad usage, and the report of an internal error.

import { inspect } from 'node:util';

export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;
export const EXIT_UNKNOWN = 2;
/**
 * An internal error (a bug, or the machine refused what was needed): never a verdict. Not 1, which
 * Node.js gives an uncaught error and which would read as "not linearizable".
 */
export const EXIT_INTERNAL = 3;
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

/**
 * Reports an error that reached the top of a command: bad usage (UsageError) is said as such, exit
 * EXIT_USAGE; anything else is an internal error with its stack, exit EXIT_INTERNAL. Returns the code.
 */
export function exitForError(command: string, error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`skepsis: ${error.message}\n`);
    return EXIT_USAGE;
  }
  process.stderr.write(internalErrorText(command, error));
  return EXIT_INTERNAL;
}

/** What stderr says of an internal error: that it is one and no verdict, then the stack (and causes). */
export function internalErrorText(command: string, error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return `${command}: internal error, no verdict (exit ${EXIT_INTERNAL}): ${message}\n${inspect(error)}\n`;
}
