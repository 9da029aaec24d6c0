// Fault windows: the one rule that pairs a history's nemesis records into the windows every view
// shades (report.html, checker.html, results.json, the progress line). It does no I/O.
//
// The rule. A record `start-X` (or `start`, kind "") opens a window of kind X; `stop-X` closes the
// oldest window of kind X still open (windows of one kind may overlap: starts queue, stops close them
// first in, first out); a stop with no open window of its kind closes nothing. `heal-all` closes
// every open window. A window never closed runs to the end of the history (`stop` undefined).
// Jepsen's nemesis records a call and its completion (`invoke start`, then `info start`): a completion
// right after a call of the same f is the same edge, so a window runs from the start's call to the
// stop's completion, and the start's completion supplies the value when it has one. Any other
// nemesis record is a mark, not an edge.

import { isNemesisProcess, type EventType } from './history.js';

/** What pairing reads of a record (a HistoryEvent or a FaultEvent). */
export interface FaultRecordEvent {
  /** Records of processes other than the nemesis are skipped, so a whole history may be passed. */
  process?: number | string;
  time: number;
  type: EventType;
  f: string;
  value?: unknown;
}

/** One fault window, in the history's time unit (ns for recorded runs). */
export interface FaultWindow {
  /** From the record's name: `partition` for `start-partition`, "" for a plain `start`. */
  kind: string;
  /** The name of the record that opened it, e.g. `start-partition` or `start`. */
  f: string;
  start: number;
  /** Undefined while the fault is still on at the end of the history. */
  stop?: number;
  /** The start record's value (what was done), if it had one. */
  value?: unknown;
}

/** Whether a record opens or closes a window, and of which kind; undefined for other records (marks). */
export function faultEdge(f: string): { edge: 'start' | 'stop'; kind: string } | undefined {
  const match = /^:?(start|stop)(?:-(.+))?$/.exec(f);
  if (match === null) return undefined;
  return { edge: match[1] as 'start' | 'stop', kind: match[2] ?? '' };
}

/** The record that closes every open window (the harness's final heal). */
export const HEAL_ALL = 'heal-all';

/** Pairs records one at a time (for a live view, e.g. the progress line); `faultWindows` for a whole history. */
export class FaultWindowPairer {
  /** Every window so far, in order of their starts. */
  readonly windows: FaultWindow[] = [];
  /** Open windows per kind, oldest first. */
  private readonly open = new Map<string, FaultWindow[]>();
  /** The last record when it was a call (`invoke`): its completion is the same edge. */
  private call: { f: string; window: FaultWindow | undefined } | undefined;

  add(event: FaultRecordEvent): void {
    if (event.process !== undefined && !isNemesisProcess(event.process)) return;
    const call = this.call;
    this.call = undefined;
    const edge = faultEdge(event.f);
    if (call !== undefined && call.f === event.f && event.type !== 'invoke') {
      // The completion of the call just recorded: the same edge, not a new one.
      if (call.window !== undefined && edge?.edge === 'start' && event.value !== undefined) call.window.value = event.value;
      if (call.window !== undefined && edge?.edge === 'stop') call.window.stop = event.time;
      return;
    }
    let window: FaultWindow | undefined;
    if (edge?.edge === 'start') {
      window = { kind: edge.kind, f: event.f, start: event.time };
      if (event.value !== undefined) window.value = event.value;
      this.windows.push(window);
      const queue = this.open.get(edge.kind);
      if (queue === undefined) this.open.set(edge.kind, [window]);
      else queue.push(window);
    } else if (edge?.edge === 'stop') {
      window = this.open.get(edge.kind)?.shift();
      if (window !== undefined) window.stop = event.time;
    } else if (event.f === HEAL_ALL) {
      for (const queue of this.open.values()) for (const w of queue) w.stop = event.time;
      this.open.clear();
    }
    if (event.type === 'invoke') this.call = { f: event.f, window };
  }

  /** The windows still open, in order of their starts. */
  active(): FaultWindow[] {
    return this.windows.filter((w) => w.stop === undefined);
  }
}

/** The fault windows of a history (or of its nemesis records alone), in order of their starts. */
export function faultWindows(events: Iterable<FaultRecordEvent>): FaultWindow[] {
  const pairer = new FaultWindowPairer();
  for (const event of events) pairer.add(event);
  return pairer.windows;
}
