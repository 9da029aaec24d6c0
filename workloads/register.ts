// The register workload: registers read, written with unique increasing values and
// compare-and-set, checked as a `cas-register` key by key. As in Jepsen's independent register
// tests, a group of clients moves to a fresh key ("r0", "r1" ...) after `opsPerKey` ops, which keeps
// every key's history small enough to check in seconds however long the run. The client carries
// the ops out as get/put/cas on the KV store. No checks beyond linearizability.

import { perKey, pickWeighted, rate, stateful, type Generator } from './generator.js';
import { readTouchedKeys } from './kv.js';
import { requireKey, UnknownOperationError, writeCompletion, type KvCommand, type KvReply } from './kv-command.js';
import { requireSomeWeight, resolveOptions, type OptionSpec } from './options.js';
import type { Completion, OpSpec, Workload } from './types.js';

export interface RegisterOptions {
  /** Key prefix: the registers are `${key}0`, `${key}1` ... Default "r". */
  key: string;
  /** Ops on one register before its clients move to a fresh one. Default 200. */
  opsPerKey: number;
  /** Clients sharing one register at a time. Default 10. */
  threadsPerKey: number;
  /** Total ops per second over all clients, with randomized gaps; 0: as fast as the clients go. Default 50. */
  rateOpsPerSecond: number;
  /** Relative frequencies of read, write and cas. Defaults 1, 1, 1. */
  readWeight: number;
  writeWeight: number;
  casWeight: number;
  /** A cas's `from` is one of the last this-many values handed out, so some cas succeed. Default 3. */
  casWindow: number;
  /** Final reads: each client retries until one succeeds, at most this many times. Default 10. */
  finalReadAttempts: number;
  /**
   * Read-heavy phases: with N > 0, every other N ms of the run (N to 2N, 3N to 4N ...) the clients
   * only read, so that many reads meet whatever a fault left behind. Default 0: no phases.
   */
  readPhaseMs: number;
}

const options: readonly OptionSpec<RegisterOptions>[] = [
  { name: 'key', kind: 'string', default: 'r', summary: 'key prefix of the registers (r0, r1 ...)' },
  { name: 'opsPerKey', kind: 'integer', default: 200, min: 1, max: 1_000_000, summary: 'ops on one register before moving to a fresh one' },
  { name: 'threadsPerKey', kind: 'integer', default: 10, min: 1, max: 1024, summary: 'clients sharing one register at a time' },
  { name: 'rateOpsPerSecond', kind: 'number', default: 50, min: 0, max: 100_000, summary: 'total ops/s over all clients (0: unlimited)' },
  { name: 'readWeight', kind: 'number', default: 1, min: 0, max: 1000, summary: 'relative frequency of reads' },
  { name: 'writeWeight', kind: 'number', default: 1, min: 0, max: 1000, summary: 'relative frequency of writes' },
  { name: 'casWeight', kind: 'number', default: 1, min: 0, max: 1000, summary: 'relative frequency of compare-and-sets' },
  { name: 'casWindow', kind: 'integer', default: 3, min: 1, max: 1000, summary: "a cas's from is one of the last N values written" },
  { name: 'finalReadAttempts', kind: 'integer', default: 10, min: 1, max: 1000, summary: 'attempts per client for the final read' },
  {
    name: 'readPhaseMs',
    kind: 'integer',
    default: 0,
    min: 0,
    max: 3_600_000,
    summary: 'every other N ms only reads (0: no read-only phases)',
  },
];

function resolve(given: Partial<RegisterOptions> | undefined): RegisterOptions {
  const o = resolveOptions('register', options, given);
  requireSomeWeight('register', { readWeight: o.readWeight, writeWeight: o.writeWeight, casWeight: o.casWeight });
  return o;
}

/**
 * The endless stream of register ops: reads; writes of 1, 2, 3 ... (every value written, by a write
 * or a cas, is new); cas [from, to] with `to` new and `from` one of the last `casWindow` values
 * handed out (null, the absent value, before the first).
 */
export function registerOps(
  o: Pick<RegisterOptions, 'readWeight' | 'writeWeight' | 'casWeight' | 'casWindow'> & Partial<Pick<RegisterOptions, 'readPhaseMs'>>,
): Generator {
  const weights = [o.readWeight, o.writeWeight, o.casWeight];
  const phaseMs = o.readPhaseMs ?? 0;
  const inReadPhase = (timeMs: number) => phaseMs > 0 && Math.floor(timeMs / phaseMs) % 2 === 1;
  return stateful<number>(
    1,
    (next, context) => {
      const kind = inReadPhase(context.timeMs) ? 0 : pickWeighted(weights, context.random.nextFloat());
      if (kind === 0) return [{ f: 'read' }, next];
      if (kind === 1) return [{ f: 'write', value: next }, next + 1];
      const from = next === 1 ? null : context.random.nextInt(Math.max(1, next - o.casWindow), next);
      return [{ f: 'cas', value: [from, next] }, next + 1];
    },
    { name: 'register-ops' },
  );
}

/** A register value as the store holds it (decimal text) back to the number written; other text stays text. */
export function decodeNumber(value: string | null | undefined): number | string | null {
  if (value === null || value === undefined) return null;
  return /^-?\d+$/.test(value) ? Number(value) : value;
}

function encodeValue(value: unknown, op: OpSpec): string {
  if (typeof value === 'number' || typeof value === 'string') return String(value);
  throw new UnknownOperationError(`${op.f} needs a number or string value, got ${JSON.stringify(value)}`);
}

export const registerWorkload: Workload<RegisterOptions> = {
  name: 'register',
  summary: 'registers (a fresh key every ops-per-key ops): read, write (unique values) and compare-and-set, checked as cas-registers',
  model: 'cas-register',
  options,
  generator(given) {
    const o = resolve(given);
    const ops = perKey({ threadsPerKey: o.threadsPerKey, opsPerKey: o.opsPerKey, keyName: (i) => `${o.key}${i}` }, () => registerOps(o));
    return o.rateOpsPerSecond > 0 ? rate(o.rateOpsPerSecond, ops) : ops;
  },
  /** Every register touched is read once more, the keys split among the clients. */
  finalGenerator(given, context) {
    return readTouchedKeys('read', context, resolve(given).finalReadAttempts);
  },
  encode(op): KvCommand {
    const key = requireKey(op);
    switch (op.f) {
      case 'read':
        return { kind: 'get', key };
      case 'write':
        return { kind: 'put', key, value: encodeValue(op.value, op) };
      case 'cas': {
        if (!Array.isArray(op.value) || op.value.length !== 2) {
          throw new UnknownOperationError(`cas needs a [from, to] value, got ${JSON.stringify(op.value)}`);
        }
        const [from, to] = op.value as unknown[];
        return { kind: 'cas', key, from: from === null ? null : encodeValue(from, op), to: encodeValue(to, op) };
      }
      default:
        throw new UnknownOperationError(`workload register has no operation "${op.f}" (expected read, write, cas)`);
    }
  },
  decode(op, reply: KvReply): Completion {
    if (op.f === 'read' && reply.type === 'ok') return { type: 'ok', value: decodeNumber(reply.value) };
    return writeCompletion(op, reply);
  },
};
