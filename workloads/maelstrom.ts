// Maelstrom's workloads whose ops are messages, not KV commands (jepsen-io/maelstrom
// doc/workloads.md): echo, unique-ids, g-set, broadcast, g-counter and pn-counter, each with its
// checker. They are in one file because they share one shape (a message per op, final reads on
// every node after a settle time) and their checkers are a few lines each. Only targets whose
// clients carry messages run them (--db maelstrom); lin-kv is the register workload (lin-kv.ts).

import type { Validity } from '../checker/check.js';
import type { History, Operation } from '../checker/history.js';
import { eachThread, mix, rate, sequence, sleep, stateful, untilOk, type Generator } from './generator.js';
import { UnknownOperationError } from './kv-command.js';
import { resolveOptions, type OptionSpec } from './options.js';
import { checkSet } from './set.js';
import type { Completion, MessageBody, MessageCodec, OpSpec, Workload, WorkloadCheckResult } from './types.js';

export interface MessageWorkloadOptions {
  /** Total ops per second over all clients; 0: as fast as the clients go. Default 50. */
  rateOpsPerSecond: number;
  /** Relative frequency of reads among the main phase's ops (set and counter workloads). Default 1 (adds: 4). */
  readWeight: number;
  /** After the heal, this long before the final reads, so gossip can settle. Default 2000. */
  settleMs: number;
  /** Final reads: each client retries until one succeeds, at most this many times. Default 10. */
  finalReadAttempts: number;
}

const options: readonly OptionSpec<MessageWorkloadOptions>[] = [
  { name: 'rateOpsPerSecond', kind: 'number', default: 50, min: 0, max: 100_000, summary: 'total ops/s over all clients (0: unlimited)' },
  { name: 'readWeight', kind: 'number', default: 1, min: 0, max: 1000, summary: 'relative frequency of reads (adds: 4)' },
  { name: 'settleMs', kind: 'integer', default: 2000, min: 0, max: 600_000, summary: 'ms after the heal before the final reads' },
  { name: 'finalReadAttempts', kind: 'integer', default: 10, min: 1, max: 1000, summary: 'attempts per client for the final read' },
];

/** The key final reads carry, so checkers tell them from the main phase's reads. */
export const FINAL = 'final';

const ADD_WEIGHT = 4;
const LISTED_MAX = 10;

function refuseKv(name: string) {
  return {
    encode(op: OpSpec): never {
      throw new UnknownOperationError(`workload ${name} sends messages (--db maelstrom), not KV commands; got ${op.f}`);
    },
    decode(): never {
      throw new UnknownOperationError(`workload ${name} sends messages (--db maelstrom), not KV commands`);
    },
  };
}

function expectType(op: OpSpec, body: MessageBody, type: string): Completion | undefined {
  return body.type === type ? undefined : { type: 'info', error: `${op.f}: expected ${type}, got ${body.type}` };
}

/** A message workload: main ops from `main`, final reads on every client after `settleMs`. */
function messageWorkload(
  name: string,
  summary: string,
  main: (o: MessageWorkloadOptions) => Generator,
  codec: MessageCodec,
  check: (history: History) => WorkloadCheckResult,
  withFinalReads = true,
): Workload<MessageWorkloadOptions> {
  const resolve = (given: Partial<MessageWorkloadOptions> | undefined) => resolveOptions(name, options, given);
  return {
    name,
    summary,
    model: null,
    options,
    generator(given) {
      const o = resolve(given);
      return o.rateOpsPerSecond > 0 ? rate(o.rateOpsPerSecond, main(o)) : main(o);
    },
    ...(withFinalReads
      ? {
          finalGenerator(given: Partial<MessageWorkloadOptions> | undefined) {
            const o = resolve(given);
            const read = eachThread(untilOk({ f: 'read', key: FINAL }, { attemptsMax: o.finalReadAttempts }));
            return o.settleMs > 0 ? sequence(sleep(o.settleMs), read) : read;
          },
        }
      : {}),
    check,
    messages: codec,
    ...refuseKv(name),
  };
}

/** Adds of 1, 2, 3 ... (f add), mixed with reads. */
function addsAndReads(o: MessageWorkloadOptions, value: (n: number) => unknown = (n) => n): Generator {
  const adds = stateful<number>(1, (next) => [{ f: 'add', value: value(next) }, next + 1], { name: 'adds' });
  const reads = stateful<null>(null, () => [{ f: 'read' }, null], { name: 'reads' });
  return o.readWeight > 0 ? mix([adds, reads], [ADD_WEIGHT, o.readWeight]) : adds;
}

function finalReads(history: History): Operation[] {
  return history.operations.filter((op) => op.f === 'read' && op.key === FINAL && op.status === 'ok');
}

/**
 * Every acknowledged add reaches every node: each final read (one per client, each client bound to
 * a node) is checked as a set read (set.ts checkSet: lost, duplicated, unexpected elements).
 */
export function checkEveryFinalRead(name: string, history: History): WorkloadCheckResult {
  const reads = finalReads(history);
  const adds = history.operations.filter((op) => op.f === 'add');
  if (reads.length === 0) return { valid: 'unknown', summary: `${name}: unknown: no final read succeeded` };
  const results = reads.map((read) => ({ read, result: checkSet([...adds, read]) }));
  const bad = results.filter((r) => r.result.valid === false);
  if (bad.length > 0) {
    const first = bad[0];
    return {
      valid: false,
      summary: `${name}: invalid: ${bad.length} of ${reads.length} final reads miss or invent elements; first, process ${first.read.process}: ${first.result.summary.replace(/^set: invalid: /, '')}`,
    };
  }
  return {
    valid: true,
    summary: `${name}: valid: ${reads.length} final reads each hold all ${adds.filter((a) => a.status === 'ok').length} acknowledged elements`,
  };
}

const readOk =
  (field: string) =>
  (op: OpSpec, body: MessageBody): Completion =>
    op.f === 'read'
      ? (expectType(op, body, 'read_ok') ?? { type: 'ok', value: body[field] })
      : (expectType(op, body, `${op.f === 'add' ? 'add' : op.f}_ok`) ?? { type: 'ok', value: op.value });

export const gSetWorkload = messageWorkload(
  'g-set',
  "Maelstrom's g-set: adds of unique elements and reads; every acknowledged element in every node's final read",
  (o) => addsAndReads(o),
  {
    request: (op) => (op.f === 'add' ? { type: 'add', element: op.value } : { type: 'read' }),
    response: readOk('value'),
  },
  (history) => checkEveryFinalRead('g-set', history),
);

export const broadcastWorkload = messageWorkload(
  'broadcast',
  "Maelstrom's broadcast: unique messages broadcast and read (history f add / read); every acknowledged message in every node's final read",
  (o) => addsAndReads(o),
  {
    request: (op) => (op.f === 'add' ? { type: 'broadcast', message: op.value } : { type: 'read' }),
    response: (op, body) =>
      op.f === 'read'
        ? (expectType(op, body, 'read_ok') ?? { type: 'ok', value: body.messages })
        : (expectType(op, body, 'broadcast_ok') ?? { type: 'ok', value: op.value }),
  },
  (history) => checkEveryFinalRead('broadcast', history),
);

/**
 * A counter's final reads must lie within what the adds allow: at least the acknowledged increments
 * plus every decrement that may have happened, at most every increment that may have happened plus
 * the acknowledged decrements (failed adds count for neither).
 */
export function checkCounter(name: string, history: History): WorkloadCheckResult {
  const adds = history.operations.filter((op) => op.f === 'add' && op.status !== 'fail');
  let low = 0;
  let high = 0;
  for (const op of adds) {
    const delta = Number(op.input);
    const certain = op.status === 'ok';
    if (delta >= 0) {
      high += delta;
      if (certain) low += delta;
    } else {
      low += delta;
      if (certain) high += delta;
    }
  }
  const reads = finalReads(history);
  if (reads.length === 0) return { valid: 'unknown', summary: `${name}: unknown: no final read succeeded` };
  const outside = reads.filter((op) => typeof op.output !== 'number' || op.output < low || op.output > high);
  const valid: Validity = outside.length === 0;
  const shown = outside.slice(0, LISTED_MAX).map((op) => `process ${op.process} read ${JSON.stringify(op.output)}`);
  return {
    valid,
    summary: `${name}: ${valid ? 'valid' : 'invalid'}: ${reads.length} final reads, allowed [${low}, ${high}]${valid ? '' : `; outside: ${shown.join(', ')}`}`,
  };
}

const counterCodec: MessageCodec = {
  request: (op) => (op.f === 'add' ? { type: 'add', delta: op.value } : { type: 'read' }),
  response: readOk('value'),
};

export const gCounterWorkload = messageWorkload(
  'g-counter',
  "Maelstrom's g-counter: adds of small positive deltas and reads; final reads within the acknowledged adds' bounds",
  (o) => addsAndReads(o, (n) => 1 + (n % 5)),
  counterCodec,
  (history) => checkCounter('g-counter', history),
);

export const pnCounterWorkload = messageWorkload(
  'pn-counter',
  "Maelstrom's pn-counter: adds of positive and negative deltas and reads; final reads within the adds' bounds",
  (o) => addsAndReads(o, (n) => (n % 3 === 0 ? -(1 + (n % 4)) : 1 + (n % 5))),
  counterCodec,
  (history) => checkCounter('pn-counter', history),
);

/** No id handed out twice (ok generates only: an indeterminate one may or may not have been seen). */
export function checkUniqueIds(history: History): WorkloadCheckResult {
  const ids = history.operations.filter((op) => op.f === 'generate' && op.status === 'ok').map((op) => JSON.stringify(op.output));
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const id of ids) (seen.has(id) ? duplicates : seen).add(id);
  if (ids.length === 0) return { valid: 'unknown', summary: 'unique-ids: unknown: no id was generated' };
  const valid = duplicates.size === 0;
  return {
    valid,
    summary: `unique-ids: ${valid ? 'valid' : 'invalid'}: ${ids.length} ids, ${duplicates.size} handed out more than once${valid ? '' : ` (${[...duplicates].slice(0, LISTED_MAX).join(' ')})`}`,
  };
}

export const uniqueIdsWorkload = messageWorkload(
  'unique-ids',
  "Maelstrom's unique-ids: generate requests; no id handed out twice",
  () => stateful<null>(null, () => [{ f: 'generate' }, null], { name: 'generate' }),
  {
    request: () => ({ type: 'generate' }),
    response: (op, body) => expectType(op, body, 'generate_ok') ?? { type: 'ok', value: body.id },
  },
  checkUniqueIds,
  false,
);

/** Every echo answered ok came back with what was sent. */
export function checkEcho(history: History): WorkloadCheckResult {
  const echoes = history.operations.filter((op) => op.f === 'echo' && op.status === 'ok');
  const wrong = echoes.filter((op) => JSON.stringify(op.output) !== JSON.stringify(op.input));
  if (echoes.length === 0) return { valid: 'unknown', summary: 'echo: unknown: no echo was answered' };
  return {
    valid: wrong.length === 0,
    summary: `echo: ${wrong.length === 0 ? 'valid' : 'invalid'}: ${echoes.length} echoes, ${wrong.length} came back different`,
  };
}

export const echoWorkload = messageWorkload(
  'echo',
  "Maelstrom's echo: every message comes back unchanged",
  () => stateful<number>(1, (next) => [{ f: 'echo', value: `Please echo ${next}` }, next + 1], { name: 'echo' }),
  {
    request: (op) => ({ type: 'echo', echo: op.value }),
    response: (op, body) => expectType(op, body, 'echo_ok') ?? { type: 'ok', value: body.echo },
  },
  checkEcho,
  false,
);

export const MESSAGE_WORKLOADS = [echoWorkload, uniqueIdsWorkload, gSetWorkload, broadcastWorkload, gCounterWorkload, pnCounterWorkload];
