// MemoryStorage (the simulator's disk and DiskStorage's in-memory half) answers like the plainest
// in-memory storage (NaiveStorage, copying appends) to every read after any sequence of appends,
// hard states, compactions and leader snapshots.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/raft/memory-storage.js';
import { CONFIGURATION, view } from '../node/storage/helpers.js';
import { NaiveStorage } from './naive-storage.js';

const SEED = 777;

describe('MemoryStorage', () => {
  it('answers like NaiveStorage', () => {
    const step = fc.tuple(fc.nat(3), fc.nat(6), fc.integer({ min: 1, max: 5 }), fc.nat(40));
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), (steps) => {
        const model = new NaiveStorage(CONFIGURATION);
        const log = new MemoryStorage(CONFIGURATION);
        for (const [kind, a, b, c] of steps) {
          const offset = model.firstIndex() - 1;
          const hard = model.initialState().hardState;
          if (kind === 0) {
            // Any start, even below the snapshot; long enough that the commit stays inside the log.
            const first = Math.max(1, model.lastIndex() + 1 - a);
            const count = Math.max(b, hard.commit - first + 1);
            const batch = Array.from({ length: count }, (_, i) => ({ index: first + i, term: b, data: new Uint8Array(c).fill(i) }));
            model.append(batch);
            log.append(batch);
          } else if (kind === 1) {
            const next = { term: hard.term + (a % 2), vote: a % 3 === 0 ? '' : 'n2', commit: Math.min(model.lastIndex(), hard.commit + a) };
            model.setHardState(next);
            log.setHardState(next);
          } else if (kind === 2 && hard.commit > offset) {
            const index = offset + 1 + (c % (hard.commit - offset));
            const data = new Uint8Array([index]);
            expect(log.compact(index, data)).toBe(model.compact(index, data));
          } else if (kind === 3) {
            const snapshot = {
              metadata: { index: Math.max(0, offset + a - 2), term: b, configuration: CONFIGURATION },
              data: new Uint8Array([a]),
            };
            expect(log.applySnapshot(snapshot)).toBe(model.applySnapshot(snapshot));
          }
          expect(view(log)).toEqual(view(model));
          expect(log.sizeBytes()).toEqual(model.sizeBytes());
          const first = model.firstIndex();
          const last = model.lastIndex();
          if (last >= first) {
            for (const bytesMax of [0, 20, 60, 1000])
              expect(log.entries(first, last + 1, bytesMax)).toEqual(model.entries(first, last + 1, bytesMax));
          }
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});
