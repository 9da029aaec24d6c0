#!/usr/bin/env node
// Entry point for `npx skepsis`: runs the compiled CLI (built by `npm ci` through the prepare script).
// CommonJS on purpose: a plain `skepsis check` runs from one bundled file with a V8 code cache
// (dist/checker/check-cli.cjs, see src/build/check-bundle.ts) and never starts Node's ES module
// loader, which cost it more than a third of its start-up; everything else loads the ES modules.
'use strict';
const { existsSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { inspect } = require('node:util');

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

const DIST = join(__dirname, '..', 'dist');

/**
 * The check bundle's exports, or undefined when it cannot be used: missing, older than the modules
 * it was built from (tsc ran after the bundle), or SKEPSIS_NO_CHECK_BUNDLE is set. The code cache
 * is only an aid: V8 rejects a stale one and compiles as usual.
 */
function loadCheckBundle() {
  if (process.env.SKEPSIS_NO_CHECK_BUNDLE) return undefined;
  const bundle = join(DIST, 'checker', 'check-cli.cjs');
  let source;
  try {
    if (statSync(bundle).mtimeMs < statSync(join(DIST, 'src', 'cli', 'plain-check.js')).mtimeMs) return undefined;
    source = readFileSync(bundle, 'utf8');
  } catch {
    return undefined;
  }
  const vm = require('node:vm');
  const Module = require('node:module');
  let cachedData;
  try {
    cachedData = readFileSync(`${bundle}.cache`);
  } catch {
    // No cache: compiled as any script is.
  }
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(bundle), module, bundle, join(DIST, 'checker'));
  // The build runs one check with this set, and keeps the code V8 compiled for it.
  const cacheOut = process.env.SKEPSIS_WRITE_CODE_CACHE;
  if (cacheOut) process.on('beforeExit', () => writeFileSync(cacheOut, script.createCachedData()));
  return module.exports;
}

async function main(argv) {
  if (argv[0] === 'check') {
    const pending = loadCheckBundle()?.plainCheck(argv.slice(1));
    if (pending !== undefined) return pending;
  }
  const entry = join(DIST, 'src', 'cli', 'main.js');
  if (!existsSync(entry)) {
    process.stderr.write('skepsis: the compiled CLI is missing (dist/). Run `npm ci` or `npm run build` first.\n');
    return 254;
  }
  const { run } = await import(pathToFileURL(entry).href);
  return run(argv);
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, internalError);
