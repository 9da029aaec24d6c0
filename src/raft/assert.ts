// Assertions for programmer errors and broken internal invariants: they stop the node loudly.
// Expected outcomes (a stale message, a rejected proposal) are values, never assertions.

/** A broken internal invariant: the core is in a state its own code should never produce. */
export class RaftAssertionError extends Error {
  override readonly name = 'RaftAssertionError';
}

export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new RaftAssertionError(typeof message === 'string' ? message : message());
  }
}
