// Checks a whole history: splits it into independent parts (P-compositionality), searches the
// parts in slices so a hard part cannot hold back the others (in worker threads when there is
// enough work), stops everything as soon as one part is not linearizable, and keeps to the time
// and memory budgets, answering `unknown` with the parts left undecided.

import type { Worker } from 'node:worker_threads';
import { HistoryError, type History, type Operation } from './history.js';
import { createModel, type ModelOptions } from './models/index.js';
import type { Model } from './model.js';
import { createPartSearch, unstartedResult, type PartSearch, type SearchOptions, type SearchResult } from './search.js';

export type Validity = true | false | 'unknown';

export interface CheckOptions {
  /** Model name (see MODEL_NAMES) and its options; workers rebuild the model from these. */
  model: string;
  modelOptions?: ModelOptions;
  /** Wall-clock budget for the whole check; `unknown` past it. Default: none. */
  timeoutMs?: number;
  /** Ceiling on the search's memory (caches and states), all parts together. Default 2 GiB. */
  memoryBytesMax?: number;
  /** Worker threads: 0 checks in this thread; default: up to the cores when there is enough work. */
  workers?: number;
  /** Called now and then during long checks. */
  onProgress?: (progress: CheckProgress) => void;
  signal?: AbortSignal;
}

export interface CheckProgress {
  elapsedMs: number;
  partsDone: number;
  parts: number;
  steps: number;
}

export interface PartResult extends SearchResult {
  /** The part's key (for keyed models), or undefined for a single-part history. */
  key?: string;
  /** Client operations in the part, before skipped ones are removed. */
  ops: number;
  elapsedMs: number;
}

export interface CheckResult {
  valid: Validity;
  model: string;
  /** Client operations in the history. */
  ops: number;
  parts: number;
  elapsedMs: number;
  /** Decided parts (every part when valid; the failing one first when invalid). */
  results: PartResult[];
  /** Keys (or part numbers) of parts that were not decided, when unknown. */
  undecided: string[];
  steps: number;
  workers: number;
  /** The memory ceiling of the whole check (worker threads split it between them). */
  memoryBytesMax: number;
}

const SLICE_STEPS = 1 << 15;
const WORKER_OPS_MIN = 4000;
const DEFAULT_MEMORY_BYTES_MAX = 2 * 1024 ** 3;

function partName(part: Operation[], index: number): string {
  return part[0]?.key ?? `part ${index}`;
}

/**
 * Searches parts round-robin in slices of steps in this thread. Stops at the first illegal part,
 * at the deadline, or when `shouldStop` says so. Shared by the main thread and the workers.
 */
export function runParts(
  model: Model<unknown>,
  parts: Operation[][],
  options: {
    deadlineMs: number;
    memoryBytesMax: number;
    shouldStop?: () => boolean;
    onDecided: (index: number, result: PartResult) => void;
    onSlice?: (steps: number) => void;
  },
): void {
  interface Live {
    index: number;
    /** Set up on the part's first slice: a part never reached costs nothing. */
    search: PartSearch | undefined;
    elapsedMs: number;
  }
  // The memory the other live parts hold while one runs its slice: each search checks its tables'
  // growth against the ceiling with theirs counted, so the parts together keep to it.
  let heldElsewhere = 0;
  const searchOptions: SearchOptions = {
    deadlineMs: options.deadlineMs,
    memoryBytesMax: options.memoryBytesMax,
    memoryBytesElsewhere: () => heldElsewhere,
    shouldStop: options.shouldStop,
  };
  let live: Live[] = parts.map((part, index) => ({ index, search: undefined, elapsedMs: 0 }));
  const decide = (item: Live, result: SearchResult): void => {
    const part = parts[item.index];
    options.onDecided(item.index, partResult(result, part[0]?.key, part.length, item.elapsedMs));
  };
  /** Ends every part in `items` not yet decided as unknown, for `reason`, without searching further. */
  const abandon = (items: Live[], reason: NonNullable<SearchResult['reason']>): void => {
    for (const item of items) decide(item, item.search?.abandon(reason) ?? unstartedResult(model, parts[item.index], reason));
  };
  let slice = SLICE_STEPS;
  while (live.length > 0) {
    const still: Live[] = [];
    let stepsTaken = 0;
    let liveBytes = 0;
    for (const item of live) liveBytes += item.search?.bytes ?? 0;
    for (let at = 0; at < live.length; at++) {
      const item = live[at];
      const started = performance.now();
      const search = (item.search ??= createPartSearch(model, parts[item.index], searchOptions));
      const before = search.steps;
      const bytesBefore = search.bytes;
      heldElsewhere = liveBytes - bytesBefore;
      const result = search.run(slice);
      item.elapsedMs += performance.now() - started;
      stepsTaken += search.steps - before;
      if (result === undefined) {
        liveBytes += search.bytes - bytesBefore;
        still.push(item);
        continue;
      }
      // A decided part's tables are garbage from now on.
      liveBytes -= bytesBefore;
      decide(item, result);
      // One part not linearizable decides the history; out of time or told to stop, every other
      // part is out of time too: the parts not decided are left unknown as they are.
      if (result.verdict === 'illegal' || (result.verdict === 'unknown' && result.reason !== 'memory')) {
        abandon([...still, ...live.slice(at + 1)], result.verdict === 'illegal' ? 'stopped' : (result.reason ?? 'stopped'));
        return;
      }
    }
    options.onSlice?.(stepsTaken);
    // Over the memory ceiling: give up on the part holding the most.
    let bytes = 0;
    for (const item of still) bytes += item.search!.bytes;
    if (bytes > options.memoryBytesMax && still.length > 0) {
      const biggest = still.reduce((a, b) => (a.search!.bytes >= b.search!.bytes ? a : b));
      decide(biggest, biggest.search!.abandon('memory', { bytes, bytesMax: options.memoryBytesMax }));
      still.splice(still.indexOf(biggest), 1);
    }
    live = still;
    // Long-running parts get longer slices, so switching costs stay small.
    slice = Math.min(slice * 2, 1 << 20);
  }
}

/** A part's result: the search's, with the part's key, size and time (built field by field: a spread costs more than a small part's search). */
function partResult(result: SearchResult, key: string | undefined, ops: number, elapsedMs: number): PartResult {
  return {
    verdict: result.verdict,
    linearization: result.linearization,
    longestPrefix: result.longestPrefix,
    stateAfterPrefix: result.stateAfterPrefix,
    stuck: result.stuck,
    reason: result.reason,
    memory: result.memory,
    steps: result.steps,
    cacheSize: result.cacheSize,
    opsChecked: result.opsChecked,
    key,
    ops,
    elapsedMs,
  };
}

/** Checks a history's operations against a model. */
export async function checkHistory(operations: Operation[], options: CheckOptions): Promise<CheckResult> {
  const started = performance.now();
  const model = createModel(options.model, options.modelOptions);
  const parts = model.partition(operations).filter((part) => part.length > 0);
  const deadlineMs = options.timeoutMs === undefined ? Infinity : started + options.timeoutMs;
  const memoryBytesMax = options.memoryBytesMax ?? DEFAULT_MEMORY_BYTES_MAX;
  // availableParallelism() asks the OS each time (on a small history it cost as much as the search):
  // only when workers may be used. node:os and node:worker_threads are loaded only then too: loading
  // them cost `skepsis check` of a small file several milliseconds of its start.
  const workers = Math.min(
    parts.length,
    options.workers ??
      (operations.length >= WORKER_OPS_MIN && parts.length > 1 ? Math.max(1, (await import('node:os')).availableParallelism()) : 0),
  );
  const decided = new Map<number, PartResult>();
  let steps = 0;
  const report = (): void =>
    options.onProgress?.({ elapsedMs: performance.now() - started, partsDone: decided.size, parts: parts.length, steps });

  if (workers <= 1) {
    runParts(model, parts, {
      deadlineMs,
      memoryBytesMax,
      shouldStop: () => options.signal?.aborted === true,
      onDecided: (index, result) => decided.set(index, result),
      onSlice: (taken) => {
        steps += taken;
        report();
      },
    });
  } else {
    await runInWorkers(parts, workers, { ...options, deadlineMs, memoryBytesMax }, decided, (taken) => {
      steps += taken;
      report();
    });
  }

  const results = [...decided.entries()].sort((a, b) => a[0] - b[0]).map(([, result]) => result);
  const failing = results.filter((r) => r.verdict === 'illegal');
  const undecided: string[] = [];
  parts.forEach((part, index) => {
    const result = decided.get(index);
    if (result === undefined || result.verdict === 'unknown') undecided.push(partName(part, index));
  });
  const valid: Validity = failing.length > 0 ? false : undecided.length > 0 ? 'unknown' : true;
  return {
    valid,
    model: model.name,
    ops: operations.length,
    parts: parts.length,
    elapsedMs: performance.now() - started,
    results: valid === false ? [...failing, ...results.filter((r) => r.verdict !== 'illegal')] : results,
    undecided,
    steps: results.reduce((sum, r) => sum + r.steps, 0),
    workers: Math.max(workers, 1),
    memoryBytesMax,
  };
}

/** Messages between the main thread and a checker worker. */
export type WorkerRequest = {
  model: string;
  modelOptions?: ModelOptions;
  parts: { index: number; ops: Operation[] }[];
  deadlineMs: number;
  /** performance.timeOrigin of the main thread, to translate the deadline. */
  timeOrigin: number;
  memoryBytesMax: number;
  stop: SharedArrayBuffer;
};
export type WorkerReply =
  | { kind: 'decided'; index: number; result: PartResult }
  | { kind: 'slice'; steps: number }
  | { kind: 'done' }
  | { kind: 'error'; message: string };

function startWorker(Worker: typeof import('node:worker_threads').Worker): Worker {
  // From the compiled tree the worker is plain JS; from the TypeScript sources (the tests run
  // them) it is loaded through tsx, a development dependency.
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url));
  const source = new URL('./worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { eval: true });
}

async function runInWorkers(
  parts: Operation[][],
  count: number,
  options: CheckOptions & { deadlineMs: number; memoryBytesMax: number },
  decided: Map<number, PartResult>,
  onSlice: (steps: number) => void,
): Promise<void> {
  const { Worker } = await import('node:worker_threads');
  // Largest parts first, each to the least-loaded worker.
  const loads = Array.from({ length: count }, () => ({ ops: 0, parts: [] as { index: number; ops: Operation[] }[] }));
  const order = parts.map((part, index) => index).sort((a, b) => parts[b].length - parts[a].length);
  for (const index of order) {
    const target = loads.reduce((a, b) => (a.ops <= b.ops ? a : b));
    target.ops += parts[index].length;
    target.parts.push({ index, ops: parts[index] });
  }
  const stop = new SharedArrayBuffer(4);
  const stopFlag = new Int32Array(stop);
  const onAbort = (): void => {
    Atomics.store(stopFlag, 0, 1);
  };
  options.signal?.addEventListener('abort', onAbort);
  const running = loads
    .filter((load) => load.parts.length > 0)
    .map(
      (load) =>
        new Promise<void>((resolve, reject) => {
          const worker = startWorker(Worker);
          const request: WorkerRequest = {
            model: options.model,
            modelOptions: options.modelOptions,
            parts: load.parts,
            deadlineMs: options.deadlineMs,
            timeOrigin: performance.timeOrigin,
            memoryBytesMax: options.memoryBytesMax / count,
            stop,
          };
          worker.on('message', (reply: WorkerReply) => {
            if (reply.kind === 'decided') {
              decided.set(reply.index, reply.result);
              // One part not linearizable decides the whole history: stop the others.
              if (reply.result.verdict === 'illegal') Atomics.store(stopFlag, 0, 1);
            } else if (reply.kind === 'slice') {
              onSlice(reply.steps);
            } else if (reply.kind === 'error') {
              Atomics.store(stopFlag, 0, 1);
              reject(new Error(`checker worker failed: ${reply.message}`));
            } else {
              void worker.terminate();
              resolve();
            }
          });
          worker.on('error', (error) => {
            Atomics.store(stopFlag, 0, 1);
            reject(error);
          });
          worker.on('exit', () => resolve());
          worker.postMessage(request);
        }),
    );
  try {
    await Promise.all(running);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Rejects operations the model cannot understand, naming the line of the call. */
export function validateOperations(history: History, model: Model<unknown>): void {
  for (const op of history.operations) {
    const problem = model.validate(op);
    if (problem !== undefined) throw new HistoryError(history.source, op.line, problem);
  }
}

/** Picks a model from the operations when none is named: the smallest that understands them. */
export function inferModel(operations: Operation[]): string {
  const fs = new Set(operations.map((op) => op.f));
  const keyed = ['get', 'put', 'append', 'delete'].some((f) => fs.has(f));
  if (keyed) {
    const absentSeen = operations.some((op) => op.f === 'get' && op.status === 'ok' && op.output === null);
    return fs.has('cas') || fs.has('delete') || absentSeen ? 'kv-cas' : 'kv';
  }
  return fs.has('cas') ? 'cas-register' : 'register';
}
