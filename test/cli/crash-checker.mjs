// Preloaded (`node --import`) by the internal-error tests to make the checker crash as a bug in it
// would: Math.imul, which the search and the models' state hashes use, throws when called from the
// compiled checker (dist/checker/: its modules, or the check bundle check-cli.cjs beside them).
// Everything else, the harness's seeded randomness included, runs as usual; Node.js's own code
// keeps its own copy of Math.imul.

import { fileURLToPath } from 'node:url';

// A path, not a URL: the bundle's frames name its file by path, the modules' frames by URL.
const checkerPath = fileURLToPath(new URL('../../dist/checker/', import.meta.url));
const imul = Math.imul;
Math.imul = function imulThatFailsInTheChecker(a, b) {
  if (new Error().stack?.includes(checkerPath)) throw new Error('forced internal error in the checker (test/cli/crash-checker.mjs)');
  return imul(a, b);
};
