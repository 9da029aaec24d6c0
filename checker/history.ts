// The history format: the contract between the recorder (harness, simulator, importers) and the
// checker. Events come in as a flat list (one JSON Lines record each); `pairHistory` turns them into
// operations (call + completion). It also holds what every writer and view of a history shares: the
// event constructor (`historyEvent`), the nemesis process, and the text form of an operation
// (`describeOperation`); fault windows are in fault-windows.ts beside it. This module does no I/O.

import { clip } from './view/text.js';

/** One line of a history: a call (`invoke`) or a completion (`ok`, `fail`, `info`). */
export interface HistoryEvent {
  /** Position in the history, 0-based and strictly increasing. */
  index: number;
  /** Monotonic nanoseconds since the start of the run (importers without times use the index). */
  time: number;
  /** The logical client that issued the call; at most one pending call per process. */
  process: number | string;
  type: EventType;
  /** Operation name, e.g. `read`, `write`, `cas`, `get`, `put`, `append`, `delete`. */
  f: string;
  /** The key the operation touches, for multi-key models. */
  key?: string;
  /** The call's argument, or the completion's result (e.g. the value a read returned). */
  value?: unknown;
  /** Why an operation failed or is indeterminate, e.g. `cas_mismatch`, `timeout`. */
  error?: string;
}

export type EventType = 'invoke' | 'ok' | 'fail' | 'info';
export const EVENT_TYPES: readonly EventType[] = ['invoke', 'ok', 'fail', 'info'];

/**
 * How an operation ended.
 * - ok: it took effect, and its result is known.
 * - fail: it definitely did not take effect.
 * - info: unknown; it may take effect at any point after its call, up to the end of the history.
 */
export type OperationStatus = 'ok' | 'fail' | 'info';

/** A call paired with its completion. */
export interface Operation {
  /** Position in the paired operation list (ordered by call). */
  id: number;
  process: number | string;
  f: string;
  key?: string;
  /** The invocation's argument (e.g. the value written, `[from, to]` for a cas). */
  input: unknown;
  /** The completion's value (e.g. the value read); `undefined` when the op never completed. */
  output: unknown;
  status: OperationStatus;
  error?: string;
  /** Call time and completion time (ns); `ret` is +Infinity for indeterminate operations. */
  call: number;
  ret: number;
  /** Event indices of the call and its completion (-1 when there is none). */
  callIndex: number;
  retIndex: number;
  /** Line of the call in the source file, for error messages. */
  line: number;
}

/** A fault annotation (an operation of the nemesis): shown in views, never checked. */
export interface FaultEvent {
  index: number;
  time: number;
  type: EventType;
  f: string;
  value?: unknown;
}

/** A whole history ready for checking. */
export interface History {
  operations: Operation[];
  faults: FaultEvent[];
  /** Where it came from, for messages. */
  source: string;
}

/** Malformed input: names the file, the line and what was expected. Exit code 254. */
export class HistoryError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'HistoryError';
  }
}

/** The process of fault records (the views show them as fault windows and marks, never check them). */
export const NEMESIS_PROCESS = 'nemesis';

/** Whether an event is a fault record: our recorders write `nemesis`, Jepsen's EDN `:nemesis`. */
export function isNemesisProcess(process: unknown): boolean {
  return process === NEMESIS_PROCESS || process === ':nemesis';
}

/**
 * The one constructor of history events (recorder, simulator, importers): optional fields that are
 * undefined are left out, as in a JSON Lines history, so events built anywhere compare equal.
 */
export function historyEvent(fields: HistoryEvent): HistoryEvent {
  const event: HistoryEvent = { index: fields.index, time: fields.time, process: fields.process, type: fields.type, f: fields.f };
  if (fields.key !== undefined) event.key = fields.key;
  if (fields.value !== undefined) event.value = fields.value;
  if (fields.error !== undefined) event.error = fields.error;
  return event;
}

/** Where each event was read, for error messages (line numbers in the source file). */
export type LineOf = (eventPosition: number) => number;

/**
 * Pairs each completion with its process's pending call. An unmatched completion or a second call
 * while one is pending is an error. Calls that never complete become `info` (indeterminate).
 * Nemesis events become fault annotations.
 */
export function pairHistory(events: HistoryEvent[], source: string, lineOf: LineOf = (i) => i + 1): History {
  const operations: Operation[] = [];
  const faults: FaultEvent[] = [];
  const pending = new Map<number | string, Operation>();
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (isNemesisProcess(event.process)) {
      faults.push({ index: event.index, time: event.time, type: event.type, f: event.f, value: event.value });
      continue;
    }
    if (event.type === 'invoke') {
      const open = pending.get(event.process);
      if (open !== undefined) {
        throw new HistoryError(
          source,
          lineOf(i),
          `process ${String(event.process)} invokes ${event.f} while its call at event ${open.callIndex} (${open.f}) is still pending`,
        );
      }
      const op: Operation = {
        id: operations.length,
        process: event.process,
        f: event.f,
        key: event.key,
        input: event.value,
        output: undefined,
        status: 'info',
        call: event.time,
        ret: Infinity,
        callIndex: event.index,
        retIndex: -1,
        line: lineOf(i),
      };
      operations.push(op);
      pending.set(event.process, op);
      continue;
    }
    const op = pending.get(event.process);
    if (op === undefined) {
      throw new HistoryError(source, lineOf(i), `${event.type} completion for process ${String(event.process)} has no pending invoke`);
    }
    if (op.f !== event.f) {
      throw new HistoryError(
        source,
        lineOf(i),
        `completion f "${event.f}" does not match the pending invoke's f "${op.f}" (process ${String(event.process)})`,
      );
    }
    if (event.key !== undefined && op.key !== undefined && event.key !== op.key) {
      throw new HistoryError(source, lineOf(i), `completion key "${event.key}" does not match the pending invoke's key "${op.key}"`);
    }
    pending.delete(event.process);
    op.status = event.type;
    op.output = event.value;
    op.error = event.error;
    op.retIndex = event.index;
    op.ret = event.type === 'info' ? Infinity : event.time;
    if (op.key === undefined) op.key = event.key;
  }
  return { operations, faults, source };
}

/** What the text form of an operation needs: an Operation, or a call and its completion from a view. */
export type OperationFields = Pick<Operation, 'process' | 'f' | 'key' | 'input' | 'output' | 'status' | 'error'>;

export interface DescribeOptions<O extends OperationFields = OperationFields> {
  /**
   * The body after the process, e.g. a checker model's `describeOp` (`cas 1->2 -> mismatch`).
   * Default: the generic body, `f key input → output: status (error)`.
   */
  body?: (op: O) => string;
  /** Longest value text (input, output, error) in the generic body, in characters. Default: no limit. */
  valueChars?: number;
}

/**
 * The text form of an operation, used by every view: `p<process> <body>`. The generic body is
 * `f key input`, then ` → output` when an ok op returned something other than its input, then
 * `: ok`, `: fail (error)` or `: info (error)`; e.g. `p3 read r → 5: ok`, `p1 cas r [1,2]: fail (cas_mismatch)`.
 */
export function describeOperation<O extends OperationFields>(op: O, options: DescribeOptions<O> = {}): string {
  if (options.body !== undefined) return `p${String(op.process)} ${options.body(op)}`;
  const max = options.valueChars ?? Infinity;
  const key = op.key === undefined ? '' : ` ${op.key}`;
  const input = op.input === undefined ? '' : clip(` ${formatValue(op.input)}`, max);
  const output =
    op.status === 'ok' && op.output !== undefined && !sameValue(op.output, op.input) ? clip(` → ${formatValue(op.output)}`, max) : '';
  const error = op.error === undefined ? '' : clip(` (${op.error})`, max);
  return `p${String(op.process)} ${op.f}${key}${input}${output}: ${op.status}${error}`;
}

/** A value as JSON text (`nil` for none). */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return formatValue(a) === formatValue(b);
}
