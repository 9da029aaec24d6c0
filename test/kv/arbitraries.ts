// Shared fast-check pieces for the KV tests: a fixed seed (so runs are deterministic; fast-check
// prints the seed and path of a failure) and generators of commands over small key/client spaces.

import fc from 'fast-check';
import type { KvCommand, KvOp } from '../../src/kv/index.js';

/** SKEPSIS_SEED replays another seed; SKEPSIS_PROPERTY_RUNS widens the search. */
export const SEED = Number(process.env.SKEPSIS_SEED ?? 20_240_601);
export const RUNS = Number(process.env.SKEPSIS_PROPERTY_RUNS ?? 200);
export const PROPERTY = { seed: SEED, numRuns: RUNS };

const smallValue = fc.oneof(fc.constantFrom('', 'a', 'b', 'ab'), fc.string({ unit: 'binary', maxLength: 6 }));

export interface CommandArbitraryOptions {
  keys: fc.Arbitrary<string>;
  /** Client ids c0..c(clients-1); 0 means no sessions at all. */
  clients: number;
  /** Largest seq drawn (small values make retries and stale copies common). */
  seqMax?: number;
  /** Chance (0..1) that a command carries a session. Default 0.7. */
  sessionShare?: number;
}

export function opArbitrary(keys: fc.Arbitrary<string>): fc.Arbitrary<KvOp> {
  return fc.oneof(
    fc.record({ op: fc.constant('get' as const), key: keys }),
    fc.record({ op: fc.constant('put' as const), key: keys, value: smallValue }),
    fc.record({ op: fc.constant('append' as const), key: keys, value: smallValue }),
    fc.record({ op: fc.constant('cas' as const), key: keys, from: fc.option(smallValue, { nil: null }), to: smallValue }),
    fc.record({ op: fc.constant('delete' as const), key: keys }),
  );
}

export function commandArbitrary(options: CommandArbitraryOptions): fc.Arbitrary<KvCommand> {
  const op = opArbitrary(options.keys);
  if (options.clients === 0) return op;
  const share = options.sessionShare ?? 0.7;
  return fc
    .tuple(
      op,
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.integer({ min: 0, max: options.clients - 1 }),
      fc.integer({ min: 1, max: options.seqMax ?? 6 }),
    )
    .map(([command, draw, client, seq]) => (draw < share ? { ...command, clientId: `c${client}`, seq } : command));
}

/** Keys from a small set, with multi-byte ones, so that ops often collide on a key. */
export const fewKeys = fc.constantFrom('a', 'b', 'é', '😀');
