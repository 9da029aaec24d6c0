// ReadIndex requests that can no longer be confirmed (the leader stepped down or changed term) come
// out in Ready.droppedReads, so drivers fail or retry them at once instead of waiting for a timeout.

import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';

/** Collects droppedReads from every Ready `id` produces while `action` runs. */
function droppedDuring(h: Harness, id: string, action: () => void): string[] {
  const dropped: string[] = [];
  const raft = h.raft(id);
  const original = raft.ready.bind(raft);
  raft.ready = () => {
    const ready = original();
    dropped.push(...ready.droppedReads);
    return ready;
  };
  try {
    action();
  } finally {
    raft.ready = original;
  }
  return dropped;
}

describe('dropped ReadIndex requests', () => {
  it('a leader that learns of a higher term drops its unconfirmed reads, and renders them', () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    h.elect('n1');
    h.take();
    h.isolated.add('n1'); // the confirming heartbeats never arrive
    expect(h.raft('n1').readIndex('read-a')).toBe('accepted');
    expect(h.raft('n1').readIndex('read-b')).toBe('accepted');
    h.process('n1');
    h.stabilize();
    h.take();
    h.isolated.delete('n1');
    h.raft('n1').step({ type: 'HeartbeatResponse', from: 'n2', to: 'n1', term: 5, context: '' });
    h.process('n1');
    const text = h.take();
    expect(text).toContain('  DroppedReads read-a, read-b');
    expect(h.raft('n1').role).toBe('follower');
    // A late confirmation of a dropped read confirms nothing.
    h.raft('n1').step({ type: 'HeartbeatResponse', from: 'n2', to: 'n1', term: 5, context: 'read-a' });
    h.process('n1');
    expect(h.take()).not.toContain('ReadState');
  });

  it('reads waiting for the new leader to commit in its term are dropped too', () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    const n1 = h.raft('n1');
    n1.campaign('election', true);
    n1.step({ type: 'RequestVoteResponse', from: 'n2', to: 'n1', term: n1.term, granted: true });
    expect(n1.role).toBe('leader');
    expect(n1.committedEntryInCurrentTerm()).toBe(false);
    expect(n1.readIndex('early')).toBe('accepted');
    const dropped = droppedDuring(h, 'n1', () => {
      n1.step({ type: 'Heartbeat', from: 'n3', to: 'n1', term: n1.term + 1, commit: 0, context: '' });
      h.process('n1');
    });
    expect(dropped).toEqual(['early']);
  });

  it('CheckQuorum step-down drops pending reads; confirmed reads are never reported dropped', () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    h.elect('n1');
    expect(h.raft('n1').readIndex('confirmed')).toBe('accepted');
    h.process('n1');
    h.stabilize();
    expect(h.take()).toContain('ReadState index=1 context=confirmed');
    h.isolated.add('n1');
    expect(h.raft('n1').readIndex('stuck')).toBe('accepted');
    const dropped = droppedDuring(h, 'n1', () => {
      // Two election timeouts without answers: CheckQuorum makes n1 step down.
      for (let i = 0; i < 25; i++) {
        h.tick('n1');
        h.stabilize();
      }
    });
    expect(h.raft('n1').role).toBe('follower');
    expect(dropped).toEqual(['stuck']);
  });

  it('a leader that keeps its term and role drops nothing', () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    h.elect('n1');
    expect(h.raft('n1').readIndex('r')).toBe('accepted');
    const dropped = droppedDuring(h, 'n1', () => {
      h.process('n1');
      h.stabilize();
      for (let i = 0; i < 30; i++) {
        h.tick('n1');
        h.stabilize();
      }
    });
    expect(h.raft('n1').role).toBe('leader');
    expect(dropped).toEqual([]);
  });

  it('dropped reads count toward pendingReadsMax until a Ready hands them out', () => {
    const h = new Harness(['n1', 'n2', 'n3'], { pendingReadsMax: 2 });
    h.elect('n1');
    const n1 = h.raft('n1');
    h.isolated.add('n1');
    expect(n1.readIndex('a')).toBe('accepted');
    expect(n1.readIndex('b')).toBe('accepted');
    expect(n1.readIndex('c')).toBe('too-many-reads');
    h.process('n1');
    h.stabilize();
    // Deposed and elected again without a Ready in between: a and b are still to be handed out.
    n1.step({ type: 'HeartbeatResponse', from: 'n2', to: 'n1', term: n1.term + 1, context: '' });
    n1.campaign('election', true);
    n1.step({ type: 'RequestVoteResponse', from: 'n2', to: 'n1', term: n1.term, granted: true });
    expect(n1.role).toBe('leader');
    expect(n1.readIndex('d')).toBe('too-many-reads');
    const ready = n1.ready();
    expect(ready.droppedReads).toEqual(['a', 'b']);
    n1.advance(ready);
    expect(n1.readIndex('d')).toBe('accepted');
  });
});

describe('ReadIndex confirmations ride on AppendEntries', () => {
  /** Three nodes, n1 elected, its output taken. */
  const electedN1 = () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    h.elect('n1');
    h.take();
    return { h, n1: h.raft('n1') };
  };
  /** The queued messages as `type->to context`. */
  const queued = (h: Harness) => h.queue.map((m) => `${m.type}->${m.to}${'context' in m && m.context ? ` ${m.context}` : ''}`);

  it('a read that arrives with a write is confirmed by the AppendEntries round, with no heartbeat', () => {
    const { h, n1 } = electedN1();
    expect(n1.readIndex('read-1')).toBe('accepted');
    expect(n1.propose(new TextEncoder().encode('w1'))).toMatchObject({ ok: true, index: 2 });
    h.process('n1');
    const sent = queued(h);
    expect(sent.sort()).toEqual(['AppendEntries->n2 read-1', 'AppendEntries->n3 read-1']);
    h.stabilize();
    const text = h.take();
    expect(text).toContain('n2->n1 AppendEntriesResponse term=1 match=2 context=read-1');
    expect(text).toContain('ReadState index=1 context=read-1');
    expect(text).not.toContain('Heartbeat');
  });

  it('a follower that gets no AppendEntries in that batch gets a heartbeat with the context', () => {
    const { h, n1 } = electedN1();
    h.isolated.add('n3'); // n3 never answers, so its window fills and it gets no more entries
    for (let i = 0; i < 300; i++) n1.propose(new TextEncoder().encode(`w${i}`));
    h.process('n1');
    h.stabilize();
    h.take();
    expect(n1.readIndex('read-2')).toBe('accepted');
    n1.propose(new TextEncoder().encode('w-last'));
    h.process('n1');
    const sent = queued(h);
    expect(sent).toContain('AppendEntries->n2 read-2');
    expect(sent).toContain('Heartbeat->n3 read-2');
    h.stabilize();
    // n2 alone (with n1) is a majority of three.
    expect(h.take()).toMatch(/ReadState index=\d+ context=read-2/);
  });

  it('a rejected AppendEntries still confirms: the follower answered at our term', () => {
    const { h, n1 } = electedN1();
    expect(n1.readIndex('read-3')).toBe('accepted');
    n1.propose(new TextEncoder().encode('w'));
    h.process('n1');
    h.queue = [];
    // Both followers reject (as after a log mismatch), echoing the context.
    for (const from of ['n2', 'n3'])
      n1.step({
        type: 'AppendEntriesResponse',
        from,
        to: 'n1',
        term: n1.term,
        success: false,
        matchIndex: 0,
        rejectedIndex: 1,
        hintIndex: 1,
        hintTerm: 1,
        context: 'read-3',
      });
    h.process('n1');
    expect(h.take()).toContain('ReadState index=1 context=read-3');
  });

  it('a leader that steps down before its batch goes out sends no confirmation and drops the read', () => {
    const { h, n1 } = electedN1();
    expect(n1.readIndex('read-4')).toBe('accepted');
    n1.step({ type: 'Heartbeat', from: 'n3', to: 'n1', term: n1.term + 1, commit: 0, context: '' });
    h.process('n1');
    const text = h.take();
    expect(text).toContain('DroppedReads read-4');
    expect(h.queue.some((m) => m.from === 'n1' && (m.type === 'Heartbeat' || m.type === 'AppendEntries'))).toBe(false);
  });
});
