// The leader's handlers: acknowledgements and rejections (fast backup), heartbeat answers
// (liveness, ReadIndex, retransmission), snapshot progress, CheckQuorum and transfer timeouts.

import type { AppendEntriesResponse, Message } from './message.js';
import { majority } from './quorum.js';
import type { Raft } from './raft.js';
import { broadcastHeartbeat, maybeSendAppend, sendSnapshotChunk, sendTimeoutNow } from './replication.js';
import { NONE } from './types.js';

export function tickLeader(r: Raft): void {
  r.heartbeatElapsedTicks++;
  r.electionElapsedTicks++;
  if (r.electionElapsedTicks >= r.options.electionTimeoutTicks) {
    r.electionElapsedTicks = 0;
    if (r.options.checkQuorum && !quorumActive(r)) {
      r.becomeFollower(r.term, NONE);
      return;
    }
    // A transfer that did not finish within an election timeout is abandoned.
    r.leadTransferee = NONE;
  }
  if (r.heartbeatElapsedTicks >= r.options.heartbeatIntervalTicks) {
    r.heartbeatElapsedTicks = 0;
    broadcastHeartbeat(r, r.readOnly.lastContext());
  }
}

/** Whether a majority was heard from since the last check; clears the marks for the next round. */
function quorumActive(r: Raft): boolean {
  let active = 0;
  for (const id of r.configuration.voters) {
    const progress = r.progress.get(id)!;
    if (id === r.id || progress.recentActive) active++;
    if (id !== r.id) progress.recentActive = false;
  }
  return active >= majority(r.configuration.voters.length);
}

export function stepLeader(r: Raft, m: Message): void {
  if (m.type === 'AppendEntries' || m.type === 'Heartbeat' || m.type === 'InstallSnapshot') {
    // Another leader at this leader's own term: Election Safety is broken (see followLeader).
    r.reject('second-leader');
    return;
  }
  const progress = r.progress.get(m.from);
  if (progress === undefined) return;
  switch (m.type) {
    case 'AppendEntriesResponse':
      progress.recentActive = true;
      handleAppendResponse(r, m);
      // An answer at our term to an AppendEntries sent after the read began confirms our leadership
      // as a heartbeat's would, accepted or not.
      if (m.context !== undefined) r.acknowledgeRead(m.from, m.context);
      return;
    case 'HeartbeatResponse':
      progress.recentActive = true;
      progress.probeSent = false;
      // The follower is alive, so an unacknowledged message may have been lost: make room.
      if (progress.state === 'replicate' && progress.inflights.full()) progress.inflights.freeFirstOne();
      if (progress.state === 'snapshot') sendSnapshotChunk(r, m.from);
      else if (progress.match < r.log.lastIndex()) maybeSendAppend(r, m.from, true);
      if (m.context !== '') r.acknowledgeRead(m.from, m.context);
      return;
    case 'InstallSnapshotResponse':
      progress.recentActive = true;
      if (progress.state !== 'snapshot' || m.snapshotIndex !== progress.pendingSnapshotIndex) return;
      if (m.bytesReceived === progress.snapshotBytesAcknowledged) return; // a duplicate answer
      progress.snapshotBytesAcknowledged = m.bytesReceived;
      sendSnapshotChunk(r, m.from);
      return;
    default:
      // Vote answers after winning, or messages of a leader of the same term (impossible).
      return;
  }
}

function handleAppendResponse(r: Raft, m: AppendEntriesResponse): void {
  const progress = r.progress.get(m.from)!;
  if (!m.success) {
    // Fast backup: skip every entry of ours whose term is above the follower's hint term.
    let nextProbe = m.hintIndex;
    if (m.hintTerm > 0) nextProbe = r.log.findConflictByTerm(m.hintIndex, m.hintTerm).index;
    if (progress.maybeDecreaseTo(m.rejectedIndex, nextProbe)) {
      if (progress.state === 'replicate') progress.becomeProbe();
      maybeSendAppend(r, m.from, true);
    }
    return;
  }
  const wasPaused = progress.isPaused();
  if (!progress.maybeUpdate(m.matchIndex)) return;
  if (progress.state === 'probe') {
    progress.becomeReplicate();
  } else if (progress.state === 'snapshot' && progress.match + 1 >= r.log.firstIndex()) {
    // The follower caught up past our compacted prefix: entries can flow again.
    progress.becomeProbe();
    progress.becomeReplicate();
  } else if (progress.state === 'replicate') {
    progress.inflights.freeLE(m.matchIndex);
  }
  if (!r.maybeCommit() && wasPaused) maybeSendAppend(r, m.from, true);
  // Fill the window (pipelining): several messages may go out before the first is answered.
  for (let i = 0; i < r.options.inflightMessagesMax && maybeSendAppend(r, m.from, false); i++);
  if (m.from === r.leadTransferee && progress.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
}
