// The report's data: the history in columns (one typed array per field, so a million events stay
// cheap), the time frame every chart shares with its fault windows and marks, latency statistics and
// time buckets. No HTML here; it does no I/O.

import { faultEdge } from '../../../checker/fault-windows.js';
import { isNemesisProcess, type HistoryEvent } from '../../../checker/history.js';
import { niceStep } from '../../../checker/view/axis.js';
import { clip } from '../../../checker/view/text.js';
import { type FaultWindow, faultWindows } from '../results.js';
import { safeJson } from './format.js';

/** The bounds that keep a report small and quick to render, whatever the history's size. */
export const REPORT_LIMITS = {
  /** Up to this many operations, the timeline draws one bar per operation (with its description on hover). */
  timelineOpsMax: 10_000,
  /** Above it, the timeline is drawn as cells: at most this many rectangles in all. */
  timelineBarsMax: 20_000,
  /** Processes drawn one per row; above this, processes that never overlap share a row (a lane). */
  processRowsMax: 64,
  /** Rows of the timeline at most (lanes beyond it fold into the last one). */
  rowsMax: 200,
  /** Time buckets of the throughput chart and the latency quantile lines. */
  bucketsMax: 200,
  /** Up to this many completed operations, latency is a scatter plot; above, p50/p99 lines. */
  scatterPointsMax: 4_000,
  /** Fault windows drawn; the rest are listed as a count. */
  faultsMax: 500,
  /** Distinct operation names (f) kept apart; more are drawn as "other". */
  fNamesMax: 12,
  /** Longest text taken from the history or the options onto the page, in characters. */
  textMax: 160,
  /** Largest checker page embedded. */
  checkerHtmlBytesMax: 8 * 1024 * 1024,
} as const;

/** Longest text taken onto the page (REPORT_LIMITS.textMax). */
export const TEXT_MAX = REPORT_LIMITS.textMax;

/** Fault windows overlapping in time go to separate lanes of a chart's label band, at most this many. */
export const FAULT_LANES_MAX = 6;

export const OK = 0;
export const FAIL = 1;
export const INFO = 2;
export const STATUS_NAMES = ['ok', 'fail', 'info'] as const;

/** The operations of the history in columns, paired call to completion. */
export interface Ops {
  count: number;
  /** Call time (ns). */
  call: Float64Array;
  /** Completion time (ns): for info, when the info was recorded; NaN when the op never completed. */
  done: Float64Array;
  status: Uint8Array;
  /** Index into `fNames`. */
  f: Uint8Array;
  /** Index into `processes`. */
  process: Int32Array;
  callEvent: Int32Array;
  doneEvent: Int32Array;
  fNames: string[];
  processes: (number | string)[];
  /** Completions without a pending call (a malformed history): skipped. */
  unpaired: number;
  /** The earliest (at most 0, the run's start) and latest event times. */
  firstNs: number;
  lastNs: number;
  /** The nemesis records, in order (at most NEMESIS_EVENTS_MAX). */
  nemesis: HistoryEvent[];
}

/** Nemesis records kept (a run has one every few seconds; this bounds a malformed history). */
const NEMESIS_EVENTS_MAX = 20_000;

/** A fault window ready to draw. */
export interface Fault {
  kind: string;
  startNs: number;
  stopNs: number;
  /** The run ended with it active (the final heal ended it). */
  open: boolean;
  label: string;
  detail: string;
  lane: number;
}

/** A nemesis record that is not a window's start or stop (e.g. heal-all): a vertical mark. */
export interface Mark {
  timeNs: number;
  label: string;
}

/** What every time chart shares: the time axis and the faults. */
export interface TimeFrame {
  startNs: number;
  spanNs: number;
  faults: Fault[];
  faultsLeftOut: number;
  faultLanes: number;
  marks: Mark[];
}

export function extractOps(events: HistoryEvent[]): Ops {
  // Sized for a typical history (half calls), grown when needed: one pass over the events.
  let capacity = Math.max(16, Math.ceil(events.length / 2) + 16);
  const ops: Ops = {
    count: 0,
    call: new Float64Array(capacity),
    done: new Float64Array(capacity).fill(NaN),
    status: new Uint8Array(capacity).fill(INFO),
    f: new Uint8Array(capacity),
    process: new Int32Array(capacity),
    callEvent: new Int32Array(capacity),
    doneEvent: new Int32Array(capacity).fill(-1),
    fNames: [],
    processes: [],
    unpaired: 0,
    firstNs: 0,
    lastNs: 0,
    nemesis: [],
  };
  const fIndex = new Map<string, number>();
  const processIndex = new Map<number | string, number>();
  /** The pending op per process index (-1: none); a second call while one is pending leaves the first never completed. */
  let pending = new Int32Array(64).fill(-1);
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (event === null || typeof event !== 'object') continue;
    const time = event.time;
    if (typeof time !== 'number' || !Number.isFinite(time)) continue;
    if (time < ops.firstNs) ops.firstNs = time;
    if (time > ops.lastNs) ops.lastNs = time;
    if (isNemesisProcess(event.process)) {
      if (ops.nemesis.length < NEMESIS_EVENTS_MAX) ops.nemesis.push(event);
      continue;
    }
    let p = processIndex.get(event.process);
    if (p === undefined) {
      p = ops.processes.length;
      ops.processes.push(event.process);
      processIndex.set(event.process, p);
      if (p >= pending.length) {
        const grown = new Int32Array(pending.length * 2).fill(-1);
        grown.set(pending);
        pending = grown;
      }
    }
    if (event.type === 'invoke') {
      if (ops.count === capacity) {
        capacity *= 2;
        grow(ops, capacity);
      }
      const id = ops.count++;
      const fName = String(event.f);
      let f = fIndex.get(fName);
      if (f === undefined) {
        f = ops.fNames.length < REPORT_LIMITS.fNamesMax ? ops.fNames.length : REPORT_LIMITS.fNamesMax;
        if (f === ops.fNames.length) ops.fNames.push(f === REPORT_LIMITS.fNamesMax ? 'other' : fName);
        fIndex.set(fName, f);
      }
      ops.call[id] = time;
      ops.f[id] = f;
      ops.process[id] = p;
      ops.callEvent[id] = i;
      pending[p] = id;
      continue;
    }
    const id = pending[p];
    if (id === -1) {
      ops.unpaired++;
      continue;
    }
    pending[p] = -1;
    ops.status[id] = event.type === 'ok' ? OK : event.type === 'fail' ? FAIL : INFO;
    ops.done[id] = time;
    ops.doneEvent[id] = i;
  }
  return ops;
}

/** Copies the columns into bigger ones. */
function grow(ops: Ops, capacity: number): void {
  const widen = <T extends Float64Array | Int32Array | Uint8Array>(old: T, made: T, fill?: number): T => {
    if (fill !== undefined) made.fill(fill);
    made.set(old);
    return made;
  };
  ops.call = widen(ops.call, new Float64Array(capacity));
  ops.done = widen(ops.done, new Float64Array(capacity), NaN);
  ops.status = widen(ops.status, new Uint8Array(capacity), INFO);
  ops.f = widen(ops.f, new Uint8Array(capacity));
  ops.process = widen(ops.process, new Int32Array(capacity));
  ops.callEvent = widen(ops.callEvent, new Int32Array(capacity));
  ops.doneEvent = widen(ops.doneEvent, new Int32Array(capacity), -1);
}

export function timeFrame(ops: Ops, recorded: FaultWindow[] | undefined): TimeFrame {
  const startNs = ops.firstNs;
  let endNs = ops.lastNs;
  const windows = recorded !== undefined && recorded.length > 0 ? recorded : faultWindows(ops.nemesis);
  for (const w of windows) {
    if (Number.isFinite(w.startNs)) endNs = Math.max(endNs, w.startNs);
    if (w.stopNs !== undefined && Number.isFinite(w.stopNs)) endNs = Math.max(endNs, w.stopNs);
  }
  if (!(endNs > startNs)) endNs = startNs + 1e9;
  const spanNs = endNs - startNs;
  const usable = windows.filter((w) => Number.isFinite(w.startNs));
  const drawn = usable.slice(0, REPORT_LIMITS.faultsMax);
  const faults = drawn
    .map((w) => {
      const description = describeFault(w.value);
      return {
        kind: String(w.kind),
        startNs: w.startNs,
        stopNs: w.stopNs !== undefined && Number.isFinite(w.stopNs) ? Math.max(w.stopNs, w.startNs) : endNs,
        open: w.stopNs === undefined,
        label: clip(`${w.kind}${description ? `: ${description}` : ''}`, TEXT_MAX),
        detail: clip(safeJson(w.value), 600),
        lane: 0,
      };
    })
    .sort((a, b) => a.startNs - b.startNs);
  // Overlapping windows go to separate lanes of the label band.
  const laneEnds: number[] = [];
  for (const fault of faults) {
    let lane = laneEnds.findIndex((end) => end <= fault.startNs);
    if (lane === -1) lane = laneEnds.length < FAULT_LANES_MAX ? laneEnds.length : FAULT_LANES_MAX - 1;
    laneEnds[lane] = Math.max(laneEnds[lane] ?? -Infinity, fault.stopNs);
    fault.lane = lane;
  }
  const marks: Mark[] = [];
  for (const event of ops.nemesis) {
    const f = String(event.f);
    if (faultEdge(f) !== undefined) continue;
    if (marks.length < REPORT_LIMITS.faultsMax) marks.push({ timeNs: event.time, label: clip(`${f}: ${safeJson(event.value)}`, 400) });
  }
  return { startNs, spanNs, faults, faultsLeftOut: usable.length - drawn.length, faultLanes: Math.max(1, laneEnds.length), marks };
}

/** A short description of a fault from its record's value: its own description, else its main fields. */
function describeFault(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'object') return String(value);
  const record = value as Record<string, unknown>;
  if (typeof record.description === 'string') return record.description;
  const parts: string[] = [];
  for (const field of ['shape', 'target', 'variant', 'how', 'node']) {
    const v = record[field];
    if (typeof v === 'string' || typeof v === 'number') parts.push(String(v));
  }
  if (Array.isArray(record.nodes)) parts.push(record.nodes.map(String).join(' '));
  if (typeof record.note === 'string' && record.note) parts.push(`(${record.note})`);
  if (typeof record.damage === 'string') parts.push(record.damage);
  if (record.errors !== undefined || record.error !== undefined) parts.push(`error: ${safeJson(record.errors ?? record.error)}`);
  return parts.length > 0 ? parts.join(' ') : safeJson(value);
}

export interface LatencyRow {
  f: string;
  /** The 0.2% quantile: where the latency axis starts when there are too many ops to plot each. */
  lowMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  completed: number;
}

/** Latency (call to completion, ok and fail ops) per operation name. */
export function latencyStats(ops: Ops): LatencyRow[] {
  const counts = new Array<number>(ops.fNames.length).fill(0);
  for (let i = 0; i < ops.count; i++) if (ops.status[i] !== INFO) counts[ops.f[i]]++;
  const latencies = counts.map((n) => new Float64Array(n));
  const filled = new Array<number>(ops.fNames.length).fill(0);
  for (let i = 0; i < ops.count; i++) {
    if (ops.status[i] === INFO) continue;
    latencies[ops.f[i]][filled[ops.f[i]]++] = (ops.done[i] - ops.call[i]) / 1e6;
  }
  return ops.fNames.map((f, index) => {
    const sorted = latencies[index].sort();
    return {
      f,
      lowMs: quantile(sorted, 0.002),
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
      maxMs: sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
      completed: sorted.length,
    };
  });
}

export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export interface Buckets {
  count: number;
  widthNs: number;
}

/** Time buckets: a round width, about sqrt(ops) of them, between 10 and `bucketsMax`. */
export function buckets(ops: Ops, frame: TimeFrame): Buckets {
  const target = Math.max(10, Math.min(REPORT_LIMITS.bucketsMax, Math.round(2 * Math.sqrt(ops.count))));
  let widthNs = niceStep(frame.spanNs / target);
  while (Math.ceil(frame.spanNs / widthNs) > REPORT_LIMITS.bucketsMax) widthNs *= 2;
  return { count: Math.max(1, Math.ceil(frame.spanNs / widthNs)), widthNs };
}
