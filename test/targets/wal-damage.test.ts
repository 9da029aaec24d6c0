// The disk nemeses' damage against a real WAL (DiskStorage): `disk` (cut, garble) adds a torn write
// after the synced prefix, so the log reopens with every synced entry and the tail truncated;
// `disk-synced` flips a bit in a durable record, so the log refuses to open, naming file and offset.

import { readFile, stat } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskStorage } from '../../src/node/storage/disk-storage.js';
import { WalCorruptionError } from '../../src/node/storage/errors.js';
import { Random } from '../../src/raft/random.js';
import { damageSynced, damageUnsynced, newestWalSegment } from '../../src/targets/skepsis/wal-damage.js';
import { CONFIGURATION, entries, removeTempDirs, tempDir, view } from '../node/storage/helpers.js';

afterEach(removeTempDirs);

/** A data dir holding 20 synced entries, closed (as a killed node leaves it); returns its log view. */
async function syncedLog(count = 20) {
  const dir = await tempDir();
  const storage = await DiskStorage.open({ dir, configuration: CONFIGURATION, fsync: false });
  for (let i = 1; i <= count; i++) {
    storage.append(entries(i, i, 1));
    await storage.sync();
  }
  const before = view(storage);
  await storage.close();
  return { dir, before };
}

describe('wal damage', () => {
  for (const how of ['cut', 'garble'] as const) {
    it(`${how}: keeps the synced prefix; the node reopens with every entry and truncates the torn tail (20 seeds)`, async () => {
      for (let seed = 1; seed <= 20; seed++) {
        const { dir, before } = await syncedLog();
        const file = (await newestWalSegment(dir))!;
        const synced = await readFile(file);
        const description = await damageUnsynced('n1', dir, how, new Random(seed));
        const after = await readFile(file);
        expect(after.length, `seed ${seed}: ${description}`).toBeGreaterThan(synced.length);
        expect(after.subarray(0, synced.length).equals(synced), `seed ${seed}: the synced prefix is untouched`).toBe(true);
        const reopened = await DiskStorage.open({ dir, configuration: CONFIGURATION, fsync: false });
        try {
          expect(view(reopened), `seed ${seed}: ${description}`).toEqual(before);
          expect(reopened.recovery.truncatedTornBytes, `seed ${seed}`).toBe(after.length - synced.length);
        } finally {
          await reopened.close();
        }
        expect((await stat(file)).size).toBe(synced.length);
      }
    });
  }

  it('synced: a bit flipped in a durable record makes the log refuse to open, naming the file and offset (20 seeds)', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { dir } = await syncedLog();
      const description = await damageSynced('n1', dir, new Random(seed));
      expect(description, `seed ${seed}`).toMatch(/^n1: flipped a bit at offset \d+ of .*\.wal/);
      const refused = await DiskStorage.open({ dir, configuration: CONFIGURATION, fsync: false }).then(
        async (storage) => {
          await storage.close();
          return undefined;
        },
        (error: unknown) => error,
      );
      expect(refused, `seed ${seed}: ${description}`).toBeInstanceOf(WalCorruptionError);
      expect((refused as Error).message).toMatch(/\.wal.*offset \d+/);
    }
  });

  it('synced: a WAL of a single record has nothing synced but its last record; nothing is done', async () => {
    const dir = await tempDir();
    const storage = await DiskStorage.open({ dir, configuration: CONFIGURATION, fsync: false });
    await storage.close();
    const file = (await newestWalSegment(dir))!;
    const before = await readFile(file);
    expect(await damageSynced('n1', dir, new Random(1))).toBeUndefined();
    expect((await readFile(file)).equals(before)).toBe(true);
  });
});
