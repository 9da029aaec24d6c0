// How the report writes values, times, durations and counts. No I/O.

import { clip } from '../../../checker/view/text.js';

export function safeJson(value: unknown): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function shortValue(value: unknown): string {
  return clip(typeof value === 'string' ? value : safeJson(value), 24);
}

export function formatSeconds(ns: number): string {
  const s = ns / 1e9;
  return `${s.toFixed(Math.abs(s) < 10 ? 3 : 2)} s`;
}

export function formatDurationNs(ns: number): string {
  return formatMs(ns / 1e6);
}

export function formatMs(ms: number): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return 'n/a';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatLatency(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  if (ms < 1) return `${Number(ms.toPrecision(2))} ms`;
  if (ms < 1000) return `${Number(ms.toPrecision(3))} ms`;
  return `${Number((ms / 1000).toPrecision(3))} s`;
}

export function formatCount(value: number): string {
  return value >= 10_000 ? `${Number((value / 1000).toPrecision(3))}k` : String(Number(value.toPrecision(4)));
}
