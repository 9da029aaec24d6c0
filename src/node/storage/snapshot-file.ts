// Snapshot files: the codec (pure) and the atomic write (temporary file, fsync, rename, fsync of the
// directory). It does not decide which snapshot to keep; DiskStorage does.
//
// File layout: magic "SKSNAP01" (8 bytes) | u32 metaBytes | meta JSON (utf-8) | data | u32 crc32 of
// everything before it. meta = { index, term, voters, walSeqFrom, dataBytes }.

import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Snapshot } from '../../raft/types.js';
import { crc32 } from '../../kv/crc32.js';

const MAGIC = Buffer.from('SKSNAP01', 'latin1');
const META_BYTES_MAX = 1024 * 1024;

/** What a snapshot file holds besides the snapshot itself. */
export interface SnapshotFile {
  snapshot: Snapshot;
  /**
   * Entries in WAL segments numbered below this are not part of the log on top of this snapshot:
   * a snapshot from the leader replaced the whole log. Hard-state records there still count.
   */
  walSeqFrom: number;
}

export function encodeSnapshotFile(file: SnapshotFile): Buffer {
  const { metadata, data } = file.snapshot;
  const meta = Buffer.from(
    JSON.stringify({
      index: metadata.index,
      term: metadata.term,
      voters: metadata.configuration.voters,
      walSeqFrom: file.walSeqFrom,
      dataBytes: data.length,
    }),
    'utf8',
  );
  const buffer = Buffer.allocUnsafe(MAGIC.length + 4 + meta.length + data.length + 4);
  MAGIC.copy(buffer, 0);
  buffer.writeUInt32LE(meta.length, MAGIC.length);
  meta.copy(buffer, MAGIC.length + 4);
  buffer.set(data, MAGIC.length + 4 + meta.length);
  buffer.writeUInt32LE(crc32(buffer.subarray(0, buffer.length - 4)), buffer.length - 4);
  return buffer;
}

/** Decodes a snapshot file, or says why it is unusable. */
export function decodeSnapshotFile(bytes: Buffer): { ok: true; file: SnapshotFile } | { ok: false; reason: string } {
  if (bytes.length < MAGIC.length + 8) return { ok: false, reason: `too short (${bytes.length} bytes)` };
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) return { ok: false, reason: 'bad magic' };
  const stored = bytes.readUInt32LE(bytes.length - 4);
  if (crc32(bytes.subarray(0, bytes.length - 4)) !== stored) return { ok: false, reason: 'checksum mismatch' };
  const metaBytes = bytes.readUInt32LE(MAGIC.length);
  const dataStart = MAGIC.length + 4 + metaBytes;
  if (metaBytes > META_BYTES_MAX || dataStart > bytes.length - 4) return { ok: false, reason: `metadata length ${metaBytes} out of range` };
  let meta: unknown;
  try {
    meta = JSON.parse(bytes.subarray(MAGIC.length + 4, dataStart).toString('utf8'));
  } catch {
    return { ok: false, reason: 'metadata is not JSON' };
  }
  const m = meta as Record<string, unknown>;
  const counts = ['index', 'term', 'walSeqFrom', 'dataBytes'].every((key) => Number.isSafeInteger(m[key]) && (m[key] as number) >= 0);
  const voters = Array.isArray(m.voters) && m.voters.length > 0 && m.voters.every((voter) => typeof voter === 'string' && voter !== '');
  if (!counts || !voters) return { ok: false, reason: `bad metadata ${JSON.stringify(meta)}` };
  const data = bytes.subarray(dataStart, bytes.length - 4);
  if (data.length !== m.dataBytes) return { ok: false, reason: `data is ${data.length} bytes, metadata says ${String(m.dataBytes)}` };
  return {
    ok: true,
    file: {
      snapshot: {
        metadata: { index: m.index as number, term: m.term as number, configuration: { voters: [...(m.voters as string[])] } },
        data: new Uint8Array(data),
      },
      walSeqFrom: m.walSeqFrom as number,
    },
  };
}

/** snap/<index, 16 digits>.snap */
export function snapshotFileName(index: number): string {
  return `${String(index).padStart(16, '0')}.snap`;
}

/** The index in a snapshot file name, or undefined for any other name. */
export function parseSnapshotFileName(name: string): number | undefined {
  const match = /^(\d{16})\.snap$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

export const TEMP_SUFFIX = '.tmp';

/** fsyncs a directory so that renames, creations and deletions in it survive a power loss. */
export async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `file` as `dir/<index>.snap` atomically: a crash leaves either the old directory or the new
 * file complete, never a partial `.snap` (a partial `.tmp` is removed on the next open).
 */
export async function writeSnapshotFile(dir: string, file: SnapshotFile, fsync: boolean): Promise<{ path: string; bytes: number }> {
  const path = join(dir, snapshotFileName(file.snapshot.metadata.index));
  const temp = path + TEMP_SUFFIX;
  const bytes = encodeSnapshotFile(file);
  const handle = await open(temp, 'w');
  try {
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, written);
      if (bytesWritten === 0) throw new Error(`${temp}: write made no progress`);
      written += bytesWritten;
    }
    if (fsync) await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  if (fsync) await fsyncDirectory(dir);
  return { path, bytes: bytes.length };
}
