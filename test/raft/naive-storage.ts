// The plainest in-memory Storage (copying appends, sizes counted on demand): the model that
// MemoryStorage, with its O(1) appends and running size, must answer like (memory-storage.test.ts).
// It was src/raft/memory-storage.ts before that file took DiskStorage's faster in-memory log.

import { assert } from '../../src/raft/assert.js';
import { COMPACTED, entryBytes, limitSize, UNAVAILABLE, type InitialState, type Storage, type TermResult } from '../../src/raft/storage.js';
import { NONE, type Configuration, type Entry, type HardState, type Snapshot } from '../../src/raft/types.js';

export class NaiveStorage implements Storage {
  private hardState: HardState = { term: 0, vote: NONE, commit: 0 };
  private latestSnapshot: Snapshot;
  /** entries[0] is a placeholder standing for the snapshot's last entry (its index and term). */
  private log: Entry[];

  constructor(configuration: Configuration) {
    assert(configuration.voters.length > 0, 'a configuration needs at least one voter');
    this.latestSnapshot = {
      metadata: { index: 0, term: 0, configuration: { voters: [...configuration.voters] } },
      data: new Uint8Array(0),
    };
    this.log = [{ term: 0, index: 0, data: new Uint8Array(0) }];
  }

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, configuration: { voters: [...this.latestSnapshot.metadata.configuration.voters] } };
  }

  setHardState(hardState: HardState): void {
    this.hardState = { ...hardState };
  }

  private get offset(): number {
    return this.log[0].index;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.log.length - 1;
  }

  term(index: number): TermResult {
    if (index < this.offset) return COMPACTED;
    if (index > this.lastIndex()) return UNAVAILABLE;
    return this.log[index - this.offset].term;
  }

  entries(low: number, high: number, bytesMax: number): Entry[] | typeof COMPACTED {
    if (low <= this.offset) return COMPACTED;
    assert(low <= high && high <= this.lastIndex() + 1, () => `entries [${low}, ${high}) out of bounds (last ${this.lastIndex()})`);
    return limitSize(this.log.slice(low - this.offset, high - this.offset), bytesMax);
  }

  snapshot(): Snapshot {
    return this.latestSnapshot;
  }

  /** Stores entries from a Ready, replacing any conflicting suffix. */
  append(entries: Entry[]): void {
    // One entry at a time: each cuts the log after its predecessor and goes at the end.
    for (const entry of entries) {
      assert(entry.index <= this.lastIndex() + 1, () => `gap: appending ${entry.index} after ${this.lastIndex()}`);
      if (entry.index <= this.offset) continue; // already compacted
      this.log = [...this.log.slice(0, entry.index - this.offset), entry];
    }
  }

  /** Replaces everything with a snapshot received from the leader (from a Ready). */
  applySnapshot(snapshot: Snapshot): 'applied' | 'out-of-date' {
    if (snapshot.metadata.index <= this.latestSnapshot.metadata.index) return 'out-of-date';
    this.latestSnapshot = snapshot;
    this.log = [{ term: snapshot.metadata.term, index: snapshot.metadata.index, data: new Uint8Array(0) }];
    return 'applied';
  }

  /**
   * Records the application's own snapshot at an applied index and drops the log prefix up to it:
   * this is how the application hands a snapshot to the core (the core reads storage).
   */
  compact(index: number, data: Uint8Array, configuration?: Configuration): 'compacted' | 'out-of-date' {
    if (index <= this.offset) return 'out-of-date';
    assert(index <= this.lastIndex(), () => `compact ${index} is past the last index ${this.lastIndex()}`);
    assert(index <= this.hardState.commit, () => `compact ${index} is past the commit ${this.hardState.commit}`);
    const term = this.log[index - this.offset].term;
    const config = configuration ?? this.latestSnapshot.metadata.configuration;
    this.latestSnapshot = { metadata: { index, term, configuration: { voters: [...config.voters] } }, data };
    this.log = [{ term, index, data: new Uint8Array(0) }, ...this.log.slice(index - this.offset + 1)];
    return 'compacted';
  }

  /** Bytes held (entries plus snapshot), for log-size bounds in tests. */
  sizeBytes(): { logBytes: number; snapshotBytes: number } {
    let logBytes = 0;
    for (let i = 1; i < this.log.length; i++) logBytes += entryBytes(this.log[i]);
    return { logBytes, snapshotBytes: this.latestSnapshot.data.length };
  }
}
