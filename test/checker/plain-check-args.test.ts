// `skepsis check` parses a plain command line without yargs (it loads as slowly as Node starts);
// anything not plain must be declined so that yargs handles it, with its messages.

import { describe, expect, it } from 'vitest';
import { plainCheckArgs } from '../../src/cli/check.js';

const DEFAULTS = { format: 'auto', timeout: 120, memory: 2048, json: false, quiet: false, split: true };

describe('plainCheckArgs', () => {
  it('reads the file and known flags, in either spelling, with yargs defaults', () => {
    expect(plainCheckArgs(['h.jsonl'])).toEqual({ file: 'h.jsonl', ...DEFAULTS });
    expect(
      plainCheckArgs([
        '--model',
        'kv',
        'h.edn',
        '--timeout=0',
        '--memory',
        '0.5',
        '--workers',
        '2',
        '--json',
        '--no-split',
        '--quiet',
        '--init=nil',
        '--html',
        'v.html',
        '--format',
        'jepsen-edn',
      ]),
    ).toEqual({
      file: 'h.edn',
      model: 'kv',
      timeout: 0,
      memory: 0.5,
      workers: 2,
      json: true,
      split: false,
      quiet: true,
      init: 'nil',
      html: 'v.html',
      format: 'jepsen-edn',
    });
  });

  it('declines what yargs must answer: help, unknown or repeated flags, bad choices, odd values', () => {
    for (const argv of [
      [],
      ['--help'],
      ['h.jsonl', '-h'],
      ['h.jsonl', '--version'],
      ['h.jsonl', 'extra'],
      ['h.jsonl', '--bogus'],
      ['h.jsonl', '--model', 'nope'],
      ['h.jsonl', '--format', 'csv'],
      ['h.jsonl', '--timeout', 'abc'],
      ['h.jsonl', '--timeout', '-1'],
      ['h.jsonl', '--workers'],
      ['h.jsonl', '--memory', '1', '--memory', '2'],
      ['h.jsonl', '--split', '--no-split'],
      ['h.jsonl', '--json=true'],
      ['h.jsonl', '--init', '--json'],
      ['--', 'h.jsonl'],
    ]) {
      expect(plainCheckArgs(argv), argv.join(' ')).toBeUndefined();
    }
  });
});
