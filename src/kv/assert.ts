// Assertions for programmer errors inside the KV state machine (a non-increasing index, a command
// that skipped validation). Expected outcomes (a cas mismatch, an expired session) are values.

/** A broken internal invariant or a caller that broke the state machine's contract. */
export class KvAssertionError extends Error {
  override readonly name = 'KvAssertionError';
}

export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new KvAssertionError(typeof message === 'string' ? message : message());
  }
}

/** assert(false, message) for hot paths: `if (!ok) fail(...)` allocates no message closure per call. */
export function fail(message: string): never {
  throw new KvAssertionError(message);
}
