// One test per rule of the Raft paper's Figure 2 (and the extensions), on a hand-driven cluster.

import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';

describe('Figure 2 rules', () => {
  it('all servers: a higher term in any message makes a node adopt it and follow', () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    h.elect('n1');
    h.raft('n1').step({ type: 'HeartbeatResponse', from: 'n2', to: 'n1', term: 9, context: '' });
    expect(h.raft('n1').role).toBe('follower');
    expect(h.raft('n1').term).toBe(9);
  });

  it('RequestVote: reject a candidate whose log is less up-to-date', () => {
    const h = new Harness(['n1', 'n2', 'n3']).withLogs({ n1: [1], n2: [1, 2] });
    h.raft('n1').campaign('election', true);
    h.process('n1');
    h.stabilize();
    expect(h.take()).toContain('n2->n1 RequestVoteResponse term=2 rejected');
  });

  it('RequestVote: at most one vote per term', () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    h.raft('n3').step({ type: 'RequestVote', from: 'n1', to: 'n3', term: 1, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
    h.raft('n3').step({ type: 'RequestVote', from: 'n2', to: 'n3', term: 1, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
    h.process('n3');
    expect(h.take()).toContain('n3->n2 RequestVoteResponse term=1 rejected');
    expect(h.storages.get('n3')!.initialState().hardState.vote).toBe('n1');
  });

  it('AppendEntries: reject when the log has no entry matching prev', () => {
    const h = new Harness(['n1', 'n2']);
    h.raft('n2').step({ type: 'AppendEntries', from: 'n1', to: 'n2', term: 1, prevLogIndex: 3, prevLogTerm: 1, entries: [], commit: 0 });
    h.process('n2');
    expect(h.take()).toContain('n2->n1 AppendEntriesResponse term=1 reject=3 hint=0/0');
  });

  it('AppendEntries: truncate only on a real conflict (a stale shorter message keeps the tail)', () => {
    const h = new Harness(['n1', 'n2']).withLogs({ n2: [1, 1, 1] });
    const e = (term: number, index: number) => ({ term, index, data: new TextEncoder().encode(`e${index}`) });
    h.raft('n2').step({
      type: 'AppendEntries',
      from: 'n1',
      to: 'n2',
      term: 1,
      prevLogIndex: 1,
      prevLogTerm: 1,
      entries: [e(1, 2)],
      commit: 1,
    });
    expect(h.raft('n2').log.lastIndex()).toBe(3);
    h.raft('n2').step({
      type: 'AppendEntries',
      from: 'n1',
      to: 'n2',
      term: 2,
      prevLogIndex: 1,
      prevLogTerm: 1,
      entries: [e(2, 2)],
      commit: 1,
    });
    expect(h.raft('n2').log.lastIndex()).toBe(2);
    expect(h.raft('n2').log.term(2)).toBe(2);
  });

  it('AppendEntries: commit = min(leaderCommit, index of last new entry)', () => {
    const h = new Harness(['n1', 'n2']).withLogs({ n2: [1, 1, 1] });
    const e = (term: number, index: number) => ({ term, index, data: new TextEncoder().encode(`e${index}`) });
    h.raft('n2').step({
      type: 'AppendEntries',
      from: 'n1',
      to: 'n2',
      term: 1,
      prevLogIndex: 1,
      prevLogTerm: 1,
      entries: [e(1, 2)],
      commit: 3,
    });
    expect(h.raft('n2').log.committed).toBe(2);
  });

  it('leaders: commit only entries of the current term by counting replicas (Figure 8)', () => {
    // n1 leads term 3 with an old entry 1/2 that n2 also holds; acks for index 2 alone must not commit.
    const h = new Harness(['n1', 'n2', 'n3']).withLogs({ n1: [1, 1], n2: [1, 1], n3: [1] });
    const n1 = h.raft('n1');
    n1.campaign('election', true);
    n1.step({ type: 'RequestVoteResponse', from: 'n2', to: 'n1', term: n1.term, granted: true });
    expect(n1.role).toBe('leader');
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
    expect(n1.log.committed).toBe(1);
    n1.step({
      type: 'AppendEntriesResponse',
      from: 'n2',
      to: 'n1',
      term: n1.term,
      success: true,
      matchIndex: 3,
      rejectedIndex: 0,
      hintIndex: 0,
      hintTerm: 0,
    });
    // n2 holds the no-op 3/3, but the leader's own copy counts only once it is durable (thesis
    // §10.2.1: the driver may send AppendEntries while it still writes them).
    expect(n1.log.committed).toBe(1);
    h.process('n1');
    expect(n1.log.committed).toBe(3);
  });

  it('candidates: an AppendEntries from a leader of the same term makes them follow', () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    h.raft('n2').campaign('election', false);
    h.raft('n2').step({ type: 'Heartbeat', from: 'n1', to: 'n2', term: 1, commit: 0, context: '' });
    expect(h.raft('n2').role).toBe('follower');
    expect(h.raft('n2').leader).toBe('n1');
  });

  it('persistence: a vote is only in messages of a Ready whose hard state records it', () => {
    const h = new Harness(['n1', 'n2']);
    h.raft('n2').step({ type: 'RequestVote', from: 'n1', to: 'n2', term: 1, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
    const ready = h.raft('n2').ready();
    expect(ready.hardState).toEqual({ term: 1, vote: 'n1', commit: 0 });
    expect(ready.messages.map((m) => m.type)).toEqual(['RequestVoteResponse']);
  });

  it('leader transfer: the target catches up, gets TimeoutNow and wins', () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    h.elect('n1');
    expect(h.raft('n1').transferLeader('n2')).toBe('started');
    h.process('n1');
    h.stabilize();
    expect(h.raft('n2').role).toBe('leader');
    expect(h.raft('n1').role).toBe('follower');
  });

  it('ReadIndex: confirmed by a heartbeat round at the commit index', () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    h.elect('n1');
    h.take();
    expect(h.raft('n1').readIndex('read-1')).toBe('accepted');
    h.process('n1');
    h.stabilize();
    expect(h.take()).toContain('ReadState index=1 context=read-1');
    expect(h.raft('n2').readIndex('x')).toBe('not-leader');
  });

  it('bad input: unknown types and impossible fields are rejected and counted, never thrown', () => {
    const h = new Harness(['n1', 'n2']);
    const n1 = h.raft('n1');
    const inputs: unknown[] = [
      null,
      42,
      { type: 'Bogus', from: 'n2', to: 'n1', term: 1 },
      { type: 'Heartbeat', from: 'n2', to: 'n1', term: -1, commit: 0, context: '' },
      { type: 'Heartbeat', from: 'n9', to: 'n1', term: 1, commit: 0, context: '' },
      {
        type: 'AppendEntries',
        from: 'n2',
        to: 'n1',
        term: 1,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [{ term: 1, index: 5, data: new Uint8Array(1) }],
        commit: 0,
      },
      { type: 'AppendEntries', from: 'n2', to: 'n1', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: 'x', commit: 0 },
      { type: 'Heartbeat', from: 'n2', to: 'n1', term: 1, commit: 99, context: '' },
      {
        type: 'InstallSnapshot',
        from: 'n2',
        to: 'n1',
        term: 1,
        snapshotIndex: 5,
        snapshotTerm: 1,
        configuration: { voters: ['n1'] },
        sizeBytes: 1,
        offset: 4,
        data: new Uint8Array(1),
        done: true,
      },
    ];
    for (const input of inputs) expect(() => n1.step(input)).not.toThrow();
    const rejected = Object.values(n1.status().rejectedMessages).reduce((a, b) => a + b, 0);
    expect(rejected).toBe(inputs.length);
  });
});
