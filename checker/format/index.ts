// Reads a history file in any supported format (or detects it), pairs calls with completions.

import { readFileSync } from 'node:fs';
import { HistoryError, pairHistory, type History, type HistoryEvent } from '../history.js';
import { parseJepsenEdn } from './jepsen-edn.js';
import { parseJsonl } from './jsonl.js';
import { parsePorcupineEtcd } from './porcupine-etcd.js';

export const FORMATS = ['auto', 'jsonl', 'porcupine-etcd', 'porcupine-kv', 'jepsen-edn'] as const;
export type Format = (typeof FORMATS)[number];

export interface ParsedHistory {
  format: Exclude<Format, 'auto'>;
  events: HistoryEvent[];
  history: History;
}

const parsers = {
  jsonl: parseJsonl,
  'porcupine-etcd': parsePorcupineEtcd,
  'porcupine-kv': parseJepsenEdn,
  'jepsen-edn': parseJepsenEdn,
};

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

export function parseHistoryText(text: string, file: string, format: Format = 'auto'): ParsedHistory {
  const actual = format === 'auto' ? detectFormat(text, file) : format;
  const { events, lines } = parsers[actual](text, file);
  const history = pairHistory(events, file, (i) => lines[i] ?? i + 1);
  return { format: actual, events, history };
}

export function readHistoryFile(file: string, format: Format = 'auto'): ParsedHistory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new HistoryError(file, 0, `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseHistoryText(text, file, format);
}
