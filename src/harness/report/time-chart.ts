// What every time chart of the report shares: the geometry, the shaded fault windows with their
// labels, the marks, the time axis and the cursor line. Charts supply their rows or values and body.

import { coordinate, niceStep, tickValues } from '../../../checker/view/axis.js';
import { escapeHtml } from '../../../checker/view/text.js';
import type { TimeFrame } from './data.js';
import { formatSeconds } from './format.js';

/** Geometry of every time chart: a left gutter for labels, the plot, a little room on the right. */
export const GUTTER_PX = 78;
export const PLOT_PX = 1160;
export const RIGHT_PX = 18;
export const SVG_PX = GUTTER_PX + PLOT_PX + RIGHT_PX;
export const AXIS_PX = 22;
export const FAULT_LANE_PX = 16;
/** Shading per fault kind: [r, g, b]. */
export const FAULT_COLORS: Record<string, [number, number, number]> = {
  partition: [198, 40, 40],
  kill: [123, 31, 162],
  pause: [0, 121, 107],
  flaky: [121, 85, 72],
  disk: [69, 90, 100],
  transfer: [173, 20, 87],
};
export const FAULT_COLOR_OTHER: [number, number, number] = [97, 97, 97];

/** Converts a time (ns) to an x coordinate. */
export function xOf(frame: TimeFrame, timeNs: number): number {
  return GUTTER_PX + ((timeNs - frame.startNs) / frame.spanNs) * PLOT_PX;
}

export function faultBandPx(frame: TimeFrame): number {
  return frame.faults.length === 0 ? 0 : frame.faultLanes * FAULT_LANE_PX + 4;
}

/**
 * Wraps a chart body: the fault label band on top, the shaded windows behind the body, row or
 * value labels in the gutter, and the time axis below. `plotPx` is the body's height.
 */
export function timeChart(frame: TimeFrame, plotPx: number, yLabels: string, body: string, kind: string): string {
  const band = faultBandPx(frame);
  const top = band;
  const bottom = top + plotPx;
  const height = bottom + AXIS_PX;
  const shades: string[] = [];
  const labels: string[] = [];
  for (const fault of frame.faults) {
    const [r, g, b] = FAULT_COLORS[fault.kind] ?? FAULT_COLOR_OTHER;
    const x = xOf(frame, fault.startNs);
    const width = Math.max(1.5, xOf(frame, fault.stopNs) - x);
    const tip = `<title>${escapeHtml(fault.label)}\n${formatSeconds(fault.startNs - frame.startNs)} – ${fault.open ? 'end' : formatSeconds(fault.stopNs - frame.startNs)}</title>`;
    shades.push(
      `<rect x="${coordinate(x)}" y="${top}" width="${coordinate(width)}" height="${plotPx}" fill="rgba(${r},${g},${b},0.10)" stroke="rgba(${r},${g},${b},0.45)" stroke-width="0.8">${tip}</rect>`,
    );
    const y = 2 + fault.lane * FAULT_LANE_PX;
    // A nested svg clips the label to the window's width.
    labels.push(
      `<svg x="${coordinate(x)}" y="${y}" width="${coordinate(width)}" height="${FAULT_LANE_PX - 2}"><rect width="100%" height="100%" rx="2" fill="rgba(${r},${g},${b},0.22)" stroke="rgba(${r},${g},${b},0.7)"/><text x="3" y="10.5" class="flabel" fill="rgb(${Math.round(r * 0.6)},${Math.round(g * 0.6)},${Math.round(b * 0.6)})">${escapeHtml(fault.label)}</text>${tip}</svg>`,
    );
  }
  const marks = frame.marks.map((mark) => {
    const x = coordinate(xOf(frame, mark.timeNs));
    return `<line x1="${x}" x2="${x}" y1="${top}" y2="${bottom}" class="mark"><title>${escapeHtml(mark.label)}</title></line>`;
  });
  return [
    `<div class="chart-wrap"><svg class="chart ${kind}" width="${SVG_PX}" height="${height}" viewBox="0 0 ${SVG_PX} ${height}" data-x0="${GUTTER_PX}" data-w="${PLOT_PX}" data-t0="${frame.startNs / 1e9}" data-span="${frame.spanNs / 1e9}" data-top="${top}" data-bottom="${bottom}">`,
    `<rect x="${GUTTER_PX}" y="${top}" width="${PLOT_PX}" height="${plotPx}" class="plot"/>`,
    `<g>${shades.join('')}</g>`,
    yLabels,
    body,
    `<g>${marks.join('')}</g>`,
    `<g>${labels.join('')}</g>`,
    timeAxis(frame, bottom),
    `<line class="cursor" x1="-10" x2="-10" y1="${top}" y2="${bottom}"/>`,
    '</svg></div>',
  ].join('');
}

export function timeAxis(frame: TimeFrame, y: number): string {
  const spanSec = frame.spanNs / 1e9;
  const step = niceStep(spanSec / 12);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const parts = [`<line x1="${GUTTER_PX}" x2="${GUTTER_PX + PLOT_PX}" y1="${y}" y2="${y}" class="axis"/>`];
  for (const t of tickValues(frame.startNs / 1e9, frame.startNs / 1e9 + spanSec, step)) {
    const x = coordinate(xOf(frame, t * 1e9));
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${y}" y2="${y + 4}" class="axis"/><text x="${x}" y="${y + 15}" class="tick" text-anchor="middle">${t.toFixed(decimals)} s</text>`,
    );
  }
  return parts.join('');
}
