// The timeline: a row per process (or lanes of processes that never overlap), a bar per operation
// from call to completion with its text form on hover, or, past REPORT_LIMITS.timelineOpsMax
// operations, time cells colored by the outcome of most operations in them.

import { describeOperation, type HistoryEvent, type OperationFields } from '../../../checker/history.js';
import { coordinate } from '../../../checker/view/axis.js';
import { clip, escapeHtml } from '../../../checker/view/text.js';
import { FAIL, INFO, OK, REPORT_LIMITS, STATUS_NAMES, type Ops, type TimeFrame } from './data.js';
import { formatDurationNs, formatSeconds, safeJson, shortValue } from './format.js';
import { faultBandPx, GUTTER_PX, PLOT_PX, timeChart, xOf } from './time-chart.js';

export const ROW_PX = 16;
export const BAR_PX = 12;

/** Rows of the timeline: one per process, or lanes of processes that never overlap in time. */
export function timelineRows(ops: Ops): { rowOf: Int32Array; labels: { text: string; tip: string }[]; lanes: boolean } {
  const processes = ops.processes.length;
  const first = new Float64Array(processes).fill(Infinity);
  const last = new Float64Array(processes).fill(-Infinity);
  for (let i = 0; i < ops.count; i++) {
    const p = ops.process[i];
    if (ops.call[i] < first[p]) first[p] = ops.call[i];
    const end = Number.isNaN(ops.done[i]) ? ops.call[i] : ops.done[i];
    if (end > last[p]) last[p] = end;
  }
  const rowOf = new Int32Array(processes);
  if (processes <= REPORT_LIMITS.processRowsMax) {
    for (let p = 0; p < processes; p++) rowOf[p] = p;
    return { rowOf, labels: ops.processes.map((p) => ({ text: `p${String(p)}`, tip: `process ${String(p)}` })), lanes: false };
  }
  const order = Array.from({ length: processes }, (_, p) => p).sort((a, b) => first[a] - first[b]);
  const laneEnds: number[] = [];
  const members: number[][] = [];
  for (const p of order) {
    let lane = -1;
    for (let l = 0; l < laneEnds.length; l++) {
      if (laneEnds[l] < first[p]) {
        lane = l;
        break;
      }
    }
    if (lane === -1) lane = laneEnds.length < REPORT_LIMITS.rowsMax ? laneEnds.length : REPORT_LIMITS.rowsMax - 1;
    laneEnds[lane] = Math.max(laneEnds[lane] ?? -Infinity, last[p]);
    (members[lane] ??= []).push(p);
    rowOf[p] = lane;
  }
  const labels = members.map((ps) => {
    const names = ps.map((p) => `p${String(ops.processes[p])}`);
    const shown = names.slice(0, 30).join(' ');
    return {
      text: clip(`${names[0]}${names.length > 1 ? ` +${names.length - 1}` : ''}`, 12),
      tip: `${names.length} processes, one after another: ${shown}${names.length > 30 ? ' …' : ''}`,
    };
  });
  return { rowOf, labels, lanes: true };
}

export function renderTimeline(ops: Ops, frame: TimeFrame, events: HistoryEvent[]): string {
  if (ops.count === 0) return '<p class="dim">No client operation was recorded.</p>';
  const { rowOf, labels, lanes } = timelineRows(ops);
  const rows = labels.length;
  const plotPx = rows * ROW_PX;
  const top = faultBandPx(frame);
  const yLabels = labels
    .map(
      (label, r) =>
        `<text x="${GUTTER_PX - 6}" y="${top + r * ROW_PX + 12}" class="rowlabel" text-anchor="end">${escapeHtml(label.text)}<title>${escapeHtml(label.tip)}</title></text>` +
        (r % 2 === 1 ? `<rect x="${GUTTER_PX}" y="${top + r * ROW_PX}" width="${PLOT_PX}" height="${ROW_PX}" class="zebra"/>` : ''),
    )
    .join('');
  const body =
    ops.count <= REPORT_LIMITS.timelineOpsMax ? timelineBars(ops, frame, events, rowOf, top) : timelineCells(ops, frame, rowOf, rows, top);
  const note = lanes
    ? `<p class="dim">${ops.processes.length} processes: those that never overlap share a row, in order of their first call.</p>`
    : '';
  const cells =
    ops.count > REPORT_LIMITS.timelineOpsMax
      ? `<p class="dim">${ops.count} operations are too many to draw one by one: each row is drawn as time cells colored by the outcome of most operations in them; an orange line under a cell marks indeterminate operations. Hover for counts.</p>`
      : '';
  return note + cells + timeChart(frame, plotPx, yLabels, body, 'timeline');
}

/** One bar per operation, from call to completion; info bars fade out towards the end of the run. */
export function timelineBars(ops: Ops, frame: TimeFrame, events: HistoryEvent[], rowOf: Int32Array, top: number): string {
  const tails: string[] = [];
  const bars: string[] = [];
  const right = GUTTER_PX + PLOT_PX;
  for (let i = 0; i < ops.count; i++) {
    const y = top + rowOf[ops.process[i]] * ROW_PX + (ROW_PX - BAR_PX) / 2;
    const x = xOf(frame, ops.call[i]);
    const status = ops.status[i];
    const end = Number.isNaN(ops.done[i]) ? x : xOf(frame, ops.done[i]);
    const width = Math.max(2, end - x);
    if (status === INFO && right - (x + width) > 0.5) {
      tails.push(
        `<rect x="${coordinate(x + width)}" y="${coordinate(y + 3)}" width="${coordinate(right - x - width)}" height="${BAR_PX - 6}" fill="url(#info-tail)"/>`,
      );
    }
    const call = events[ops.callEvent[i]];
    const completion = ops.doneEvent[i] >= 0 ? events[ops.doneEvent[i]] : undefined;
    const label = barLabel(call, completion, status, width);
    const tip = opTitle(ops, i, call, completion, frame);
    bars.push(
      `<g><rect x="${coordinate(x)}" y="${coordinate(y)}" width="${coordinate(width)}" height="${BAR_PX}" rx="2" class="${STATUS_NAMES[status]}"/>${label ? `<text x="${coordinate(x + 2)}" y="${coordinate(y + 9.5)}" class="barlabel ${STATUS_NAMES[status]}">${escapeHtml(label)}</text>` : ''}<title>${escapeHtml(tip)}</title></g>`,
    );
  }
  return `<g>${tails.join('')}</g><g>${bars.join('')}</g>`;
}

/** Text inside a bar when it fits: f, key, value (and what a read returned). */
export function barLabel(call: HistoryEvent | undefined, completion: HistoryEvent | undefined, status: number, widthPx: number): string {
  const chars = Math.floor((widthPx - 4) / 6);
  if (chars < 3 || call === undefined) return '';
  let text = String(call.f);
  if (call.key !== undefined) text += ` ${String(call.key)}`;
  if (call.value !== undefined && call.value !== null) text += ` ${shortValue(call.value)}`;
  if (status === OK && completion?.value !== undefined && safeJson(completion.value) !== safeJson(call.value))
    text += `→${shortValue(completion.value)}`;
  return text.length <= chars ? text : `${text.slice(0, Math.max(1, chars - 1))}…`;
}

export function opTitle(
  ops: Ops,
  i: number,
  call: HistoryEvent | undefined,
  completion: HistoryEvent | undefined,
  frame: TimeFrame,
): string {
  const op: OperationFields = {
    process: ops.processes[ops.process[i]],
    f: call?.f ?? ops.fNames[ops.f[i]],
    key: call?.key,
    input: call?.value,
    output: completion?.value,
    status: STATUS_NAMES[ops.status[i]],
    error: completion?.error,
  };
  const latency = Number.isNaN(ops.done[i])
    ? 'never completed'
    : ops.status[i] === INFO
      ? `indeterminate after ${formatDurationNs(ops.done[i] - ops.call[i])}`
      : formatDurationNs(ops.done[i] - ops.call[i]);
  return `${describeOperation(op, { valueChars: 80 })}\n${latency}, called at ${formatSeconds(ops.call[i] - frame.startNs)}`;
}

/**
 * Many operations: each row is cut into time cells; a cell is colored by the outcome of most of
 * the operations overlapping it, and cells of the same color in a row are drawn as one rectangle.
 */
export function timelineCells(ops: Ops, frame: TimeFrame, rowOf: Int32Array, rows: number, top: number): string {
  const columns = Math.max(40, Math.min(PLOT_PX, Math.floor(REPORT_LIMITS.timelineBarsMax / (2 * rows))));
  const cellNs = frame.spanNs / columns;
  const cellOf = (timeNs: number) => Math.min(columns - 1, Math.max(0, Math.floor((timeNs - frame.startNs) / cellNs)));
  // Coverage by difference arrays (cost O(ops + rows * columns), however long the ops), and calls per cell for the counts.
  const width = columns + 1;
  const coverage = new Int32Array(rows * 3 * width);
  const calls = new Uint32Array(rows * 3 * columns);
  for (let i = 0; i < ops.count; i++) {
    const row = rowOf[ops.process[i]];
    const status = ops.status[i];
    const from = cellOf(ops.call[i]);
    const to = Number.isNaN(ops.done[i]) ? from : cellOf(ops.done[i]);
    const base = (row * 3 + status) * width;
    coverage[base + from]++;
    coverage[base + to + 1]--;
    calls[(row * 3 + status) * columns + from]++;
  }
  const rects: string[] = [];
  const strips: string[] = [];
  const counts = [0, 0, 0];
  for (let row = 0; row < rows; row++) {
    const running = [0, 0, 0];
    const covered = new Int32Array(columns * 3);
    for (let c = 0; c < columns; c++) {
      for (let s = 0; s < 3; s++) {
        running[s] += coverage[(row * 3 + s) * width + c];
        covered[c * 3 + s] = running[s];
      }
    }
    const majority = (c: number) => {
      const ok = covered[c * 3];
      const fail = covered[c * 3 + 1];
      const info = covered[c * 3 + 2];
      if (ok + fail + info === 0) return -1;
      return ok >= fail && ok >= info ? OK : fail >= info ? FAIL : INFO;
    };
    const y = top + row * ROW_PX + (ROW_PX - BAR_PX) / 2;
    let c = 0;
    while (c < columns) {
      const status = majority(c);
      let end = c + 1;
      while (end < columns && majority(end) === status) end++;
      if (status !== -1) {
        counts.fill(0);
        for (let k = c; k < end; k++) for (let s = 0; s < 3; s++) counts[s] += calls[(row * 3 + s) * columns + k];
        const x = GUTTER_PX + (c / columns) * PLOT_PX;
        const w = ((end - c) / columns) * PLOT_PX;
        const tip = `${formatSeconds(c * cellNs)} – ${formatSeconds(end * cellNs)}: calls ${counts[0]} ok, ${counts[1]} fail, ${counts[2]} info`;
        rects.push(
          `<rect x="${coordinate(x)}" y="${coordinate(y)}" width="${coordinate(Math.max(0.8, w - 0.3))}" height="${BAR_PX}" class="${STATUS_NAMES[status]}"><title>${tip}</title></rect>`,
        );
      }
      c = end;
    }
    c = 0;
    while (c < columns) {
      if (covered[c * 3 + 2] === 0) {
        c++;
        continue;
      }
      let end = c + 1;
      while (end < columns && covered[end * 3 + 2] > 0) end++;
      const x = GUTTER_PX + (c / columns) * PLOT_PX;
      strips.push(
        `<rect x="${coordinate(x)}" y="${coordinate(y + BAR_PX)}" width="${coordinate(Math.max(0.8, ((end - c) / columns) * PLOT_PX))}" height="2" class="info"/>`,
      );
      c = end;
    }
  }
  return `<g>${rects.join('')}</g><g>${strips.join('')}</g>`;
}

/** The timeline's legend. */
export const LEGEND_OUTCOMES = `<div class="legend">
<span><svg width="30" height="12"><rect x="1" y="1" width="28" height="10" rx="2" class="ok"/></svg>ok</span>
<span><svg width="30" height="12"><rect x="1" y="1" width="28" height="10" rx="2" class="fail"/></svg>fail (no effect)</span>
<span><svg width="46" height="12"><rect x="1" y="1" width="16" height="10" rx="2" class="info"/><rect x="17" y="4" width="28" height="4" fill="url(#info-tail)"/></svg>info: indeterminate, may take effect until the end</span>
<span><svg width="30" height="12"><rect x="1" y="0" width="28" height="12" fill="rgba(198,40,40,0.12)" stroke="rgba(198,40,40,0.5)"/></svg>fault window (labelled above each chart)</span>
<span class="dim">hover a bar for the operation</span>
</div>`;
