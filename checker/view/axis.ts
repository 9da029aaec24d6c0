// Axes and coordinates shared by the HTML views' charts and timelines: round tick steps, the ticks
// of a range, and SVG coordinates. No I/O.

/** The smallest round step (1, 2 or 5 times a power of ten) at least `raw`; 1 for no usable `raw`. */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

/** Most ticks `tickValues` returns, whatever the step. */
export const TICKS_MAX = 1000;

/** The multiples of `step` in [start, end] (with a little tolerance for rounding), ascending; at most TICKS_MAX. */
export function tickValues(start: number, end: number, step: number): number[] {
  const ticks: number[] = [];
  if (!(step > 0) || !Number.isFinite(start) || !Number.isFinite(end)) return ticks;
  const first = Math.ceil(start / step - 1e-9);
  const last = Math.min(Math.floor(end / step + 1e-9), first + TICKS_MAX - 1);
  // `+ 0` turns -0 (from ceil of a tiny negative) into 0.
  for (let k = first; k <= last; k++) ticks.push(k * step + 0);
  return ticks;
}

/** An SVG coordinate or length as text, with at most one decimal. */
export function coordinate(value: number): string {
  return String(Math.round(value * 10) / 10);
}
