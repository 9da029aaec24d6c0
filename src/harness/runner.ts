// Runs a workload's generator against real clients in real time: `concurrency` worker threads,
// each invoking one op at a time as its current process; every call is recorded before it is made
// and every completion after. It knows nothing of nodes or faults (the launcher and nemesis do).

import type { HistoryRecorder } from './recorder.js';
import type { Generator } from '../../workloads/generator.js';
import { GeneratorInterpreter, THREADS_MAX, type Dispatch } from '../../workloads/interpreter.js';
import { errorText } from '../../workloads/kv-command.js';
import type { Client, ClientFactory, Completion } from '../../workloads/types.js';

export interface RunWorkloadOptions {
  generator: Generator;
  /** A fresh client for each process: one per thread at the start, one more after every `info`. */
  clientFactory: ClientFactory;
  /** Worker threads, 1..1024. */
  concurrency: number;
  /** Seeds the generator's random choices. */
  seed: number;
  recorder: HistoryRecorder;
  /** No new ops after this long; ops in flight still get up to opTimeoutMs. Default 60 000. */
  timeLimitMs?: number;
  /** Aborting stops the run at once: ops in flight are recorded `info` ("aborted") and their clients aborted. */
  signal?: AbortSignal;
  /** An op running longer is aborted and recorded `info` ("timeout"). Default 5000. */
  opTimeoutMs?: number;
  /** Called every progressIntervalMs, and once at the end. */
  onProgress?: (progress: RunProgress) => void;
  /** Default 1000. */
  progressIntervalMs?: number;
  /** Thread t starts as process firstProcess + t. Default: the recorder's nextProcess, so runs can follow one another. */
  firstProcess?: number;
  /** Each client's close() gets this long before it is abandoned. Default 2000. */
  clientCloseTimeoutMs?: number;
}

export interface OutcomeCounts {
  ok: number;
  fail: number;
  info: number;
}

export interface RunProgress extends OutcomeCounts {
  elapsedMs: number;
  timeLimitMs: number;
  invoked: number;
  inFlight: number;
  /** Completions per second since the previous report. */
  opsPerSecond: number;
}

export interface RunStats extends OutcomeCounts {
  elapsedMs: number;
  invoked: number;
  /** Completions by operation name. */
  byF: Record<string, OutcomeCounts>;
  /** Processes used: one per thread, plus one per `info`. */
  processesUsed: number;
  /** Where a following run's processes should start. */
  nextProcess: number;
  /** done: the generator finished; time-limit: timeLimitMs passed; aborted: the signal fired. */
  stopReason: 'done' | 'time-limit' | 'aborted';
}

export class RunnerOptionsError extends Error {
  override readonly name = 'RunnerOptionsError';
}

/** A client broke its contract (e.g. a completion that is not ok/fail/info): a programmer error. */
export class ClientContractError extends Error {
  override readonly name = 'ClientContractError';
}

interface Running {
  thread: number;
  process: number;
  dispatch: Dispatch;
  controller: AbortController;
  timer: NodeJS.Timeout | undefined;
  settled: boolean;
}

function requireNumber(name: string, value: number, min: number, integer: boolean): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new RunnerOptionsError(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(value)}`);
  }
}

/**
 * Interprets the generator until it is done, the time limit passes or the signal aborts, then
 * waits for the ops in flight (each bounded by opTimeoutMs) and closes every client (each bounded by
 * clientCloseTimeoutMs). A completion `info` (timeout, broken connection, client error) retires the
 * process: its op may still take effect, so the thread goes on as process + concurrency with a
 * fresh client. Rejects with the recorder's HistoryLimitError when the history is full, after
 * recording the completions of the ops in flight.
 */
export async function runWorkload(options: RunWorkloadOptions): Promise<RunStats> {
  const { generator, clientFactory, concurrency, seed, recorder, signal, onProgress } = options;
  const timeLimitMs = options.timeLimitMs ?? 60_000;
  const opTimeoutMs = options.opTimeoutMs ?? 5000;
  const progressIntervalMs = options.progressIntervalMs ?? 1000;
  const clientCloseTimeoutMs = options.clientCloseTimeoutMs ?? 2000;
  const firstProcess = options.firstProcess ?? recorder.nextProcess;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > THREADS_MAX) {
    throw new RunnerOptionsError(`concurrency must be an integer from 1 to ${THREADS_MAX}, got ${JSON.stringify(concurrency)}`);
  }
  requireNumber('timeLimitMs', timeLimitMs, 0, false);
  requireNumber('opTimeoutMs', opTimeoutMs, 1, false);
  requireNumber('progressIntervalMs', progressIntervalMs, 1, false);
  requireNumber('clientCloseTimeoutMs', clientCloseTimeoutMs, 0, false);
  if (typeof clientFactory !== 'function') throw new RunnerOptionsError('clientFactory must be a function (processId) => Client');

  const interpreter = new GeneratorInterpreter({ generator, threads: concurrency, seed, firstProcess });
  const started = performance.now();
  const elapsedMs = (): number => performance.now() - started;
  const clients: (Client | undefined)[] = [];
  const closing: Promise<void>[] = [];
  const running = new Map<number, Running>();
  const stats = { invoked: 0, ok: 0, fail: 0, info: 0 };
  const byF: Record<string, OutcomeCounts> = {};
  let failure: unknown;
  let stopReason: RunStats['stopReason'] = 'done';
  let wakeUp: (() => void) | undefined;

  const notify = (): void => {
    const wake = wakeUp;
    wakeUp = undefined;
    wake?.();
  };
  /** Resolves after `ms`, or at the next completion, abort or failure, whichever is first. */
  const waitForChange = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        if (wakeUp === finish) wakeUp = undefined;
        resolve();
      };
      wakeUp = finish;
      if (Number.isFinite(ms)) timer = setTimeout(finish, Math.max(0, ms));
    });
  const fail = (error: unknown): void => {
    failure ??= error;
    notify();
  };
  const closeBounded = (client: Client): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, clientCloseTimeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      try {
        client.close().then(done, done);
      } catch {
        done();
      }
    });
  const makeClient = (thread: number, process: number): void => {
    try {
      clients[thread] = clientFactory(process);
    } catch (error) {
      clients[thread] = undefined;
      fail(error);
    }
  };

  const settle = (entry: Running, completion: Completion): void => {
    if (entry.settled) return;
    entry.settled = true;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    running.delete(entry.thread);
    const { op } = entry.dispatch;
    try {
      recorder.complete(entry.process, op, completion);
    } catch (error) {
      fail(error);
    }
    stats[completion.type]++;
    const counts = (byF[op.f] ??= { ok: 0, fail: 0, info: 0 });
    counts[completion.type]++;
    const process = interpreter.complete(entry.thread, completion, elapsedMs());
    if (process !== entry.process) {
      const old = clients[entry.thread];
      if (old !== undefined) closing.push(closeBounded(old));
      makeClient(entry.thread, process);
    }
    notify();
  };

  const start = (dispatch: Dispatch): void => {
    const client = clients[dispatch.thread];
    if (failure !== undefined || client === undefined) {
      interpreter.cancel(dispatch.thread);
      return;
    }
    try {
      recorder.invoke(dispatch.process, dispatch.op);
    } catch (error) {
      interpreter.cancel(dispatch.thread);
      fail(error);
      return;
    }
    stats.invoked++;
    const entry: Running = {
      thread: dispatch.thread,
      process: dispatch.process,
      dispatch,
      controller: new AbortController(),
      timer: undefined,
      settled: false,
    };
    running.set(dispatch.thread, entry);
    entry.timer = setTimeout(() => {
      entry.controller.abort(new Error(`operation timed out after ${opTimeoutMs} ms`));
      settle(entry, { type: 'info', error: 'timeout' });
    }, opTimeoutMs);
    let promise: Promise<Completion>;
    try {
      promise = client.invoke(dispatch.op, entry.controller.signal);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (completion) => {
        const problem = completionProblem(completion);
        if (problem === undefined) return settle(entry, completion);
        if (!entry.settled) fail(new ClientContractError(`client of process ${entry.process} answered ${dispatch.op.f} with ${problem}`));
        settle(entry, { type: 'info', error: 'invalid completion' });
      },
      (error: unknown) => settle(entry, { type: 'info', error: errorText(error) }),
    );
  };

  const onAbort = (): void => {
    for (const entry of [...running.values()]) {
      entry.controller.abort(signal?.reason);
      settle(entry, { type: 'info', error: 'aborted' });
    }
    notify();
  };

  let lastReportMs = 0;
  let lastReportCompleted = 0;
  const report = (): void => {
    if (onProgress === undefined) return;
    const now = elapsedMs();
    const completed = stats.ok + stats.fail + stats.info;
    const seconds = (now - lastReportMs) / 1000;
    const progress: RunProgress = {
      elapsedMs: now,
      timeLimitMs,
      ...stats,
      inFlight: running.size,
      opsPerSecond: seconds > 0 ? (completed - lastReportCompleted) / seconds : 0,
    };
    lastReportMs = now;
    lastReportCompleted = completed;
    try {
      onProgress(progress);
    } catch (error) {
      fail(error);
    }
  };

  signal?.addEventListener('abort', onAbort, { once: true });
  const progressTimer = onProgress === undefined ? undefined : setInterval(report, progressIntervalMs);
  try {
    for (let thread = 0; thread < concurrency; thread++) makeClient(thread, interpreter.processOf(thread));
    for (;;) {
      if (signal?.aborted) {
        stopReason = 'aborted';
        break;
      }
      if (failure !== undefined) break;
      const now = elapsedMs();
      if (now >= timeLimitMs) {
        stopReason = 'time-limit';
        break;
      }
      let poll;
      try {
        poll = interpreter.poll(now);
      } catch (error) {
        fail(error);
        break;
      }
      for (const dispatch of poll.dispatches) start(dispatch);
      if (poll.done) break;
      if (poll.dispatches.length > 0) continue;
      await waitForChange(Math.min(poll.wakeAtMs ?? Infinity, timeLimitMs) - now);
    }
    // Every op in flight ends: it completes, times out, or the signal aborts it.
    while (running.size > 0) await waitForChange(Infinity);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (progressTimer !== undefined) clearInterval(progressTimer);
    for (const client of clients) if (client !== undefined) closing.push(closeBounded(client));
    await Promise.all(closing);
  }
  report();
  if (failure !== undefined) throw failure;
  return {
    elapsedMs: elapsedMs(),
    ...stats,
    byF,
    processesUsed: interpreter.processesUsed,
    nextProcess: interpreter.nextProcess,
    stopReason,
  };
}

function completionProblem(completion: unknown): string | undefined {
  if (typeof completion !== 'object' || completion === null) return `a non-object ${JSON.stringify(completion)}`;
  const { type, error } = completion as Completion;
  if (type !== 'ok' && type !== 'fail' && type !== 'info') return `type ${JSON.stringify(type)} (expected ok, fail or info)`;
  if (error !== undefined && typeof error !== 'string') return `a non-string error ${JSON.stringify(error)}`;
  return undefined;
}
