// Jepsen/Knossos EDN histories: one vector of op maps, or one map per line (Porcupine's kv files
// are the latter). Histories of Jepsen's `independent` generator (`:value [k v]` on every client op)
// are split by key: op v on key k. Knossos's conventions: `:fail` ops never happened, `:info` ops stay pending, and
// a read that completes with nil constrains nothing. Nemesis ops become fault annotations.
// Also the exporter, so a history recorded here can be checked by Knossos.

import { EVENT_TYPES, HistoryError, historyEvent, type EventType, type HistoryEvent } from '../history.js';
import { EdnReader, EdnSyntaxError, Keyword, ednToPlain, plainToEdn, type EdnValue } from './edn.js';

const READ_FS = new Set(['read', 'get']);

function field(map: Map<EdnValue, EdnValue>, name: string): EdnValue | undefined {
  return map.get(`:${name}`);
}

/**
 * Whether the ops are Jepsen `independent` ones: every client op's :value a `[k v]` tuple (a cas
 * `[k [from to]]`), and no op with a :key of its own. A plain history fails this: a read's nil, a
 * write's scalar, or a cas's `[from to]` with a scalar `to`.
 */
function isIndependent(maps: EdnValue[]): boolean {
  let tuples = 0;
  for (const value of maps) {
    if (!(value instanceof Map)) return false;
    if (field(value, 'key') !== undefined) return false;
    const process = field(value, 'process');
    if (typeof process !== 'number') continue;
    const raw = field(value, 'value');
    if (!Array.isArray(raw) || raw.length !== 2) return false;
    const [key, inner] = raw;
    if (key === null || Array.isArray(key) || key instanceof Map || key instanceof Set) return false;
    const f = field(value, 'f');
    const fName = f instanceof Keyword ? f.name : f;
    if (fName === 'cas' && !(Array.isArray(inner) && inner.length === 2)) return false;
    tuples++;
  }
  return tuples > 0;
}

function toEvent(value: EdnValue, file: string, line: number, position: number, independent: boolean): HistoryEvent {
  if (!(value instanceof Map))
    throw new HistoryError(file, line, 'expected an op map like {:process 0, :type :invoke, :f :read, :value nil}');
  const typeValue = field(value, 'type');
  const type = typeValue instanceof Keyword ? typeValue.name : undefined;
  if (type === undefined || !EVENT_TYPES.includes(type as EventType)) {
    throw new HistoryError(
      file,
      line,
      `:type must be one of :invoke, :ok, :fail, :info, got ${typeValue === undefined ? 'nothing' : String(typeValue)}`,
    );
  }
  const processValue = field(value, 'process');
  let process: number | string;
  if (typeof processValue === 'number') process = processValue;
  else if (processValue instanceof Keyword) process = processValue.name;
  else if (typeof processValue === 'string') process = processValue;
  else
    throw new HistoryError(
      file,
      line,
      `:process must be an integer or :nemesis, got ${processValue === undefined ? 'nothing' : String(ednToPlain(processValue ?? null))}`,
    );
  const fValue = field(value, 'f');
  if (!(fValue instanceof Keyword) && typeof fValue !== 'string') {
    throw new HistoryError(file, line, `:f must be a keyword like :read, got ${fValue === undefined ? 'nothing' : String(fValue)}`);
  }
  const f = fValue instanceof Keyword ? fValue.name : fValue;
  const timeValue = field(value, 'time');
  let key = field(value, 'key');
  let raw = field(value, 'value');
  // Jepsen's independent generator: `:value [k v]` is op v on key k.
  if (independent && Array.isArray(raw) && raw.length === 2) [key, raw] = raw;
  const plain = raw === undefined ? undefined : ednToPlain(raw);
  // Knossos: a read completing (or called) with nil constrains nothing (its value stays unknown).
  const readOfNil = (type === 'ok' || type === 'invoke') && READ_FS.has(f) && plain === null;
  const error = field(value, 'error');
  return historyEvent({
    index: position,
    time: typeof timeValue === 'number' ? timeValue : position,
    process,
    type: type as EventType,
    f,
    key: key === undefined || key === null ? undefined : typeof key === 'string' ? key : String(ednToPlain(key)),
    value: readOfNil ? undefined : plain,
    error: error === undefined || error === null ? undefined : typeof error === 'string' ? error : JSON.stringify(ednToPlain(error)),
  });
}

export function parseJepsenEdn(text: string, file: string): { events: HistoryEvent[]; lines: number[] } {
  const events: HistoryEvent[] = [];
  const lines: number[] = [];
  const values: EdnValue[] = [];
  const reader = new EdnReader(text);
  try {
    const first = reader.peek();
    const wrapped = first === '[' || first === '(';
    if (wrapped) reader.expect(first);
    const close = first === '[' ? ']' : ')';
    for (;;) {
      const next = reader.peek();
      if (next === '') {
        if (wrapped) throw new HistoryError(file, reader.currentLine, `unexpected end of input, expected "${close}" closing the history`);
        break;
      }
      if (wrapped && next === close) {
        reader.expect(close);
        if (reader.peek() !== '') throw new HistoryError(file, reader.currentLine, 'unexpected text after the history vector');
        break;
      }
      lines.push(reader.currentLine);
      values.push(reader.read());
    }
  } catch (error) {
    if (error instanceof EdnSyntaxError) throw new HistoryError(file, error.line, `EDN syntax: ${error.detail} (column ${error.column})`);
    throw error;
  }
  const independent = isIndependent(values);
  values.forEach((value, position) => events.push(toEvent(value, file, lines[position], position, independent)));
  return { events, lines };
}

/** Writes events as Jepsen EDN, one op map per line inside a vector. */
export function formatJepsenEdn(events: HistoryEvent[]): string {
  const out: string[] = [];
  for (const e of events) {
    const parts = [
      `:index ${e.index}`,
      `:time ${Math.round(e.time)}`,
      `:process ${typeof e.process === 'number' ? e.process : `:${e.process}`}`,
      `:type :${e.type}`,
      `:f :${e.f}`,
    ];
    if (e.key !== undefined) parts.push(`:key ${JSON.stringify(e.key)}`);
    parts.push(`:value ${plainToEdn(e.value)}`);
    if (e.error !== undefined) parts.push(`:error ${JSON.stringify(e.error)}`);
    out.push(`{${parts.join(', ')}}`);
  }
  return `[${out.join('\n ')}]\n`;
}
