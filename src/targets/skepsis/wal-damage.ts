// Damage to a killed node's WAL, for the disk nemeses. Two fault models, kept apart:
//
// - unsynced (`disk`, the default): only what was never made durable is lost, as LazyFS does for
//   Jepsen and etcd's robustness tests: the synced prefix is kept and what follows it is cut or
//   garbled. Our node writes its WAL with O_DSYNC and answers only after the write returned, so
//   after kill -9 every byte in the file is synced; what a power cut could add is the torn tail of
//   a write in flight. `cut` appends a prefix of a record (a write cut short), `garble` appends
//   random bytes (a write whose sectors came back as garbage). A correct node truncates either on
//   restart and loses nothing it acknowledged.
// - synced (`disk-synced`): a byte flipped inside a durable record that is not the last one, so
//   the record's checksum fails with valid records after it. No store can recover that data by
//   itself; a correct node must refuse to start, loudly, never start and serve from a damaged log.
//   Cutting whole synced records off the end is not done: no per-record checksum can see it, so it
//   proves nothing about the node (it is outside every store's fault model).

import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { scanSegment } from '../../node/storage/wal-record.js';
import type { Random } from '../../raft/random.js';

/** How the unsynced tail is damaged. */
export type UnsyncedDamage = 'cut' | 'garble';

/** Bytes of garbage appended at most. */
const GARBLE_BYTES_MAX = 256;

/** A node's WAL segments, oldest first. */
async function walSegments(dataDir: string): Promise<string[]> {
  try {
    const names = (await readdir(join(dataDir, 'wal'))).filter((name) => name.endsWith('.wal')).sort();
    return names.map((name) => join(dataDir, 'wal', name));
  } catch {
    return [];
  }
}

/** The newest WAL segment of a node's data directory (see src/node/storage/disk-storage.ts). */
export async function newestWalSegment(dataDir: string): Promise<string | undefined> {
  return (await walSegments(dataDir)).at(-1);
}

/** Appends a torn write after the synced prefix of the newest segment; returns what it did. */
export async function damageUnsynced(id: string, dataDir: string, how: UnsyncedDamage, random: Random): Promise<string> {
  const file = await newestWalSegment(dataDir);
  if (file === undefined) return `${id}: no WAL segment to damage`;
  const bytes = await readFile(file);
  let tail: Buffer;
  if (how === 'cut') {
    const last = scanSegment(bytes).records.at(-1);
    if (last === undefined || last.bytes < 2) return `${id}: ${file} holds no whole record to tear; nothing done`;
    const record = bytes.subarray(last.offset, last.offset + last.bytes);
    tail = Buffer.from(record.subarray(0, random.nextInt(1, record.length)));
  } else {
    tail = Buffer.alloc(random.nextInt(1, GARBLE_BYTES_MAX + 1));
    for (let i = 0; i < tail.length; i++) tail[i] = random.nextInt(0, 256);
  }
  const handle = await open(file, 'a');
  try {
    await handle.write(tail);
  } finally {
    await handle.close();
  }
  return `${id}: ${how === 'cut' ? 'appended a torn record of' : 'appended garbage of'} ${tail.length} bytes after the synced ${bytes.length} bytes of ${file}`;
}

/**
 * Flips one byte inside a synced record that has a valid record after it (in the newest segment
 * that has two records, else in an older segment). Returns what it did, or undefined when no record
 * qualifies (the WAL holds a single record).
 */
export async function damageSynced(id: string, dataDir: string, random: Random): Promise<string | undefined> {
  const segments = await walSegments(dataDir);
  for (let i = segments.length - 1; i >= 0; i--) {
    const file = segments[i];
    const bytes = await readFile(file);
    const records = scanSegment(bytes).records;
    // In the newest segment the last record is excluded: damage there looks like a torn write.
    const candidates = i === segments.length - 1 ? records.slice(0, -1) : records;
    if (candidates.length === 0) continue;
    const record = random.pick(candidates);
    const offset = record.offset + random.nextInt(0, record.bytes);
    const handle = await open(file, 'r+');
    try {
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, offset);
      byte[0] ^= 1 << random.nextInt(0, 8);
      await handle.write(byte, 0, 1, offset);
    } finally {
      await handle.close();
    }
    return `${id}: flipped a bit at offset ${offset} of ${file} (${(await stat(file)).size} bytes), inside the synced record at ${record.offset}`;
  }
  return undefined;
}
