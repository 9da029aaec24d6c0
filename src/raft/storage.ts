// The core's read-only view of durable state. The driver writes to its storage while handling a
// Ready (entries, hard state, snapshot) and when compacting; the core only reads.

import type { Configuration, Entry, HardState, Snapshot } from './types.js';

/** The index is at or below the snapshot: the entry is gone, a snapshot is needed instead. */
export const COMPACTED = 'compacted';
/** The index is past the last stored entry. */
export const UNAVAILABLE = 'unavailable';

export type TermResult = number | typeof COMPACTED | typeof UNAVAILABLE;

export interface InitialState {
  hardState: HardState;
  configuration: Configuration;
}

export interface Storage {
  /** Hard state and configuration as they were last made durable. */
  initialState(): InitialState;
  /** Entries [low, high), at most `bytesMax` in size but always at least one when any exist. */
  entries(low: number, high: number, bytesMax: number): Entry[] | typeof COMPACTED;
  /** Term of the entry at `index`; the snapshot's own index answers with the snapshot's term. */
  term(index: number): TermResult;
  /** Index of the first entry still held (snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  /** The latest snapshot (index 0 and empty data when none was taken). */
  snapshot(): Snapshot;
}

/** Bytes counted for an entry's term and index on top of its data. */
export const ENTRY_OVERHEAD_BYTES = 16;

/** Approximate size of an entry in a message: its data plus fixed overhead for term and index. */
export function entryBytes(entry: Entry): number {
  return entry.data.length + ENTRY_OVERHEAD_BYTES;
}

/** The longest prefix of `entries` within `bytesMax`, never less than one entry. */
export function limitSize(entries: Entry[], bytesMax: number): Entry[] {
  if (entries.length === 0) return entries;
  let size = entryBytes(entries[0]);
  let count = 1;
  while (count < entries.length) {
    size += entryBytes(entries[count]);
    if (size > bytesMax) break;
    count++;
  }
  return count === entries.length ? entries : entries.slice(0, count);
}
