// Reads a history file in any supported format (or detects it), pairs calls with completions.

import { readFileSync } from 'node:fs';
import { cannotRead, detectFormat, pairParsed, type Format, type ParsedHistory } from './detect.js';
import { parseJepsenEdn } from './jepsen-edn.js';
import { parseJsonl } from './jsonl.js';
import { parsePorcupineEtcd } from './porcupine-etcd.js';

export { detectFormat, FORMATS, type Format, type ParsedHistory } from './detect.js';

const parsers = {
  jsonl: parseJsonl,
  'porcupine-etcd': parsePorcupineEtcd,
  'porcupine-kv': parseJepsenEdn,
  'jepsen-edn': parseJepsenEdn,
};

export function parseHistoryText(text: string, file: string, format: Format = 'auto'): ParsedHistory {
  const actual = format === 'auto' ? detectFormat(text, file) : format;
  return pairParsed(actual, parsers[actual](text, file), file);
}

export function readHistoryFile(file: string, format: Format = 'auto'): ParsedHistory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw cannotRead(file, error);
  }
  return parseHistoryText(text, file, format);
}
