#!/usr/bin/env node
// Entry point for `npx skepsis`: runs the compiled CLI (built by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('skepsis: the compiled CLI is missing (dist/). Run `npm ci` or `npm run build` first.\n');
  process.exit(254);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
