#!/usr/bin/env node
// Entry point for `npx skepsis`: runs the compiled CLI (built by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';

/**
 * An error that escapes the CLI (thrown from a callback after a command's handler returned, or while
 * loading it) is an internal error: exit 3 (EXIT_INTERNAL in src/cli/exit.ts), not the 1 Node.js
 * gives it, which would read as "not linearizable".
 */
function internalError(error) {
  process.stderr.write(`skepsis: internal error, no verdict (exit 3): ${inspect(error)}\n`);
  process.exit(3);
}
process.on('uncaughtException', internalError);

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('skepsis: the compiled CLI is missing (dist/). Run `npm ci` or `npm run build` first.\n');
  process.exit(254);
}
try {
  const { run } = await import(main.href);
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  internalError(error);
}
