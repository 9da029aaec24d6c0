// The native history format: JSON Lines, one event per line (see the README's "History format").

import { EVENT_TYPES, HistoryError, historyEvent, type EventType, type HistoryEvent } from '../history.js';

const KNOWN_FIELDS = new Set(['index', 'time', 'process', 'type', 'f', 'key', 'value', 'error']);

/** Parses JSON Lines text into events; errors name the file and line. Blank lines are skipped. */
export function parseJsonl(text: string, file: string): { events: HistoryEvent[]; lines: number[] } {
  const events: HistoryEvent[] = [];
  const lines: number[] = [];
  let lineNumber = 0;
  let start = 0;
  let lastIndex = -1;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNumber++;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    if (raw === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (error) {
      throw new HistoryError(file, lineNumber, `expected one JSON object per line: ${(error as Error).message}`);
    }
    const event = toEvent(record, file, lineNumber, events.length);
    if (event.index <= lastIndex) {
      throw new HistoryError(file, lineNumber, `field "index" must increase from line to line, got ${event.index} after ${lastIndex}`);
    }
    lastIndex = event.index;
    events.push(event);
    lines.push(lineNumber);
  }
  return { events, lines };
}

function toEvent(record: unknown, file: string, line: number, position: number): HistoryEvent {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new HistoryError(file, line, 'expected a JSON object with fields index, time, process, type, f');
  }
  const r = record as Record<string, unknown>;
  for (const field of Object.keys(r)) {
    if (!KNOWN_FIELDS.has(field)) {
      throw new HistoryError(file, line, `unknown field "${field}" (expected: ${[...KNOWN_FIELDS].join(', ')})`);
    }
  }
  const index = r.index === undefined ? position : r.index;
  if (!Number.isSafeInteger(index) || (index as number) < 0) {
    throw new HistoryError(file, line, `field "index" must be a non-negative integer, got ${JSON.stringify(r.index)}`);
  }
  const time = r.time === undefined ? index : r.time;
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    throw new HistoryError(file, line, `field "time" must be a number (monotonic nanoseconds), got ${JSON.stringify(r.time)}`);
  }
  if (typeof r.process !== 'number' && typeof r.process !== 'string') {
    throw new HistoryError(file, line, `field "process" must be a number or a string, got ${JSON.stringify(r.process)}`);
  }
  if (!EVENT_TYPES.includes(r.type as EventType)) {
    throw new HistoryError(file, line, `field "type" must be one of ${EVENT_TYPES.join(', ')}, got ${JSON.stringify(r.type)}`);
  }
  if (typeof r.f !== 'string' || r.f === '') {
    throw new HistoryError(file, line, `field "f" must be a non-empty string, got ${JSON.stringify(r.f)}`);
  }
  if (r.key !== undefined && typeof r.key !== 'string') {
    throw new HistoryError(file, line, `field "key" must be a string, got ${JSON.stringify(r.key)}`);
  }
  if (r.error !== undefined && typeof r.error !== 'string') {
    throw new HistoryError(file, line, `field "error" must be a string, got ${JSON.stringify(r.error)}`);
  }
  const event = historyEvent({
    index: index as number,
    time,
    process: r.process,
    type: r.type as EventType,
    f: r.f,
    key: r.key as string | undefined,
    error: r.error as string | undefined,
  });
  // A value given as null stays (a read of nothing); only an absent one is left out.
  if ('value' in r) event.value = r.value;
  return event;
}

/** One event as one JSON line (no trailing newline). Field order is fixed for readable files. */
export function formatJsonlEvent(event: HistoryEvent): string {
  const ordered: Record<string, unknown> = {
    index: event.index,
    time: event.time,
    process: event.process,
    type: event.type,
    f: event.f,
  };
  if (event.key !== undefined) ordered.key = event.key;
  if (event.value !== undefined) ordered.value = event.value;
  if (event.error !== undefined) ordered.error = event.error;
  return JSON.stringify(ordered);
}
