// The log as the core sees it: durable entries in Storage followed by unstable ones, plus the
// commit and applied indices. It never writes to Storage.

import { assert } from './assert.js';
import { COMPACTED, limitSize, UNAVAILABLE, type Storage, type TermResult } from './storage.js';
import type { Entry, Snapshot } from './types.js';
import { Unstable } from './unstable.js';

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  committed: number;
  applied: number;

  constructor(storage: Storage) {
    this.storage = storage;
    this.unstable = new Unstable(storage.lastIndex() + 1);
    this.committed = storage.firstIndex() - 1;
    this.applied = storage.firstIndex() - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  term(index: number): TermResult {
    const dummy = this.firstIndex() - 1;
    if (index < dummy) return COMPACTED;
    if (index > this.lastIndex()) return UNAVAILABLE;
    return this.unstable.maybeTerm(index) ?? this.storage.term(index);
  }

  /** Term at `index`, or 0 when it is unknown (compacted or past the end). */
  termOrZero(index: number): number {
    const term = this.term(index);
    return typeof term === 'number' ? term : 0;
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    assert(typeof term === 'number', 'the last entry must have a term');
    return term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up-to-date as ours. */
  isUpToDate(lastIndex: number, term: number): boolean {
    return term > this.lastTerm() || (term === this.lastTerm() && lastIndex >= this.lastIndex());
  }

  /**
   * Appends a leader's entries after (index, term) if our log holds that entry, truncating only at
   * a real conflict (Figure 2). Returns the last new index, or undefined on mismatch.
   */
  maybeAppend(index: number, term: number, committed: number, entries: Entry[]): number | undefined {
    if (!this.matchTerm(index, term)) return undefined;
    const lastNew = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert(conflict > this.committed, () => `entry ${conflict} conflicts with a committed entry (commit ${this.committed})`);
      this.append(entries.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(entries: Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    assert(entries[0].index - 1 >= this.committed, () => `append at ${entries[0].index} would overwrite commit ${this.committed}`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** First index of `entries` whose term differs from ours (or is new), 0 when all match. */
  findConflict(entries: Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * The last index at or below `index` whose term is <= `term`, with that term (0 when unknown).
   * Used on both sides of fast backup: every entry above it is known not to match.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = Math.min(index, this.lastIndex()); i > 0; i--) {
      const t = this.term(i);
      if (typeof t !== 'number') return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  commitTo(commit: number): void {
    if (commit <= this.committed) return;
    assert(commit <= this.lastIndex(), () => `commit ${commit} is past the last index ${this.lastIndex()}`);
    this.committed = commit;
  }

  /** The Figure 8 rule: a leader commits by counting replicas only entries of its own term. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert(index >= this.applied && index <= this.committed, () => `applied ${index} outside [${this.applied}, ${this.committed}]`);
    this.applied = index;
  }

  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  /** Committed entries not yet handed to the application, within `bytesMax`. */
  nextCommittedEntries(bytesMax: number): Entry[] {
    const low = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 <= low) return [];
    return this.slice(low, this.committed + 1, bytesMax);
  }

  hasNextCommittedEntries(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  /** Entries from `index` to the end, within `bytesMax`; COMPACTED when `index` is gone. */
  entriesFrom(index: number, bytesMax: number): Entry[] | typeof COMPACTED {
    if (index > this.lastIndex()) return [];
    if (index < this.firstIndex()) return COMPACTED;
    return this.slice(index, this.lastIndex() + 1, bytesMax);
  }

  private slice(low: number, high: number, bytesMax: number): Entry[] {
    assert(low >= this.firstIndex() && high <= this.lastIndex() + 1, () => `slice [${low}, ${high}) out of bounds`);
    let result: Entry[] = [];
    const unstableOffset = this.unstable.offset;
    if (low < unstableOffset) {
      const stored = this.storage.entries(low, Math.min(high, unstableOffset), bytesMax);
      assert(stored !== COMPACTED, () => `entries from ${low} compacted under the core`);
      result = stored;
      // Storage stopped early because of the byte limit: do not add unstable entries after a gap.
      if (result.length < Math.min(high, unstableOffset) - low) return result;
    }
    if (high > unstableOffset) {
      const fresh = this.unstable.slice(Math.max(low, unstableOffset), high);
      result = result.length > 0 ? result.concat(fresh) : fresh;
    }
    return limitSize(result, bytesMax);
  }
}
