// Importer for the Jepsen etcd logs in Porcupine's test data: one event per line,
// `INFO  jepsen.util - <proc> <type> <f> <value>`. A failed cas compared and found another value
// (recorded with error `cas_mismatch`); a failed read timed out and constrains nothing; `:info`
// ops never return.

import { HistoryError, historyEvent, type EventType, type HistoryEvent } from '../history.js';
import { CAS_MISMATCH } from '../models/register.js';

const LINE = /^INFO\s+jepsen\.util\s+-\s+(\S+)\s+:(invoke|ok|fail|info)\s+:(\w+)\s+(.*?)\s*$/;

function parseValue(text: string, f: string, file: string, line: number): unknown {
  if (text === 'nil') return null;
  if (text === ':timed-out') return undefined;
  if (/^-?\d+$/.test(text)) return Number(text);
  const pair = /^\[\s*(-?\d+|nil)\s+(-?\d+|nil)\s*\]$/.exec(text);
  if (f === 'cas' && pair) return [pair[1] === 'nil' ? null : Number(pair[1]), pair[2] === 'nil' ? null : Number(pair[2])];
  throw new HistoryError(file, line, `expected nil, an integer, [from to] or :timed-out as the value, got "${text}"`);
}

export function parsePorcupineEtcd(text: string, file: string): { events: HistoryEvent[]; lines: number[] } {
  const events: HistoryEvent[] = [];
  const lines: number[] = [];
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i].trim();
    if (raw === '') continue;
    const m = LINE.exec(raw);
    if (!m) throw new HistoryError(file, i + 1, 'expected "INFO jepsen.util - <process> :<type> :<f> <value>"');
    const [, processText, type, f, valueText] = m;
    if (!/^\d+$/.test(processText)) throw new HistoryError(file, i + 1, `expected an integer process id, got "${processText}"`);
    if (!['read', 'write', 'cas'].includes(f)) throw new HistoryError(file, i + 1, `expected :read, :write or :cas, got ":${f}"`);
    events.push(
      historyEvent({
        index: events.length,
        time: events.length,
        process: Number(processText),
        type: type as EventType,
        f,
        value: parseValue(valueText, f, file, i + 1),
        error: valueText === ':timed-out' ? 'timed-out' : type === 'fail' && f === 'cas' ? CAS_MISMATCH : undefined,
      }),
    );
    lines.push(i + 1);
  }
  return { events, lines };
}
