// The one interpreter of generators: which thread runs which op, under which process id, and when
// to ask again. Pure bookkeeping with the time passed in; the real-time runner (src/harness/runner)
// and the virtual-time simulation (simulate.ts) are its two drivers. It never invokes a client.

import { Random } from '../src/raft/random.js';
import { done, GeneratorError, updateGenerator, type Generator, type GeneratorContext } from './generator.js';
import type { Completion, OpSpec } from './types.js';

export interface InterpreterOptions {
  generator: Generator;
  /** Worker threads (the run's concurrency), 1..THREADS_MAX. */
  threads: number;
  /** Seeds the random stream generators draw from. */
  seed: number;
  /** Thread t starts as process firstProcess + t. Default 0. */
  firstProcess?: number;
}

/** An op the driver must invoke now on `thread`, as `process`. */
export interface Dispatch {
  thread: number;
  process: number;
  op: OpSpec;
}

export interface PollResult {
  dispatches: Dispatch[];
  /** When to poll again if nothing completes first (undefined: only after a completion). */
  wakeAtMs?: number;
  /** The generator is done: no more dispatches, ever. The driver waits for the ops in flight. */
  done: boolean;
}

export const THREADS_MAX = 1024;

export class GeneratorInterpreter {
  readonly threads: number;
  readonly random: Random;
  private generator: Generator;
  private readonly processes: number[];
  private readonly busy: boolean[];
  private readonly ops: (OpSpec | undefined)[];
  private inFlightCount = 0;
  private finished = false;
  /** Where the round-robin over free threads starts, so no thread is always asked first. */
  private cursor = 0;
  private processesUsedCount: number;

  constructor(options: InterpreterOptions) {
    const { threads, seed } = options;
    const firstProcess = options.firstProcess ?? 0;
    if (!Number.isInteger(threads) || threads < 1 || threads > THREADS_MAX) {
      throw new GeneratorError(`threads must be an integer from 1 to ${THREADS_MAX}, got ${JSON.stringify(threads)}`);
    }
    if (!Number.isSafeInteger(seed)) throw new GeneratorError(`seed must be an integer, got ${JSON.stringify(seed)}`);
    if (!Number.isSafeInteger(firstProcess) || firstProcess < 0) {
      throw new GeneratorError(`firstProcess must be an integer >= 0, got ${JSON.stringify(firstProcess)}`);
    }
    this.threads = threads;
    this.random = new Random(seed);
    this.generator = options.generator;
    this.processes = Array.from({ length: threads }, (_, t) => firstProcess + t);
    this.busy = new Array<boolean>(threads).fill(false);
    this.ops = new Array<OpSpec | undefined>(threads).fill(undefined);
    this.processesUsedCount = threads;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  get done(): boolean {
    return this.finished;
  }

  /** Processes handed out so far (one per thread, plus one per `info`). */
  get processesUsed(): number {
    return this.processesUsedCount;
  }

  /** One past the highest process id handed out: where a following run should start. */
  get nextProcess(): number {
    return Math.max(...this.processes) + 1;
  }

  processOf(thread: number): number {
    return this.processes[thread];
  }

  isBusy(thread: number): boolean {
    return this.busy[thread];
  }

  /**
   * Asks the generator once for every free thread (round-robin from a rotating start) and returns
   * the ops to invoke. Throws GeneratorError when the generator can never make progress: pending
   * with no wake time while nothing is in flight.
   */
  poll(nowMs: number): PollResult {
    if (this.finished) return { dispatches: [], done: true };
    const dispatches: Dispatch[] = [];
    let wakeAtMs: number | undefined;
    for (let i = 0; i < this.threads && !this.finished; i++) {
      const thread = (this.cursor + i) % this.threads;
      if (this.busy[thread]) continue;
      const result = this.generator.op(this.context(thread, nowMs));
      switch (result.type) {
        case 'op':
          this.generator = result.next;
          this.busy[thread] = true;
          this.ops[thread] = result.op;
          this.inFlightCount++;
          dispatches.push({ thread, process: this.processes[thread], op: result.op });
          break;
        case 'pending': {
          this.generator = result.next;
          if (result.untilMs !== undefined) {
            // A wake time not in the future means "soon": 1 ms, so a driver can never spin.
            const at = result.untilMs > nowMs ? result.untilMs : nowMs + 1;
            wakeAtMs = wakeAtMs === undefined ? at : Math.min(wakeAtMs, at);
          }
          break;
        }
        case 'done':
          this.generator = done;
          this.finished = true;
          break;
      }
    }
    this.cursor = (this.cursor + 1) % this.threads;
    if (!this.finished && dispatches.length === 0 && this.inFlightCount === 0 && wakeAtMs === undefined) {
      throw new GeneratorError(
        `generator ${this.generator.name} is stuck: pending on every free thread, with no wake time and nothing in flight`,
      );
    }
    return { dispatches, wakeAtMs, done: this.finished };
  }

  /**
   * The op on `thread` completed: the generator is told, and after `info` the thread continues as a
   * new process (process + threads), since the old one may still have an op pending forever.
   * Returns the thread's process from now on.
   */
  complete(thread: number, completion: Completion, nowMs: number): number {
    const op = this.ops[thread];
    if (!this.busy[thread] || op === undefined) throw new GeneratorError(`thread ${thread} completed an op it was not running`);
    const process = this.processes[thread];
    this.busy[thread] = false;
    this.ops[thread] = undefined;
    this.inFlightCount--;
    this.generator = updateGenerator(this.generator, { thread, process, op, completion, timeMs: nowMs });
    if (completion.type === 'info') {
      this.processes[thread] = process + this.threads;
      this.processesUsedCount++;
    }
    return this.processes[thread];
  }

  /** The driver could not invoke a dispatched op (the run is stopping): frees the thread; the generator is not told. */
  cancel(thread: number): void {
    if (!this.busy[thread]) throw new GeneratorError(`thread ${thread} cancelled an op it was not running`);
    this.busy[thread] = false;
    this.ops[thread] = undefined;
    this.inFlightCount--;
  }

  private context(thread: number, nowMs: number): GeneratorContext {
    return {
      timeMs: nowMs,
      thread,
      process: this.processes[thread],
      threads: this.threads,
      inFlight: this.inFlightCount,
      random: this.random,
    };
  }
}
