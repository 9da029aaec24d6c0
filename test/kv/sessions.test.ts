// Client sessions: retries apply once and get the first answer, stale copies and expired sessions
// answer session_expired without applying, the table is bounded by count (LRU by log index) and
// idle age (log positions), and reads never enter it.

import { describe, expect, it } from 'vitest';
import { KvStateMachine, SessionTable, type KvCommand } from '../../src/kv/index.js';

const append = (value: string, clientId: string, seq: number): KvCommand => ({ op: 'append', key: 'k', value, clientId, seq });

describe('de-duplication', () => {
  it('a retried append with the same seq appends once and gets the same answer', () => {
    const machine = new KvStateMachine();
    expect(machine.apply(1, append('x', 'c1', 1))).toEqual({ ok: true });
    expect(machine.apply(2, append('x', 'c1', 1))).toEqual({ ok: true });
    expect(machine.apply(3, append('x', 'c1', 1))).toEqual({ ok: true });
    expect(machine.get('k')).toBe('x');
    expect(machine.apply(4, append('y', 'c1', 2))).toEqual({ ok: true });
    expect(machine.apply(5, append('y', 'c1', 2))).toEqual({ ok: true });
    expect(machine.get('k')).toBe('xy');
    // Other clients are independent, and seq may skip (gets and timed-out ops use numbers too).
    expect(machine.apply(6, append('z', 'c2', 2))).toEqual({ ok: true });
    expect(machine.apply(7, append('w', 'c1', 9))).toEqual({ ok: true });
    expect(machine.get('k')).toBe('xyzw');
  });

  it('a retried cas gets its first answer even after the value changed', () => {
    const machine = new KvStateMachine();
    const cas: KvCommand = { op: 'cas', key: 'k', from: 'a', to: 'b', clientId: 'c1', seq: 1 };
    expect(machine.apply(1, cas)).toEqual({ ok: false, error: 'cas_mismatch', value: null });
    machine.apply(2, { op: 'put', key: 'k', value: 'a' });
    // Re-applying would now succeed; the retry must not apply and must answer as before.
    expect(machine.apply(3, cas)).toEqual({ ok: false, error: 'cas_mismatch', value: null });
    expect(machine.get('k')).toBe('a');

    const ok: KvCommand = { op: 'cas', key: 'k', from: 'a', to: 'b', clientId: 'c1', seq: 2 };
    expect(machine.apply(4, ok)).toEqual({ ok: true });
    expect(machine.apply(5, ok)).toEqual({ ok: true });
    expect(machine.get('k')).toBe('b');
  });

  it('a put retried after another client wrote does not overwrite that write', () => {
    const machine = new KvStateMachine();
    machine.apply(1, { op: 'put', key: 'k', value: 'mine', clientId: 'c1', seq: 1 });
    machine.apply(2, { op: 'put', key: 'k', value: 'theirs', clientId: 'c2', seq: 1 });
    expect(machine.apply(3, { op: 'put', key: 'k', value: 'mine', clientId: 'c1', seq: 1 })).toEqual({ ok: true });
    expect(machine.get('k')).toBe('theirs');
  });

  it('a stale copy (seq below the session) answers session_expired and does not apply', () => {
    const machine = new KvStateMachine();
    machine.apply(1, append('a', 'c1', 1));
    machine.apply(2, append('b', 'c1', 2));
    expect(machine.apply(3, append('a', 'c1', 1))).toEqual({ ok: false, error: 'session_expired' });
    expect(machine.get('k')).toBe('ab');
    // The session is unchanged: the current seq still de-duplicates.
    expect(machine.session('c1')).toMatchObject({ seq: 2, lastIndex: 2 });
    expect(machine.apply(4, append('b', 'c1', 2))).toEqual({ ok: true });
    expect(machine.get('k')).toBe('ab');
  });

  it('without a session, every entry applies', () => {
    const machine = new KvStateMachine();
    machine.apply(1, { op: 'append', key: 'k', value: 'x' });
    machine.apply(2, { op: 'append', key: 'k', value: 'x' });
    expect(machine.get('k')).toBe('xx');
    expect(machine.size().sessions).toBe(0);
  });

  it('reads never enter the table, and never answer session_expired', () => {
    const machine = new KvStateMachine({ sessionsMax: 1 });
    for (let i = 1; i <= 50; i++) machine.apply(i, { op: 'get', key: 'k', clientId: `reader${i}`, seq: i });
    expect(machine.size()).toMatchObject({ sessions: 0, sessionsEvicted: 0 });
    machine.apply(51, append('x', 'w1', 1));
    machine.apply(52, append('x', 'w2', 1));
    expect(machine.size()).toMatchObject({ sessions: 1, sessionsEvicted: 1 });
    expect(machine.apply(53, { op: 'get', key: 'k', clientId: 'w1', seq: 7 })).toEqual({ ok: true, value: 'xx' });
  });
});

describe('bounds and expiry', () => {
  it('before any eviction, an unknown client is accepted with any seq', () => {
    const machine = new KvStateMachine({ sessionsMax: 2 });
    // Its first ops may have timed out without applying.
    expect(machine.apply(1, append('x', 'c1', 5))).toEqual({ ok: true });
    expect(machine.get('k')).toBe('x');
  });

  it('evicts the least recently used session by log index beyond sessionsMax', () => {
    const machine = new KvStateMachine({ sessionsMax: 2 });
    machine.apply(1, append('a', 'c1', 1));
    machine.apply(2, append('b', 'c2', 1));
    // A retry counts as use: c1 is now more recent than c2.
    machine.apply(3, append('a', 'c1', 1));
    machine.apply(4, append('c', 'c3', 1));
    expect(machine.session('c2')).toBeUndefined();
    expect(machine.session('c1')).toMatchObject({ seq: 1, lastIndex: 3 });
    expect(machine.session('c3')).toMatchObject({ seq: 1, lastIndex: 4 });
    expect(machine.size()).toMatchObject({ sessions: 2, sessionsEvicted: 1 });
    expect(machine.get('k')).toBe('abc');
  });

  it('after an eviction, an unknown client with seq > 1 gets session_expired (not applied); seq 1 is accepted', () => {
    const machine = new KvStateMachine({ sessionsMax: 1 });
    machine.apply(1, append('a', 'c1', 1));
    machine.apply(2, append('b', 'c2', 1));
    // c1 was evicted: its retry of seq 2 might be a duplicate of an op it sent before.
    expect(machine.apply(3, append('c', 'c1', 2))).toEqual({ ok: false, error: 'session_expired' });
    // Any unknown client, too: it cannot be told apart from an evicted one.
    expect(machine.apply(4, append('d', 'new', 3))).toEqual({ ok: false, error: 'session_expired' });
    expect(machine.get('k')).toBe('ab');
    expect(machine.session('c1')).toBeUndefined();
    // A fresh client id starting at seq 1 works.
    expect(machine.apply(5, append('e', 'fresh', 1))).toEqual({ ok: true });
    expect(machine.apply(6, append('f', 'fresh', 2))).toEqual({ ok: true });
    expect(machine.get('k')).toBe('abef');
  });

  it('expires sessions idle for sessionIdleEntries log positions, counted by index, not by calls', () => {
    const machine = new KvStateMachine({ sessionIdleEntries: 10 });
    machine.apply(1, append('a', 'c1', 1));
    machine.apply(5, append('b', 'c2', 1));
    // Index 10: c1 idle for 9 positions, kept.
    machine.advance(10);
    expect(machine.size().sessions).toBe(2);
    // Index 11: c1 idle for 10 positions, expired; c2 (6) kept.
    machine.advance(11);
    expect(machine.session('c1')).toBeUndefined();
    expect(machine.session('c2')).toBeDefined();
    expect(machine.size().sessionsEvicted).toBe(1);
    // A gap of many positions in one step expires the rest.
    machine.apply(100, { op: 'get', key: 'k' });
    expect(machine.size()).toMatchObject({ sessions: 0, sessionsEvicted: 2 });
    expect(machine.apply(101, append('c', 'c2', 2))).toEqual({ ok: false, error: 'session_expired' });
  });

  it('a retry refreshes the idle clock', () => {
    const machine = new KvStateMachine({ sessionIdleEntries: 10 });
    machine.apply(1, append('a', 'c1', 1));
    machine.apply(8, append('a', 'c1', 1));
    machine.advance(15);
    expect(machine.session('c1')).toMatchObject({ lastIndex: 8 });
    expect(machine.apply(17, append('a', 'c1', 1))).toEqual({ ok: true });
    expect(machine.get('k')).toBe('a');
  });

  it('stays bounded and O(1) per op with many clients', () => {
    const machine = new KvStateMachine({ sessionsMax: 1000, sessionIdleEntries: 5000 });
    for (let i = 1; i <= 20_000; i++) machine.apply(i, append('x', `c${i}`, 1));
    expect(machine.size()).toMatchObject({ sessions: 1000, sessionsEvicted: 19_000 });
    expect(machine.get('k')?.length).toBe(20_000);
    // The 1000 most recent remain.
    expect(machine.session('c19001')).toBeDefined();
    expect(machine.session('c19000')).toBeUndefined();
  });
});

describe('SessionTable', () => {
  it('keeps LRU order by index through record, duplicates and expiry', () => {
    const table = new SessionTable(3, 100);
    table.record('a', 1, { ok: true }, 1);
    table.record('b', 1, { ok: true }, 2);
    table.record('c', 1, { ok: true }, 3);
    expect(table.check('a', 1, 4)).toEqual({ kind: 'duplicate', result: { ok: true } });
    expect(table.check('b', 2, 5)).toEqual({ kind: 'apply' });
    expect(table.check('b', 0, 5)).toEqual({ kind: 'stale', sessionSeq: 1 });
    table.record('b', 2, { ok: false, error: 'cas_mismatch', value: 'v' }, 5);
    expect([...table.values()].map((session) => `${session.clientId}@${session.lastIndex}`)).toEqual(['c@3', 'a@4', 'b@5']);
    table.record('d', 1, { ok: true }, 6);
    expect([...table.values()].map((session) => session.clientId)).toEqual(['a', 'b', 'd']);
    expect(table.evicted).toBe(1);
    expect(table.check('zzz', 2, 7)).toEqual({ kind: 'expired' });
    expect(table.check('zzz', 1, 7)).toEqual({ kind: 'apply' });
    // Idle for 100 positions at 104: only a (last used at 4).
    table.expireIdle(104);
    expect([...table.values()].map((session) => session.clientId)).toEqual(['b', 'd']);
  });

  it('stores a frozen copy of each result', () => {
    const table = new SessionTable(3, 100);
    const result = { ok: false as const, error: 'cas_mismatch' as const, value: 'v' };
    table.record('a', 1, result, 1);
    result.value = 'changed';
    const stored = table.get('a')?.result;
    expect(stored).toEqual({ ok: false, error: 'cas_mismatch', value: 'v' });
    expect(Object.isFrozen(stored)).toBe(true);
  });
});
