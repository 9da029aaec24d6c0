// Property: DiskStorage behaves like MemoryStorage (the model) through appends with conflicting
// suffixes, hard states, compaction and leader snapshots, and reopening at random points (a clean
// close, or a copy of the directory as a kill -9 after sync() would leave it) gives the model's state.

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskStorage } from '../../../src/node/storage/disk-storage.js';
import { MemoryStorage } from '../../../src/raft/memory-storage.js';
import type { Entry } from '../../../src/raft/types.js';
import { CONFIGURATION, copyDir, removeTempDirs, tempDir, view } from './helpers.js';

const SEED = 4242;
const RUNS = 30;

type Command =
  | { kind: 'append'; back: number; count: number; term: number; size: number }
  | { kind: 'hard-state'; termUp: number; vote: number; commitUp: number }
  | { kind: 'compact'; at: number }
  | { kind: 'leader-snapshot'; ahead: number; term: number }
  | { kind: 'sync' }
  | { kind: 'sync-now' }
  | { kind: 'reopen' }
  | { kind: 'crash' };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append'),
      back: fc.nat(4),
      count: fc.integer({ min: 1, max: 4 }),
      term: fc.integer({ min: 1, max: 6 }),
      size: fc.nat(40),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('hard-state'), termUp: fc.nat(2), vote: fc.nat(3), commitUp: fc.nat(5) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('compact'), at: fc.nat(100) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('leader-snapshot'),
      ahead: fc.integer({ min: 1, max: 6 }),
      term: fc.integer({ min: 1, max: 6 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'sync' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'sync-now' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
);

const VOTES = ['', 'n1', 'n2', 'n3'];

afterAll(removeTempDirs);

describe('DiskStorage against the MemoryStorage model', () => {
  it('reads and reopens like the model', async () => {
    let serial = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 10, maxLength: 60, size: 'max' }), async (commands) => {
        const dir = await tempDir();
        const options = { dir, configuration: CONFIGURATION, fsync: false, segmentBytesMax: 300 };
        const model = new MemoryStorage(CONFIGURATION);
        let disk = await DiskStorage.open(options);
        const opened: DiskStorage[] = [disk];
        try {
          for (const c of commands) {
            const hard = model.initialState().hardState;
            const offset = model.firstIndex() - 1;
            switch (c.kind) {
              case 'append': {
                // Replace a suffix above the commit (as Raft does), sometimes starting below the snapshot.
                const first = Math.max(hard.commit + 1, model.lastIndex() + 1 - c.back, 1) - (c.back === 4 ? Math.min(2, offset) : 0);
                const batch: Entry[] = [];
                for (let i = 0; i < c.count; i++) {
                  batch.push({ index: first + i, term: c.term, data: new Uint8Array(c.size).fill(++serial & 0xff) });
                }
                if (batch[batch.length - 1].index <= hard.commit) break; // would rewrite committed entries
                model.append(batch);
                disk.append(batch);
                break;
              }
              case 'hard-state': {
                const next = {
                  term: hard.term + c.termUp,
                  vote: VOTES[c.vote],
                  commit: Math.min(model.lastIndex(), hard.commit + c.commitUp),
                };
                model.setHardState(next);
                disk.setHardState(next);
                break;
              }
              case 'compact': {
                if (hard.commit <= offset) break;
                const index = offset + 1 + (c.at % (hard.commit - offset));
                const data = new TextEncoder().encode(`state@${index}`);
                expect(await disk.compact(index, data)).toBe(model.compact(index, data));
                break;
              }
              case 'leader-snapshot': {
                const index = Math.max(offset, hard.commit) + c.ahead;
                const snapshot = {
                  metadata: { index, term: c.term, configuration: CONFIGURATION },
                  data: new TextEncoder().encode(`leader@${index}`),
                };
                expect(await disk.applySnapshot(snapshot)).toBe(model.applySnapshot(snapshot));
                // The core's Ready after a snapshot carries commit = its index.
                const next = { ...hard, commit: Math.max(hard.commit, index) };
                model.setHardState(next);
                disk.setHardState(next);
                break;
              }
              case 'sync':
                await disk.sync();
                break;
              case 'sync-now':
                // The blocking write (a follower's), mixed with queued async work: falls back when it must.
                if (!disk.syncNow()) await disk.sync();
                break;
              case 'reopen':
                await disk.close();
                disk = await DiskStorage.open(options);
                opened.push(disk);
                expect(view(disk)).toEqual(view(model));
                break;
              case 'crash': {
                await disk.sync();
                const copy = await DiskStorage.open({ ...options, dir: await copyDir(dir) });
                opened.push(copy);
                expect(view(copy)).toEqual(view(model));
                expect(copy.recovery.truncatedTornBytes).toBe(0);
                await copy.close();
                break;
              }
            }
            expect(view(disk)).toEqual(view(model));
          }
          await disk.close();
          const last = await DiskStorage.open(options);
          opened.push(last);
          expect(view(last)).toEqual(view(model));
          // Compaction keeps the WAL bounded: no segment survives whose entries a snapshot covers.
          expect(last.sizeBytes().logBytes).toBe(model.sizeBytes().logBytes);
        } finally {
          await Promise.allSettled(opened.map((storage) => storage.close()));
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
