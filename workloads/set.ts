// The set workload: clients add unique elements (f "add", value n: the client appends " n" to the
// one key "set"), then read the set back after the heal (f "read", value the list of elements).
// `checkSet` reports lost, duplicated, unexpected and recovered elements. No linearizability model.

import type { History, Operation } from '../checker/history.js';
import type { Validity } from '../checker/check.js';
import { eachThread, rate, stateful, untilOk, type Generator } from './generator.js';
import { requireKey, UnknownOperationError, writeCompletion, type KvCommand, type KvReply } from './kv-command.js';
import { resolveOptions, type OptionSpec } from './options.js';
import type { Completion, Workload, WorkloadCheckResult } from './types.js';

export interface SetOptions {
  /** The key holding the set. Default "set". */
  key: string;
  /** Total adds per second over all clients, with randomized gaps; 0: as fast as the clients go. Default 100. */
  rateOpsPerSecond: number;
  /** Final reads: each client retries until one succeeds, at most this many times. Default 10. */
  finalReadAttempts: number;
}

const options: readonly OptionSpec<SetOptions>[] = [
  { name: 'key', kind: 'string', default: 'set', summary: 'the key holding the set' },
  { name: 'rateOpsPerSecond', kind: 'number', default: 100, min: 0, max: 100_000, summary: 'total adds/s over all clients (0: unlimited)' },
  { name: 'finalReadAttempts', kind: 'integer', default: 10, min: 1, max: 1000, summary: 'attempts per client for the final read' },
];

/** Adds of 1, 2, 3 ... to the set, each element once. */
export function setAdds(key: string): Generator {
  return stateful<number>(1, (next) => [{ f: 'add', key, value: next }, next + 1], { name: 'set-adds' });
}

/**
 * The elements a read returned: a list as is, or the store's raw text split on whitespace. Decimal
 * tokens become numbers; anything else stays text (and will count as unexpected).
 */
export function parseSetElements(value: unknown): unknown[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.map(normalizeElement);
  if (typeof value === 'string')
    return value
      .split(/\s+/)
      .filter((token) => token !== '')
      .map(normalizeElement);
  return [normalizeElement(value)];
}

function normalizeElement(element: unknown): unknown {
  return typeof element === 'string' && /^-?\d+$/.test(element) ? Number(element) : element;
}

export interface SetCheckResult extends WorkloadCheckResult {
  /** Adds invoked, and how they ended. */
  attempted: number;
  acknowledged: number;
  failed: number;
  indeterminate: number;
  /** Elements in the final read (the last successful read), or null when there was none. */
  finalReadSize: number | null;
  /** Acknowledged before the final read began, yet missing from it. */
  lost: unknown[];
  /** Appearing more than once in the final read. */
  duplicated: unknown[];
  /** In the final read, but never added, or added with a definite failure. */
  unexpected: unknown[];
  /** Indeterminate adds that did take effect. */
  recovered: unknown[];
}

const LISTED_MAX = 10;

/**
 * Judges a set history: invalid when an element is lost, duplicated or unexpected; unknown when no
 * read succeeded (nothing to compare with); valid otherwise. The final read is the successful read
 * that completed last; only adds acknowledged before it was invoked can be lost.
 */
export function checkSet(history: Pick<History, 'operations'> | readonly Operation[]): SetCheckResult {
  const operations = Array.isArray(history) ? (history as readonly Operation[]) : (history as Pick<History, 'operations'>).operations;
  const adds = operations.filter((op) => op.f === 'add');
  const okAdds = adds.filter((op) => op.status === 'ok');
  const infoAdds = adds.filter((op) => op.status === 'info');
  const failedAdds = adds.filter((op) => op.status === 'fail');
  let finalRead: Operation | undefined;
  for (const op of operations) {
    if (op.f !== 'read' || op.status !== 'ok' || op.output === undefined) continue;
    if (finalRead === undefined || op.ret >= finalRead.ret) finalRead = op;
  }
  const base = {
    attempted: adds.length,
    acknowledged: okAdds.length,
    failed: failedAdds.length,
    indeterminate: infoAdds.length,
  };
  if (finalRead === undefined) {
    return {
      ...base,
      valid: 'unknown',
      summary: `set: unknown: no successful read of the set (${okAdds.length} adds acknowledged)`,
      finalReadSize: null,
      lost: [],
      duplicated: [],
      unexpected: [],
      recovered: [],
    };
  }
  const elements = parseSetElements(finalRead.output);
  const counts = new Map<unknown, number>();
  for (const element of elements) counts.set(element, (counts.get(element) ?? 0) + 1);
  const maybeAdded = new Set<unknown>([...okAdds, ...infoAdds].map((op) => normalizeElement(op.input)));
  const read = finalRead;
  const lost = unique(
    okAdds.filter((op) => op.ret < read.call && !counts.has(normalizeElement(op.input))).map((op) => normalizeElement(op.input)),
  );
  const duplicated = [...counts].filter(([, count]) => count > 1).map(([element]) => element);
  const unexpected = [...counts.keys()].filter((element) => !maybeAdded.has(element));
  const recovered = unique(infoAdds.map((op) => normalizeElement(op.input)).filter((element) => counts.has(element)));
  for (const list of [lost, duplicated, unexpected, recovered]) list.sort(compareElements);
  const valid: Validity = lost.length + duplicated.length + unexpected.length > 0 ? false : true;
  const parts = [
    `${okAdds.length} acknowledged`,
    `${elements.length} read`,
    describeList('lost', lost),
    describeList('duplicated', duplicated),
    describeList('unexpected', unexpected),
    describeList('recovered', recovered),
  ];
  return {
    ...base,
    valid,
    summary: `set: ${valid ? 'valid' : 'invalid'}: ${parts.join(', ')}`,
    finalReadSize: elements.length,
    lost,
    duplicated,
    unexpected,
    recovered,
  };
}

function unique(items: unknown[]): unknown[] {
  return [...new Set(items)];
}

function compareElements(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function describeList(name: string, items: readonly unknown[]): string {
  if (items.length === 0) return `0 ${name}`;
  const shown = items.slice(0, LISTED_MAX).map((item) => JSON.stringify(item));
  const more = items.length > LISTED_MAX ? ` and ${items.length - LISTED_MAX} more` : '';
  return `${items.length} ${name} (${shown.join(' ')}${more})`;
}

export const setWorkload: Workload<SetOptions> = {
  name: 'set',
  summary: 'adds of unique elements to one key, then a final read: lost, duplicated or unexpected elements',
  model: null,
  options,
  generator(given) {
    const o = resolveOptions('set', options, given);
    const adds = setAdds(o.key);
    return o.rateOpsPerSecond > 0 ? rate(o.rateOpsPerSecond, adds) : adds;
  },
  finalGenerator(given) {
    const o = resolveOptions('set', options, given);
    return eachThread(untilOk({ f: 'read', key: o.key }, { attemptsMax: o.finalReadAttempts }));
  },
  check: (history) => checkSet(history),
  encode(op): KvCommand {
    const key = requireKey(op);
    switch (op.f) {
      case 'add':
        if (typeof op.value !== 'number' && typeof op.value !== 'string') {
          throw new UnknownOperationError(`add needs a number or string element, got ${JSON.stringify(op.value)}`);
        }
        return { kind: 'append', key, value: ` ${op.value}` };
      case 'read':
        return { kind: 'get', key };
      default:
        throw new UnknownOperationError(`workload set has no operation "${op.f}" (expected add, read)`);
    }
  },
  decode(op, reply: KvReply): Completion {
    if (op.f === 'read' && reply.type === 'ok') return { type: 'ok', value: parseSetElements(reply.value) };
    return writeCompletion(op, reply);
  },
};
