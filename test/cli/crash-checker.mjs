// Preloaded (`node --import`) by the internal-error tests to make the checker crash as a bug in it
// would: Math.imul, which the search and the models' state hashes use, throws when called from the
// compiled checker (dist/checker/). Everything else, the harness's seeded randomness included, runs
// as usual; Node.js's own code keeps its own copy of Math.imul.

const checkerUrl = new URL('../../dist/checker/', import.meta.url).href;
const imul = Math.imul;
Math.imul = function imulThatFailsInTheChecker(a, b) {
  if (new Error().stack?.includes(checkerUrl)) throw new Error('forced internal error in the checker (test/cli/crash-checker.mjs)');
  return imul(a, b);
};
