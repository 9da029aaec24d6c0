// Golden interaction tests: input events -> rendered Ready batches and messages. They pin the
// message-level behaviour; a change here is a protocol change and must be reviewed line by line.

import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';

describe('golden interactions', () => {
  it('pre-vote, election, no-op and commit through heartbeats', () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    h.tickUntilReady('n1');
    h.stabilize();
    expect(h.take()).toBe(
      [
        'n1 Ready',
        '  role=pre-candidate leader=-',
        '  n1->n2 PreVote term=1 last=0/0',
        '  n1->n3 PreVote term=1 last=0/0',
        'n2 Ready',
        '  n2->n1 PreVoteResponse term=1 granted',
        'n3 Ready',
        '  n3->n1 PreVoteResponse term=1 granted',
        'n1 Ready',
        '  role=candidate leader=-',
        '  HardState term=1 vote=n1 commit=0',
        '  n1->n2 RequestVote term=1 last=0/0',
        '  n1->n3 RequestVote term=1 last=0/0',
        'n2 Ready',
        '  HardState term=1 vote=n1 commit=0',
        '  n2->n1 RequestVoteResponse term=1 granted',
        'n3 Ready',
        '  HardState term=1 vote=n1 commit=0',
        '  n3->n1 RequestVoteResponse term=1 granted',
        'n1 Ready',
        '  role=leader leader=n1',
        '  Entries [1/1 noop]',
        '  n1->n2 AppendEntries term=1 prev=0/0 commit=0 entries=[1/1 noop]',
        '  n1->n3 AppendEntries term=1 prev=0/0 commit=0 entries=[1/1 noop]',
        'n2 Ready',
        '  role=follower leader=n1',
        '  Entries [1/1 noop]',
        '  n2->n1 AppendEntriesResponse term=1 match=1',
        'n3 Ready',
        '  role=follower leader=n1',
        '  Entries [1/1 noop]',
        '  n3->n1 AppendEntriesResponse term=1 match=1',
        'n1 Ready',
        '  HardState term=1 vote=n1 commit=1',
        '  Committed [1/1 noop]',
        // n3's answer unpauses its probe; etcd also sends then, which carries the commit.
        'n1 Ready',
        '  n1->n3 AppendEntries term=1 prev=1/1 commit=1 entries=[]',
        'n3 Ready',
        '  HardState term=1 vote=n1 commit=1',
        '  Committed [1/1 noop]',
        '  n3->n1 AppendEntriesResponse term=1 match=1',
      ].join('\n'),
    );
    h.tick('n1');
    h.stabilize();
    expect(h.take()).toBe(
      [
        'n1 Ready',
        '  n1->n2 Heartbeat term=1 commit=1',
        '  n1->n3 Heartbeat term=1 commit=1',
        'n2 Ready',
        '  HardState term=1 vote=n1 commit=1',
        '  Committed [1/1 noop]',
        '  n2->n1 HeartbeatResponse term=1',
        'n3 Ready',
        '  n3->n1 HeartbeatResponse term=1',
      ].join('\n'),
    );
  });

  it('proposal replicates, commits and rides the next AppendEntries', () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    h.elect('n1');
    h.tick('n1');
    h.stabilize();
    h.take();
    h.raft('n1').propose('put k=v');
    h.process('n1');
    h.stabilize();
    expect(h.take()).toBe(
      [
        'n1 Ready',
        '  Entries [1/2 put k=v]',
        '  n1->n2 AppendEntries term=1 prev=1/1 commit=1 entries=[1/2 put k=v]',
        '  n1->n3 AppendEntries term=1 prev=1/1 commit=1 entries=[1/2 put k=v]',
        'n2 Ready',
        '  Entries [1/2 put k=v]',
        '  n2->n1 AppendEntriesResponse term=1 match=2',
        'n3 Ready',
        '  Entries [1/2 put k=v]',
        '  n3->n1 AppendEntriesResponse term=1 match=2',
        'n1 Ready',
        '  HardState term=1 vote=n1 commit=2',
        '  Committed [1/2 put k=v]',
      ].join('\n'),
    );
  });

  it('fast backup skips a whole divergent term per round trip', () => {
    const h = new Harness(['n1', 'n2', 'n3']).withLogs({ n1: [1, 3, 3, 3], n2: [1, 3, 3, 3], n3: [1, 2, 2, 2, 2, 2, 2] });
    h.elect('n1');
    const lines = h
      .take()
      .split('\n')
      .filter((l) => l.includes('n1->n3 AppendEntries') || l.includes('n3->n1 AppendEntriesResponse'));
    expect(lines).toEqual([
      '  n1->n3 AppendEntries term=4 prev=3/4 commit=1 entries=[4/5 noop]',
      '  n3->n1 AppendEntriesResponse term=4 reject=4 hint=2/4',
      // The hint (term 2 at 4) lets n1 skip all its term-3 entries: next probe at prev 1.
      '  n1->n3 AppendEntries term=4 prev=1/1 commit=5 entries=[3/2 e2, 3/3 e3, 3/4 e4, 4/5 noop]',
      '  n3->n1 AppendEntriesResponse term=4 match=5',
      // As in etcd, an acknowledgement that unpauses a probe sends once more (here: empty).
      '  n1->n3 AppendEntries term=4 prev=4/5 commit=5 entries=[]',
      '  n3->n1 AppendEntriesResponse term=4 match=5',
    ]);
    expect(h.raft('n3').log.lastIndex()).toBe(5);
    expect(h.raft('n3').log.committed).toBe(5);
  });
});
