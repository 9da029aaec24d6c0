// Named errors of the durable storage. Corruption errors stop the node loudly: they name the file and
// (for the WAL) the byte offset, so a person can inspect it. Nothing here recovers.

/** An option of DiskStorage is out of range; the message quotes the bad value. */
export class DiskStorageOptionsError extends Error {
  override readonly name = 'DiskStorageOptionsError';
}

/**
 * A WAL record that cannot be trusted and is not a torn tail: a bad record followed by valid data,
 * a bad record in a segment that is not the last, a missing segment, or a gap in the log. Committed
 * data may be behind it, so the node must not start.
 */
export class WalCorruptionError extends Error {
  override readonly name = 'WalCorruptionError';
  constructor(
    /** The segment file. */
    readonly file: string,
    /** Byte offset of the bad record's first byte in `file`. */
    readonly offset: number,
    /** What is wrong, e.g. "checksum mismatch". */
    readonly reason: string,
  ) {
    super(`WAL corruption in ${file} at byte offset ${offset}: ${reason}`);
  }
}

/** No usable snapshot: the data directory has WAL segments but every snapshot file is damaged. */
export class SnapshotCorruptionError extends Error {
  override readonly name = 'SnapshotCorruptionError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`snapshot ${file}: ${reason}`);
  }
}

/** More bytes are queued for the WAL than `queuedBytesMax`: the driver appends without awaiting sync(). */
export class StorageQueueFullError extends Error {
  override readonly name = 'StorageQueueFullError';
}

/** A single entry too large for one WAL record. */
export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError';
}
