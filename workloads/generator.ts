// The generator algebra, after jepsen.generator: immutable values that say what a worker thread
// should do next (an op, "pending", or "done"). Pure: no clock, no I/O, randomness only from the
// context's seeded stream. One interpreter (interpreter.ts) drives them, in real or virtual time.

import type { Random } from '../src/raft/random.js';
import type { Completion, OpSpec } from './types.js';

/** What a generator knows when asked for an op. */
export interface GeneratorContext {
  /** Milliseconds since the run started (real or virtual). */
  timeMs: number;
  /** The asking worker thread, 0..threads-1 (remapped inside eachThread/perKey, see there). */
  thread: number;
  /** The process (logical client) the thread currently runs as. */
  process: number;
  /** Worker threads in the run (its concurrency). */
  threads: number;
  /** Ops invoked and not yet completed; `phases` waits for 0. */
  inFlight: number;
  /** The run's seeded random stream: the only randomness a generator may use. */
  random: Random;
}

/**
 * A generator's answer.
 * - op: invoke `op` on the asking thread; `next` replaces this generator.
 * - pending: nothing for this thread now; ask again after a completion, or at `untilMs` if given.
 * - done: no thread will ever get another op from this generator.
 */
export type GeneratorResult =
  | { type: 'op'; op: OpSpec; next: Generator }
  | { type: 'pending'; untilMs?: number; next: Generator }
  | { type: 'done' };

/** A completed op, told to the generator through `update`. `op` is the op as the generator that emitted it returned it. */
export interface CompletionEvent {
  thread: number;
  process: number;
  op: OpSpec;
  completion: Completion;
  timeMs: number;
}

/** An immutable generator. `update` (optional) returns the generator that has seen a completion. */
export interface Generator {
  /** For descriptions and test failures, e.g. `limit(10, mix(2))`. */
  readonly name: string;
  op(context: GeneratorContext): GeneratorResult;
  update?(event: CompletionEvent): Generator;
}

/** A bad argument to a combinator, or a generator that can never make progress. */
export class GeneratorError extends Error {
  override readonly name = 'GeneratorError';
}

const DONE: GeneratorResult = { type: 'done' };

/** The generator with nothing to do. */
export const done: Generator = { name: 'done', op: () => DONE };

/** `generator` after it has seen `event` (itself if it does not listen). */
export function updateGenerator(generator: Generator, event: CompletionEvent): Generator {
  return generator.update === undefined ? generator : generator.update(event);
}

type OpSource = OpSpec | ((context: GeneratorContext) => OpSpec);

function checkedOp(op: OpSpec, where: string): OpSpec {
  if (typeof op !== 'object' || op === null || typeof op.f !== 'string' || op.f === '') {
    throw new GeneratorError(`${where} produced an op without a name f: ${JSON.stringify(op)}`);
  }
  return op;
}

function opFrom(source: OpSource, context: GeneratorContext, where: string): OpSpec {
  return checkedOp(typeof source === 'function' ? source(context) : source, where);
}

function sourceName(source: OpSource): string {
  return typeof source === 'function' ? 'fn' : source.f;
}

function requireCount(where: string, name: string, value: number, min: number): void {
  if (!(Number.isInteger(value) || value === Infinity) || value < min) {
    throw new GeneratorError(`${where}: ${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
}

function requireDuration(where: string, name: string, value: number, positive: boolean): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new GeneratorError(`${where}: ${name} must be a finite number ${positive ? '> 0' : '>= 0'}, got ${JSON.stringify(value)}`);
  }
}

/** Rewraps a non-done result's `next` (pending keeps its wake time). */
function mapNext(result: GeneratorResult, wrap: (next: Generator) => Generator): GeneratorResult {
  if (result.type === 'done') return result;
  return { ...result, next: wrap(result.next) };
}

/**
 * An endless generator that calls `f` for every op; `f` returning undefined ends it. `f` must be
 * pure but for `context.random` (use `stateful` to carry state from op to op).
 */
export function fn(f: (context: GeneratorContext) => OpSpec | undefined, name = 'fn'): Generator {
  const generator: Generator = {
    name,
    op(context) {
      const op = f(context);
      return op === undefined ? DONE : { type: 'op', op: checkedOp(op, name), next: generator };
    },
  };
  return generator;
}

/**
 * A generator with explicit state: `step(state, context)` gives the op and the next state, or
 * undefined to end. `onComplete` (optional) folds completions into the state, e.g. values read.
 */
export function stateful<S>(
  initial: S,
  step: (state: S, context: GeneratorContext) => [OpSpec, S] | undefined,
  options: { name?: string; onComplete?: (state: S, event: CompletionEvent) => S } = {},
): Generator {
  const name = options.name ?? 'stateful';
  const make = (state: S): Generator => ({
    name,
    op(context) {
      const result = step(state, context);
      if (result === undefined) return DONE;
      return { type: 'op', op: checkedOp(result[0], name), next: make(result[1]) };
    },
    update: options.onComplete === undefined ? undefined : (event) => make(options.onComplete!(state, event)),
  });
  return make(initial);
}

/** Exactly one op (a literal, or computed from the context when asked). */
export function once(source: OpSource): Generator {
  const name = `once(${sourceName(source)})`;
  return { name, op: (context) => ({ type: 'op', op: opFrom(source, context, name), next: done }) };
}

/**
 * `source` again and again: an op literal forever, or a generator restarted from its first state
 * each time it is done. `times` bounds the repetitions (default: endless). A generator that is done
 * as soon as it restarts ends the repetition (rather than spinning).
 */
export function repeat(source: OpSpec | Generator, times = Infinity): Generator {
  requireCount('repeat', 'times', times, 0);
  const original = isGenerator(source) ? source : once(source);
  const name = `repeat(${original.name})`;
  const make = (current: Generator, left: number, fresh: boolean): Generator => ({
    name,
    op(context) {
      if (left <= 0) return DONE;
      const result = current.op(context);
      if (result.type !== 'done') return mapNext(result, (next) => make(next, left, false));
      if (fresh || left <= 1) return DONE;
      return make(original, left - 1, true).op(context);
    },
    update: (event) => make(updateGenerator(current, event), left, fresh),
  });
  return make(original, times, true);
}

function isGenerator(value: unknown): value is Generator {
  return typeof value === 'object' && value !== null && typeof (value as Generator).op === 'function';
}

function toGenerator(value: OpSpec | Generator): Generator {
  return isGenerator(value) ? value : once(value);
}

/** At most `count` ops from `generator`, over all threads. */
export function limit(count: number, generator: Generator): Generator {
  requireCount('limit', 'count', count, 0);
  const make = (left: number, inner: Generator): Generator => ({
    name: `limit(${left}, ${inner.name})`,
    op(context) {
      if (left <= 0) return DONE;
      const result = inner.op(context);
      if (result.type === 'op') return { ...result, next: make(left - 1, result.next) };
      return mapNext(result, (next) => make(left, next));
    },
    update: (event) => make(left, updateGenerator(inner, event)),
  });
  return make(count, generator);
}

/**
 * Ops from `generator` until `durationMs` after this generator is first asked; then done. While
 * the inner generator is pending, it asks to be woken at the deadline at the latest.
 */
export function timeLimit(durationMs: number, generator: Generator): Generator {
  requireDuration('timeLimit', 'durationMs', durationMs, false);
  const make = (deadlineMs: number | undefined, inner: Generator): Generator => ({
    name: `timeLimit(${durationMs}, ${inner.name})`,
    op(context) {
      const deadline = deadlineMs ?? context.timeMs + durationMs;
      if (context.timeMs >= deadline) return DONE;
      const result = inner.op(context);
      if (result.type === 'done') return DONE;
      if (result.type === 'op') return { ...result, next: make(deadline, result.next) };
      return { type: 'pending', untilMs: Math.min(result.untilMs ?? Infinity, deadline), next: make(deadline, result.next) };
    },
    update: (event) => make(deadlineMs, updateGenerator(inner, event)),
  });
  return make(undefined, generator);
}

/**
 * Spaces the ops of `generator` over all threads together. With `jitter`, each gap is uniform in
 * [0, 2 * intervalMs) (Jepsen's stagger: the mean gap is intervalMs); without, exactly intervalMs.
 * The first op goes at once. A small lateness (up to one interval: timer slack) is absorbed so the
 * mean rate holds; a larger one (clients slower than the rate) restarts the schedule from now
 * rather than catching up in a burst.
 */
function spaced(kind: string, intervalMs: number, jitter: boolean, generator: Generator): Generator {
  requireDuration(kind, 'intervalMs', intervalMs, jitter);
  const make = (dueMs: number | undefined, inner: Generator): Generator => ({
    name: `${kind}(${Number(intervalMs.toFixed(3))}, ${inner.name})`,
    op(context) {
      const now = context.timeMs;
      const due = dueMs ?? now;
      if (now < due) return { type: 'pending', untilMs: due, next: make(dueMs, inner) };
      const result = inner.op(context);
      if (result.type !== 'op') return mapNext(result, (next) => make(dueMs, next));
      const base = now - due <= intervalMs ? due : now;
      const gap = jitter ? context.random.nextFloat() * 2 * intervalMs : intervalMs;
      return { type: 'op', op: result.op, next: make(base + gap, result.next) };
    },
    update: (event) => make(dueMs, updateGenerator(inner, event)),
  });
  return make(undefined, generator);
}

/** Randomized gaps with mean `intervalMs` between ops, over all threads (Jepsen's stagger). */
export function stagger(intervalMs: number, generator: Generator): Generator {
  return spaced('stagger', intervalMs, true, generator);
}

/** A total rate over all threads, with randomized gaps: `stagger(1000 / opsPerSecond)`. */
export function rate(opsPerSecond: number, generator: Generator): Generator {
  if (typeof opsPerSecond !== 'number' || !Number.isFinite(opsPerSecond) || opsPerSecond <= 0) {
    throw new GeneratorError(`rate: opsPerSecond must be a finite number > 0, got ${JSON.stringify(opsPerSecond)}`);
  }
  return spaced('rate', 1000 / opsPerSecond, true, generator);
}

/** Exactly `intervalMs` between ops, over all threads (Jepsen's delay). */
export function delay(intervalMs: number, generator: Generator): Generator {
  return spaced('delay', intervalMs, false, generator);
}

/** No ops for `durationMs` from when first asked, then done; a pause inside `sequence`/`phases`. */
export function sleep(durationMs: number): Generator {
  requireDuration('sleep', 'durationMs', durationMs, false);
  const make = (untilMs: number | undefined): Generator => ({
    name: `sleep(${durationMs})`,
    op(context) {
      const end = untilMs ?? context.timeMs + durationMs;
      if (context.timeMs >= end) return DONE;
      return { type: 'pending', untilMs: end, next: make(end) };
    },
  });
  return make(undefined);
}

/**
 * The generators one after another: the next starts as soon as the previous is done, even while
 * ops of the previous are still in flight (Jepsen's concat). Op literals count as `once`.
 */
export function sequence(...items: (OpSpec | Generator)[]): Generator {
  return chain('sequence', items.map(toGenerator), false);
}

/**
 * Phases: like `sequence`, but the next phase starts only when the previous is done AND every op in
 * flight (in the whole run, as `context.inFlight` counts) has completed (Jepsen's phases/synchronize).
 */
export function phases(...items: (OpSpec | Generator)[]): Generator {
  return chain('phases', items.map(toGenerator), true);
}

function chain(kind: string, generators: readonly Generator[], synchronize: boolean): Generator {
  const make = (index: number, current: Generator | undefined, draining: boolean): Generator => ({
    name: `${kind}(${index + 1}/${generators.length})`,
    op(context) {
      let at = index;
      let generator = current;
      let waiting = draining;
      // Each pass either returns or moves to the next generator: at most generators.length + 1 passes.
      for (;;) {
        if (waiting) {
          if (context.inFlight > 0) return { type: 'pending', next: make(at, generator, true) };
          waiting = false;
          at++;
          generator = undefined;
        }
        if (at >= generators.length) return DONE;
        const result = (generator ?? generators[at]).op(context);
        if (result.type !== 'done') return mapNext(result, (next) => make(at, next, false));
        if (synchronize) waiting = true;
        else {
          at++;
          generator = undefined;
        }
      }
    },
    // Completions go to the current generator, even late ones of an earlier generator (as in Jepsen).
    update: (event) => (index >= generators.length ? done : make(index, updateGenerator(current ?? generators[index], event), draining)),
  });
  return make(0, undefined, false);
}

/**
 * A random choice among generators for each op, by `weights` (default: equal). A chosen generator
 * that is pending makes the mix pending (as in Jepsen); one that is done leaves the mix. Every
 * member sees every completion.
 */
export function mix(generators: readonly Generator[], weights?: readonly number[]): Generator {
  if (generators.length === 0) throw new GeneratorError('mix: needs at least one generator, got []');
  const given = weights ?? generators.map(() => 1);
  if (given.length !== generators.length) {
    throw new GeneratorError(`mix: needs one weight per generator (${generators.length}), got ${JSON.stringify(weights)}`);
  }
  for (const weight of given) {
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
      throw new GeneratorError(`mix: weights must be finite numbers > 0, got ${JSON.stringify(weights)}`);
    }
  }
  const make = (members: readonly Generator[], memberWeights: readonly number[]): Generator => ({
    name: `mix(${members.length})`,
    op(context) {
      let live = members;
      let liveWeights = memberWeights;
      while (live.length > 0) {
        const chosen = pickWeighted(liveWeights, context.random.nextFloat());
        const result = live[chosen].op(context);
        if (result.type !== 'done') {
          const base = live;
          const baseWeights = liveWeights;
          return mapNext(result, (next) => make(replaceAt(base, chosen, next), baseWeights));
        }
        live = removeAt(live, chosen);
        liveWeights = removeAt(liveWeights, chosen);
      }
      return DONE;
    },
    update: (event) =>
      make(
        members.map((member) => updateGenerator(member, event)),
        memberWeights,
      ),
  });
  return make(generators, given);
}

/** The index `draw` (uniform in [0, 1)) falls on when each index gets a share `weights[i]` (>= 0, not all 0). */
export function pickWeighted(weights: readonly number[], draw: number): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let rest = draw * total;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i] <= 0) continue;
    rest -= weights[i];
    if (rest < 0) return i;
  }
  // Rounding can leave a sliver: it belongs to the last index with a share.
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
  return 0;
}

function replaceAt<T>(items: readonly T[], index: number, value: T): T[] {
  const copy = items.slice();
  copy[index] = value;
  return copy;
}

function removeAt<T>(items: readonly T[], index: number): T[] {
  return items.filter((_, i) => i !== index);
}

/** Rewrites every op of `generator` (e.g. to set a key). Completions reach `generator` with the rewritten op. */
export function map(f: (op: OpSpec, context: GeneratorContext) => OpSpec, generator: Generator): Generator {
  const make = (inner: Generator): Generator => ({
    name: `map(${inner.name})`,
    op(context) {
      const result = inner.op(context);
      if (result.type === 'op') return { type: 'op', op: checkedOp(f(result.op, context), 'map'), next: make(result.next) };
      return mapNext(result, make);
    },
    update: (event) => make(updateGenerator(inner, event)),
  });
  return make(generator);
}

/**
 * Every thread gets its own copy of `source` (or its own generator from `source(thread, threads)`),
 * created when the thread first asks. The inner context keeps the real thread but counts only that
 * thread's in-flight ops (none: it is asking). A thread whose copy is done waits (pending) until
 * every thread's copy is done.
 */
export function eachThread(source: Generator | ((thread: number, threads: number) => Generator)): Generator {
  const create = isGenerator(source) ? () => source : source;
  const make = (copies: readonly (Generator | undefined)[], finished: readonly boolean[]): Generator => ({
    name: 'eachThread',
    op(context) {
      const thread = context.thread;
      const generator = copies[thread] ?? create(thread, context.threads);
      const result = finished[thread] ? DONE : generator.op({ ...context, inFlight: 0 });
      if (result.type !== 'done') return mapNext(result, (next) => make(replaceAt(copies, thread, next), finished));
      const nowFinished = replaceAt(finished, thread, true);
      let all = true;
      for (let t = 0; t < context.threads; t++) if (nowFinished[t] !== true) all = false;
      if (all) return DONE;
      return { type: 'pending', next: make(replaceAt(copies, thread, done), nowFinished) };
    },
    update(event) {
      const copy = copies[event.thread];
      if (copy === undefined) return make(copies, finished);
      return make(replaceAt(copies, event.thread, updateGenerator(copy, event)), finished);
    },
  });
  return make([], []);
}

export interface PerKeyOptions {
  /** Threads that share one key at a time (Jepsen's n); thread t works in group floor(t / n). Required. */
  threadsPerKey: number;
  /** Ops on one key before its group moves to a fresh key (wraps each key's generator in `limit`). Default: none. */
  opsPerKey?: number;
  /** Keys handed out in all; when every group is done with its last key, the generator is done. Default: endless. */
  keysMax?: number;
  /** The name of the i-th key. Default `k${i}`. */
  keyName?: (index: number) => string;
}

interface KeyGroup {
  key: string;
  generator: Generator;
  /** Ops of this group on this key not yet completed. */
  inFlight: number;
}

/**
 * Jepsen's independent concurrent generator: threads work in groups of `threadsPerKey`, each group
 * on its own key, with a generator from `perKeyGenerator(key)`; when that generator is done (e.g.
 * the key reached `opsPerKey`), the group takes the next fresh key. Every op gets the group's key.
 * Inside, the context is the group's: thread is the index within the group, threads the group's
 * size (the last group may be smaller when threads is not a multiple), inFlight the group's ops on
 * the current key. Completions are routed by thread and key; those of an earlier key are dropped.
 */
export function perKey(options: PerKeyOptions, perKeyGenerator: (key: string) => Generator): Generator {
  const threadsPerKey = options.threadsPerKey;
  requireCount('perKey', 'threadsPerKey', threadsPerKey, 1);
  const opsPerKey = options.opsPerKey ?? Infinity;
  requireCount('perKey', 'opsPerKey', opsPerKey, 1);
  const keysMax = options.keysMax ?? Infinity;
  requireCount('perKey', 'keysMax', keysMax, 1);
  const keyName = options.keyName ?? ((index: number) => `k${index}`);
  const fresh = (index: number): KeyGroup => {
    const key = keyName(index);
    const generator = perKeyGenerator(key);
    return { key, generator: opsPerKey === Infinity ? generator : limit(opsPerKey, generator), inFlight: 0 };
  };
  // `groups[g]` undefined: not started yet; null: out of keys for good.
  const make = (groups: readonly (KeyGroup | null | undefined)[], nextKey: number): Generator => ({
    name: `perKey(${threadsPerKey})`,
    op(context) {
      const g = Math.floor(context.thread / threadsPerKey);
      const groupCount = Math.ceil(context.threads / threadsPerKey);
      const inner = (group: KeyGroup): GeneratorContext => ({
        ...context,
        thread: context.thread % threadsPerKey,
        threads: Math.min(threadsPerKey, context.threads - g * threadsPerKey),
        inFlight: group.inFlight,
      });
      let group = groups[g];
      let keys = nextKey;
      let rotated = false;
      if (group === undefined) {
        group = keys < keysMax ? fresh(keys++) : null;
        rotated = true;
      }
      // At most two asks: the current key's generator, then (if it is done) one fresh key's.
      while (group !== null) {
        const result: GeneratorResult = group.generator.op(inner(group));
        const current: KeyGroup = group;
        if (result.type === 'op') {
          const op = { ...result.op, key: current.key };
          const next = { key: current.key, generator: result.next, inFlight: current.inFlight + 1 };
          return { type: 'op', op, next: make(replaceAt(groups, g, next), keys) };
        }
        if (result.type === 'pending') {
          return { ...result, next: make(replaceAt(groups, g, { ...current, generator: result.next }), keys) };
        }
        if (rotated) {
          group = null;
          break;
        }
        group = keys < keysMax ? fresh(keys++) : null;
        rotated = true;
      }
      const nowGroups = replaceAt(groups, g, null);
      let all = true;
      for (let i = 0; i < groupCount; i++) if (nowGroups[i] !== null && !(nowGroups[i] === undefined && keys >= keysMax)) all = false;
      if (all) return DONE;
      return { type: 'pending', next: make(nowGroups, keys) };
    },
    update(event) {
      const g = Math.floor(event.thread / threadsPerKey);
      const group = groups[g];
      if (group === undefined || group === null || event.op.key !== group.key) return make(groups, nextKey);
      const inner = { ...event, thread: event.thread % threadsPerKey };
      const next = { key: group.key, generator: updateGenerator(group.generator, inner), inFlight: group.inFlight - 1 };
      return make(replaceAt(groups, g, next), nextKey);
    },
  });
  return make([], 0);
}

export interface UntilOkOptions {
  /** Attempts before giving up (done without an ok). Default 10. */
  attemptsMax?: number;
  /** Pause after a fail/info before the next attempt. Default 100. */
  backoffMs?: number;
}

/**
 * One op, retried until it completes `ok` (e.g. a final read after the heal): emits it, waits for
 * its completion (pending meanwhile), and after a fail or info waits `backoffMs` and tries again,
 * at most `attemptsMax` times. Use one per thread (`eachThread`) for parallel retries.
 */
export function untilOk(source: OpSource, options: UntilOkOptions = {}): Generator {
  const attemptsMax = options.attemptsMax ?? 10;
  requireCount('untilOk', 'attemptsMax', attemptsMax, 1);
  const backoffMs = options.backoffMs ?? 100;
  requireDuration('untilOk', 'backoffMs', backoffMs, false);
  const name = `untilOk(${sourceName(source)})`;
  interface State {
    attempts: number;
    /** The thread whose attempt is in flight. */
    awaiting?: number;
    retryAtMs: number;
    succeeded: boolean;
  }
  const make = (state: State): Generator => ({
    name,
    op(context) {
      if (state.succeeded) return DONE;
      if (state.awaiting !== undefined) return { type: 'pending', next: make(state) };
      if (state.attempts >= attemptsMax) return DONE;
      if (context.timeMs < state.retryAtMs) return { type: 'pending', untilMs: state.retryAtMs, next: make(state) };
      const op = opFrom(source, context, name);
      return { type: 'op', op, next: make({ ...state, attempts: state.attempts + 1, awaiting: context.thread }) };
    },
    update(event) {
      if (state.awaiting === undefined || event.thread !== state.awaiting) return make(state);
      if (event.completion.type === 'ok') return make({ ...state, awaiting: undefined, succeeded: true });
      return make({ ...state, awaiting: undefined, retryAtMs: event.timeMs + backoffMs });
    },
  });
  return make({ attempts: 0, retryAtMs: -Infinity, succeeded: false });
}
