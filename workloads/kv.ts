// The kv workload: many independent keys (Jepsen's independent generator: a few clients per key,
// a fresh key after a per-key op count), get/put/append with unique values, final reads of every
// key touched; checked key by key as `kv-cas`. No checks beyond linearizability.

import { isNemesisProcess } from '../checker/history.js';
import { eachThread, perKey, pickWeighted, rate, sequence, stateful, untilOk, type Generator } from './generator.js';
import { requireKey, UnknownOperationError, writeCompletion, type KvCommand, type KvReply } from './kv-command.js';
import { requireSomeWeight, resolveOptions, type OptionSpec } from './options.js';
import type { Completion, FinalContext, Workload } from './types.js';

export interface KvOptions {
  /** Total ops per second over all clients, with randomized gaps; 0: as fast as the clients go. Default 200. */
  rateOpsPerSecond: number;
  /** Clients that share one key at a time. Default 2. */
  threadsPerKey: number;
  /** Ops on a key before its clients move to a fresh key; bounds each key's history for the checker. Default 100. */
  opsPerKey: number;
  /** Keys in all; the main phase ends when they are used up. Default 100 000. */
  keysMax: number;
  /** Relative frequencies of get, put and append. Defaults 1, 1, 1. */
  getWeight: number;
  putWeight: number;
  appendWeight: number;
  /** Final reads: each key is read until a read succeeds, at most this many times. Default 10. */
  finalReadAttempts: number;
}

const options: readonly OptionSpec<KvOptions>[] = [
  { name: 'rateOpsPerSecond', kind: 'number', default: 200, min: 0, max: 100_000, summary: 'total ops/s over all clients (0: unlimited)' },
  { name: 'threadsPerKey', kind: 'integer', default: 2, min: 1, max: 1024, summary: 'clients sharing one key at a time' },
  { name: 'opsPerKey', kind: 'integer', default: 100, min: 1, max: 1_000_000, summary: 'ops on a key before moving to a fresh key' },
  { name: 'keysMax', kind: 'integer', default: 100_000, min: 1, max: 10_000_000, summary: 'keys in all' },
  { name: 'getWeight', kind: 'number', default: 1, min: 0, max: 1000, summary: 'relative frequency of gets' },
  { name: 'putWeight', kind: 'number', default: 1, min: 0, max: 1000, summary: 'relative frequency of puts' },
  { name: 'appendWeight', kind: 'number', default: 1, min: 0, max: 1000, summary: 'relative frequency of appends' },
  { name: 'finalReadAttempts', kind: 'integer', default: 10, min: 1, max: 1000, summary: 'attempts per key for the final read' },
];

function resolve(given: Partial<KvOptions> | undefined): KvOptions {
  const o = resolveOptions('kv', options, given);
  requireSomeWeight('kv', { getWeight: o.getWeight, putWeight: o.putWeight, appendWeight: o.appendWeight });
  return o;
}

/**
 * One key's endless ops: get; put of "n"; append of " n" (a space, then n), with n = 1, 2, 3 ...
 * new for every put and append on this key, so every value the key can hold tells its writes apart.
 */
export function kvKeyOps(o: Pick<KvOptions, 'getWeight' | 'putWeight' | 'appendWeight'>): Generator {
  const weights = [o.getWeight, o.putWeight, o.appendWeight];
  return stateful<number>(
    1,
    (next, context) => {
      const kind = pickWeighted(weights, context.random.nextFloat());
      if (kind === 0) return [{ f: 'get' }, next];
      if (kind === 1) return [{ f: 'put', value: String(next) }, next + 1];
      return [{ f: 'append', value: ` ${next}` }, next + 1];
    },
    { name: 'kv-ops' },
  );
}

/** Keys of client ops in the history so far, in order of first use. */
export function keysTouched(context: FinalContext): string[] {
  const keys = new Set<string>();
  for (const event of context.events) {
    if (event.type === 'invoke' && event.key !== undefined && !isNemesisProcess(event.process)) keys.add(event.key);
  }
  return [...keys];
}

/** Final reads (op `f`) of every key touched so far, the keys split among the clients. */
export function readTouchedKeys(f: string, context: FinalContext, attemptsMax: number): Generator {
  const keys = keysTouched(context);
  return eachThread((thread, threads) =>
    sequence(...keys.filter((_, i) => i % threads === thread).map((key) => untilOk({ f, key }, { attemptsMax }))),
  );
}

export const kvWorkload: Workload<KvOptions> = {
  name: 'kv',
  summary: 'many independent keys: get, put, append with unique values, checked key by key as kv-cas',
  model: 'kv-cas',
  options,
  generator(given) {
    const o = resolve(given);
    const keyed = perKey({ threadsPerKey: o.threadsPerKey, opsPerKey: o.opsPerKey, keysMax: o.keysMax }, () => kvKeyOps(o));
    return o.rateOpsPerSecond > 0 ? rate(o.rateOpsPerSecond, keyed) : keyed;
  },
  /** Every key touched so far is read once more, the keys split among the clients. */
  finalGenerator(given, context) {
    return readTouchedKeys('get', context, resolve(given).finalReadAttempts);
  },
  encode(op): KvCommand {
    const key = requireKey(op);
    switch (op.f) {
      case 'get':
        return { kind: 'get', key };
      case 'put':
      case 'append':
        if (typeof op.value !== 'string') throw new UnknownOperationError(`${op.f} needs a string value, got ${JSON.stringify(op.value)}`);
        return { kind: op.f, key, value: op.value };
      default:
        throw new UnknownOperationError(`workload kv has no operation "${op.f}" (expected get, put, append)`);
    }
  },
  decode(op, reply: KvReply): Completion {
    if (op.f === 'get' && reply.type === 'ok') return { type: 'ok', value: reply.value ?? null };
    return writeCompletion(op, reply);
  },
};
