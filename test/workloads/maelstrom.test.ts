// The Maelstrom message workloads' checkers on hand-made histories: every final read must hold every
// acknowledged element (g-set, broadcast), counters within the adds' bounds, unique ids, echoes.

import { describe, expect, it } from 'vitest';
import { type HistoryEvent, pairHistory } from '../../checker/history.js';
import { keyToWire } from '../../src/targets/maelstrom/client.js';
import { checkCounter, checkEcho, checkEveryFinalRead, checkUniqueIds, FINAL, gSetWorkload } from '../../workloads/maelstrom.js';

/** A history from [process, f, input, status, output, key?] ops, each completing before the next starts. */
function history(ops: [number, string, unknown, 'ok' | 'fail' | 'info', unknown, string?][]) {
  const events: HistoryEvent[] = [];
  let time = 0;
  for (const [process, f, input, status, output, key] of ops) {
    events.push({ index: events.length, time: time++, process, type: 'invoke', f, value: input, ...(key ? { key } : {}) });
    events.push({ index: events.length, time: time++, process, type: status, f, value: output, ...(key ? { key } : {}) });
  }
  return pairHistory(events, 'test');
}

describe('checkEveryFinalRead', () => {
  it('is valid when every final read holds every acknowledged element', () => {
    const h = history([
      [0, 'add', 1, 'ok', 1],
      [1, 'add', 2, 'ok', 2],
      [2, 'add', 3, 'info', undefined],
      [0, 'read', null, 'ok', [1, 2, 3], FINAL],
      [1, 'read', null, 'ok', [2, 1], FINAL],
    ]);
    expect(checkEveryFinalRead('g-set', h).valid).toBe(true);
  });

  it('is invalid when one node misses an element, and names it', () => {
    const h = history([
      [0, 'add', 1, 'ok', 1],
      [1, 'add', 2, 'ok', 2],
      [0, 'read', null, 'ok', [1, 2], FINAL],
      [1, 'read', null, 'ok', [2], FINAL],
    ]);
    const result = checkEveryFinalRead('g-set', h);
    expect(result.valid).toBe(false);
    expect(result.summary).toMatch(/1 of 2 final reads .* process 1: .*1 lost \(1\)/);
  });

  it('ignores reads of the main phase and is unknown without a final read', () => {
    const h = history([
      [0, 'add', 1, 'ok', 1],
      [0, 'read', null, 'ok', []],
    ]);
    expect(checkEveryFinalRead('broadcast', h).valid).toBe('unknown');
  });
});

describe('checkCounter', () => {
  it('allows reads between the certain and the possible sums', () => {
    const ops: [number, string, unknown, 'ok' | 'fail' | 'info', unknown, string?][] = [
      [0, 'add', 5, 'ok', 5],
      [1, 'add', 3, 'info', undefined],
      [2, 'add', -2, 'ok', -2],
      [3, 'add', -1, 'info', undefined],
      [4, 'add', 100, 'fail', undefined],
    ];
    // low = 5 - 2 - 1 = 2, high = 5 + 3 - 2 = 6.
    for (const [value, valid] of [
      [2, true],
      [6, true],
      [1, false],
      [7, false],
    ] as const) {
      const result = checkCounter('pn-counter', history([...ops, [0, 'read', null, 'ok', value, FINAL]]));
      expect(result.valid, `read ${value}: ${result.summary}`).toBe(valid);
    }
  });
});

describe('checkUniqueIds and checkEcho', () => {
  it('finds a duplicate id', () => {
    const h = history([
      [0, 'generate', undefined, 'ok', 'n1-1'],
      [1, 'generate', undefined, 'ok', 'n2-1'],
      [2, 'generate', undefined, 'ok', 'n1-1'],
    ]);
    expect(checkUniqueIds(h)).toMatchObject({ valid: false });
    expect(checkUniqueIds(history([[0, 'generate', undefined, 'ok', 1]]))).toMatchObject({ valid: true });
  });

  it('finds an echo that came back different', () => {
    expect(checkEcho(history([[0, 'echo', 'a', 'ok', 'a']])).valid).toBe(true);
    expect(checkEcho(history([[0, 'echo', 'a', 'ok', 'b']])).valid).toBe(false);
  });
});

describe('message workloads', () => {
  it('refuse KV encoding (they run only where messages are carried)', () => {
    expect(() => gSetWorkload.encode({ f: 'add', value: 1 })).toThrow(/sends messages/);
    expect(gSetWorkload.messages!.request({ f: 'add', value: 7 })).toEqual({ type: 'add', element: 7 });
  });
});

describe("lin-kv keys on Maelstrom's wire", () => {
  it('go as integers, as Maelstrom sends them, one to one for one prefix; other keys stay text', () => {
    expect([keyToWire('r0'), keyToWire('r17'), keyToWire('42')]).toEqual([0, 17, 42]);
    expect([keyToWire('alpha'), keyToWire('r1x'), keyToWire('r1234567890123456')]).toEqual(['alpha', 'r1x', 'r1234567890123456']);
  });
});
