// The pre-candidate's and candidate's handlers: count votes, or fall back to follower when a
// leader of this term shows up or the vote is lost.

import type { Message } from './message.js';
import type { Raft } from './raft.js';
import { broadcastAppend } from './replication.js';
import { stepFollower } from './follower.js';
import { NONE } from './types.js';

export function stepCandidate(r: Raft, m: Message): void {
  switch (m.type) {
    case 'AppendEntries':
    case 'Heartbeat':
    case 'InstallSnapshot':
      // A leader exists in our term (a pre-candidate: in our current term): follow it.
      r.becomeFollower(m.term, m.from);
      stepFollower(r, m);
      return;
    case 'PreVoteResponse':
    case 'RequestVoteResponse': {
      const expected = r.role === 'pre-candidate' ? 'PreVoteResponse' : 'RequestVoteResponse';
      if (m.type !== expected) return;
      const result = r.poll(m.from, m.granted);
      if (result === 'won') {
        if (r.role === 'pre-candidate') {
          r.campaign('election', false);
        } else {
          r.becomeLeader();
          broadcastAppend(r);
        }
      } else if (result === 'lost') {
        r.becomeFollower(r.term, NONE);
      }
      return;
    }
    default:
      return;
  }
}
