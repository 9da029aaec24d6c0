// The report's value charts over time: latency (a point per operation, or per-bucket p50/p99 lines
// past REPORT_LIMITS.scatterPointsMax) and throughput (completions per bucket, stacked by outcome).

import type { HistoryEvent } from '../../../checker/history.js';
import { coordinate, niceStep } from '../../../checker/view/axis.js';
import { clip, escapeHtml } from '../../../checker/view/text.js';
import { buckets, FAIL, INFO, OK, quantile, REPORT_LIMITS, STATUS_NAMES, type LatencyRow, type Ops, type TimeFrame } from './data.js';
import { formatCount, formatDurationNs, formatLatency, formatSeconds } from './format.js';
import { faultBandPx, GUTTER_PX, PLOT_PX, timeChart, xOf } from './time-chart.js';
import { opTitle } from './timeline.js';

/** Colors per operation name (no orange or red: those mean indeterminate and faults). */
const F_COLORS = [
  '#1f6fb4',
  '#2e9e44',
  '#8a4fbf',
  '#8c564b',
  '#d15fa8',
  '#17a2b8',
  '#9a9a1a',
  '#5c6bc0',
  '#00897b',
  '#6d4c41',
  '#7f7f7f',
  '#3949ab',
];

export function renderLatency(ops: Ops, frame: TimeFrame, events: HistoryEvent[], latency: LatencyRow[]): string {
  let completed = 0;
  let lowMs = Infinity;
  let highMs = 0;
  for (let i = 0; i < ops.count; i++) {
    if (Number.isNaN(ops.done[i])) continue;
    const ms = Math.max(1e-3, (ops.done[i] - ops.call[i]) / 1e6);
    if (ops.status[i] !== INFO) completed++;
    if (ms < lowMs) lowMs = ms;
    if (ms > highMs) highMs = ms;
  }
  if (completed === 0) return '<p class="dim">No operation completed.</p>';
  // Lines, not points: the axis starts at a low quantile (the line values never go below it).
  if (completed > REPORT_LIMITS.scatterPointsMax)
    lowMs = Math.max(1e-3, Math.min(...latency.filter((row) => row.completed > 0).map((row) => row.lowMs)));
  const plotPx = 240;
  const top = faultBandPx(frame);
  let lowDecade = Math.floor(Math.log10(lowMs));
  let highDecade = Math.ceil(Math.log10(highMs));
  if (highDecade <= lowDecade) highDecade = lowDecade + 1;
  // Five decades at most: a few near-zero latencies must not squash the rest.
  if (highDecade - lowDecade > 5) lowDecade = highDecade - 5;
  const yOf = (ms: number) => {
    const v = Math.min(highDecade, Math.max(lowDecade, Math.log10(Math.max(ms, 1e-6))));
    return top + plotPx - ((v - lowDecade) / (highDecade - lowDecade)) * plotPx;
  };
  const grid: string[] = [];
  for (let d = lowDecade; d <= highDecade; d++) {
    for (const m of highDecade - lowDecade <= 3 ? [1, 2, 5] : [1]) {
      const ms = m * 10 ** d;
      if (Math.log10(ms) > highDecade + 1e-9) continue;
      const y = coordinate(yOf(ms));
      grid.push(
        `<line x1="${GUTTER_PX}" x2="${GUTTER_PX + PLOT_PX}" y1="${y}" y2="${y}" class="${m === 1 ? 'grid' : 'grid minor'}"/><text x="${GUTTER_PX - 6}" y="${coordinate(yOf(ms) + 4)}" class="tick" text-anchor="end">${formatLatency(ms)}</text>`,
      );
    }
  }
  const body = completed <= REPORT_LIMITS.scatterPointsMax ? latencyPoints(ops, frame, events, yOf) : latencyLines(ops, frame, yOf);
  const legend = ops.fNames
    .map(
      (f, i) =>
        `<span><svg width="14" height="10"><circle cx="7" cy="5" r="4" fill="${F_COLORS[i % F_COLORS.length]}"/></svg>${escapeHtml(clip(f, 40))}</span>`,
    )
    .join('');
  const how =
    completed <= REPORT_LIMITS.scatterPointsMax
      ? '<span><svg width="14" height="10"><circle cx="7" cy="5" r="3.5" fill="#777"/></svg>ok</span><span><svg width="14" height="10"><circle cx="7" cy="5" r="3" fill="none" stroke="#777" stroke-width="1.5"/></svg>fail</span><span><svg width="14" height="10"><path d="M3 9 L7 1 L11 9 Z" fill="#f0a030"/></svg>info (until it was given up)</span>'
      : '<span><svg width="26" height="10"><line x1="1" x2="25" y1="5" y2="5" stroke="#777" stroke-width="2"/></svg>p50</span><span><svg width="26" height="10"><line x1="1" x2="25" y1="5" y2="5" stroke="#777" stroke-width="1.5" stroke-dasharray="4 3"/></svg>p99</span>';
  const axisTitle = `<text x="14" y="${top + plotPx / 2}" class="ytitle" transform="rotate(-90 14 ${top + plotPx / 2})" text-anchor="middle">latency (log)</text>`;
  return (
    timeChart(frame, plotPx, grid.join('') + axisTitle, body, 'latency') +
    `<div class="legend">${legend}${how}<span class="dim">by call time; fault windows shaded</span></div>`
  );
}

/** One point per operation at (call time, latency), colored by f: filled ok, hollow fail, orange triangle info. */
function latencyPoints(ops: Ops, frame: TimeFrame, events: HistoryEvent[], yOf: (ms: number) => number): string {
  const points: string[] = [];
  for (let i = 0; i < ops.count; i++) {
    if (Number.isNaN(ops.done[i])) continue;
    const ms = (ops.done[i] - ops.call[i]) / 1e6;
    const x = coordinate(xOf(frame, ops.call[i]));
    const y = coordinate(yOf(ms));
    const color = F_COLORS[ops.f[i] % F_COLORS.length];
    const completion = ops.doneEvent[i] >= 0 ? events[ops.doneEvent[i]] : undefined;
    const tip = `<title>${escapeHtml(opTitle(ops, i, events[ops.callEvent[i]], completion, frame))}</title>`;
    if (ops.status[i] === OK) points.push(`<circle cx="${x}" cy="${y}" r="2.6" fill="${color}" fill-opacity="0.8">${tip}</circle>`);
    else if (ops.status[i] === FAIL)
      points.push(`<circle cx="${x}" cy="${y}" r="2.6" fill="none" stroke="${color}" stroke-width="1.3">${tip}</circle>`);
    else
      points.push(
        `<path d="M${x} ${coordinate(yOf(ms) - 4)} l3.5 6.5 h-7 Z" fill="#f0a030" stroke="#b86e00" stroke-width="0.6">${tip}</path>`,
      );
  }
  return `<g>${points.join('')}</g>`;
}

/** Per bucket (by call time) and per f: the p50 (solid) and p99 (dashed) latency of completed ops. */
function latencyLines(ops: Ops, frame: TimeFrame, yOf: (ms: number) => number): string {
  const { count, widthNs } = buckets(ops, frame);
  const fs = ops.fNames.length;
  const cells = fs * count;
  const sizes = new Int32Array(cells + 1);
  const cellOf = (i: number) => ops.f[i] * count + Math.min(count - 1, Math.max(0, Math.floor((ops.call[i] - frame.startNs) / widthNs)));
  for (let i = 0; i < ops.count; i++) if (ops.status[i] !== INFO && !Number.isNaN(ops.done[i])) sizes[cellOf(i) + 1]++;
  for (let c = 0; c < cells; c++) sizes[c + 1] += sizes[c];
  const values = new Float64Array(sizes[cells]);
  const fill = sizes.slice(0, cells);
  for (let i = 0; i < ops.count; i++) {
    if (ops.status[i] === INFO || Number.isNaN(ops.done[i])) continue;
    values[fill[cellOf(i)]++] = (ops.done[i] - ops.call[i]) / 1e6;
  }
  const paths: string[] = [];
  for (let f = 0; f < fs; f++) {
    const p50: string[] = [];
    const p99: string[] = [];
    let gap = true;
    for (let b = 0; b < count; b++) {
      const cell = f * count + b;
      const sorted = values.subarray(sizes[cell], sizes[cell + 1]).sort();
      if (sorted.length === 0) {
        gap = true;
        continue;
      }
      const x = coordinate(xOf(frame, frame.startNs + (b + 0.5) * widthNs));
      const command = gap ? 'M' : 'L';
      p50.push(`${command}${x} ${coordinate(yOf(quantile(sorted, 0.5)))}`);
      p99.push(`${command}${x} ${coordinate(yOf(quantile(sorted, 0.99)))}`);
      gap = false;
    }
    const color = F_COLORS[f % F_COLORS.length];
    const name = escapeHtml(clip(ops.fNames[f], 40));
    paths.push(
      `<path d="${p99.join('')}" fill="none" stroke="${color}" stroke-width="1.3" stroke-dasharray="4 3"><title>${name} p99</title></path>`,
    );
    paths.push(`<path d="${p50.join('')}" fill="none" stroke="${color}" stroke-width="2"><title>${name} p50</title></path>`);
  }
  return `<g>${paths.join('')}</g>`;
}

/** Completions per second per bucket, stacked ok / fail / info (info at the time it was given up). */
export function renderThroughput(ops: Ops, frame: TimeFrame): string {
  if (ops.count === 0) return '<p class="dim">No client operation was recorded.</p>';
  const { count, widthNs } = buckets(ops, frame);
  const perBucket = new Uint32Array(count * 3);
  for (let i = 0; i < ops.count; i++) {
    const at = Number.isNaN(ops.done[i]) ? ops.call[i] : ops.done[i];
    const b = Math.min(count - 1, Math.max(0, Math.floor((at - frame.startNs) / widthNs)));
    perBucket[b * 3 + ops.status[i]]++;
  }
  const widthSec = widthNs / 1e9;
  let highest = 0;
  for (let b = 0; b < count; b++) highest = Math.max(highest, (perBucket[b * 3] + perBucket[b * 3 + 1] + perBucket[b * 3 + 2]) / widthSec);
  const step = niceStep(Math.max(highest, 1) / 4);
  const ceiling = Math.max(step, Math.ceil(highest / step) * step);
  const plotPx = 160;
  const top = faultBandPx(frame);
  const yOf = (rate: number) => top + plotPx - (rate / ceiling) * plotPx;
  const grid: string[] = [];
  for (let v = 0; v <= ceiling + 1e-9; v += step) {
    const y = coordinate(yOf(v));
    grid.push(
      `<line x1="${GUTTER_PX}" x2="${GUTTER_PX + PLOT_PX}" y1="${y}" y2="${y}" class="grid"/><text x="${GUTTER_PX - 6}" y="${coordinate(yOf(v) + 4)}" class="tick" text-anchor="end">${formatCount(v)}</text>`,
    );
  }
  grid.push(
    `<text x="14" y="${top + plotPx / 2}" class="ytitle" transform="rotate(-90 14 ${top + plotPx / 2})" text-anchor="middle">ops/s</text>`,
  );
  const bars: string[] = [];
  const bucketPx = (widthNs / frame.spanNs) * PLOT_PX;
  for (let b = 0; b < count; b++) {
    const x = xOf(frame, frame.startNs + b * widthNs);
    const w = Math.max(0.6, Math.min(bucketPx, GUTTER_PX + PLOT_PX - x) - (bucketPx > 4 ? 1 : 0));
    let base = 0;
    const tip = `<title>${formatSeconds(b * widthNs)} – ${formatSeconds((b + 1) * widthNs)}: ${perBucket[b * 3]} ok, ${perBucket[b * 3 + 1]} fail, ${perBucket[b * 3 + 2]} info</title>`;
    for (const s of [OK, FAIL, INFO]) {
      const rate = perBucket[b * 3 + s] / widthSec;
      if (rate === 0) continue;
      const y0 = yOf(base);
      const y1 = yOf(base + rate);
      bars.push(
        `<rect x="${coordinate(x)}" y="${coordinate(y1)}" width="${coordinate(w)}" height="${coordinate(Math.max(0.5, y0 - y1))}" class="${STATUS_NAMES[s]}">${tip}</rect>`,
      );
      base += rate;
    }
  }
  return (
    timeChart(frame, plotPx, grid.join(''), `<g>${bars.join('')}</g>`, 'throughput') +
    `<div class="legend"><span class="dim">completions per ${formatDurationNs(widthNs)} bucket, as a rate; fault windows shaded</span></div>`
  );
}
