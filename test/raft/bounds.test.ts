// Size bounds and option validation: entryBytesMax on propose and on incoming AppendEntries (a
// rejected message is counted, never thrown), and options that quote the bad value.

import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/raft/memory-storage.js';
import { RaftOptionsError } from '../../src/raft/options.js';
import { Raft } from '../../src/raft/raft.js';
import { Random } from '../../src/raft/random.js';
import type { Entry } from '../../src/raft/types.js';
import { Harness } from './harness.js';

const entry = (index: number, size: number): Entry => ({ term: 1, index, data: new Uint8Array(size).fill(0x61) });

function appendEntries(entries: Entry[]) {
  return { type: 'AppendEntries', from: 'n2', to: 'n1', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries, commit: 0 };
}

describe('entry size bounds', () => {
  it('propose refuses a command above entryBytesMax and takes one of exactly that size', () => {
    const h = new Harness(['n1', 'n2', 'n3'], { entryBytesMax: 100, messageBytesMax: 300 });
    h.elect('n1');
    expect(h.raft('n1').propose(new Uint8Array(101).fill(1))).toEqual({ ok: false, reason: 'too-large' });
    expect(h.raft('n1').propose(new Uint8Array(100).fill(1)).ok).toBe(true);
  });

  it('a follower rejects (and counts) an AppendEntries carrying an entry above entryBytesMax', () => {
    const h = new Harness(['n1', 'n2'], { entryBytesMax: 100, messageBytesMax: 300 });
    const n1 = h.raft('n1');
    expect(n1.step(appendEntries([entry(1, 101)]))).toBe('entry-too-large');
    expect(n1.log.lastIndex()).toBe(0);
    expect(n1.term).toBe(0); // rejected before any protocol rule ran
    expect(n1.step(appendEntries([entry(1, 100)]))).toBeUndefined();
    expect(n1.log.lastIndex()).toBe(1);
    expect(n1.status().rejectedMessages).toEqual({ 'entry-too-large': 1 });
  });

  it('a follower rejects entries above messageBytesMax + entryBytesMax in total', () => {
    const h = new Harness(['n1', 'n2'], { entryBytesMax: 100, messageBytesMax: 300 });
    const n1 = h.raft('n1');
    // 4 entries of 100 + 16 bytes = 464 > 300 + 100 + 16.
    expect(() => n1.step(appendEntries([1, 2, 3, 4].map((i) => entry(i, 100))))).not.toThrow();
    expect(n1.status().rejectedMessages).toEqual({ 'entries-too-large': 1 });
    expect(n1.log.lastIndex()).toBe(0);
    // 3 of them (348 bytes) is within what a leader may send: accepted.
    expect(n1.step(appendEntries([1, 2, 3].map((i) => entry(i, 100))))).toBeUndefined();
    expect(n1.log.lastIndex()).toBe(3);
  });

  it('everything a correct leader sends within the bounds is accepted', () => {
    const h = new Harness(['n1', 'n2', 'n3'], { entryBytesMax: 200, messageBytesMax: 64 });
    h.elect('n1');
    for (const size of [1, 200, 48, 30, 200, 17, 5, 5, 5]) expect(h.raft('n1').propose(new Uint8Array(size).fill(0x62)).ok).toBe(true);
    h.process('n1');
    h.stabilize();
    for (let i = 0; i < 3; i++) {
      h.tick('n1');
      h.stabilize();
    }
    for (const id of ['n1', 'n2', 'n3']) {
      expect(h.raft(id).log.committed).toBe(10);
      expect(h.raft(id).status().rejectedMessages).toEqual({});
    }
  });
});

describe('option validation', () => {
  const base = () => ({ id: 'n1', storage: new MemoryStorage({ voters: ['n1'] }), random: new Random(1) });

  it('quotes a bad entryBytesMax', () => {
    expect(() => new Raft({ ...base(), entryBytesMax: 0 })).toThrow(RaftOptionsError);
    expect(() => new Raft({ ...base(), entryBytesMax: 1.5 })).toThrow('entryBytesMax must be a positive integer, got 1.5');
  });

  it('quotes an unknown unsafe bug and accepts the known ones', () => {
    expect(() => new Raft({ ...base(), unsafeBugs: ['commit-fast' as never] })).toThrow('unknown unsafe bug "commit-fast"');
    expect(new Raft({ ...base(), unsafeBugs: ['vote-twice', 'commit-prior-term'] }).options.unsafeBugs).toEqual([
      'vote-twice',
      'commit-prior-term',
    ]);
    expect(new Raft(base()).options.unsafeBugs).toEqual([]);
  });
});

describe('a peer that contradicts committed entries', () => {
  const ae = (term: number, prevLogIndex: number, prevLogTerm: number, entries: Entry[], commit: number) => ({
    type: 'AppendEntries' as const,
    from: 'n2',
    to: 'n1',
    term,
    prevLogIndex,
    prevLogTerm,
    entries,
    commit,
  });
  const at = (index: number, term: number): Entry => ({ term, index, data: new Uint8Array([index]) });

  it('is refused and counted as overwrites-committed, also when it starts below our commit index', () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    const n1 = h.raft('n1');
    expect(n1.step(ae(1, 0, 0, [at(1, 1), at(2, 1), at(3, 1)], 3))).toBeUndefined();
    h.process('n1');
    expect(n1.log.committed).toBe(3);
    // A "leader" of term 3 that holds 2@2 where we committed 2@1: Leader Completeness is broken.
    expect(n1.step(ae(3, 1, 1, [at(2, 2), at(3, 3)], 3))).toBe('overwrites-committed');
    expect(n1.step(ae(3, 2, 2, [at(3, 3)], 3))).toBe('overwrites-committed');
    expect(n1.log.termOrZero(2)).toBe(1);
    expect(n1.status().rejectedMessages).toEqual({ 'overwrites-committed': 2 });
    // A legitimate leader resending committed entries (and more) below our commit is fine.
    expect(n1.step(ae(3, 1, 1, [at(2, 1), at(3, 1), at(4, 3)], 3))).toBeUndefined();
    expect(n1.status().rejectedMessages).toEqual({ 'overwrites-committed': 2 });
  });
});

describe('a second leader in one term', () => {
  const heartbeat = (from: string, term: number) => ({ type: 'Heartbeat' as const, from, to: 'n1', term, commit: 0, context: '' });
  const append = (from: string, term: number) => ({
    type: 'AppendEntries' as const,
    from,
    to: 'n1',
    term,
    prevLogIndex: 0,
    prevLogTerm: 0,
    entries: [],
    commit: 0,
  });

  it('is refused as second-leader by a follower that already follows another leader in that term', () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    const n1 = h.raft('n1');
    expect(n1.step(append('n2', 2))).toBeUndefined();
    expect(n1.status().leader).toBe('n2');
    expect(n1.step(heartbeat('n2', 2))).toBeUndefined();
    // n3 leads term 2 as well: two leaders in one term.
    expect(n1.step(heartbeat('n3', 2))).toBe('second-leader');
    expect(n1.step(append('n2', 2))).toBe('second-leader');
    expect(n1.status().rejectedMessages).toEqual({ 'second-leader': 2 });
    // A leader of a later term is nothing of the kind.
    expect(n1.step(append('n3', 3))).toBeUndefined();
    expect(n1.step(heartbeat('n3', 3))).toBeUndefined();
    expect(n1.status().rejectedMessages).toEqual({ 'second-leader': 2 });
  });

  it('is refused as second-leader by a leader of that term, which stays leader', () => {
    const h = new Harness(['n1', 'n2', 'n3']);
    h.elect('n1');
    const n1 = h.raft('n1');
    const term = n1.term;
    expect(n1.step(heartbeat('n2', term))).toBe('second-leader');
    expect(n1.step(append('n3', term))).toBe('second-leader');
    expect(n1.role).toBe('leader');
    expect(n1.status().rejectedMessages).toEqual({ 'second-leader': 2 });
  });
});
