// Every verdict Porcupine's test-suite asserts on its histories (test/fixtures/porcupine) is reproduced.

import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../checker/check.js';
import { readHistoryFile } from '../../checker/format/index.js';
import { createModel } from '../../checker/models/index.js';
import { searchPart } from '../../checker/search.js';
import { etcdFiles, kvFiles } from './porcupine-histories.js';

describe('Porcupine etcd logs (cas-register)', () => {
  const files = etcdFiles();
  it('has all 103 logs (102 non-empty)', () => {
    expect(files).toHaveLength(103);
  });
  for (const { file, path, expected } of files) {
    it(`${file} is ${expected ? '' : 'NOT '}linearizable`, async () => {
      const { history, format } = readHistoryFile(path);
      // Detection needs a first line; the empty log reads as an empty history in any format.
      if (history.operations.length > 0) expect(format).toBe('porcupine-etcd');
      const result = await checkHistory(history.operations, { model: 'cas-register' });
      expect(result.valid).toBe(expected);
      if (!expected) {
        const failing = result.results[0];
        expect(failing.verdict).toBe('illegal');
        expect(failing.stuck?.length).toBeGreaterThan(0);
      }
    });
  }
});

describe('Porcupine kv histories (kv, split by key)', () => {
  for (const { file, path, expected } of kvFiles()) {
    it(`${file} is ${expected ? '' : 'NOT '}linearizable, split by key`, async () => {
      const { history, format } = readHistoryFile(path);
      expect(format).toBe('porcupine-kv');
      const result = await checkHistory(history.operations, { model: 'kv', workers: 0 });
      expect(result.valid).toBe(expected);
      expect(result.parts).toBeGreaterThan(1);
    });
    it(`${file} is ${expected ? '' : 'NOT '}linearizable as one part`, () => {
      const { history } = readHistoryFile(path);
      const result = searchPart(createModel('kv', { whole: true }), history.operations);
      expect(result.verdict).toBe(expected ? 'ok' : 'illegal');
    });
  }
});
