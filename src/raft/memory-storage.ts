// In-memory Storage: hard state, latest snapshot and the entries after it, with O(1) amortized
// appends at the end and a running size. It is what the simulator treats as the disk (a crash keeps
// exactly this object; a restarted core reads it back) and DiskStorage's in-memory half. It does
// not model torn writes or fsync latency. No I/O.

import { assert } from './assert.js';
import { COMPACTED, entryBytes, UNAVAILABLE, type InitialState, type Storage, type TermResult } from './storage.js';
import { NONE, type Configuration, type Entry, type HardState, type Snapshot } from './types.js';

export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: NONE, commit: 0 };
  private latestSnapshot: Snapshot;
  /** Entries offset+1 .. offset+log.length. */
  private log: Entry[] = [];
  /** Index and term of the entry just before the log (the snapshot's last entry). */
  private offset = 0;
  private offsetTerm = 0;
  private logBytes = 0;

  constructor(configuration: Configuration) {
    assert(configuration.voters.length > 0, 'a configuration needs at least one voter');
    this.latestSnapshot = {
      metadata: { index: 0, term: 0, configuration: { voters: [...configuration.voters] } },
      data: new Uint8Array(0),
    };
  }

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, configuration: { voters: [...this.latestSnapshot.metadata.configuration.voters] } };
  }

  /** The hard state without copying the configuration (hot path). */
  currentHardState(): HardState {
    return { ...this.hardState };
  }

  setHardState(hardState: HardState): void {
    this.hardState = { ...hardState };
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.log.length;
  }

  term(index: number): TermResult {
    if (index < this.offset) return COMPACTED;
    if (index > this.lastIndex()) return UNAVAILABLE;
    return index === this.offset ? this.offsetTerm : this.log[index - this.offset - 1].term;
  }

  entries(low: number, high: number, bytesMax: number): Entry[] | typeof COMPACTED {
    if (low <= this.offset) return COMPACTED;
    assert(low <= high && high <= this.lastIndex() + 1, () => `entries [${low}, ${high}) out of bounds (last ${this.lastIndex()})`);
    if (low === high) return [];
    // The longest prefix within bytesMax, never less than one entry (as limitSize).
    const start = low - this.offset - 1;
    let end = start + 1;
    let size = entryBytes(this.log[start]);
    while (end < high - this.offset - 1) {
      size += entryBytes(this.log[end]);
      if (size > bytesMax) break;
      end++;
    }
    return this.log.slice(start, end);
  }

  snapshot(): Snapshot {
    return this.latestSnapshot;
  }

  /** Stores entries, replacing any conflicting suffix; entries at or below the snapshot are skipped. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0].index;
    assert(first <= this.lastIndex() + 1, () => `gap: appending ${first} after ${this.lastIndex()}`);
    if (first + entries.length - 1 <= this.offset) return;
    const skip = Math.max(0, this.offset + 1 - first);
    const at = first + skip - this.offset - 1;
    for (let i = at; i < this.log.length; i++) this.logBytes -= entryBytes(this.log[i]);
    this.log.length = at;
    for (let i = skip; i < entries.length; i++) {
      this.log.push(entries[i]);
      this.logBytes += entryBytes(entries[i]);
    }
  }

  /** Replaces everything with a snapshot from the leader. */
  applySnapshot(snapshot: Snapshot): 'applied' | 'out-of-date' {
    if (snapshot.metadata.index <= this.latestSnapshot.metadata.index) return 'out-of-date';
    this.latestSnapshot = snapshot;
    this.log = [];
    this.logBytes = 0;
    this.offset = snapshot.metadata.index;
    this.offsetTerm = snapshot.metadata.term;
    return 'applied';
  }

  /** Records the application's snapshot at an applied index and drops the log up to it. */
  compact(index: number, data: Uint8Array, configuration?: Configuration): 'compacted' | 'out-of-date' {
    if (index <= this.offset) return 'out-of-date';
    assert(index <= this.lastIndex(), () => `compact ${index} is past the last index ${this.lastIndex()}`);
    assert(index <= this.hardState.commit, () => `compact ${index} is past the commit ${this.hardState.commit}`);
    const term = this.log[index - this.offset - 1].term;
    const config = configuration ?? this.latestSnapshot.metadata.configuration;
    this.latestSnapshot = { metadata: { index, term, configuration: { voters: [...config.voters] } }, data };
    const dropped = index - this.offset;
    for (let i = 0; i < dropped; i++) this.logBytes -= entryBytes(this.log[i]);
    this.log = this.log.slice(dropped);
    this.offset = index;
    this.offsetTerm = term;
    return 'compacted';
  }

  sizeBytes(): { logBytes: number; snapshotBytes: number } {
    return { logBytes: this.logBytes, snapshotBytes: this.latestSnapshot.data.length };
  }
}
