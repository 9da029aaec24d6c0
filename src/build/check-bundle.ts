// Part of `npm run build`, after tsc: bundles the fast path of `skepsis check` (src/cli/plain-check
// and the checker it uses) into one CommonJS file, dist/checker/check-cli.cjs, and writes its V8
// code cache beside it by running it once on checker/examples/stale-read.jsonl. bin/skepsis.cjs
// loads that file instead of some fifteen ES modules: Node 20's ES module loader took most of the
// check's start-up (README, "How fast": about 35 ms over bare Node from the modules, 6 to 11 from
// the bundle).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROOT = join(DIST, '..');
const BUNDLE = join(DIST, 'checker', 'check-cli.cjs');
const ENTRY = join(DIST, 'src', 'cli', 'plain-check.js');

/**
 * In a CommonJS bundle `import.meta` is empty. The checker's modules live in dist/checker/ beside
 * the bundle, so `import.meta.url` becomes the bundle's own URL (a banner defines it), which
 * resolves `./worker.js` as checker/check.js does; a module anywhere else that used it would resolve
 * wrong, so the build refuses one. The banner comes before esbuild's "use strict", so it says it itself.
 */
const META_URL_BANNER = `"use strict";\nconst import_meta_url = require('node:url').pathToFileURL(__filename).href;`;

function bundle(): void {
  const result = buildSync({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: BUNDLE,
    define: { 'import.meta.url': 'import_meta_url' },
    banner: { js: META_URL_BANNER },
    // import() becomes require(): a script run through vm.Script (as bin/skepsis.cjs runs the
    // bundle) has no loader for import() without an experimental flag; the checker imports
    // node:os and node:worker_threads so, to start faster when they are not needed.
    supported: { 'dynamic-import': false },
    metafile: true,
    logLevel: 'warning',
  });
  for (const input of Object.keys(result.metafile.inputs)) {
    const path = join(ROOT, input);
    if (!path.endsWith('.js') || !readFileSync(path, 'utf8').includes('import.meta')) continue;
    if (dirname(path) !== dirname(BUNDLE)) {
      throw new Error(`${relative(ROOT, path)} uses import.meta, which the check bundle (${relative(ROOT, BUNDLE)}) cannot give it`);
    }
  }
}

/** Runs the bundle once through bin/skepsis.cjs, which then writes the code cache of what ran. */
function writeCodeCache(): void {
  const cache = `${BUNDLE}.cache`;
  rmSync(cache, { force: true });
  const run = spawnSync(
    process.execPath,
    [join(ROOT, 'bin', 'skepsis.cjs'), 'check', join(ROOT, 'checker', 'examples', 'stale-read.jsonl'), '--quiet'],
    {
      env: { ...process.env, SKEPSIS_WRITE_CODE_CACHE: cache },
      encoding: 'utf8',
    },
  );
  // The example is not linearizable: exit 1, with its counterexample.
  if (run.status !== 1 || !existsSync(cache)) {
    throw new Error(`the check bundle did not run as expected (exit ${String(run.status)}): ${run.stderr}`);
  }
}

bundle();
writeCodeCache();
