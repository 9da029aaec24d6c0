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
  return electedWithPriorTermEntry(bugs).log.committed;
}

/** n1 leads term 3 (by a transfer's election) holding an entry of term 1 at index 2 that n2 also holds; n2 acknowledged index 2. */
function electedWithPriorTermEntry(bugs: UnsafeBug[], beforeAck?: (n1: ReturnType<Harness['raft']>) => void) {
  // n1 leads term 3 holding an entry of term 1 at index 2 that n2 also holds.
  const h = new Harness(['n1', 'n2', 'n3'], { unsafeBugs: bugs }).withLogs({ n1: [1, 1], n2: [1, 1], n3: [1] });
  const n1 = h.raft('n1');
  n1.campaign('election', true);
  n1.step({ type: 'RequestVoteResponse', from: 'n2', to: 'n1', term: n1.term, granted: true });
  beforeAck?.(n1);
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
  return n1;
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

  it('commit-prior-term: the new leader appends no no-op, and serves reads once its election-time log is committed', () => {
    let correctRead: string | undefined;
    const correct = electedWithPriorTermEntry([], (n1) => {
      correctRead = n1.readIndex('r1');
    });
    expect(correct.log.lastIndex()).toBe(3); // the no-op
    expect(correctRead).toBe('accepted');
    expect(correct.committedEntryInCurrentTerm()).toBe(false);
    let buggyRead: string | undefined;
    let pendingBeforeAck = -1;
    const buggy = electedWithPriorTermEntry(['commit-prior-term'], (n1) => {
      buggyRead = n1.readIndex('r1');
      pendingBeforeAck = (n1 as unknown as { pendingReadContexts: string[] }).pendingReadContexts.length;
    });
    expect(buggy.log.lastIndex()).toBe(2); // no no-op
    expect(buggyRead).toBe('accepted');
    expect(pendingBeforeAck).toBe(1); // waits: commit 1 < 2
    // The ack committed index 2 (term 1) by counting; the read went out at once.
    expect((buggy as unknown as { pendingReadContexts: string[] }).pendingReadContexts).toEqual([]);
    expect((correct as unknown as { pendingReadContexts: string[] }).pendingReadContexts).toEqual(['r1']);
  });
});
