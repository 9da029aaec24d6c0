// The Model interface: what the checker needs to know about a data type. A model is small and
// pure: an initial state, a step function, equality and hash, a partition, and text descriptions.

import { formatValue, type Operation } from './history.js';

/**
 * How the search treats an operation.
 * - required: it took effect; it must be placed in the linearization.
 * - optional: it may or may not have taken effect (indeterminate); placed only if that helps.
 * - skip: it constrains nothing (a failed write, a read whose result is unknown).
 */
export type OpRole = 'required' | 'optional' | 'skip';

export interface Model<S = unknown> {
  /** Name used on the command line. */
  readonly name: string;
  /** One line for `--help` and reports. */
  readonly summary: string;
  /** The operation names (`f`) this model understands. */
  readonly operations: readonly string[];
  init(): S;
  /**
   * The state after `op` in `state`, or `undefined` if `op` cannot take effect there with the
   * result it reported. For an optional op this is the state as if it took effect.
   */
  step(state: S, op: Operation): S | undefined;
  /** True if `op` never changes the state when it is legal (reads, failed compare-and-sets). */
  readOnly(op: Operation): boolean;
  role(op: Operation): OpRole;
  /** A problem with the op's shape for this model (wrong f, cas without a pair), or undefined. */
  validate(op: Operation): string | undefined;
  hash(state: S): number;
  /**
   * True when two states that are primitives (strings, numbers, booleans, null) are `equal` exactly
   * when they are `===`: the search then interns those in a Map by value, without `hash` and
   * `equal` (V8 hashes a string natively, once). Optional; default false.
   */
  readonly primitiveStatesByValue?: boolean;
  /** About how many bytes `state` holds, for the memory ceiling (optional; default 64). */
  stateBytes?(state: S): number;
  equal(a: S, b: S): boolean;
  /** Independent parts (P-compositionality), e.g. one per key; each is checked on its own. */
  partition(ops: Operation[]): Operation[][];
  /**
   * Ids of indeterminate ops in `ops` whose effect no other op seems to observe (a write of a value
   * nobody read). Optional. The search first tries the part without them, which is sound: a
   * linearization found then is one of the whole part in which they did not take effect. It is not
   * complete (a failed compare-and-set may rely on one), so when that try finds none, the whole
   * part is searched. Indeterminate writes that stay pending to the end are what makes a search
   * explode, and most of them were never seen by anyone.
   */
  unobserved?(ops: Operation[]): Set<number>;
  /**
   * For the ops one search places, a test of states that no linearization of them passes through,
   * or undefined when the model knows none. Optional. The search treats a step into such a state as
   * illegal, so it must never name a state some linearization passes through: it only prunes.
   */
  deadStates?(ops: Operation[]): ((state: S) => boolean) | undefined;
  describeOp(op: Operation): string;
  describeState(state: S): string;
}

/** The usual roles: ok ops are required, indeterminate ones optional unless read-only, failures skipped. */
export function defaultRole(op: Operation, readOnly: boolean): OpRole {
  if (op.status === 'ok') return 'required';
  if (op.status === 'info') return readOnly ? 'skip' : 'optional';
  return 'skip';
}

/** Groups operations by key, in call order; operations without a key share one part. */
export function partitionByKey(ops: Operation[]): Operation[][] {
  const parts = new Map<string, Operation[]>();
  for (const op of ops) {
    const key = op.key ?? '';
    let part = parts.get(key);
    if (part === undefined) {
      part = [];
      parts.set(key, part);
    }
    part.push(op);
  }
  return [...parts.values()];
}

/** FNV-1a over a string, as an unsigned 32-bit number; `seed` tells kinds of value apart. */
export function hashString(text: string, seed = 0): number {
  return hashChars(text, 0, text.length, seed);
}

/** FNV-1a over `text` from `start` to `end` (no slice: a long kv value is not copied). */
function hashChars(text: string, start: number, end: number, seed: number): number {
  let hash = 0x811c9dc5 ^ seed;
  for (let i = start; i < end; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Hash of a long string from its length, head and tail: constant time for growing kv values. */
function hashLongString(text: string): number {
  const head = hashChars(text, 0, 16, text.length);
  return hashChars(text, text.length - 48, text.length, head);
}

/**
 * Hash of a JSON-like value (null, numbers, strings, arrays, objects). Long strings are sampled
 * (length, head and tail): equality is always checked in full, so this only costs speed on the
 * rare strings that differ in the middle alone.
 */
export function hashValue(value: unknown): number {
  if (value === null || value === undefined) return 0x9e3779b9;
  if (typeof value === 'number')
    return Number.isInteger(value)
      ? Math.imul(value | 0, 0x9e3779b1) ^ Math.floor(value / 2 ** 32) ^ 0x5bd1e995
      : hashString(String(value), 1);
  if (typeof value === 'string') return value.length > 64 ? hashLongString(value) : hashString(value, 2);
  return hashString(JSON.stringify(value), 3);
}

/** Equality of JSON-like values: primitives by value, arrays and objects structurally. */
export function valueEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

export function describeValue(value: unknown): string {
  return formatValue(value);
}

/** A compare-and-set argument: `[from, to]` or `{from, to}`. */
export function casPair(input: unknown): { from: unknown; to: unknown } | undefined {
  if (Array.isArray(input) && input.length === 2) return { from: input[0], to: input[1] };
  if (typeof input === 'object' && input !== null && 'from' in input && 'to' in input) {
    const pair = input as { from: unknown; to: unknown };
    return { from: pair.from, to: pair.to };
  }
  return undefined;
}

/** The error a failed cas carries when the store compared and found another value. */
export const CAS_MISMATCH = 'cas_mismatch';

/** The state after a compare-and-set; a failed one (a mismatch) observes "state != from". */
export function casStep<S>(state: S, op: Operation): S | undefined {
  const pair = casPair(op.input)!;
  const matches = valueEqual(state, pair.from ?? null);
  if (op.status === 'fail') return matches ? undefined : state;
  return matches ? ((pair.to ?? null) as S) : undefined;
}

/**
 * Roles in models of values with a read (`readF`) and a cas: a read constrains only when it
 * completed with a value; a failed cas only when it reports a mismatch (an observation).
 */
export function valueModelRole(op: Operation, readF: string): OpRole {
  if (op.f === readF) return op.status === 'ok' && op.output !== undefined ? 'required' : 'skip';
  if (op.f === 'cas' && op.status === 'fail') return op.error === CAS_MISMATCH ? 'required' : 'skip';
  return defaultRole(op, false);
}

/**
 * From the values that completed reads returned and that cas which may have succeeded expected,
 * a test of whether a written value was seen; undefined when telling would cost too much.
 */
export type Observer = (observed: unknown[], candidates: number) => ((written: unknown) => boolean) | undefined;

/**
 * Values seen as such: by identity, or by JSON text for arrays and objects. A value this misjudges
 * only costs the first try its chance, never the verdict.
 */
export const observedAsIs: Observer = (observed) => {
  const keyOf = (value: unknown): unknown => (typeof value === 'object' && value !== null ? JSON.stringify(value) : value);
  const seen = new Set(observed.map(keyOf));
  return (written) => seen.has(keyOf(written));
};

/**
 * `Model.unobserved` for models of one value: the indeterminate writes (`writeFs`, and cas by its
 * `to`) whose value `observer` finds in no completed read (`readF`) and no expected value of a cas
 * that may have succeeded.
 */
export function unobservedWrites(
  ops: Operation[],
  readF: string,
  writeFs: readonly string[],
  observer: Observer = observedAsIs,
): Set<number> {
  const ids = new Set<number>();
  const candidates = ops.filter((op) => op.status === 'info' && (op.f === 'cas' || writeFs.includes(op.f)));
  if (candidates.length === 0) return ids;
  const observed: unknown[] = [];
  for (const op of ops) {
    if (op.f === readF && op.status === 'ok') observed.push(op.output ?? null);
    else if (op.f === 'cas' && op.status !== 'fail') observed.push(casPair(op.input)?.from ?? null);
  }
  const seen = observer(observed, candidates.length);
  if (seen === undefined) return ids;
  for (const op of candidates) {
    const written = op.f === 'cas' ? (casPair(op.input)?.to ?? null) : (op.input ?? null);
    if (!seen(written)) ids.add(op.id);
  }
  return ids;
}

/** Error returned by `validate` for an operation this model does not know. */
export function unknownOperation(model: { name: string; operations: readonly string[] }, op: Operation): string | undefined {
  if (model.operations.includes(op.f)) return undefined;
  return `operation "${op.f}" is not one model ${model.name} understands (expected one of: ${model.operations.join(', ')})`;
}
