// The whole-history check: verdicts, counterexamples, budgets (unknown, never a crash and never
// linearizable), stopping at the first failing part, and worker threads.

import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../checker/check.js';
import { readHistoryFile } from '../../checker/format/index.js';
import { searchPart } from '../../checker/search.js';
import { createModel } from '../../checker/models/index.js';
import { join } from 'node:path';
import { etcdFiles, PORCUPINE_DIR } from './porcupine-histories.js';
import { ops } from './ops.js';

describe('checkHistory', () => {
  it('finds a stale read and explains it', async () => {
    const history = ops(
      { process: 0, f: 'write', input: 1, call: 0, ret: 10 },
      { process: 1, f: 'write', input: 2, call: 20, ret: 30 },
      { process: 2, f: 'read', output: 1, call: 40, ret: 50 },
    );
    const result = await checkHistory(history, { model: 'register' });
    expect(result.valid).toBe(false);
    const [part] = result.results;
    expect(part.longestPrefix).toEqual([0, 1]);
    expect(part.stateAfterPrefix).toBe('2');
    expect(part.stuck).toEqual([{ opId: 2, reason: 'illegal' }]);
  });

  it('lets an indeterminate write explain a later read, or not happen at all', async () => {
    const history = ops(
      { process: 0, f: 'write', input: 1, call: 0, ret: 10 },
      { process: 1, f: 'write', input: 2, call: 5, status: 'info' },
      { process: 2, f: 'read', output: 1, call: 40, ret: 50 },
      { process: 3, f: 'read', output: 2, call: 60, ret: 70 },
    );
    expect((await checkHistory(history, { model: 'register' })).valid).toBe(true);
    expect((await checkHistory(history.slice(0, 3), { model: 'register' })).valid).toBe(true);
    // ... but it cannot take effect twice.
    const twice = [
      ...history,
      ...ops({ process: 4, f: 'read', output: 1, call: 80, ret: 90 }, { process: 5, f: 'read', output: 2, call: 100, ret: 110 }),
    ];
    twice.forEach((op, id) => (op.id = id));
    expect((await checkHistory(twice, { model: 'register' })).valid).toBe(false);
  });

  it('answers unknown at the time limit, naming the undecided part', async () => {
    const hard = etcdFiles().find((f) => f.file === 'etcd_080.log')!;
    const { history } = readHistoryFile(hard.path);
    const result = await checkHistory(history.operations, { model: 'cas-register', timeoutMs: 0 });
    expect(result.valid).toBe('unknown');
    expect(result.undecided).toEqual(['part 0']);
    expect(result.results[0].reason).toBe('timeout');
  });

  it('answers unknown over the memory ceiling', async () => {
    const hard = etcdFiles().find((f) => f.file === 'etcd_080.log')!;
    const { history } = readHistoryFile(hard.path);
    const result = await checkHistory(history.operations, { model: 'cas-register', memoryBytesMax: 1 });
    expect(result.valid).toBe('unknown');
    expect(result.results[0].reason).toBe('memory');
  });

  it('stops at the first failing part; a hard part does not hold the verdict back', async () => {
    // Key "hard" is a long linearizable register history; key "bad" fails at once.
    const hard = etcdFiles().find((f) => f.file === 'etcd_080.log')!;
    const hardOps = readHistoryFile(hard.path).history.operations.map((op) => ({ ...op, key: 'hard' }));
    const bad = ops(
      { process: 'b0', f: 'write', key: 'bad', input: 1, call: 0, ret: 1 },
      { process: 'b1', f: 'read', key: 'bad', output: 7, call: 2, ret: 3 },
    );
    const all = [...hardOps, ...bad].map((op, id) => ({ ...op, id }));
    for (const workers of [0, 2]) {
      const result = await checkHistory(all, { model: 'cas-register', workers });
      expect(result.valid).toBe(false);
      expect(result.results[0].key).toBe('bad');
    }
  });

  it('checks many parts in worker threads with the same verdict as in one thread', async () => {
    const { history } = readHistoryFile(join(PORCUPINE_DIR, 'kv', 'c10-ok.txt'));
    const inline = await checkHistory(history.operations, { model: 'kv', workers: 0 });
    const threaded = await checkHistory(history.operations, { model: 'kv', workers: 2 });
    expect(threaded.workers).toBe(2);
    expect(threaded.valid).toBe(true);
    expect(inline.valid).toBe(true);
    expect(threaded.parts).toBe(inline.parts);
  });

  it('an empty history is linearizable', async () => {
    expect((await checkHistory([], { model: 'kv' })).valid).toBe(true);
    expect(searchPart(createModel('register'), []).verdict).toBe('ok');
  });
});
