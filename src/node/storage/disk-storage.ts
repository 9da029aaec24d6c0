// DiskStorage: the Raft core's Storage backed by a write-ahead log and snapshot files in one data
// directory. Reads are answered from memory; it does not apply entries or decide when to snapshot.
//
// Data directory layout:
//   <dir>/wal/<seq, 16 digits>.wal    WAL segments, numbered consecutively from 1. Each starts with a
//                                     header record holding the hard state as of that point, then
//                                     entries and hard-state records (format: wal-record.ts).
//   <dir>/snap/<index, 16 digits>.snap   snapshot files (format: snapshot-file.ts); the newest valid
//                                     one is used on open, older ones are deleted once a newer one is
//                                     durable. A new directory gets snapshot 0 holding the configuration.
//   <dir>/snap/*.snap.tmp             a snapshot being written; removed on open.
//
// Durability rules:
// - append() and setHardState() only queue records; sync() makes everything queued before the call
//   durable with one write and one fdatasync per group (callers arriving while a sync is in flight
//   share the next one). A driver must await sync() before sending the messages of the same Ready.
//   syncNow() does the same write at once, blocking, when nothing else is queued (a follower's path).
// - On open, segments are replayed in order on top of the snapshot. A bad record at the end of the
//   last segment with nothing valid after it is a torn write: it is truncated and reported in
//   `recovery`. Any other bad record throws WalCorruptionError; committed data is never dropped silently.
// - applySnapshot (from a leader) writes the snapshot file atomically, then starts a new segment; the
//   snapshot records that entries in older segments are no longer part of the log, and those segments
//   are deleted. compact (the application's own snapshot) writes the snapshot file, starts a new segment
//   and deletes the leading segments whose entries are all covered by it.

import { constants, writeSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../../raft/assert.js';
import type { COMPACTED, InitialState, Storage, TermResult } from '../../raft/storage.js';
import type { Configuration, Entry, HardState, Snapshot } from '../../raft/types.js';
import {
  DiskStorageOptionsError,
  RecordTooLargeError,
  SnapshotCorruptionError,
  StorageQueueFullError,
  WalCorruptionError,
} from './errors.js';
import { MemoryStorage } from '../../raft/memory-storage.js';
import {
  decodeSnapshotFile,
  fsyncDirectory,
  parseSnapshotFileName,
  snapshotFileName,
  TEMP_SUFFIX,
  writeSnapshotFile,
  type SnapshotFile,
} from './snapshot-file.js';
import { encodeRecord, entryRecordBytes, RECORD_BYTES_MAX, RECORD_HEADER_BYTES, scanSegment } from './wal-record.js';

export interface DiskStorageOptions {
  /** The data directory; created when missing. */
  dir: string;
  /** Configuration used when the directory is new (ignored otherwise: the snapshot holds it). */
  configuration: Configuration;
  /** fdatasync before sync() resolves. Default true. false = write but never fsync (faster, unsafe on power loss). */
  fsync?: boolean;
  /**
   * UNSAFE test bug "lying-fsync": sync() resolves at once while records stay in a process buffer
   * that is written to the file only every `lyingFlushMs`; a kill -9 loses that tail. Default false.
   */
  lyingFsync?: boolean;
  /** Flush interval of the lying-fsync bug. Default 1000; 1 to 3,600,000. */
  lyingFlushMs?: number;
  /** Start a new WAL segment past this size. Default 64 MiB; 256 B to 1 GiB. */
  segmentBytesMax?: number;
  /**
   * Bound on record bytes queued and not yet handed to the disk. Past half of it a background write
   * starts; past all of it append/setHardState throw StorageQueueFullError (a driver that never awaits
   * sync()). Default 64 MiB; 64 KiB to 4 GiB.
   */
  queuedBytesMax?: number;
  /** Receives one line per notable event (recovery summary, truncation, ignored files). */
  log?: (line: string) => void;
}

/** What open() found, for logging and tests. */
export interface DiskStorageRecovery {
  /** The directory was new and has been initialized. */
  created: boolean;
  snapshotIndex: number;
  snapshotFile: string;
  /** Segments replayed (an empty, interrupted last segment is not counted). */
  segments: number;
  records: number;
  /** Entries held after the snapshot. */
  entries: number;
  lastIndex: number;
  hardState: HardState;
  /** Bytes cut from the end of the last segment as a torn write; 0 when none. */
  truncatedTornBytes: number;
  /** The truncated segment and the offset it was cut at, when truncatedTornBytes > 0. */
  file?: string;
  offset?: number;
  tornReason?: string;
  /** Temporary files removed and damaged snapshots skipped, with the reason. */
  ignoredFiles: string[];
}

/** Counters for tests and benchmarks. */
export interface DiskStorageCounters {
  syncCalls: number;
  walWrites: number;
  /** fdatasync calls on WAL segments (group commit keeps this far below syncCalls). */
  walFsyncs: number;
  walBytesWritten: number;
  segmentsCreated: number;
  segmentsDeleted: number;
  snapshotWrites: number;
}

interface Settings {
  dir: string;
  walDir: string;
  snapDir: string;
  configuration: Configuration;
  fsync: boolean;
  lyingFsync: boolean;
  lyingFlushMs: number;
  segmentBytesMax: number;
  queuedBytesMax: number;
  log: (line: string) => void;
}

interface Segment {
  seq: number;
  path: string;
  bytes: number;
  /** Highest entry index written in this segment (0 when none): it may go once a snapshot covers it. */
  maxEntryIndex: number;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Work that must happen between two batches of records, in WAL order (snapshot, rotation). */
interface Action {
  run: (hardState: HardState) => Promise<void>;
  done: Deferred;
}

/** Records queued in order; a batch closed by an action runs the action after its records are durable. */
interface Batch {
  chunks: Buffer[];
  bytes: number;
  maxEntryIndex: number;
  /** The hard state after this batch's records; set when the batch is closed. */
  hardState?: HardState;
  action?: Action;
}

const MIB = 1024 * 1024;
/** Entries records are split near this size so no single record grows huge. */
const ENTRIES_RECORD_BYTES_TARGET = 4 * MIB;

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The owner awaits it; an action rejected after a failure must not also crash the process.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

function segmentFileName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.wal`;
}

function parseSegmentFileName(name: string): number | undefined {
  const match = /^(\d{16})\.wal$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

function integerOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DiskStorageOptionsError(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new DiskStorageOptionsError(`${name} must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

function resolveOptions(options: DiskStorageOptions): Settings {
  if (typeof options.dir !== 'string' || options.dir === '') {
    throw new DiskStorageOptionsError(`dir must be a non-empty path, got ${JSON.stringify(options.dir)}`);
  }
  const voters = options.configuration?.voters;
  if (!Array.isArray(voters) || voters.length === 0 || !voters.every((voter) => typeof voter === 'string' && voter !== '')) {
    throw new DiskStorageOptionsError(`configuration.voters must be a non-empty list of node ids, got ${JSON.stringify(voters)}`);
  }
  if (options.log !== undefined && typeof options.log !== 'function') {
    throw new DiskStorageOptionsError(`log must be a function, got ${JSON.stringify(options.log)}`);
  }
  return {
    dir: options.dir,
    walDir: join(options.dir, 'wal'),
    snapDir: join(options.dir, 'snap'),
    configuration: { voters: [...voters] },
    fsync: booleanOption('fsync', options.fsync, true),
    lyingFsync: booleanOption('lyingFsync', options.lyingFsync, false),
    lyingFlushMs: integerOption('lyingFlushMs', options.lyingFlushMs, 1000, 1, 3_600_000),
    segmentBytesMax: integerOption('segmentBytesMax', options.segmentBytesMax, 64 * MIB, 256, 1024 * MIB),
    queuedBytesMax: integerOption('queuedBytesMax', options.queuedBytesMax, 64 * MIB, 64 * 1024, 4096 * MIB),
    log: options.log ?? (() => {}),
  };
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

async function writeFully(handle: FileHandle, buffer: Buffer, position: number, path: string): Promise<void> {
  let written = 0;
  while (written < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, written, buffer.length - written, position + written);
    if (bytesWritten === 0) throw new Error(`${path}: write made no progress at byte ${position + written}`);
    written += bytesWritten;
  }
}

/** writeFully, blocking the thread (syncNow). */
function writeFullySync(fd: number, buffer: Buffer, position: number, path: string): void {
  let written = 0;
  while (written < buffer.length) {
    const bytesWritten = writeSync(fd, buffer, written, buffer.length - written, position + written);
    if (bytesWritten === 0) throw new Error(`${path}: write made no progress at byte ${position + written}`);
    written += bytesWritten;
  }
}

/** Creates segment `seq` holding only its header; durable (file and directory entry) when fsync is on. */
async function createSegment(settings: Settings, seq: number, hardState: HardState): Promise<{ segment: Segment; handle: FileHandle }> {
  const path = join(settings.walDir, segmentFileName(seq));
  const header = encodeRecord({ type: 'header', seq, hardState });
  // With fsync on, the segment is opened O_DSYNC: each write returns once its data is durable, which
  // saves the separate fdatasync round trip through the thread pool on every group commit.
  const handle = await open(path, settings.fsync ? constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DSYNC : 'wx');
  try {
    await writeFully(handle, header, 0, path);
    if (settings.fsync) {
      await handle.datasync();
      await fsyncDirectory(settings.walDir);
    }
  } catch (error) {
    await handle.close();
    throw error;
  }
  return { segment: { seq, path, bytes: header.length, maxEntryIndex: 0 }, handle };
}

/**
 * The newest valid snapshot file (older ones are deleted, temporary ones removed), or snapshot 0
 * written now for a new directory. Throws SnapshotCorruptionError when none is usable.
 */
async function loadSnapshot(
  settings: Settings,
  hasSegments: boolean,
  ignoredFiles: string[],
): Promise<{ chosen: { file: SnapshotFile; path: string }; created: boolean }> {
  const { snapDir } = settings;
  const indices: number[] = [];
  for (const name of await readdir(snapDir)) {
    if (name.endsWith(TEMP_SUFFIX)) {
      await rm(join(snapDir, name), { force: true });
      ignoredFiles.push(`${join(snapDir, name)}: unfinished snapshot write, removed`);
      continue;
    }
    const index = parseSnapshotFileName(name);
    if (index !== undefined) indices.push(index);
  }
  indices.sort((a, b) => b - a);
  const damaged: Array<{ path: string; reason: string }> = [];
  for (const index of indices) {
    const path = join(snapDir, snapshotFileName(index));
    const decoded = decodeSnapshotFile(await readFile(path));
    const reason = !decoded.ok
      ? decoded.reason
      : decoded.file.snapshot.metadata.index !== index
        ? `holds index ${decoded.file.snapshot.metadata.index}`
        : undefined;
    if (decoded.ok && reason === undefined) {
      // Older snapshots are useless: the segments they would need are gone.
      for (const older of indices) if (older < index) await rm(join(snapDir, snapshotFileName(older)), { force: true });
      return { chosen: { file: decoded.file, path }, created: false };
    }
    damaged.push({ path, reason: reason ?? '' });
    ignoredFiles.push(`${path}: damaged snapshot skipped (${reason})`);
  }
  if (hasSegments || damaged.length > 0) {
    throw new SnapshotCorruptionError(
      damaged.length > 0 ? damaged[0].path : snapDir,
      damaged.length > 0
        ? `no valid snapshot: ${damaged.map(({ path, reason }) => `${path}: ${reason}`).join('; ')}`
        : 'WAL segments exist but there is no snapshot file',
    );
  }
  const file: SnapshotFile = {
    snapshot: { metadata: { index: 0, term: 0, configuration: settings.configuration }, data: new Uint8Array(0) },
    walSeqFrom: 0,
  };
  const { path } = await writeSnapshotFile(snapDir, file, settings.fsync);
  if (settings.fsync) await fsyncDirectory(settings.dir);
  return { chosen: { file, path }, created: true };
}

interface TornTail {
  file: string;
  offset: number;
  bytes: number;
  reason: string;
}

/**
 * Replays segments `walSeqs` into `memory` (which holds the snapshot). Truncates a torn tail of the
 * last segment (or removes it when not even its header is whole); throws WalCorruptionError otherwise.
 */
async function replaySegments(
  settings: Settings,
  walSeqs: number[],
  snapshotFile: SnapshotFile,
  memory: MemoryStorage,
): Promise<{ segments: Segment[]; records: number; torn?: TornTail }> {
  const snapshotIndex = snapshotFile.snapshot.metadata.index;
  const segments: Segment[] = [];
  let records = 0;
  let torn: TornTail | undefined;
  for (let i = 0; i < walSeqs.length; i++) {
    const seq = walSeqs[i];
    const path = join(settings.walDir, segmentFileName(seq));
    const isLast = i === walSeqs.length - 1;
    const previous = segments.length > 0 ? segments[segments.length - 1].seq : undefined;
    if (previous !== undefined && seq !== previous + 1) throw new WalCorruptionError(path, 0, `segment ${previous + 1} is missing`);
    const bytes = await readFile(path);
    const scan = scanSegment(bytes);
    let validBytes = bytes.length;
    if (scan.stop.kind === 'invalid') {
      if (!isLast || !scan.stop.tornTail) {
        throw new WalCorruptionError(path, scan.stop.offset, scan.stop.reason + (isLast ? '' : ' (not the last segment)'));
      }
      validBytes = scan.stop.offset;
      torn = { file: path, offset: validBytes, bytes: bytes.length - validBytes, reason: scan.stop.reason };
    }
    if (scan.records.length === 0) {
      // Only the last segment may be empty: its creation was interrupted before the header was written.
      if (!isLast) throw new WalCorruptionError(path, 0, 'empty segment (not the last segment)');
      await rm(path, { force: true });
      torn = { file: path, offset: 0, bytes: bytes.length, reason: torn?.reason ?? 'empty segment' };
      settings.log(`wal: removed ${path}: interrupted segment creation (${bytes.length} bytes)`);
      continue;
    }
    const segment: Segment = { seq, path, bytes: validBytes, maxEntryIndex: 0 };
    for (const [position, { offset, record }] of scan.records.entries()) {
      if ((position === 0) !== (record.type === 'header')) {
        throw new WalCorruptionError(path, offset, position === 0 ? 'segment does not start with a header' : 'a second header record');
      }
      switch (record.type) {
        case 'header':
          if (record.seq !== seq) throw new WalCorruptionError(path, offset, `header names segment ${record.seq}`);
          memory.setHardState(record.hardState);
          break;
        case 'hard-state':
          memory.setHardState(record.hardState);
          break;
        case 'entries': {
          const entries = record.entries;
          segment.maxEntryIndex = Math.max(segment.maxEntryIndex, entries[entries.length - 1].index);
          // A leader's snapshot replaced the log these entries belonged to.
          if (seq < snapshotFile.walSeqFrom) break;
          if (entries[0].index > memory.lastIndex() + 1) {
            throw new WalCorruptionError(
              path,
              offset,
              `entries start at ${entries[0].index} but the log ends at ${memory.lastIndex()} (snapshot ${snapshotIndex}): a segment or snapshot is missing`,
            );
          }
          memory.append(entries);
          break;
        }
      }
    }
    records += scan.records.length;
    if (torn !== undefined && torn.file === path) {
      const handle = await open(path, 'r+');
      try {
        await handle.truncate(validBytes);
        if (settings.fsync) await handle.datasync();
      } finally {
        await handle.close();
      }
      settings.log(`wal: truncated torn tail of ${path} at byte offset ${validBytes}: ${torn.bytes} bytes (${torn.reason})`);
    }
    segments.push(segment);
  }
  return { segments, records, torn };
}

export class DiskStorage implements Storage {
  readonly recovery: DiskStorageRecovery;
  readonly counters: DiskStorageCounters = {
    syncCalls: 0,
    walWrites: 0,
    walFsyncs: 0,
    walBytesWritten: 0,
    segmentsCreated: 0,
    segmentsDeleted: 0,
    snapshotWrites: 0,
  };

  private readonly settings: Settings;
  private readonly memory: MemoryStorage;
  /** All segments on disk in order; the last one is the active segment. */
  private readonly segments: Segment[];
  private handle: FileHandle;
  /** Entries in segments below this are not part of the log (a leader's snapshot replaced it). */
  private logFloorSeq: number;
  private durableSnapshotIndex: number;
  /** Queued records; the last batch is open. */
  private batches: Batch[] = [{ chunks: [], bytes: 0, maxEntryIndex: 0 }];
  private queuedBytes = 0;
  private unsyncedBytes = 0;
  /** Serializes every WAL write, fsync, rotation and deletion. */
  private chain: Promise<void> = Promise.resolve();
  /** Operations queued on `chain` and not finished. */
  private chainOps = 0;
  /** Serializes snapshot file writes (they may run beside WAL writes). */
  private snapshotChain: Promise<void> = Promise.resolve();
  /** A queued drain not yet started: sync() callers join it (group commit). */
  private nextGroup: Promise<void> | undefined;
  /** Completes when the latest applySnapshot has rewritten the WAL; compaction waits for it. */
  private lastReset: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout | undefined;

  private constructor(
    settings: Settings,
    memory: MemoryStorage,
    segments: Segment[],
    handle: FileHandle,
    snapshot: SnapshotFile,
    recovery: DiskStorageRecovery,
  ) {
    this.settings = settings;
    this.memory = memory;
    this.segments = segments;
    this.handle = handle;
    this.logFloorSeq = snapshot.walSeqFrom;
    this.durableSnapshotIndex = snapshot.snapshot.metadata.index;
    this.recovery = recovery;
    if (settings.lyingFsync) {
      this.timer = setInterval(() => void this.requestDrain().catch(() => {}), settings.lyingFlushMs);
      this.timer.unref();
    }
  }

  /**
   * Opens (or creates) the data directory and recovers its state. Throws WalCorruptionError for a
   * damaged record that is not a torn tail, SnapshotCorruptionError when no snapshot is usable.
   */
  static async open(options: DiskStorageOptions): Promise<DiskStorage> {
    const settings = resolveOptions(options);
    const { log } = settings;
    await mkdir(settings.walDir, { recursive: true });
    await mkdir(settings.snapDir, { recursive: true });
    const ignoredFiles: string[] = [];
    const walSeqs = (await readdir(settings.walDir))
      .map(parseSegmentFileName)
      .filter((seq): seq is number => seq !== undefined)
      .sort((a, b) => a - b);
    const { chosen, created } = await loadSnapshot(settings, walSeqs.length > 0, ignoredFiles);
    const snapshot = chosen.file.snapshot;
    const snapshotIndex = snapshot.metadata.index;
    const memory = new MemoryStorage(snapshot.metadata.configuration);
    if (snapshotIndex > 0) memory.applySnapshot(snapshot);
    const { segments, records, torn } = await replaySegments(settings, walSeqs, chosen.file, memory);

    // A snapshot is committed by definition; a crash between writing it and the hard state that
    // follows it can leave a smaller stored commit, which the core would reject.
    const hardState = memory.currentHardState();
    if (snapshotIndex > 0 && hardState.commit < snapshotIndex) {
      log(`wal: stored commit ${hardState.commit} is below snapshot ${snapshotIndex}; using ${snapshotIndex}`);
      memory.setHardState({ ...hardState, commit: snapshotIndex });
    }

    // Always continue in a fresh segment: the replayed ones stay exactly as they were read.
    // (An interrupted last segment that was removed gives its number to the new one.)
    const lastSeq = segments.length > 0 ? segments[segments.length - 1].seq : walSeqs.length > 0 ? walSeqs[walSeqs.length - 1] - 1 : 0;
    const nextSeq = Math.max(lastSeq + 1, chosen.file.walSeqFrom, 1);
    const { segment, handle } = await createSegment(settings, nextSeq, memory.currentHardState());
    segments.push(segment);
    for (const line of ignoredFiles) log(`storage: ${line}`);
    const recovery: DiskStorageRecovery = {
      created,
      snapshotIndex,
      snapshotFile: chosen.path,
      segments: segments.length - 1,
      records,
      entries: memory.lastIndex() - snapshotIndex,
      lastIndex: memory.lastIndex(),
      hardState: memory.currentHardState(),
      truncatedTornBytes: torn?.bytes ?? 0,
      ...(torn && { file: torn.file, offset: torn.offset, tornReason: torn.reason }),
      ignoredFiles,
    };
    const storage = new DiskStorage(settings, memory, segments, handle, chosen.file, recovery);
    storage.counters.segmentsCreated++;
    await storage.enqueue(() => storage.deleteObsolete());
    log(
      `storage: opened ${settings.dir}: snapshot ${snapshotIndex}, ${recovery.segments} segments, ${records} records, ` +
        `entries ${memory.firstIndex()}..${memory.lastIndex()}, term ${recovery.hardState.term}, commit ${recovery.hardState.commit}` +
        (torn ? `, truncated ${torn.bytes} torn bytes` : ''),
    );
    return storage;
  }

  // ---- Storage (reads, from memory) ---------------------------------------------------------

  initialState(): InitialState {
    return this.memory.initialState();
  }

  entries(low: number, high: number, bytesMax: number): Entry[] | typeof COMPACTED {
    return this.memory.entries(low, high, bytesMax);
  }

  term(index: number): TermResult {
    return this.memory.term(index);
  }

  firstIndex(): number {
    return this.memory.firstIndex();
  }

  lastIndex(): number {
    return this.memory.lastIndex();
  }

  snapshot(): Snapshot {
    return this.memory.snapshot();
  }

  // ---- mutations (memory at once, disk through the queue) -----------------------------------

  /** Stores entries from a Ready, replacing any conflicting suffix; durable after the next sync(). */
  append(entries: Entry[]): void {
    this.assertUsable();
    if (entries.length === 0) return;
    const offset = this.memory.firstIndex() - 1;
    const kept = entries[0].index > offset ? entries : entries.filter((entry) => entry.index > offset);
    let bytes = 0;
    for (const entry of kept) {
      const size = entryRecordBytes(entry);
      if (RECORD_HEADER_BYTES + 1 + 4 + size > RECORD_BYTES_MAX) {
        throw new RecordTooLargeError(`entry ${entry.index} of ${entry.data.length} bytes does not fit in one WAL record`);
      }
      bytes += size;
    }
    this.checkQueueRoom(bytes);
    this.memory.append(entries);
    let start = 0;
    let recordBytes = 0;
    for (let i = 0; i < kept.length; i++) {
      recordBytes += entryRecordBytes(kept[i]);
      if (recordBytes >= ENTRIES_RECORD_BYTES_TARGET || i === kept.length - 1) {
        const chunk = start === 0 && i === kept.length - 1 ? kept : kept.slice(start, i + 1);
        this.queueRecord(encodeRecord({ type: 'entries', entries: chunk }), kept[i].index);
        start = i + 1;
        recordBytes = 0;
      }
    }
  }

  /** Stores the hard state from a Ready; durable after the next sync(). */
  setHardState(hardState: HardState): void {
    this.assertUsable();
    if (sameHardState(hardState, this.memory.currentHardState())) return;
    this.checkQueueRoom(64);
    this.memory.setHardState(hardState);
    this.queueRecord(encodeRecord({ type: 'hard-state', hardState }), 0);
  }

  /**
   * Replaces everything with a snapshot received from the leader (from a Ready). Memory changes at
   * once; the promise resolves when the snapshot file is durable and the log reset is recorded.
   */
  async applySnapshot(snapshot: Snapshot): Promise<'applied' | 'out-of-date'> {
    this.assertUsable();
    if (this.memory.applySnapshot(snapshot) === 'out-of-date') return 'out-of-date';
    const action: Action = {
      done: deferred(),
      run: async (hardState) => {
        const seq = this.segments[this.segments.length - 1].seq + 1;
        this.logFloorSeq = seq;
        await this.writeSnapshot(snapshot);
        await this.rotate(hardState);
        assert(this.activeSegment.seq === seq, () => `reset expected segment ${seq}, created ${this.activeSegment.seq}`);
        await this.deleteObsolete();
      },
    };
    this.lastReset = action.done.promise.catch(() => {});
    this.closeBatch(action);
    void this.requestDrain().catch(() => {});
    await action.done.promise;
    return 'applied';
  }

  /**
   * Records the application's own snapshot at an applied index and drops the log prefix up to it
   * (memory at once). The promise resolves once the snapshot file is durable, a new segment is
   * started and the segments it covers are deleted.
   */
  async compact(index: number, data: Uint8Array, configuration?: Configuration): Promise<'compacted' | 'out-of-date'> {
    this.assertUsable();
    if (this.memory.compact(index, data, configuration) === 'out-of-date') return 'out-of-date';
    const snapshot = this.memory.snapshot();
    // A leader's snapshot queued before this call changes which segments hold the log.
    await this.lastReset;
    await this.writeSnapshot(snapshot);
    if (this.closing !== undefined) return 'compacted';
    const action: Action = {
      done: deferred(),
      run: async (hardState) => {
        await this.rotate(hardState);
        await this.deleteObsolete();
      },
    };
    this.closeBatch(action);
    void this.requestDrain().catch(() => {});
    await action.done.promise;
    return 'compacted';
  }

  /** Makes everything queued so far durable with one fdatasync; concurrent callers share one (group commit). */
  sync(): Promise<void> {
    this.counters.syncCalls++;
    if (this.closing !== undefined) return Promise.reject(new Error('DiskStorage is closed'));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    // The bug: acknowledge now; the timer writes the records later.
    if (this.settings.lyingFsync) return Promise.resolve();
    return this.requestDrain();
  }

  /**
   * Makes what is queued durable now, blocking the thread for one write (the segment is O_DSYNC), and
   * returns true; or returns false, changing nothing, when the caller must await sync() instead:
   * another disk operation is in flight or queued (order), a snapshot action waits, or fsync is
   * lying. For a follower, which has nothing useful to do before its write is durable: it saves the
   * thread-pool round trip (two wakeups) on the commit path. With fsync off it writes without syncing,
   * as sync() does.
   */
  syncNow(): boolean {
    if (this.settings.lyingFsync || this.closing !== undefined || this.failure !== undefined) return false;
    if (this.chainOps > 0 || this.batches.length !== 1) return false;
    if (this.activeSegment.bytes >= this.settings.segmentBytesMax) return false;
    this.counters.syncCalls++;
    const [batch] = this.batches;
    this.batches = [{ chunks: [], bytes: 0, maxEntryIndex: 0 }];
    this.queuedBytes = 0;
    if (batch.bytes === 0) return true;
    const segment = this.activeSegment;
    const buffer = batch.chunks.length === 1 ? batch.chunks[0] : Buffer.concat(batch.chunks, batch.bytes);
    try {
      writeFullySync(this.handle.fd, buffer, segment.bytes, segment.path);
    } catch (error) {
      this.fail(error);
      throw this.failure;
    }
    segment.bytes += batch.bytes;
    segment.maxEntryIndex = Math.max(segment.maxEntryIndex, batch.maxEntryIndex);
    this.counters.walWrites++;
    if (this.settings.fsync) this.counters.walFsyncs++;
    this.counters.walBytesWritten += batch.bytes;
    // A full segment rotates in the background; later writes queue behind it.
    if (segment.bytes >= this.settings.segmentBytesMax) {
      const hardState = this.memory.currentHardState();
      void this.enqueue(async () => {
        await this.rotate(hardState);
        await this.deleteObsolete();
      }).catch(() => {});
    }
    return true;
  }

  /** Bytes held in memory (entries, snapshot data) and in WAL segment files. */
  sizeBytes(): { logBytes: number; snapshotBytes: number; walBytes: number } {
    let walBytes = 0;
    for (const segment of this.segments) walBytes += segment.bytes;
    return { ...this.memory.sizeBytes(), walBytes };
  }

  /** Writes and syncs what is queued (the lying buffer too), then closes the files. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      if (this.timer !== undefined) clearInterval(this.timer);
      this.closing = (async () => {
        try {
          if (this.failure === undefined) await this.requestDrain();
          await this.chain;
          await this.snapshotChain;
        } finally {
          await this.handle.close();
        }
      })();
    }
    return this.closing;
  }

  // ---- the write queue ----------------------------------------------------------------------

  private get activeSegment(): Segment {
    return this.segments[this.segments.length - 1];
  }

  private assertUsable(): void {
    assert(this.closing === undefined, 'DiskStorage is closed');
    if (this.failure !== undefined) throw this.failure;
  }

  private checkQueueRoom(bytes: number): void {
    if (this.queuedBytes + bytes > this.settings.queuedBytesMax) {
      throw new StorageQueueFullError(
        `${this.queuedBytes} bytes queued for the WAL, adding ${bytes} would pass queuedBytesMax ${this.settings.queuedBytesMax}: await sync()`,
      );
    }
  }

  private queueRecord(record: Buffer, maxEntryIndex: number): void {
    const batch = this.batches[this.batches.length - 1];
    batch.chunks.push(record);
    batch.bytes += record.length;
    batch.maxEntryIndex = Math.max(batch.maxEntryIndex, maxEntryIndex);
    this.queuedBytes += record.length;
    // Bound memory: start writing without waiting for a sync() (this also shortens the lying buffer).
    if (this.queuedBytes >= this.settings.queuedBytesMax / 2 && this.nextGroup === undefined) void this.requestDrain().catch(() => {});
  }

  /** Ends the open batch with `action`, which runs once the batch's records are durable. */
  private closeBatch(action: Action): void {
    if (this.failure !== undefined) {
      action.done.reject(this.failure);
      return;
    }
    const batch = this.batches[this.batches.length - 1];
    batch.hardState = this.memory.currentHardState();
    batch.action = action;
    this.batches.push({ chunks: [], bytes: 0, maxEntryIndex: 0 });
  }

  /** Queues a drain of everything queued, or joins the one queued and not yet started. */
  private requestDrain(): Promise<void> {
    if (this.nextGroup !== undefined) return this.nextGroup;
    const group = this.enqueue(() => {
      this.nextGroup = undefined;
      return this.drain();
    });
    this.nextGroup = group;
    return group;
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    this.chainOps++;
    const run = async (): Promise<void> => {
      try {
        if (this.failure !== undefined) throw this.failure;
        await op();
      } catch (error) {
        this.fail(error);
        throw error;
      } finally {
        this.chainOps--;
      }
    };
    const result = this.chain.then(run);
    this.chain = result.catch(() => {});
    return result;
  }

  /** An I/O error is final (after a failed fsync the page cache state is unknown): stop accepting work. */
  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.settings.log(`storage: failed: ${this.failure.message}`);
    for (const batch of this.batches) batch.action?.done.reject(this.failure);
  }

  /** Writes every queued batch in order (one write per run of batches), runs their actions, syncs once. */
  private async drain(): Promise<void> {
    const taken = this.batches;
    taken[taken.length - 1].hardState = this.memory.currentHardState();
    this.batches = [{ chunks: [], bytes: 0, maxEntryIndex: 0 }];
    this.queuedBytes = 0;
    try {
      let chunks: Buffer[] = [];
      let bytes = 0;
      let maxEntryIndex = 0;
      for (const batch of taken) {
        chunks.push(...batch.chunks);
        bytes += batch.bytes;
        maxEntryIndex = Math.max(maxEntryIndex, batch.maxEntryIndex);
        if (batch.action === undefined) continue;
        await this.writeActive(chunks, bytes, maxEntryIndex);
        chunks = [];
        bytes = 0;
        maxEntryIndex = 0;
        await this.syncActive();
        await batch.action.run(batch.hardState!);
        batch.action.done.resolve();
      }
      await this.writeActive(chunks, bytes, maxEntryIndex);
      await this.syncActive();
      if (this.activeSegment.bytes >= this.settings.segmentBytesMax) {
        await this.rotate(taken[taken.length - 1].hardState!);
        await this.deleteObsolete();
      }
    } catch (error) {
      for (const batch of taken) batch.action?.done.reject(error);
      throw error;
    }
  }

  private async writeActive(chunks: Buffer[], bytes: number, maxEntryIndex: number): Promise<void> {
    if (bytes === 0) return;
    const segment = this.activeSegment;
    const buffer = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, bytes);
    await writeFully(this.handle, buffer, segment.bytes, segment.path);
    segment.bytes += bytes;
    segment.maxEntryIndex = Math.max(segment.maxEntryIndex, maxEntryIndex);
    this.unsyncedBytes += bytes;
    this.counters.walWrites++;
    this.counters.walBytesWritten += bytes;
  }

  private async syncActive(): Promise<void> {
    if (this.unsyncedBytes === 0) return;
    // The handle is O_DSYNC when fsync is on (createSegment): the write itself was the sync.
    if (this.settings.fsync) this.counters.walFsyncs++;
    this.unsyncedBytes = 0;
  }

  /** Starts the next segment, its header holding `hardState` (the state after every record so far). */
  private async rotate(hardState: HardState): Promise<void> {
    await this.syncActive();
    const { segment, handle } = await createSegment(this.settings, this.activeSegment.seq + 1, hardState);
    await this.handle.close();
    this.handle = handle;
    this.segments.push(segment);
    this.counters.segmentsCreated++;
  }

  /** Deletes leading segments that no longer hold log entries: below the floor, or covered by the snapshot. */
  private async deleteObsolete(): Promise<void> {
    let deleted = false;
    while (this.segments.length > 1) {
      const segment = this.segments[0];
      if (segment.seq >= this.logFloorSeq && segment.maxEntryIndex > this.durableSnapshotIndex) break;
      await rm(segment.path, { force: true });
      this.segments.shift();
      this.counters.segmentsDeleted++;
      deleted = true;
    }
    if (deleted && this.settings.fsync) await fsyncDirectory(this.settings.walDir);
  }

  /** Writes a snapshot file atomically (after any earlier one), then deletes older snapshot files. */
  private writeSnapshot(snapshot: Snapshot): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.failure !== undefined) throw this.failure;
      try {
        const index = snapshot.metadata.index;
        await writeSnapshotFile(this.settings.snapDir, { snapshot, walSeqFrom: this.logFloorSeq }, this.settings.fsync);
        this.counters.snapshotWrites++;
        this.durableSnapshotIndex = Math.max(this.durableSnapshotIndex, index);
        for (const name of await readdir(this.settings.snapDir)) {
          const older = parseSnapshotFileName(name);
          if (older !== undefined && older < this.durableSnapshotIndex) await rm(join(this.settings.snapDir, name), { force: true });
        }
      } catch (error) {
        this.fail(error);
        throw error;
      }
    };
    const result = this.snapshotChain.then(run);
    this.snapshotChain = result.catch(() => {});
    return result;
  }
}
