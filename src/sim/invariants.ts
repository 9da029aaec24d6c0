// Safety invariants, checked as the simulator runs: one leader per term, log matching, leader
// completeness, state machine safety, commit and applied never going back, one vote per term.
// It watches Ready batches and roles; it never changes what the nodes do.

import { describeEntry } from '../raft/describe.js';
import type { Raft } from '../raft/raft.js';
import type { Ready } from '../raft/ready.js';
import { NONE, type Entry, type NodeId } from '../raft/types.js';

/** A safety property was broken; the simulator adds the seed and the replay command. */
export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
}

function dataKey(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
}

interface CommittedEntry {
  term: number;
  key: string;
  /** The lowest term of a node seen knowing it committed: it was committed in this term or
   * earlier, so every leader of a later term must hold it. */
  knownCommittedInTerm: number;
}

export class InvariantChecker {
  private readonly leaderByTerm = new Map<number, NodeId>();
  /** `index/term` -> (data, previous entry's term): log matching by induction on the index. */
  private readonly entryByPosition = new Map<string, { key: string; previousTerm: number }>();
  /** Entries some node knows committed, by index. */
  private readonly committed = new Map<number, CommittedEntry>();
  committedIndexMax = 0;
  /** Entries applied by some node, by index. */
  private readonly applied = new Map<number, string>();
  private readonly votes = new Map<NodeId, Map<number, NodeId>>();
  private readonly durableCommit = new Map<NodeId, number>();
  private readonly appliedIndex = new Map<NodeId, number>();
  /** Indices first seen committed since the last event, to check against sitting leaders. */
  private newlyCommitted: number[] = [];
  /** Leaders already checked for completeness at election, as `id@term`. */
  private readonly checkedLeaders = new Set<string>();

  /** Before the driver persists `ready` for node `id` (the core's log already holds the entries). */
  onReady(id: NodeId, raft: Raft, ready: Ready): void {
    if (ready.hardState) {
      const { term, vote, commit } = ready.hardState;
      if (vote !== NONE) {
        const byTerm = this.votes.get(id) ?? new Map<number, NodeId>();
        this.votes.set(id, byTerm);
        const earlier = byTerm.get(term);
        if (earlier !== undefined && earlier !== vote) this.fail(`${id} voted for ${earlier} and then ${vote} in term ${term}`);
        byTerm.set(term, vote);
      }
      const previousCommit = this.durableCommit.get(id) ?? 0;
      if (commit < previousCommit) this.fail(`${id} commit went back from ${previousCommit} to ${commit}`);
      this.durableCommit.set(id, commit);
      for (let i = previousCommit + 1; i <= commit; i++) {
        const term = raft.log.term(i);
        if (typeof term !== 'number') continue; // covered by a snapshot
        const entries = raft.log.entriesFrom(i, 1);
        if (entries === 'compacted' || entries.length === 0) continue;
        this.recordCommitted(id, entries[0], raft.term);
      }
    }
    for (let n = 0; n < ready.entries.length; n++) {
      const entry = ready.entries[n];
      const previousTerm = n > 0 ? ready.entries[n - 1].term : raft.log.termOrZero(entry.index - 1);
      const position = `${entry.index}/${entry.term}`;
      const key = dataKey(entry.data);
      const known = this.entryByPosition.get(position);
      if (known === undefined) {
        this.entryByPosition.set(position, { key, previousTerm });
      } else if (known.key !== key || (known.previousTerm !== previousTerm && previousTerm !== 0 && known.previousTerm !== 0)) {
        this.fail(
          `log matching: ${id} holds ${describeEntry(entry)} after term ${previousTerm}, another node after term ${known.previousTerm} with other data`,
        );
      }
    }
  }

  private recordCommitted(id: NodeId, entry: Entry, nodeTerm: number): void {
    const key = dataKey(entry.data);
    const known = this.committed.get(entry.index);
    if (known !== undefined && nodeTerm < known.knownCommittedInTerm) known.knownCommittedInTerm = nodeTerm;
    if (known === undefined) {
      this.committed.set(entry.index, { term: entry.term, key, knownCommittedInTerm: nodeTerm });
      this.newlyCommitted.push(entry.index);
      if (entry.index > this.committedIndexMax) this.committedIndexMax = entry.index;
    } else if (known.term !== entry.term || known.key !== key) {
      this.fail(`${id} committed ${describeEntry(entry)} but term ${known.term} was committed at index ${entry.index}`);
    }
  }

  /** A node restarted: its state machine starts again from its snapshot. */
  onRestart(id: NodeId, snapshotIndex: number): void {
    this.appliedIndex.set(id, snapshotIndex);
  }

  onInstallSnapshot(id: NodeId, index: number): void {
    const previous = this.appliedIndex.get(id) ?? 0;
    if (index < previous) this.fail(`${id} installed snapshot ${index} below applied ${previous}`);
    this.appliedIndex.set(id, index);
  }

  onApply(id: NodeId, nodeTerm: number, entry: Entry): void {
    const previous = this.appliedIndex.get(id) ?? 0;
    if (entry.index !== previous + 1) this.fail(`${id} applied ${entry.index} after ${previous} (gap or going back)`);
    this.appliedIndex.set(id, entry.index);
    const key = dataKey(entry.data);
    const known = this.applied.get(entry.index);
    if (known === undefined) this.applied.set(entry.index, key);
    else if (known !== key)
      this.fail(`state machine safety: ${id} applied ${describeEntry(entry)}, another node applied other data at ${entry.index}`);
    this.recordCommitted(id, entry, nodeTerm);
  }

  /** After every event: roles of the live nodes. */
  onEvent(nodes: Iterable<Raft>): void {
    for (const raft of nodes) {
      if (raft.role !== 'leader') continue;
      const known = this.leaderByTerm.get(raft.term);
      if (known === undefined) this.leaderByTerm.set(raft.term, raft.id);
      else if (known !== raft.id) this.fail(`two leaders in term ${raft.term}: ${known} and ${raft.id}`);
      const label = `${raft.id}@${raft.term}`;
      if (!this.checkedLeaders.has(label)) {
        this.checkedLeaders.add(label);
        this.checkCompleteness(raft, 1);
      } else {
        for (const index of this.newlyCommitted) {
          const entry = this.committed.get(index)!;
          if (raft.term > entry.knownCommittedInTerm && index >= raft.log.firstIndex() && raft.log.term(index) !== entry.term) {
            this.fail(`leader completeness: ${raft.id} leads term ${raft.term} without committed entry ${entry.term}/${index}`);
          }
        }
      }
    }
    this.newlyCommitted = [];
  }

  /** Leader completeness: a leader holds every entry committed in an earlier term (above its snapshot). */
  checkCompleteness(raft: Raft, fromIndex: number): void {
    const first = Math.max(fromIndex, raft.log.firstIndex());
    for (let i = first; i <= this.committedIndexMax; i++) {
      const entry = this.committed.get(i);
      if (entry !== undefined && raft.term > entry.knownCommittedInTerm && raft.log.term(i) !== entry.term) {
        this.fail(`leader completeness: ${raft.id} leads term ${raft.term} without committed entry ${entry.term}/${i}`);
      }
    }
  }

  appliedCommand(index: number): string | undefined {
    return this.applied.get(index);
  }

  private fail(message: string): never {
    throw new InvariantViolation(message);
  }
}
