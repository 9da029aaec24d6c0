// The deliberate bug switches do what they say on a hand-driven cluster, and only when switched on
// (the same steps on the correct core keep the rule). Catching them in simulation: test/sim/bug-hunt.

import { describe, expect, it } from 'vitest';
import type { UnsafeBug } from '../../src/raft/options.js';
import { Harness } from './harness.js';

function voteTwice(bugs: UnsafeBug[]): { granted: string; vote: string } {
  const h = new Harness(['n1', 'n2', 'n3'], { unsafeBugs: bugs });
  h.raft('n3').step({ type: 'RequestVote', from: 'n1', to: 'n3', term: 1, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
  h.raft('n3').step({ type: 'RequestVote', from: 'n2', to: 'n3', term: 1, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
  h.process('n3');
  const answer = h
    .take()
    .split('\n')
    .find((line) => line.includes('n3->n2 RequestVoteResponse'))!;
  return { granted: answer.trim(), vote: h.storages.get('n3')!.initialState().hardState.vote };
}

function commitPriorTerm(bugs: UnsafeBug[]): number {
  // n1 leads term 3 holding an entry of term 1 at index 2 that n2 also holds.
  const h = new Harness(['n1', 'n2', 'n3'], { unsafeBugs: bugs }).withLogs({ n1: [1, 1], n2: [1, 1], n3: [1] });
  const n1 = h.raft('n1');
  n1.campaign('election', true);
  n1.step({ type: 'RequestVoteResponse', from: 'n2', to: 'n1', term: n1.term, granted: true });
  n1.step({
    type: 'AppendEntriesResponse',
    from: 'n2',
    to: 'n1',
    term: n1.term,
    success: true,
    matchIndex: 2,
    rejectedIndex: 0,
    hintIndex: 0,
    hintTerm: 0,
  });
  return n1.log.committed;
}

describe('unsafe bug switches', () => {
  it('vote-twice: grants a second candidate in the same term', () => {
    expect(voteTwice([])).toEqual({ granted: 'n3->n2 RequestVoteResponse term=1 rejected', vote: 'n1' });
    expect(voteTwice(['vote-twice'])).toEqual({ granted: 'n3->n2 RequestVoteResponse term=1 granted', vote: 'n2' });
  });

  it('commit-prior-term: commits an earlier term entry by counting replicas', () => {
    expect(commitPriorTerm([])).toBe(1);
    expect(commitPriorTerm(['commit-prior-term'])).toBe(2);
  });
});
