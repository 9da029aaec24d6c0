// How a leader sends: AppendEntries within the progress window and message size, InstallSnapshot
// chunks when the follower needs a compacted prefix, heartbeats, and TimeoutNow.

import { COMPACTED } from './storage.js';
import type { Raft } from './raft.js';
import type { NodeId } from './types.js';

/** Sends entries (or a snapshot chunk) to `to` if its progress allows. Returns whether it sent. */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const progress = r.progress.get(to);
  if (progress === undefined || progress.isPaused()) return false;
  const prevLogIndex = progress.next - 1;
  const prevLogTerm = r.log.term(prevLogIndex);
  const entries = r.log.entriesFrom(progress.next, r.options.messageBytesMax);
  if (typeof prevLogTerm !== 'number' || entries === COMPACTED) {
    // The follower needs entries we compacted away: send the snapshot instead, but only to a
    // follower we heard from, so a dead one does not cost a snapshot transfer.
    if (!progress.recentActive) return false;
    progress.becomeSnapshot(r.log.snapshot().metadata.index);
    sendSnapshotChunk(r, to);
    return true;
  }
  if (entries.length === 0 && !sendIfEmpty) return false;
  r.send({
    type: 'AppendEntries',
    from: r.id,
    to,
    term: r.term,
    prevLogIndex,
    prevLogTerm,
    entries,
    commit: r.log.committed,
  });
  if (entries.length > 0) {
    const last = entries[entries.length - 1].index;
    if (progress.state === 'replicate') {
      progress.next = last + 1;
      progress.inflights.add(last);
    } else if (progress.state === 'probe') {
      progress.probeSent = true;
    }
  } else if (progress.state === 'probe') {
    progress.probeSent = true;
  }
  return true;
}

/** Sends the chunk after what the follower acknowledged; restarts if the snapshot changed. */
export function sendSnapshotChunk(r: Raft, to: NodeId): void {
  const progress = r.progress.get(to);
  if (progress === undefined) return;
  const snapshot = r.log.snapshot();
  if (progress.state !== 'snapshot' || progress.pendingSnapshotIndex !== snapshot.metadata.index) {
    progress.becomeSnapshot(snapshot.metadata.index);
  }
  const offset = Math.min(progress.snapshotBytesAcknowledged, snapshot.data.length);
  const data = snapshot.data.subarray(offset, offset + r.options.snapshotChunkBytes);
  r.send({
    type: 'InstallSnapshot',
    from: r.id,
    to,
    term: r.term,
    snapshotIndex: snapshot.metadata.index,
    snapshotTerm: snapshot.metadata.term,
    configuration: { voters: [...snapshot.metadata.configuration.voters] },
    sizeBytes: snapshot.data.length,
    offset,
    data,
    done: offset + data.length === snapshot.data.length,
  });
}

export function broadcastAppend(r: Raft): void {
  for (const id of r.configuration.voters) {
    if (id !== r.id) maybeSendAppend(r, id, true);
  }
}

/** Heartbeats carry the commit capped at each follower's match, so a follower never commits an
 * index its log may not hold yet. */
export function broadcastHeartbeat(r: Raft, context: string): void {
  for (const id of r.configuration.voters) {
    if (id !== r.id) sendHeartbeat(r, id, context);
  }
}

export function sendHeartbeat(r: Raft, to: NodeId, context: string): void {
  const progress = r.progress.get(to)!;
  r.send({ type: 'Heartbeat', from: r.id, to, term: r.term, commit: Math.min(progress.match, r.log.committed), context });
}

export function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.send({ type: 'TimeoutNow', from: r.id, to, term: r.term });
}
