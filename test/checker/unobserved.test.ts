// Indeterminate writes nobody observed: the search first leaves them out (sound: they may not have
// taken effect), and searches the whole part when that finds no linearization (a failed cas may
// rely on one). Verdicts must be those of the whole part.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../checker/check.js';
import { readHistoryFile } from '../../checker/format/index.js';
import { createModel } from '../../checker/models/index.js';
import { searchPart } from '../../checker/search.js';
import { ops } from './ops.js';

const HARD = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'bench', 'histories', 'register-one-key-60s.jsonl');

describe('unobserved indeterminate writes', () => {
  it('are the info writes and cas whose value no read returned and no possibly successful cas expected', () => {
    const model = createModel('cas-register');
    const history = ops(
      { f: 'write', input: 1, call: 0, status: 'info' }, // read below: observed
      { f: 'write', input: 2, call: 1, status: 'info' }, // nobody saw 2
      { f: 'cas', input: [7, 3], call: 2, status: 'info' }, // 3 is the from of an info cas: may be observed
      { f: 'cas', input: [3, 4], call: 3, status: 'info' }, // nobody saw 4
      { f: 'cas', input: [9, 5], call: 4, status: 'fail', error: 'cas_mismatch' }, // a failed cas expected 9: not an observation of 9
      { f: 'write', input: 9, call: 5, status: 'info' }, // so 9 counts as unobserved
      { f: 'write', input: 6, call: 6 }, // ok writes are never left out
      { f: 'read', output: 1, call: 7, ret: 8 },
    );
    expect([...model.unobserved!(history)].sort((a, b) => a - b)).toEqual([1, 3, 5]);
  });

  it('does not let leaving them out hide that a failed cas needed one of them', () => {
    // The cas expecting 1 failed after the write of 1: only the indeterminate write of 2, which
    // nobody read, explains it. Without it there is no linearization; with the whole part there is.
    const history = ops(
      { process: 0, f: 'write', input: 1, call: 0, ret: 10 },
      { process: 1, f: 'write', input: 2, call: 20, status: 'info' },
      { process: 2, f: 'cas', input: [1, 3], call: 30, ret: 40, status: 'fail', error: 'cas_mismatch' },
    );
    const model = createModel('cas-register');
    expect([...model.unobserved!(history)]).toEqual([1]);
    const result = searchPart(model, history);
    expect(result.verdict).toBe('ok');
    expect(result.linearization).toEqual([0, 1, 2]);
  });

  it('still finds a violation, with its explanation from the whole part', async () => {
    const history = ops(
      { process: 0, f: 'write', input: 1, call: 0, ret: 10 },
      { process: 1, f: 'write', input: 2, call: 20, status: 'info' },
      { process: 2, f: 'write', input: 3, call: 30, ret: 40 },
      { process: 3, f: 'read', output: 1, call: 50, ret: 60 },
    );
    const result = await checkHistory(history, { model: 'cas-register' });
    expect(result.valid).toBe(false);
    expect(result.results[0].stuck).toEqual([{ opId: 3, reason: 'illegal' }]);
  });

  it('in key-value models, are the info puts, appends and cas whose text no get or cas shows', () => {
    const model = createModel('kv-cas');
    const history = ops(
      { f: 'append', key: 'k', input: 'a,', call: 0, status: 'info' }, // shows in the get below
      { f: 'append', key: 'k', input: 'b,', call: 1, status: 'info' }, // nobody saw b
      { f: 'put', key: 'k', input: 'c,', call: 2, status: 'info' }, // nobody saw c
      { f: 'cas', key: 'k', input: ['a,d,', 'e,'], call: 3, status: 'info' }, // nobody saw e
      { f: 'delete', key: 'k', call: 4, status: 'info' }, // never left out
      { f: 'get', key: 'k', output: 'a,d,', call: 5, ret: 6 },
    );
    expect([...model.unobserved!(history)].sort((a, b) => a - b)).toEqual([1, 2, 3]);
  });

  it('in key-value models, keeps the verdict of the whole part', async () => {
    // The cas from "x" failed after the put of "x": only the unobserved append explains it.
    const needed = ops(
      { process: 0, f: 'put', key: 'k', input: 'x', call: 0, ret: 10 },
      { process: 1, f: 'append', key: 'k', input: 'y', call: 20, status: 'info' },
      { process: 2, f: 'cas', key: 'k', input: ['x', 'z'], call: 30, ret: 40, status: 'fail', error: 'cas_mismatch' },
    );
    expect((await checkHistory(needed, { model: 'kv-cas' })).valid).toBe(true);
    // A lost append stays lost however the search begins.
    const lost = ops(
      { process: 0, f: 'append', key: 'k', input: 'a,', call: 0, ret: 10 },
      { process: 1, f: 'append', key: 'k', input: 'b,', call: 20, status: 'info' },
      { process: 2, f: 'get', key: 'k', output: null, call: 30, ret: 40 },
    );
    expect((await checkHistory(lost, { model: 'kv-cas' })).valid).toBe(false);
  });

  it('decides the hard 60-second register history that used to time out', async () => {
    // 1,882 ops on one register, 40 indeterminate: over a billion steps without an answer before.
    const { history } = readHistoryFile(HARD);
    const result = await checkHistory(history.operations, { model: 'cas-register', timeoutMs: 60_000 });
    expect(result.valid).toBe(true);
  });
});
