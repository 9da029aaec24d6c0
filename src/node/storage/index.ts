// The durable storage of the real node: DiskStorage (WAL + snapshot files) and its errors and codecs.
// The process shell (transport, client API, main) lives elsewhere in src/node.

export { DiskStorage, type DiskStorageCounters, type DiskStorageOptions, type DiskStorageRecovery } from './disk-storage.js';
export {
  DiskStorageOptionsError,
  RecordTooLargeError,
  SnapshotCorruptionError,
  StorageQueueFullError,
  WalCorruptionError,
} from './errors.js';
export { decodeSnapshotFile, encodeSnapshotFile, snapshotFileName, type SnapshotFile } from './snapshot-file.js';
export { encodeRecord, scanSegment, type ScannedRecord, type ScanStop, type WalRecord } from './wal-record.js';
