// The follower's handlers: AppendEntries (with fast-backup hints), heartbeats, InstallSnapshot
// chunks and TimeoutNow. Term checks happened before these run (raft.ts).

import type { AppendEntries, AppendEntriesResponse, Heartbeat, InstallSnapshot, Message } from './message.js';
import type { Raft } from './raft.js';
import { NONE } from './types.js';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case 'AppendEntries':
      followLeader(r, m.from);
      handleAppendEntries(r, m);
      return;
    case 'Heartbeat':
      followLeader(r, m.from);
      handleHeartbeat(r, m);
      return;
    case 'InstallSnapshot':
      followLeader(r, m.from);
      handleSnapshotChunk(r, m);
      return;
    case 'TimeoutNow':
      // The leader picked us: campaign now, skipping PreVote and the voters' leader lease.
      r.campaignOrPoll(true);
      return;
    default:
      // Answers meant for a role we no longer hold.
      return;
  }
}

/**
 * A leader's message at our term. One from another node than the leader this node already follows
 * in this term means two leaders in one term (Election Safety broken: a vote cast twice, a
 * forgotten vote): counted and returned as 'second-leader', then handled as before.
 */
function followLeader(r: Raft, from: string): void {
  if (r.leader !== NONE && r.leader !== from) r.reject('second-leader');
  r.electionElapsedTicks = 0;
  r.leader = from;
}

/** Answers an AppendEntries (or a snapshot chunk), echoing the read context it carried, if any. */
function respond(
  r: Raft,
  to: string,
  context: string | undefined,
  success: boolean,
  matchIndex: number,
  rejectedIndex = 0,
  hintIndex = 0,
  hintTerm = 0,
): void {
  const answer: AppendEntriesResponse = {
    type: 'AppendEntriesResponse',
    from: r.id,
    to,
    term: r.term,
    success,
    matchIndex,
    rejectedIndex,
    hintIndex,
    hintTerm,
  };
  if (context !== undefined) answer.context = context;
  r.send(answer);
}

export function handleAppendEntries(r: Raft, m: AppendEntries): void {
  const log = r.log;
  if (m.prevLogIndex < log.committed) {
    // Everything up to our commit matches any legitimate leader (Leader Completeness), so what it
    // sends for that range must be what we hold; anything else means safety is already broken.
    if (conflictsWithCommitted(log, m)) {
      r.reject('overwrites-committed');
      return;
    }
    // Say where to resume.
    respond(r, m.from, m.context, true, log.committed);
    return;
  }
  if (!log.matchTerm(m.prevLogIndex, m.prevLogTerm)) {
    const hint = log.findConflictByTerm(Math.min(m.prevLogIndex, log.lastIndex()), m.prevLogTerm);
    respond(r, m.from, m.context, false, 0, m.prevLogIndex, hint.index, hint.term);
    return;
  }
  const conflict = log.findConflict(m.entries);
  if (conflict !== 0 && conflict <= log.committed) {
    // A peer asks us to overwrite a committed entry: impossible from a correct leader.
    r.reject('overwrites-committed');
    return;
  }
  const lastNew = log.maybeAppend(m.prevLogIndex, m.prevLogTerm, m.commit, m.entries)!;
  respond(r, m.from, m.context, true, lastNew);
}

/** Whether `m` names, at or below our commit index, an entry whose term differs from ours (compacted entries are not checked). */
function conflictsWithCommitted(log: Raft['log'], m: AppendEntries): boolean {
  const differs = (index: number, term: number) => {
    if (index > log.committed || index < log.firstIndex()) return false;
    const ours = log.term(index);
    return typeof ours === 'number' && ours !== term;
  };
  if (m.prevLogIndex > 0 && differs(m.prevLogIndex, m.prevLogTerm)) return true;
  for (const entry of m.entries) {
    if (entry.index > log.committed) break;
    if (differs(entry.index, entry.term)) return true;
  }
  return false;
}

function handleHeartbeat(r: Raft, m: Heartbeat): void {
  if (m.commit > r.log.lastIndex()) {
    // The leader caps the commit at our match, so this cannot come from a correct leader.
    r.reject('commit-past-log');
  } else {
    r.log.commitTo(m.commit);
  }
  r.send({ type: 'HeartbeatResponse', from: r.id, to: m.from, term: r.term, context: m.context });
}

/**
 * Collects chunks in order (one snapshot at a time, bounded by snapshotBytesMax). Out-of-order or
 * duplicate chunks are answered with the bytes held, so the leader resumes from there.
 */
export function handleSnapshotChunk(r: Raft, m: InstallSnapshot): void {
  if (m.snapshotIndex <= r.log.committed) {
    r.incomingSnapshot = undefined;
    respond(r, m.from, undefined, true, r.log.committed);
    return;
  }
  if (m.sizeBytes > r.options.snapshotBytesMax) {
    r.reject('snapshot-too-large');
    return;
  }
  let incoming = r.incomingSnapshot;
  const same =
    incoming !== undefined && incoming.index === m.snapshotIndex && incoming.term === m.snapshotTerm && incoming.sizeBytes === m.sizeBytes;
  if (!same) {
    if (m.offset !== 0) {
      r.send({ type: 'InstallSnapshotResponse', from: r.id, to: m.from, term: r.term, snapshotIndex: m.snapshotIndex, bytesReceived: 0 });
      return;
    }
    incoming = {
      index: m.snapshotIndex,
      term: m.snapshotTerm,
      configuration: m.configuration,
      sizeBytes: m.sizeBytes,
      chunks: [],
      bytesReceived: 0,
    };
    r.incomingSnapshot = incoming;
  }
  if (incoming === undefined) return;
  if (m.offset === incoming.bytesReceived && m.data.length > 0) {
    incoming.chunks.push(m.data.slice());
    incoming.bytesReceived += m.data.length;
  }
  if (incoming.bytesReceived < incoming.sizeBytes) {
    r.send({
      type: 'InstallSnapshotResponse',
      from: r.id,
      to: m.from,
      term: r.term,
      snapshotIndex: incoming.index,
      bytesReceived: incoming.bytesReceived,
    });
    return;
  }
  const data = new Uint8Array(incoming.sizeBytes);
  let at = 0;
  for (const chunk of incoming.chunks) {
    data.set(chunk, at);
    at += chunk.length;
  }
  r.incomingSnapshot = undefined;
  const snapshot = {
    metadata: { index: incoming.index, term: incoming.term, configuration: { voters: [...incoming.configuration.voters] } },
    data,
  };
  const restored = r.restore(snapshot);
  respond(r, m.from, undefined, true, restored ? r.log.lastIndex() : r.log.committed);
}
