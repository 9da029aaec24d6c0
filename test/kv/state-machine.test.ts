// The state machine's operations one by one, its index and command assertions, size accounting,
// options, and a differential property test against the naive reference in naive-kv.ts.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvAssertionError, KvOptionsError, KvStateMachine, VALUE_BYTES_MAX, type KvCommand, type KvResult } from '../../src/kv/index.js';
import { commandArbitrary, fewKeys, PROPERTY } from './arbitraries.js';
import { NaiveKv } from './naive-kv.js';

/** Applies commands at indices 1, 2, ... and returns their results. */
function run(machine: KvStateMachine, commands: KvCommand[]): KvResult[] {
  return commands.map((command) => machine.apply(machine.appliedIndex + 1, command));
}

describe('operations', () => {
  it('get of an absent key is null; put then get returns the value', () => {
    const machine = new KvStateMachine();
    expect(machine.apply(1, { op: 'get', key: 'k' })).toEqual({ ok: true, value: null });
    expect(machine.apply(2, { op: 'put', key: 'k', value: 'v1' })).toEqual({ ok: true });
    expect(machine.apply(3, { op: 'get', key: 'k' })).toEqual({ ok: true, value: 'v1' });
    expect(machine.apply(4, { op: 'put', key: 'k', value: '' })).toEqual({ ok: true });
    // An empty value is present, not absent.
    expect(machine.apply(5, { op: 'get', key: 'k' })).toEqual({ ok: true, value: '' });
    expect(machine.get('k')).toBe('');
    expect(machine.get('other')).toBeNull();
  });

  it('append to an absent key treats it as ""', () => {
    const machine = new KvStateMachine();
    expect(
      run(machine, [
        { op: 'append', key: 'k', value: 'a' },
        { op: 'append', key: 'k', value: 'b' },
      ]),
    ).toEqual([{ ok: true }, { ok: true }]);
    expect(machine.get('k')).toBe('ab');
    machine.apply(3, { op: 'append', key: 'e', value: '' });
    expect(machine.get('e')).toBe('');
  });

  it('cas compares with the current value, null meaning absent', () => {
    const machine = new KvStateMachine();
    const results = run(machine, [
      { op: 'cas', key: 'k', from: 'x', to: 'y' },
      { op: 'cas', key: 'k', from: null, to: 'v1' },
      { op: 'cas', key: 'k', from: null, to: 'v2' },
      { op: 'cas', key: 'k', from: 'v1', to: 'v2' },
      { op: 'cas', key: 'k', from: 'v1', to: 'v3' },
      { op: 'put', key: 'e', value: '' },
      // "" is not absent.
      { op: 'cas', key: 'e', from: null, to: 'z' },
      { op: 'cas', key: 'e', from: '', to: 'z' },
    ]);
    expect(results).toEqual([
      { ok: false, error: 'cas_mismatch', value: null },
      { ok: true },
      { ok: false, error: 'cas_mismatch', value: 'v1' },
      { ok: true },
      { ok: false, error: 'cas_mismatch', value: 'v2' },
      { ok: true },
      { ok: false, error: 'cas_mismatch', value: '' },
      { ok: true },
    ]);
    expect(machine.get('k')).toBe('v2');
    expect(machine.get('e')).toBe('z');
  });

  it('delete removes a key; deleting an absent key is fine', () => {
    const machine = new KvStateMachine();
    const results = run(machine, [
      { op: 'delete', key: 'k' },
      { op: 'put', key: 'k', value: 'v' },
      { op: 'delete', key: 'k' },
      { op: 'get', key: 'k' },
    ]);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: true, value: null }]);
    expect(machine.size().keys).toBe(0);
  });

  it('refuses an append that would pass VALUE_BYTES_MAX, changing nothing', () => {
    const machine = new KvStateMachine();
    machine.apply(1, { op: 'put', key: 'k', value: 'x'.repeat(VALUE_BYTES_MAX - 2) });
    expect(machine.apply(2, { op: 'append', key: 'k', value: 'é' })).toEqual({ ok: true });
    expect(machine.size().bytes).toBe(1 + VALUE_BYTES_MAX);
    expect(machine.apply(3, { op: 'append', key: 'k', value: 'y' })).toEqual({ ok: false, error: 'value_too_large' });
    expect(machine.get('k')?.length).toBe(VALUE_BYTES_MAX - 1);
    expect(machine.get('k')?.endsWith('xé')).toBe(true);
    // A put of the same size replaces it fine.
    expect(machine.apply(4, { op: 'put', key: 'k', value: 'z'.repeat(VALUE_BYTES_MAX) })).toEqual({ ok: true });
  });

  it('counts keys and UTF-8 bytes of keys and values', () => {
    const machine = new KvStateMachine();
    run(machine, [
      { op: 'put', key: 'a', value: 'xyz' },
      { op: 'put', key: 'é', value: '😀' },
      { op: 'append', key: 'a', value: 'é' },
      { op: 'cas', key: 'a', from: 'xyzé', to: 'q' },
    ]);
    expect(machine.size()).toEqual({ keys: 2, bytes: 1 + 1 + 2 + 4, sessions: 0, sessionsEvicted: 0 });
    run(machine, [{ op: 'delete', key: 'é' }]);
    expect(machine.size()).toEqual({ keys: 1, bytes: 2, sessions: 0, sessionsEvicted: 0 });
  });

  it('results are fresh objects: changing one does not change state or later answers', () => {
    const machine = new KvStateMachine();
    const first = machine.apply(1, { op: 'cas', key: 'k', from: 'a', to: 'b', clientId: 'c', seq: 1 }) as { value: unknown };
    first.value = 'tampered';
    expect(machine.apply(2, { op: 'cas', key: 'k', from: 'a', to: 'b', clientId: 'c', seq: 1 })).toEqual({
      ok: false,
      error: 'cas_mismatch',
      value: null,
    });
  });
});

describe('indices and assertions', () => {
  it('requires increasing indices (gaps allowed) and tracks appliedIndex', () => {
    const machine = new KvStateMachine();
    expect(machine.appliedIndex).toBe(0);
    machine.apply(3, { op: 'put', key: 'k', value: 'v' });
    machine.advance(5);
    expect(machine.appliedIndex).toBe(5);
    expect(() => machine.apply(5, { op: 'get', key: 'k' })).toThrow(KvAssertionError);
    expect(() => machine.apply(4, { op: 'get', key: 'k' })).toThrow(/index 4 does not follow applied index 5/);
    expect(() => machine.advance(0)).toThrow(KvAssertionError);
    expect(() => machine.apply(1.5 + 5, { op: 'get', key: 'k' })).toThrow(KvAssertionError);
    expect(machine.appliedIndex).toBe(5);
  });

  it('asserts on a command that skipped validation, before changing anything', () => {
    const machine = new KvStateMachine();
    const bad = [
      { op: 'frob', key: 'k' },
      { op: 'put', key: '', value: 'v' },
      { op: 'put', key: 'k', value: 5 },
      { op: 'put', key: 'k', value: 'v'.repeat(VALUE_BYTES_MAX + 1) },
      { op: 'put', key: 'k', value: '\ud800' },
      { op: 'cas', key: 'k', from: 1, to: 'v' },
      { op: 'put', key: 'k', value: 'v', clientId: 'c' },
      { op: 'put', key: 'k', value: 'v', clientId: 'c', seq: 0 },
    ];
    for (const command of bad) expect(() => machine.apply(1, command as KvCommand)).toThrow(KvAssertionError);
    expect(machine.appliedIndex).toBe(0);
    expect(machine.size()).toEqual({ keys: 0, bytes: 0, sessions: 0, sessionsEvicted: 0 });
  });
});

describe('options', () => {
  it('defaults and validation quoting the bad value', () => {
    expect(new KvStateMachine().options).toEqual({ sessionsMax: 100_000, sessionIdleEntries: 1_000_000 });
    expect(() => new KvStateMachine({ sessionsMax: 0 })).toThrow(new KvOptionsError('sessionsMax must be a positive safe integer, got 0'));
    expect(() => new KvStateMachine({ sessionIdleEntries: 1.5 })).toThrow(/sessionIdleEntries must be a positive safe integer, got 1.5/);
    expect(() => new KvStateMachine({ sessionsMax: '10' as unknown as number })).toThrow(/got "10"/);
  });
});

describe('against the naive reference', () => {
  it('gives the same results and state for random command sequences with sessions, eviction and expiry', () => {
    let expired = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(commandArbitrary({ keys: fewKeys, clients: 5, seqMax: 5 }), fc.integer({ min: 1, max: 3 })), { maxLength: 80 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 3, max: 40 }),
        (steps, sessionsMax, sessionIdleEntries) => {
          const machine = new KvStateMachine({ sessionsMax, sessionIdleEntries });
          const naive = new NaiveKv(sessionsMax, sessionIdleEntries);
          let index = 0;
          for (const [command, gap] of steps) {
            index += gap;
            const result = machine.apply(index, command);
            expect(result).toEqual(naive.apply(index, command));
            if (!result.ok && result.error === 'session_expired') expired++;
          }
          for (const key of ['a', 'b', 'é', '😀']) expect(machine.get(key)).toBe(naive.data.get(key) ?? null);
          expect(machine.size().sessions).toBe(naive.sessions.length);
          expect(machine.size().sessionsEvicted > 0).toBe(naive.everEvicted);
        },
      ),
      PROPERTY,
    );
    // The generator must reach expired sessions and stale copies, or the property checks little.
    expect(expired).toBeGreaterThan(PROPERTY.numRuns / 4);
  });
});
