// Records a run's history as it happens: every event is appended to a JSON Lines file (the
// checker's format) with a synchronous write before the call returns, so a crash of the harness
// loses nothing already recorded, and kept in memory up to a bound. It does not check anything.

import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { formatJsonlEvent } from '../../checker/format/jsonl.js';
import { historyEvent, NEMESIS_PROCESS, pairHistory, type EventType, type History, type HistoryEvent } from '../../checker/history.js';
import type { Completion, OpSpec } from '../../workloads/types.js';

export interface RecorderOptions {
  /**
   * The JSON Lines file; created, and it must not exist yet (a run never writes over another's
   * history). Default: none, memory only.
   */
  path?: string;
  /**
   * Most events recorded. An invoke is refused (HistoryLimitError) unless there is room left for it
   * and for the completions of every call pending, so completions always fit. Default 1 000 000
   * (a few hundred MB at most).
   */
  eventsMax?: number;
  /** Monotonic nanoseconds since the run started. Default: process.hrtime from when the recorder is made. */
  clockNs?: () => number;
}

/** The history reached its bound: the run must stop. The history recorded so far is intact. */
export class HistoryLimitError extends Error {
  override readonly name = 'HistoryLimitError';
  constructor(readonly eventsMax: number) {
    super(`the history reached its bound of ${eventsMax} events; stopping the run (raise the events bound or shorten the run)`);
  }
}

/** The file cannot be written, or the recorder was used wrongly (a broken history would follow). */
export class RecorderError extends Error {
  override readonly name = 'RecorderError';
}

/** What the runner needs from a recorder; the simulator may record through the same interface. */
export interface HistoryRecorder {
  /** Records a call before it is made. Throws HistoryLimitError when the history is full. */
  invoke(process: number, op: OpSpec): HistoryEvent;
  /** Records how a call ended, after it ended. */
  complete(process: number, op: OpSpec, completion: Completion): HistoryEvent;
  /** One past the highest numeric process recorded: where new processes should start. */
  readonly nextProcess: number;
}

export const DEFAULT_EVENTS_MAX = 1_000_000;

export class Recorder implements HistoryRecorder {
  readonly path: string | undefined;
  readonly eventsMax: number;
  private readonly clockNs: () => number;
  private readonly recorded: HistoryEvent[] = [];
  /** Pending call per process: its f, to assert that completions match. */
  private readonly pending = new Map<number | string, string>();
  private fd: number | undefined;
  private closed = false;
  private lastTimeNs = 0;
  private nextProcessId = 0;

  constructor(options: RecorderOptions = {}) {
    const eventsMax = options.eventsMax ?? DEFAULT_EVENTS_MAX;
    if (!Number.isSafeInteger(eventsMax) || eventsMax < 2) {
      throw new RecorderError(`eventsMax must be an integer >= 2, got ${JSON.stringify(options.eventsMax)}`);
    }
    this.eventsMax = eventsMax;
    this.path = options.path;
    if (options.clockNs !== undefined) this.clockNs = options.clockNs;
    else {
      const start = process.hrtime.bigint();
      this.clockNs = () => Number(process.hrtime.bigint() - start);
    }
    if (options.path !== undefined) {
      try {
        this.fd = openSync(options.path, 'wx');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        throw new RecorderError(`cannot create the history file ${options.path}: ${code}`);
      }
    }
  }

  /** Every event so far, in order (index i at position i). */
  get events(): readonly HistoryEvent[] {
    return this.recorded;
  }

  get nextProcess(): number {
    return this.nextProcessId;
  }

  /** Calls recorded whose completion is not. */
  get pendingCount(): number {
    return this.pending.size;
  }

  invoke(process: number, op: OpSpec): HistoryEvent {
    if (!Number.isSafeInteger(process) || process < 0)
      throw new RecorderError(`process must be an integer >= 0, got ${JSON.stringify(process)}`);
    if (this.pending.has(process)) {
      throw new RecorderError(`process ${process} invokes ${op.f} while its ${this.pending.get(process)} is still pending`);
    }
    // Room for this call, and for the completions of every pending call including this one.
    if (this.recorded.length + this.pending.size + 2 > this.eventsMax) throw new HistoryLimitError(this.eventsMax);
    const event = this.append({ process, type: 'invoke', f: op.f, key: op.key, value: op.value });
    this.pending.set(process, op.f);
    this.nextProcessId = Math.max(this.nextProcessId, process + 1);
    return event;
  }

  complete(process: number, op: OpSpec, completion: Completion): HistoryEvent {
    const pendingF = this.pending.get(process);
    if (pendingF === undefined) throw new RecorderError(`process ${process} completes ${op.f} without a pending call`);
    if (pendingF !== op.f) throw new RecorderError(`process ${process} completes ${op.f} but its pending call is ${pendingF}`);
    if (!['ok', 'fail', 'info'].includes(completion.type)) {
      throw new RecorderError(`completion type must be ok, fail or info, got ${JSON.stringify(completion.type)}`);
    }
    const event = this.append({ process, type: completion.type, f: op.f, key: op.key, value: completion.value, error: completion.error });
    this.pending.delete(process);
    return event;
  }

  /**
   * A fault record (process "nemesis"), e.g. `fault('start-partition', {n1: ['n2']})`. Type `info`
   * by default; `invoke` for a fault's start before it took effect, as Jepsen's nemesis does.
   */
  fault(f: string, value?: unknown, type: Extract<EventType, 'invoke' | 'info'> = 'info'): HistoryEvent {
    if (typeof f !== 'string' || f === '') throw new RecorderError(`a fault needs a name f, got ${JSON.stringify(f)}`);
    if (this.recorded.length + this.pending.size + 1 > this.eventsMax) throw new HistoryLimitError(this.eventsMax);
    return this.append({ process: NEMESIS_PROCESS, type, f, value });
  }

  /** The events paired into operations, for the checker. */
  history(source = this.path ?? 'recorded history'): History {
    return pairHistory(this.recorded, source);
  }

  /** Flushes the file to disk and closes it. Idempotent; recording afterwards throws. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return;
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private append(fields: Omit<HistoryEvent, 'index' | 'time'>): HistoryEvent {
    if (this.closed) throw new RecorderError(`the recorder is closed; cannot record ${fields.type} ${fields.f}`);
    const time = this.clockNs();
    if (!Number.isFinite(time) || time < this.lastTimeNs) {
      throw new RecorderError(`the clock went from ${this.lastTimeNs} to ${time} ns: times must be monotonic`);
    }
    this.lastTimeNs = time;
    const event = historyEvent({ ...fields, index: this.recorded.length, time });
    if (this.fd !== undefined) {
      const line = Buffer.from(`${formatJsonlEvent(event)}\n`, 'utf8');
      try {
        // A regular file takes the whole line at once; the loop only matters if the disk is nearly full.
        for (let offset = 0; offset < line.length; ) offset += writeSync(this.fd, line, offset);
      } catch (error) {
        throw new RecorderError(
          `cannot write to the history file ${this.path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
    }
    this.recorded.push(event);
    return event;
  }
}
