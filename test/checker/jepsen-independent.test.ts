// Jepsen `independent` histories (`:value [k v]` tuples) are split by key on import; plain
// histories whose values happen to be pairs (a cas's [from to]) are not.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../checker/check.js';
import { parseHistoryText, readHistoryFile } from '../../checker/format/index.js';
import { PORCUPINE_DIR } from './porcupine-histories.js';

const DIR = join(PORCUPINE_DIR, '..', 'jepsen-independent');

describe('Jepsen independent histories', () => {
  it('split [k v] tuples into keys and values, and keep nemesis ops as faults', () => {
    const { history } = readHistoryFile(join(DIR, 'register-valid.edn'));
    expect(history.operations.map((op) => [op.key, op.f, op.input ?? op.output ?? null])).toEqual([
      ['0', 'write', 1],
      ['1', 'write', 2],
      ['0', 'read', 1],
      ['1', 'cas', [2, 3]],
      ['1', 'read', 3],
      // A read completing with nil constrains nothing (Knossos), inside a tuple too.
      ['0', 'read', null],
    ]);
    expect(history.operations[5].output).toBeUndefined();
    expect(history.faults.length).toBeGreaterThan(0);
  });

  it('are checked key by key: valid split, invalid as one register; a stale read on one key is found', async () => {
    const valid = readHistoryFile(join(DIR, 'register-valid.edn')).history.operations;
    expect((await checkHistory(valid, { model: 'cas-register', workers: 0 })).valid).toBe(true);
    const merged = valid.map(({ key: _key, ...op }) => op);
    expect((await checkHistory(merged, { model: 'cas-register', workers: 0 })).valid).toBe(false);
    const stale = await checkHistory(readHistoryFile(join(DIR, 'register-stale.edn')).history.operations, {
      model: 'cas-register',
      workers: 0,
    });
    expect(stale.valid).toBe(false);
    expect(stale.results[0].key).toBe('0');
  });

  it('leave plain histories alone: a cas [from to] and scalar reads are not tuples', () => {
    const text = `[{:process 0, :type :invoke, :f :cas, :value [1 2]}
 {:process 0, :type :ok, :f :cas, :value [1 2]}
 {:process 1, :type :invoke, :f :write, :value [3 4]}
 {:process 1, :type :ok, :f :write, :value [3 4]}]`;
    const ops = parseHistoryText(text, 'p.edn', 'jepsen-edn').history.operations;
    expect(ops.map((op) => [op.key, op.input])).toEqual([
      [undefined, [1, 2]],
      [undefined, [3, 4]],
    ]);
  });
});
