// Snapshots: a restored machine continues exactly like the original (property test), the bytes
// depend only on the state, and damaged or invalid bytes throw KvSnapshotError naming the problem.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  crc32,
  decodeSnapshot,
  encodeSnapshot,
  KvSnapshotError,
  KvStateMachine,
  type ClientSession,
  type KvCommand,
  type KvSnapshotState,
  type StoredValue,
} from '../../src/kv/index.js';
import { commandArbitrary, fewKeys, PROPERTY } from './arbitraries.js';

function stored(value: string): StoredValue {
  return { value, valueBytes: new TextEncoder().encode(value).length };
}

function state(overrides: Partial<KvSnapshotState> = {}): KvSnapshotState {
  return {
    sessionsMax: 10,
    sessionIdleEntries: 100,
    appliedIndex: 20,
    sessionsEvicted: 0,
    data: new Map([
      ['a', stored('1')],
      ['b', stored('2')],
    ]),
    sessions: [
      { clientId: 'c1', seq: 3, lastIndex: 10, result: { ok: true } },
      { clientId: 'c2', seq: 1, lastIndex: 12, result: { ok: false, error: 'cas_mismatch', value: null } },
    ],
    ...overrides,
  };
}

/** Byte equality without a deep-equal walk (which is very slow on megabytes). */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(
    Buffer.compare(
      Buffer.from(actual.buffer, actual.byteOffset, actual.length),
      Buffer.from(expected.buffer, expected.byteOffset, expected.length),
    ),
  ).toBe(0);
}

function restoreError(bytes: Uint8Array): string {
  try {
    KvStateMachine.restore(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(KvSnapshotError);
    return (error as Error).message;
  }
  throw new Error('expected restore to throw');
}

describe('round trip', () => {
  it('restore(snapshot()) then continuing gives identical results and bytes to the original', () => {
    const steps = fc.array(fc.tuple(commandArbitrary({ keys: fewKeys, clients: 4, seqMax: 5 }), fc.integer({ min: 1, max: 3 })), {
      maxLength: 60,
    });
    fc.assert(
      fc.property(
        steps,
        steps,
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 3, max: 30 }),
        (before, after, sessionsMax, sessionIdleEntries) => {
          const original = new KvStateMachine({ sessionsMax, sessionIdleEntries });
          let index = 0;
          for (const [command, gap] of before) original.apply((index += gap), command);
          const bytes = original.snapshot();
          const restored = KvStateMachine.restore(bytes);
          expect(restored.snapshot()).toEqual(bytes);
          expect(restored.appliedIndex).toBe(original.appliedIndex);
          expect(restored.size()).toEqual(original.size());
          expect(restored.options).toEqual(original.options);
          for (const [command, gap] of after) {
            index += gap;
            expect(restored.apply(index, command)).toEqual(original.apply(index, command));
          }
          expect(restored.snapshot()).toEqual(original.snapshot());
        },
      ),
      PROPERTY,
    );
  });

  it('keeps sessions, stored results and the evicted state', () => {
    const machine = new KvStateMachine({ sessionsMax: 1 });
    machine.apply(1, { op: 'cas', key: 'k', from: 'x', to: 'y', clientId: 'c1', seq: 1 });
    machine.apply(2, { op: 'cas', key: 'k', from: 'x', to: 'y', clientId: 'c2', seq: 1 });
    const restored = KvStateMachine.restore(machine.snapshot());
    // c2's stored mismatch answers the retry; c1 was evicted, so seq 2 is refused.
    expect(restored.apply(3, { op: 'put', key: 'k', value: 'x' })).toEqual({ ok: true });
    expect(restored.apply(4, { op: 'cas', key: 'k', from: 'x', to: 'y', clientId: 'c2', seq: 1 })).toEqual({
      ok: false,
      error: 'cas_mismatch',
      value: null,
    });
    expect(restored.apply(5, { op: 'cas', key: 'k', from: 'x', to: 'y', clientId: 'c1', seq: 2 })).toEqual({
      ok: false,
      error: 'session_expired',
    });
    expect(restored.get('k')).toBe('x');
  });

  it('round-trips every stored result kind, empty state, Unicode and large values', () => {
    const machine = new KvStateMachine();
    expect(KvStateMachine.restore(machine.snapshot()).snapshot()).toEqual(machine.snapshot());
    const big = 'é'.repeat(300_000);
    const commands: KvCommand[] = [
      { op: 'put', key: '\ufeffbom', value: '\ufeff😀', clientId: 'ok', seq: 1 },
      { op: 'cas', key: 'x', from: 'nope', to: 'v', clientId: 'mismatch-null', seq: 1 },
      { op: 'put', key: 'x', value: 'cur', clientId: 'w', seq: 1 },
      { op: 'cas', key: 'x', from: 'nope', to: 'v', clientId: 'mismatch-value', seq: 1 },
      { op: 'put', key: 'big', value: big, clientId: 'big', seq: 1 },
      { op: 'append', key: 'big', value: big, clientId: 'too-large', seq: 1 },
    ];
    const results = commands.map((command, i) => machine.apply(i + 1, command));
    expect(results[5]).toEqual({ ok: false, error: 'value_too_large' });
    const bytes = machine.snapshot();
    const restored = KvStateMachine.restore(bytes);
    expectSameBytes(restored.snapshot(), bytes);
    // Retries get the stored answers back from the restored machine.
    commands.forEach((command, i) => expect(restored.apply(10 + i, command)).toEqual(results[i]));
    expect(restored.get('\ufeffbom')).toBe('\ufeff😀');
    expect(restored.get('big')).toBe(big);
  });

  it('handles 100 000 keys', () => {
    const machine = new KvStateMachine();
    for (let i = 1; i <= 100_000; i++)
      machine.apply(i, { op: 'put', key: `key-${i}`, value: `value-${i}`, clientId: `c${i % 500}`, seq: i });
    const bytes = machine.snapshot();
    const restored = KvStateMachine.restore(bytes);
    expect(restored.size()).toEqual({ keys: 100_000, bytes: machine.size().bytes, sessions: 500, sessionsEvicted: 0 });
    expect(restored.get('key-77777')).toBe('value-77777');
    expectSameBytes(restored.snapshot(), bytes);
  });
});

describe('determinism', () => {
  it('the same state gives the same bytes, whatever order the keys were written in', () => {
    const forward = new KvStateMachine();
    const backward = new KvStateMachine();
    const keys = ['b', 'a', 'é', '😀', 'ab', 'A'];
    keys.forEach((key, i) => forward.apply(i + 1, { op: 'put', key, value: key.toUpperCase() }));
    [...keys].reverse().forEach((key, i) => backward.apply(i + 1, { op: 'put', key, value: key.toUpperCase() }));
    // A key deleted and written again moves in the map's insertion order but not in the bytes.
    forward.apply(7, { op: 'delete', key: 'b' });
    forward.apply(8, { op: 'put', key: 'b', value: 'B' });
    backward.advance(8);
    expect(forward.snapshot()).toEqual(backward.snapshot());
  });

  it('two replicas applying the same entries produce the same bytes', () => {
    const commands = fc.sample(commandArbitrary({ keys: fewKeys, clients: 3 }), { seed: PROPERTY.seed, numRuns: 300 });
    const replicas = [new KvStateMachine({ sessionsMax: 2 }), new KvStateMachine({ sessionsMax: 2 })];
    for (const replica of replicas) commands.forEach((command, i) => replica.apply(i + 1, command));
    expect(replicas[0].snapshot()).toEqual(replicas[1].snapshot());
    // ...and a different history gives different bytes (the comparison can fail).
    replicas[1].apply(1000, { op: 'put', key: 'a', value: 'different' });
    expect(replicas[0].snapshot()).not.toEqual(replicas[1].snapshot());
  });
});

describe('damaged and invalid snapshots', () => {
  it('checks the magic, version and checksum', () => {
    const good = encodeSnapshot(state());
    expect(() => decodeSnapshot(good)).not.toThrow();
    expect(restoreError(new Uint8Array(0))).toMatch(/^snapshot: expected at least 9 bytes, got 0/);
    expect(restoreError(new TextEncoder().encode('{"appliedIndex":3}'))).toMatch(/magic "SKKV"/);
    const version = good.slice();
    version[4] = 2;
    expect(restoreError(version)).toMatch(/expected format version 1, got 2/);
    const flipped = good.slice();
    flipped[good.length - 6] ^= 0x10;
    expect(restoreError(flipped)).toMatch(/checksum mismatch/);
    expect(restoreError(good.subarray(0, good.length - 1))).toMatch(/checksum mismatch/);
    expect(restoreError('nope' as unknown as Uint8Array)).toMatch(/expected a Uint8Array/);
  });

  it('detects every single-bit flip', () => {
    const good = new KvStateMachine();
    good.apply(1, { op: 'put', key: 'k', value: 'v', clientId: 'c', seq: 1 });
    const bytes = good.snapshot();
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const damaged = bytes.slice();
      damaged[bit >> 3] ^= 1 << (bit & 7);
      expect(() => KvStateMachine.restore(damaged)).toThrow(KvSnapshotError);
    }
  });

  it('validates the contents behind a good checksum, naming the field', () => {
    const session = (clientId: string, lastIndex: number, seq = 1): ClientSession => ({ clientId, seq, lastIndex, result: { ok: true } });
    const cases: [Partial<KvSnapshotState>, RegExp][] = [
      [{ sessionsMax: 0 }, /sessionsMax: expected a positive integer, got 0/],
      [{ sessionIdleEntries: 0 }, /sessionIdleEntries: expected a positive integer/],
      [{ data: new Map([['', stored('v')]]) }, /data\[0\]\.key: expected a non-empty string/],
      [{ data: new Map([['k', stored('x'.repeat(1024 * 1024 + 1))]]) }, /data\[0\]\.value: expected at most 1048576 UTF-8 bytes/],
      [{ data: new Map([['k'.repeat(1025), stored('v')]]) }, /data\[0\]\.key: expected at most 1024/],
      [{ sessions: [session('c1', 12), session('c2', 12)] }, /sessions\[1\]\.lastIndex: expected ascending indices above 12, got 12/],
      [{ sessions: [session('c1', 12), session('c1', 13)] }, /sessions\[1\]\.clientId: expected unique client ids/],
      [{ sessions: [session('c1', 21)] }, /sessions\[0\]\.lastIndex: expected at most appliedIndex = 20, got 21/],
      [
        { sessions: [session('c1', 5)], sessionIdleEntries: 15 },
        /sessions\[0\]\.lastIndex: expected a session idle for fewer than 15 entries/,
      ],
      [{ sessions: [session('c1', 5, 0)] }, /sessions\[0\]\.seq: expected a positive integer, got 0/],
      [{ sessions: [session('c1', 5), session('c2', 6)], sessionsMax: 1 }, /sessionCount: expected at most sessionsMax = 1, got 2/],
      [{ sessions: [session('', 5)] }, /sessions\[0\]\.clientId: expected a non-empty string/],
    ];
    for (const [overrides, pattern] of cases) expect(restoreError(encodeSnapshot(state(overrides)))).toMatch(pattern);
  });

  it('refuses keys out of order, and an unknown result tag, behind a good checksum', () => {
    // encodeSnapshot sorts keys, so an unsorted or duplicated list is made by swapping bytes and re-sealing.
    const bytes = encodeSnapshot(state({ sessions: [] }));
    const swapped = bytes.slice();
    const a = swapped.indexOf(0x61);
    const b = swapped.indexOf(0x62);
    swapped[a] = 0x62;
    swapped[b] = 0x61;
    expect(restoreError(reseal(swapped))).toMatch(/data\[1\]\.key: expected keys in strictly ascending order/);
    const duplicate = bytes.slice();
    duplicate[b] = 0x61;
    expect(restoreError(reseal(duplicate))).toMatch(/data\[1\]\.key: expected keys in strictly ascending order/);

    const withSession = encodeSnapshot(state({ sessions: [{ clientId: 'c', seq: 1, lastIndex: 20, result: { ok: true } }] }));
    const tag = withSession.slice();
    // The result tag is the last byte before the checksum.
    tag[tag.length - 5] = 7;
    expect(restoreError(reseal(tag))).toMatch(/sessions\[0\]\.result: expected a result tag from 0 to 3, got 7/);
    const trailing = Uint8Array.of(...withSession.subarray(0, withSession.length - 4), 0, 0, 0, 0, 0);
    expect(restoreError(reseal(trailing))).toMatch(/snapshot: expected the checksum at offset \d+, got 1 more bytes first/);
  });

  it('random bytes and random damage always give KvSnapshotError, never another exception', () => {
    const good = encodeSnapshot(state());
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: 0, max: good.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (random, at, xor) => {
          expect(() => KvStateMachine.restore(random)).toThrow(KvSnapshotError);
          const damaged = good.slice();
          damaged[at] ^= xor;
          // Re-sealed damage passes the checksum and must be caught by validation, or decode to a valid state.
          try {
            const restored = KvStateMachine.restore(reseal(damaged));
            expect(restored.snapshot()).toEqual(reseal(damaged));
          } catch (error) {
            expect(error).toBeInstanceOf(KvSnapshotError);
          }
        },
      ),
      PROPERTY,
    );
  });
});

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(new TextEncoder().encode('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });
});

/** Recomputes the checksum trailer after a deliberate edit, so that content validation is what is tested. */
function reseal(bytes: Uint8Array): Uint8Array {
  const sealed = bytes.slice();
  new DataView(sealed.buffer).setUint32(sealed.length - 4, crc32(sealed.subarray(0, sealed.length - 4)), true);
  return sealed;
}
