// Runs a generator on a virtual clock with simulated clients (Jepsen's generator test harness):
// deterministic for a seed, instant, no I/O. For testing generators and workloads, and for drivers
// without real time. It shares the interpreter with the real runner; it does not record histories.

import { Random } from '../src/raft/random.js';
import { historyEvent, type HistoryEvent } from '../checker/history.js';
import type { Generator } from './generator.js';
import { GeneratorError } from './generator.js';
import { GeneratorInterpreter } from './interpreter.js';
import type { Completion, OpSpec } from './types.js';

export interface SimulateOptions {
  threads: number;
  seed: number;
  /** Virtual ms from invoke to completion: fixed, or drawn per op. Default 10. */
  latencyMs?: number | ((op: OpSpec, random: Random) => number);
  /** The answer to an op, computed when it is invoked (so ops apply atomically at invocation). Default: ok, echoing the value. */
  respond?: (op: OpSpec, dispatch: { thread: number; process: number; timeMs: number }) => Completion;
  /** No new ops at or after this virtual time; ops in flight still complete. Default 3 600 000 (an hour). */
  timeLimitMs?: number;
  /** At most this many ops. Default 100 000. */
  opsMax?: number;
}

/** One simulated op, from invoke to completion. */
export interface SimulatedOp {
  thread: number;
  process: number;
  op: OpSpec;
  completion: Completion;
  invokeMs: number;
  completeMs: number;
  /** Positions of the invoke and the completion in the run's order of events. */
  invokeSeq: number;
  completeSeq: number;
}

export interface SimulationResult {
  /** In invocation order. */
  ops: SimulatedOp[];
  /** Virtual time of the last completion. */
  endMs: number;
  stopReason: 'done' | 'time-limit' | 'ops-max';
}

/** Simulates the run of `generator`; throws GeneratorError if the generator gets stuck. */
export function simulateGenerator(generator: Generator, options: SimulateOptions): SimulationResult {
  const interpreter = new GeneratorInterpreter({ generator, threads: options.threads, seed: options.seed });
  // Latencies draw from their own stream, so the generator's choices do not depend on them.
  const latencyRandom = new Random(options.seed ^ 0x5eed);
  const latency = options.latencyMs ?? 10;
  const respond =
    options.respond ?? ((op: OpSpec) => (op.value === undefined ? { type: 'ok' as const } : { type: 'ok' as const, value: op.value }));
  const timeLimitMs = options.timeLimitMs ?? 3_600_000;
  const opsMax = options.opsMax ?? 100_000;
  const ops: SimulatedOp[] = [];
  // Ops in flight, completed in order of completion time, then of invocation.
  const inFlight: SimulatedOp[] = [];
  let now = 0;
  let seq = 0;
  let stopReason: SimulationResult['stopReason'] | undefined;
  for (;;) {
    let wakeAtMs: number | undefined;
    if (stopReason === undefined) {
      if (now >= timeLimitMs) stopReason = 'time-limit';
      else if (ops.length >= opsMax) stopReason = 'ops-max';
    }
    if (stopReason === undefined) {
      const poll = interpreter.poll(now);
      for (const dispatch of poll.dispatches) {
        const delayMs = typeof latency === 'number' ? latency : latency(dispatch.op, latencyRandom);
        if (!Number.isFinite(delayMs) || delayMs < 0) throw new GeneratorError(`latencyMs must be a finite number >= 0, got ${delayMs}`);
        const completion = respond(dispatch.op, { thread: dispatch.thread, process: dispatch.process, timeMs: now });
        const simulated: SimulatedOp = {
          thread: dispatch.thread,
          process: dispatch.process,
          op: dispatch.op,
          completion,
          invokeMs: now,
          completeMs: now + delayMs,
          invokeSeq: seq++,
          completeSeq: -1,
        };
        ops.push(simulated);
        insertByCompletion(inFlight, simulated);
      }
      if (poll.done) stopReason = 'done';
      else if (poll.dispatches.length > 0) continue;
      wakeAtMs = poll.wakeAtMs;
    }
    if (inFlight.length === 0 && (stopReason !== undefined || wakeAtMs === undefined)) break;
    const nextCompletion = inFlight.length > 0 ? inFlight[0].completeMs : Infinity;
    now = Math.max(now, Math.min(nextCompletion, wakeAtMs ?? Infinity, stopReason === undefined ? timeLimitMs : Infinity));
    while (inFlight.length > 0 && inFlight[0].completeMs <= now) {
      const finished = inFlight.shift()!;
      finished.completeSeq = seq++;
      interpreter.complete(finished.thread, finished.completion, finished.completeMs);
    }
  }
  const endMs = ops.reduce((end, op) => Math.max(end, op.completeMs), 0);
  return { ops, endMs, stopReason: stopReason ?? 'done' };
}

function insertByCompletion(queue: SimulatedOp[], op: SimulatedOp): void {
  let i = queue.length;
  while (i > 0 && queue[i - 1].completeMs > op.completeMs) i--;
  queue.splice(i, 0, op);
}

/**
 * The simulated ops as a history in the checker's format (times in ns), e.g. to check a workload
 * against its model without real processes.
 */
export function simulatedHistory(ops: readonly SimulatedOp[]): HistoryEvent[] {
  const marks: { timeMs: number; seq: number; op: SimulatedOp; invoke: boolean }[] = [];
  for (const op of ops) {
    marks.push({ timeMs: op.invokeMs, seq: op.invokeSeq, op, invoke: true });
    marks.push({ timeMs: op.completeMs, seq: op.completeSeq, op, invoke: false });
  }
  marks.sort((a, b) => a.seq - b.seq);
  return marks.map((mark, index) => {
    const { op, completion } = mark.op;
    return historyEvent({
      index,
      time: Math.round(mark.timeMs * 1e6),
      process: mark.op.process,
      type: mark.invoke ? 'invoke' : completion.type,
      f: op.f,
      key: op.key,
      value: mark.invoke ? op.value : completion.value,
      error: mark.invoke ? undefined : completion.error,
    });
  });
}
