// DiskStorage against real files: recovery round trips, torn tails, corruption, snapshots and
// compaction, group commit, options. Every directory is temporary and removed after each test.

import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskStorage, type DiskStorageOptions } from '../../../src/node/storage/disk-storage.js';
import {
  DiskStorageOptionsError,
  SnapshotCorruptionError,
  StorageQueueFullError,
  WalCorruptionError,
} from '../../../src/node/storage/errors.js';
import { writeSnapshotFile } from '../../../src/node/storage/snapshot-file.js';
import { scanSegment } from '../../../src/node/storage/wal-record.js';
import { MemoryStorage } from '../../../src/raft/memory-storage.js';
import { CONFIGURATION, copyDir, entries, entry, removeTempDirs, segmentFiles, snapshotFiles, tempDir, view } from './helpers.js';

const open: DiskStorage[] = [];

async function openStorage(dir: string, options: Partial<DiskStorageOptions> = {}): Promise<DiskStorage> {
  const storage = await DiskStorage.open({ dir, configuration: CONFIGURATION, fsync: false, ...options });
  open.push(storage);
  return storage;
}

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((storage) => storage.close()));
  await removeTempDirs();
});

describe('recovery round trips', () => {
  it('a new directory starts empty with the given configuration and snapshot 0', async () => {
    const dir = await tempDir();
    const storage = await openStorage(dir);
    expect(storage.recovery).toMatchObject({ created: true, snapshotIndex: 0, entries: 0, truncatedTornBytes: 0 });
    expect(view(storage)).toEqual(view(new MemoryStorage(CONFIGURATION)));
    expect(await snapshotFiles(dir)).toEqual(['0000000000000000.snap']);
    await storage.close();
    // The configuration now comes from the directory, not the options.
    const again = await openStorage(dir, { configuration: { voters: ['other'] } });
    expect(again.recovery.created).toBe(false);
    expect(again.initialState().configuration).toEqual(CONFIGURATION);
  });

  it('entries, hard state and a conflicting suffix replay to the same log', async () => {
    const dir = await tempDir();
    const model = new MemoryStorage(CONFIGURATION);
    const storage = await openStorage(dir);
    for (const target of [model, storage]) {
      target.append(entries(1, 6, 1));
      target.setHardState({ term: 1, vote: 'n1', commit: 2 });
      target.append(entries(4, 5, 2, (i) => `replaced ${i}`)); // replaces 4..6
      target.setHardState({ term: 2, vote: 'n2', commit: 3 });
      target.append(entries(6, 7, 2));
    }
    await storage.sync();
    expect(view(storage)).toEqual(view(model));
    await storage.close();
    const reopened = await openStorage(dir);
    expect(view(reopened)).toEqual(view(model));
    expect(reopened.recovery).toMatchObject({
      entries: 7,
      lastIndex: 7,
      hardState: { term: 2, vote: 'n2', commit: 3 },
      truncatedTornBytes: 0,
    });
  });

  it('a kill after sync() keeps everything synced (the directory copied as the process left it)', async () => {
    const dir = await tempDir();
    const storage = await openStorage(dir);
    storage.append(entries(1, 3, 1));
    storage.setHardState({ term: 1, vote: '', commit: 3 });
    await storage.sync();
    storage.append(entries(4, 4, 1)); // queued, not synced: not on disk yet
    const crashed = await openStorage(await copyDir(dir));
    expect(crashed.lastIndex()).toBe(3);
    expect(crashed.initialState().hardState).toEqual({ term: 1, vote: '', commit: 3 });
  });

  it('rotates segments past segmentBytesMax and replays them all', async () => {
    const dir = await tempDir();
    const storage = await openStorage(dir, { segmentBytesMax: 256 });
    for (let index = 1; index <= 40; index++) {
      storage.append([entry(index, 1, 'x'.repeat(20))]);
      await storage.sync();
    }
    expect((await segmentFiles(dir)).length).toBeGreaterThan(4);
    await storage.close();
    const reopened = await openStorage(dir, { segmentBytesMax: 256 });
    expect(reopened.lastIndex()).toBe(40);
    expect(reopened.recovery.segments).toBeGreaterThan(4);
  });
});

/** A closed directory whose last segment ends with `last`: returns the segment and the record's bounds. */
async function prepareLog(): Promise<{ dir: string; segment: string; start: number; end: number }> {
  const dir = await tempDir();
  const storage = await DiskStorage.open({ dir, configuration: CONFIGURATION, fsync: false });
  storage.append(entries(1, 2, 1));
  storage.setHardState({ term: 1, vote: 'n1', commit: 1 });
  await storage.sync();
  storage.append(entries(3, 4, 1));
  await storage.sync();
  storage.append(entries(5, 6, 1, (i) => `the last record ${i}`));
  await storage.sync();
  await storage.close();
  const [segment] = await segmentFiles(dir);
  const bytes = await readFile(segment);
  const scan = scanSegment(bytes);
  const last = scan.records[scan.records.length - 1];
  expect(last.record).toMatchObject({ type: 'entries', entries: [{ index: 5 }, { index: 6 }] });
  return { dir, segment, start: last.offset, end: last.offset + last.bytes };
}

describe('torn tails and corruption', () => {
  it('truncates a torn last record at every byte offset and reports it', async () => {
    const base = await prepareLog();
    for (let cut = base.start + 1; cut < base.end; cut++) {
      const dir = await copyDir(base.dir);
      const segment = join(dir, 'wal', base.segment.slice(base.segment.lastIndexOf('/') + 1));
      await truncate(segment, cut);
      const storage = await openStorage(dir);
      expect(storage.recovery, `cut at ${cut}`).toMatchObject({ truncatedTornBytes: cut - base.start, file: segment, offset: base.start });
      expect(storage.lastIndex()).toBe(4);
      expect(storage.initialState().hardState.commit).toBe(1);
      expect((await stat(segment)).size).toBe(base.start);
      await storage.close();
      if (cut % 8 !== 0) continue;
      // New writes continue after the cut and survive the next open (checked for some cuts, to stay fast).
      const continued = await openStorage(dir);
      continued.append(entries(5, 5, 2));
      await continued.close();
      const again = await openStorage(dir);
      expect(again.recovery.truncatedTornBytes).toBe(0);
      expect(again.term(5)).toBe(2);
      await again.close();
    }
  });

  it('a zero-filled tail (file extended, data never written) is torn too', async () => {
    const base = await prepareLog();
    const bytes = await readFile(base.segment);
    bytes.fill(0, base.start + 3);
    await writeFile(base.segment, bytes);
    const storage = await openStorage(base.dir);
    expect(storage.recovery).toMatchObject({ truncatedTornBytes: base.end - base.start, offset: base.start });
    expect(storage.lastIndex()).toBe(4);
  });

  it('a last segment whose header was never fully written is removed and its number reused', async () => {
    const base = await prepareLog();
    const next = base.segment.replace(/1\.wal$/, '2.wal');
    await writeFile(next, Buffer.from([9, 0, 0, 0, 1])); // 5 bytes of a 30-byte header
    const storage = await openStorage(base.dir);
    expect(storage.recovery).toMatchObject({ truncatedTornBytes: 5, file: next, offset: 0, segments: 1 });
    expect(storage.lastIndex()).toBe(6);
    expect(await segmentFiles(base.dir)).toEqual([base.segment, next]);
    expect(scanSegment(await readFile(next)).records.map((r) => r.record.type)).toEqual(['header']);
  });

  it('a flipped byte in a middle record throws WalCorruptionError naming the file and offset', async () => {
    const base = await prepareLog();
    const bytes = await readFile(base.segment);
    const records = scanSegment(bytes).records;
    const middle = records[records.length - 2]; // entries 3..4
    for (const at of [middle.offset + 1, middle.offset + 5, middle.offset + 12, middle.offset + middle.bytes - 1]) {
      const dir = await copyDir(base.dir);
      const segment = join(dir, 'wal', base.segment.slice(base.segment.lastIndexOf('/') + 1));
      const damaged = Buffer.from(bytes);
      damaged[at] ^= 0x10;
      await writeFile(segment, damaged);
      const error = await DiskStorage.open({ dir, configuration: CONFIGURATION, fsync: false }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `flip at ${at}`).toBeInstanceOf(WalCorruptionError);
      expect(error).toMatchObject({ file: segment, offset: middle.offset });
      expect((error as Error).message).toContain(`${segment} at byte offset ${middle.offset}`);
      // Nothing was truncated: the evidence stays for a person to inspect.
      expect((await readFile(segment)).equals(damaged)).toBe(true);
    }
  });

  it('a damaged last record of a segment that is not the last is corruption, not a torn tail', async () => {
    const base = await prepareLog();
    const storage = await openStorage(base.dir); // starts segment 2
    storage.append(entries(7, 7, 1));
    await storage.close();
    await truncate(base.segment, base.end - 2);
    await expect(DiskStorage.open({ dir: base.dir, configuration: CONFIGURATION, fsync: false })).rejects.toMatchObject({
      name: 'WalCorruptionError',
      file: base.segment,
      offset: base.start,
      message: expect.stringMatching(/not the last segment/),
    });
  });

  it('a missing segment is corruption', async () => {
    const dir = await tempDir();
    const storage = await openStorage(dir, { segmentBytesMax: 256 });
    for (let index = 1; index <= 30; index++) {
      storage.append([entry(index, 1, 'y'.repeat(30))]);
      await storage.sync();
    }
    await storage.close();
    const segments = await segmentFiles(dir);
    await writeFile(segments[1], ''); // an empty middle segment
    await expect(DiskStorage.open({ dir, configuration: CONFIGURATION, fsync: false })).rejects.toBeInstanceOf(WalCorruptionError);
    const { rm } = await import('node:fs/promises');
    await rm(segments[1]);
    await expect(DiskStorage.open({ dir, configuration: CONFIGURATION, fsync: false })).rejects.toThrow(/segment 2 is missing/);
  });
});

describe('snapshots and compaction', () => {
  it('compaction writes the snapshot, deletes covered segments and reopens identically', async () => {
    const dir = await tempDir();
    const model = new MemoryStorage(CONFIGURATION);
    const storage = await openStorage(dir, { segmentBytesMax: 300 });
    for (let index = 1; index <= 60; index++) {
      for (const target of [model, storage]) {
        target.append([entry(index, 1 + Math.floor(index / 20), 'z'.repeat(25))]);
        target.setHardState({ term: 1 + Math.floor(index / 20), vote: 'n1', commit: index });
      }
      await storage.sync();
    }
    const before = await segmentFiles(dir);
    const walBefore = storage.sizeBytes().walBytes;
    const state = new TextEncoder().encode('state at 50');
    model.compact(50, state);
    expect(await storage.compact(50, state)).toBe('compacted');
    expect(await storage.compact(40, state)).toBe('out-of-date');
    const after = await segmentFiles(dir);
    expect(after.length).toBeLessThan(before.length);
    expect(storage.sizeBytes().walBytes).toBeLessThan(walBefore);
    expect(storage.counters.segmentsDeleted).toBeGreaterThan(0);
    expect(await snapshotFiles(dir)).toEqual(['0000000000000050.snap']);
    expect(view(storage)).toEqual(view(model));
    await storage.close();
    const reopened = await openStorage(dir, { segmentBytesMax: 300 });
    expect(view(reopened)).toEqual(view(model));
    expect(reopened.recovery).toMatchObject({ snapshotIndex: 50, entries: 10 });
  });

  it("a leader's snapshot replaces the whole log, including stale entries past it, also after a kill", async () => {
    const dir = await tempDir();
    const model = new MemoryStorage(CONFIGURATION);
    const storage = await openStorage(dir);
    const snapshot = { metadata: { index: 8, term: 3, configuration: CONFIGURATION }, data: new TextEncoder().encode('leader state') };
    for (const target of [model, storage]) {
      target.append(entries(1, 12, 1)); // 9..12 are stale: the leader's log differs there
      target.setHardState({ term: 1, vote: '', commit: 5 });
    }
    await storage.sync();
    model.applySnapshot(snapshot);
    model.setHardState({ term: 3, vote: '', commit: 8 });
    expect(await storage.applySnapshot(snapshot)).toBe('applied');
    expect(await storage.applySnapshot(snapshot)).toBe('out-of-date');
    storage.setHardState({ term: 3, vote: '', commit: 8 });
    await storage.sync();
    const crashed = await openStorage(await copyDir(dir));
    expect(view(crashed)).toEqual(view(model));
    expect(crashed.lastIndex()).toBe(8);
    for (const target of [model, storage]) target.append(entries(9, 10, 3));
    await storage.close();
    const reopened = await openStorage(dir);
    expect(view(reopened)).toEqual(view(model));
    expect(reopened.recovery.segments).toBe(1); // the segments before the snapshot are gone
  });

  it('appends made while snapshots are still being written land after them in the WAL', async () => {
    const dir = await tempDir();
    const model = new MemoryStorage(CONFIGURATION);
    const storage = await openStorage(dir, { segmentBytesMax: 256 });
    const snapshot = { metadata: { index: 20, term: 2, configuration: CONFIGURATION }, data: new Uint8Array([20]) };
    for (const target of [model, storage]) {
      target.append(entries(1, 15, 1));
      target.setHardState({ term: 1, vote: '', commit: 10 });
    }
    const pending: Array<Promise<unknown>> = [storage.sync(), storage.compact(6, new Uint8Array([6]))];
    model.compact(6, new Uint8Array([6]));
    // Nothing awaited: the leader's snapshot, then the entries after it, then a compaction of those.
    pending.push(storage.applySnapshot(snapshot));
    model.applySnapshot(snapshot);
    for (const target of [model, storage]) {
      target.setHardState({ term: 2, vote: '', commit: 22 });
      target.append(entries(21, 25, 2));
    }
    pending.push(storage.sync(), storage.compact(22, new Uint8Array([22])));
    model.compact(22, new Uint8Array([22]));
    storage.append(entries(26, 26, 2));
    model.append(entries(26, 26, 2));
    pending.push(storage.sync());
    expect(await Promise.all(pending)).toEqual([undefined, 'compacted', 'applied', undefined, 'compacted', undefined]);
    const crashed = await openStorage(await copyDir(dir));
    expect(view(crashed)).toEqual(view(model));
    await storage.close();
    expect(view(await openStorage(dir))).toEqual(view(model));
    expect(await snapshotFiles(dir)).toEqual(['0000000000000022.snap']);
  });

  it("entries below the snapshot's WAL floor are ignored (a kill between the snapshot rename and the new segment)", async () => {
    const dir = await tempDir();
    const storage = await openStorage(dir);
    storage.append(entries(1, 12, 1));
    storage.setHardState({ term: 1, vote: '', commit: 5 });
    await storage.close();
    // By hand: the leader's snapshot file became durable, the new segment (2) was never created.
    const snapshot = { metadata: { index: 8, term: 3, configuration: CONFIGURATION }, data: new Uint8Array([1, 2, 3]) };
    await writeSnapshotFile(join(dir, 'snap'), { snapshot, walSeqFrom: 2 }, false);
    const reopened = await openStorage(dir);
    expect(reopened.lastIndex()).toBe(8);
    expect(reopened.term(8)).toBe(3);
    expect(reopened.initialState().hardState).toEqual({ term: 1, vote: '', commit: 8 }); // commit raised to the snapshot
    expect((await segmentFiles(dir)).map((path) => path.slice(-8))).toEqual(['0002.wal']);
  });

  it('falling back to an older snapshot whose segments were deleted is a gap, not silent loss', async () => {
    const dir = await tempDir();
    const storage = await openStorage(dir, { segmentBytesMax: 256 });
    for (let index = 1; index <= 30; index++) {
      storage.append([entry(index, 1, 'w'.repeat(30))]);
      storage.setHardState({ term: 1, vote: '', commit: index });
      await storage.sync();
    }
    const snapshotZero = await readFile(join(dir, 'snap', '0000000000000000.snap'));
    await storage.compact(25, new Uint8Array([25]));
    await storage.close();
    expect(await snapshotFiles(dir)).toEqual(['0000000000000025.snap']);
    // Bit rot in the newest snapshot, and an old snapshot 0 still around.
    await writeFile(join(dir, 'snap', '0000000000000000.snap'), snapshotZero);
    const newest = join(dir, 'snap', '0000000000000025.snap');
    const bytes = await readFile(newest);
    bytes[bytes.length - 3] ^= 0xff;
    await writeFile(newest, bytes);
    await expect(DiskStorage.open({ dir, configuration: CONFIGURATION, fsync: false })).rejects.toMatchObject({
      name: 'WalCorruptionError',
      message: expect.stringMatching(/entries start at \d+ but the log ends at 0 \(snapshot 0\)/),
    });
  });

  it('a leftover temporary snapshot file is ignored and removed', async () => {
    const dir = await tempDir();
    const storage = await openStorage(dir);
    storage.append(entries(1, 3, 1));
    await storage.close();
    await writeFile(join(dir, 'snap', '0000000000000099.snap.tmp'), 'half a snapshot');
    const reopened = await openStorage(dir);
    expect(reopened.recovery.snapshotIndex).toBe(0);
    expect(reopened.lastIndex()).toBe(3);
    expect(reopened.recovery.ignoredFiles).toEqual([expect.stringContaining('0000000000000099.snap.tmp')]);
    expect(await snapshotFiles(dir)).toEqual(['0000000000000000.snap']);
  });

  it('a damaged newest snapshot falls back to an older valid one; none valid refuses to start', async () => {
    const dir = await tempDir();
    const storage = await openStorage(dir);
    storage.append(entries(1, 3, 1));
    await storage.close();
    await writeFile(join(dir, 'snap', '0000000000000002.snap'), 'not a snapshot');
    const reopened = await openStorage(dir);
    expect(reopened.recovery.snapshotIndex).toBe(0);
    expect(reopened.lastIndex()).toBe(3);
    expect(reopened.recovery.ignoredFiles).toEqual([expect.stringMatching(/0000000000000002\.snap: damaged snapshot skipped \(too short/)]);
    await reopened.close();
    await writeFile(join(dir, 'snap', '0000000000000000.snap'), 'also broken');
    await expect(DiskStorage.open({ dir, configuration: CONFIGURATION, fsync: false })).rejects.toBeInstanceOf(SnapshotCorruptionError);
  });
});

describe('group commit and bounds', () => {
  it('100 concurrent sync() calls share a handful of fsyncs, and everything acknowledged is on disk', async () => {
    const dir = await tempDir();
    const storage = await openStorage(dir, { fsync: true });
    await Promise.all(
      Array.from({ length: 100 }, () => {
        storage.append([entry(storage.lastIndex() + 1, 1)]);
        return storage.sync();
      }),
    );
    expect(storage.counters.syncCalls).toBe(100);
    expect(storage.counters.walFsyncs).toBeLessThanOrEqual(2);
    // 25 writers, 8 rounds each: a sync requested while one is in flight joins the next one.
    const before = storage.counters.walFsyncs;
    const writer = async (): Promise<void> => {
      for (let round = 0; round < 8; round++) {
        storage.append([entry(storage.lastIndex() + 1, 1)]);
        await storage.sync();
      }
    };
    await Promise.all(Array.from({ length: 25 }, writer));
    const fsyncs = storage.counters.walFsyncs - before;
    expect(fsyncs).toBeGreaterThan(0);
    expect(fsyncs).toBeLessThanOrEqual(40); // 200 sync() calls
    expect(storage.counters.walWrites).toBeLessThanOrEqual(storage.counters.walFsyncs + 1);
    const crashed = await openStorage(await copyDir(dir));
    expect(crashed.lastIndex()).toBe(300);
  });

  it('syncNow() writes before it returns; it declines while other disk work is queued or in flight', async () => {
    const dir = await tempDir();
    const storage = await openStorage(dir, { fsync: true });
    storage.append(entries(1, 3, 1));
    storage.setHardState({ term: 1, vote: 'n2', commit: 2 });
    const fsyncs = storage.counters.walFsyncs;
    expect(storage.syncNow()).toBe(true);
    expect(storage.counters.walFsyncs).toBe(fsyncs + 1);
    // On disk already: a copy taken now, as a kill -9 would leave the directory, has it all.
    const copy = await openStorage(await copyDir(dir));
    expect(copy.lastIndex()).toBe(3);
    expect(copy.initialState().hardState).toEqual({ term: 1, vote: 'n2', commit: 2 });

    storage.append(entries(4, 4, 1));
    const pending = storage.sync();
    storage.append(entries(5, 5, 1));
    expect(storage.syncNow()).toBe(false); // the drain for entry 4 has not run: order first
    await pending;
    await storage.sync();
    expect(storage.syncNow()).toBe(true); // nothing queued: nothing to write
    const lying = await openStorage(await tempDir(), { lyingFsync: true });
    lying.append(entries(1, 1, 1));
    expect(lying.syncNow()).toBe(false);
    await storage.close();
    expect((await openStorage(dir)).lastIndex()).toBe(5);
  });

  it('sync() with nothing queued does not fsync; fsync: false never does', async () => {
    const dir = await tempDir();
    const storage = await openStorage(dir, { fsync: true });
    await storage.sync();
    expect(storage.counters.walFsyncs).toBe(0);
    const unsafe = await openStorage(await tempDir(), { fsync: false });
    unsafe.append(entries(1, 5, 1));
    await unsafe.sync();
    expect(unsafe.counters).toMatchObject({ walWrites: 1, walFsyncs: 0 });
  });

  it('refuses to queue past queuedBytesMax without changing the log', async () => {
    const storage = await openStorage(await tempDir(), { queuedBytesMax: 64 * 1024 });
    const big = 'b'.repeat(1000);
    let appended = 0;
    expect(() => {
      for (let index = 1; index <= 100; index++) {
        storage.append([entry(index, 1, big)]);
        appended = index;
      }
    }).toThrow(StorageQueueFullError);
    expect(appended).toBeGreaterThan(50);
    expect(storage.lastIndex()).toBe(appended);
    await storage.sync();
    storage.append([entry(appended + 1, 1, big)]); // room again once written
  });

  it('lying fsync acknowledges at once and writes only when its timer fires', async () => {
    const dir = await tempDir();
    const storage = await openStorage(dir, { lyingFsync: true, lyingFlushMs: 50 });
    storage.append(entries(1, 3, 1));
    await storage.sync();
    expect(storage.counters.walWrites).toBe(0); // acknowledged, still only in the process
    const early = await openStorage(await copyDir(dir));
    expect(early.lastIndex()).toBe(0);
    // Generous bound: the shared machine may be slow; the timer fires every 50 ms.
    for (let waitedMs = 0; storage.counters.walWrites === 0 && waitedMs < 10_000; waitedMs += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const late = await openStorage(await copyDir(dir));
    expect(late.lastIndex()).toBe(3);
  });

  it('an I/O error is final: later syncs, appends and snapshots fail instead of hanging', async () => {
    const dir = await tempDir();
    const storage = await openStorage(dir, { segmentBytesMax: 256 });
    storage.append(entries(1, 3, 1));
    storage.setHardState({ term: 1, vote: '', commit: 3 });
    await storage.sync();
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, 'wal'), { recursive: true }); // the next segment cannot be created
    storage.append([entry(4, 1, 'q'.repeat(300))]);
    await expect(storage.sync()).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(storage.sync()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => storage.append([entry(5, 1)])).toThrow(/ENOENT/);
    await expect(storage.compact(2, new Uint8Array([2]))).rejects.toMatchObject({ code: 'ENOENT' });
    await storage.close();
  });

  it('validates options up front, quoting the bad value', async () => {
    const dir = await tempDir();
    const bad: Array<[Partial<DiskStorageOptions>, RegExp]> = [
      [{ segmentBytesMax: 10 }, /segmentBytesMax must be an integer in \[256, \d+\], got 10/],
      [{ lyingFlushMs: 0 }, /lyingFlushMs .* got 0/],
      [{ fsync: 'yes' as unknown as boolean }, /fsync must be a boolean, got "yes"/],
      [{ dir: '' }, /dir must be a non-empty path, got ""/],
      [{ configuration: { voters: [] } }, /configuration.voters .* got \[\]/],
    ];
    for (const [options, message] of bad) {
      const attempt = DiskStorage.open({ dir, configuration: CONFIGURATION, ...options });
      await expect(attempt).rejects.toBeInstanceOf(DiskStorageOptionsError);
      await expect(attempt).rejects.toThrow(message);
    }
  });
});
