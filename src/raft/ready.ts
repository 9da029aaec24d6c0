// The Ready batch: what the driver must do, in order. 1. persist `snapshot`, `entries` and
// `hardState`; 2. send `messages` (never before step 1 is durable); 3. install `snapshot` and apply
// `committedEntries` in order; 4. serve `readStates` once applied >= index, fail `droppedReads`;
// 5. call advance(ready).

import type { Message } from './message.js';
import type { Entry, HardState, ReadState, Snapshot, SoftState } from './types.js';

export interface Ready {
  /** Present when leader or role changed; volatile, for display only. */
  softState?: SoftState;
  /** Present when term, vote or commit changed; persist before sending messages. */
  hardState?: HardState;
  /** Entries to append to storage (replacing any conflicting suffix) before sending messages. */
  entries: Entry[];
  /** A snapshot from the leader to persist and install before applying committedEntries. */
  snapshot?: Snapshot;
  /** Entries known committed, to apply in index order after the snapshot (if any). */
  committedEntries: Entry[];
  /** Messages to send once everything above is durable. */
  messages: Message[];
  /** Confirmed ReadIndex requests. */
  readStates: ReadState[];
  /**
   * Contexts of accepted ReadIndex requests that will never be confirmed: this node stopped leading
   * or moved to another term while they waited. Fail (or retry elsewhere) those reads now instead
   * of waiting for a timeout. At most pendingReadsMax per batch.
   */
  droppedReads: string[];
}
