// The leader's view of one follower: match/next indices, the replication mode (probe, replicate,
// snapshot), the inflight window, and whether it was heard from lately (CheckQuorum).

import { Inflights } from './inflights.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe mode: one AppendEntries is out; wait for its answer or a heartbeat answer. */
  probeSent = false;
  /** In snapshot mode: index of the snapshot being sent and the bytes the follower confirmed. */
  pendingSnapshotIndex = 0;
  snapshotBytesAcknowledged = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(next: number, inflightMessagesMax: number) {
    this.next = next;
    this.inflights = new Inflights(inflightMessagesMax);
  }

  private reset(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshotIndex = 0;
    this.snapshotBytesAcknowledged = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshotIndex;
      this.reset('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.reset('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.reset('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.reset('snapshot');
    this.pendingSnapshotIndex = snapshotIndex;
  }

  /** An acknowledgement of `index`; returns whether match moved. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of the AppendEntries whose prev was `rejected`, with the follower's hint. Returns
   * false when the rejection is stale (it answers an older message) and changes nothing.
   */
  maybeDecreaseTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    if (this.state === 'probe') return this.probeSent;
    if (this.state === 'replicate') return this.inflights.full();
    return true;
  }
}
