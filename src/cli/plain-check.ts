// The fast path of `skepsis check`: a plain check (the file and known flags, see plainCheckArgs)
// with the CLI's exit codes and error reports, without yargs. bin/skepsis.cjs runs it from a
// one-file bundle with a V8 code cache (built by src/build/check-bundle.ts), which starts several
// times faster than Node's ES module loader can load the modules it is made of; main.ts runs it
// from the modules when the bundle is missing or stale.

import { runPlainCheck } from './check.js';
import { exitForError } from './exit.js';

/**
 * Runs `skepsis check ARGS` when `args` (after `check`) are a plain check; resolves to the exit
 * code. Undefined when they are not (help, an unknown or repeated flag, ...): the full CLI takes them.
 */
export function plainCheck(args: string[]): Promise<number> | undefined {
  const pending = runPlainCheck(args);
  if (pending === undefined) return undefined;
  return pending.catch((error: unknown) => exitForError('skepsis check', error));
}
