// The history formats and how a file's format is told from its text: no parser is loaded here, so
// `skepsis check` loads only the one its file needs (load.ts).

import { HistoryError, pairHistory, type History, type HistoryEvent } from '../history.js';

export const FORMATS = ['auto', 'jsonl', 'porcupine-etcd', 'porcupine-kv', 'jepsen-edn'] as const;
export type Format = (typeof FORMATS)[number];

export interface ParsedHistory {
  format: Exclude<Format, 'auto'>;
  events: HistoryEvent[];
  history: History;
}

/** Guesses the format from the first significant text. */
export function detectFormat(text: string, file: string): Exclude<Format, 'auto'> {
  const start = text.search(/\S/);
  if (start === -1) return 'jsonl';
  const head = text.slice(start, start + 200);
  if (/^INFO\s+jepsen\.util/.test(head)) return 'porcupine-etcd';
  if (/^\{\s*"/.test(head) || /^\{\s*\}/.test(head)) return 'jsonl';
  if (/^\{\s*:/.test(head)) return /:key\s+"/.test(head) && !/:time/.test(head) ? 'porcupine-kv' : 'jepsen-edn';
  if (/^[[(#;]/.test(head)) return 'jepsen-edn';
  const line = text.slice(0, start).split('\n').length;
  throw new HistoryError(
    file,
    line,
    'cannot tell the format: expected JSON Lines ({"index": ...}), Jepsen EDN ({:process ...} or [...]) or a Jepsen log (INFO jepsen.util - ...); name it with --format',
  );
}

/** What a parser gives: the events and the line of each. */
export interface Parsed {
  events: HistoryEvent[];
  lines: number[];
}

/** The parsed file with its calls paired with their completions. */
export function pairParsed(format: Exclude<Format, 'auto'>, { events, lines }: Parsed, file: string): ParsedHistory {
  return { format, events, history: pairHistory(events, file, (i) => lines[i] ?? i + 1) };
}

/** The error for a file that cannot be read. */
export function cannotRead(file: string, error: unknown): HistoryError {
  return new HistoryError(file, 0, `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
}
