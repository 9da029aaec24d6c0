// The search's memory ceiling holds: a part whose tables would pass it ends `unknown` (never a
// crash, never a verdict reached past the ceiling), named with the bytes and the ceiling; a table
// too large to allocate fails alone and leaves later searches working.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../checker/check.js';
import type { History } from '../../checker/history.js';
import { createModel } from '../../checker/models/index.js';
import { formatResultText, resultJson } from '../../checker/report.js';
import { createPartSearch, int32s, searchPart, STATES_MAX } from '../../checker/search.js';
import { ops } from './ops.js';
import { buildKvHistory, kvHistorySpec } from './random-kv-history.js';

/** `count` writes one after another on one register, each of a new value: a new state each. */
function sequentialWrites(count: number) {
  return ops(...Array.from({ length: count }, (_, i) => ({ process: 0, f: 'write', input: i, call: i * 10, ret: i * 10 + 5 })));
}

/** The same as puts on `key` (kv-cas), for histories of several parts. */
function sequentialPuts(count: number, key: string) {
  return ops(...Array.from({ length: count }, (_, i) => ({ process: key, f: 'put', key, input: `v${i}`, call: i * 10, ret: i * 10 + 5 })));
}

describe('the memory ceiling', () => {
  it('ends a part unknown before a table grows past it, even one that would finish before the periodic check', () => {
    // 2,000 states: the tables grow to about 260 KiB, in fewer steps than the search takes between
    // its periodic checks. Unbounded it is linearizable.
    const history = sequentialWrites(2000);
    const model = createModel('register');
    expect(searchPart(model, history).verdict).toBe('ok');
    const ceiling = 128 << 10;
    const search = createPartSearch(model, history, { memoryBytesMax: ceiling });
    const result = search.run(Infinity)!;
    expect(result).toMatchObject({ verdict: 'unknown', reason: 'memory', memory: { bytesMax: ceiling } });
    expect(result.memory!.bytes).toBeGreaterThan(ceiling);
    expect(search.bytes).toBeLessThanOrEqual(ceiling);
    expect(result.steps).toBeLessThan(4096);
  });

  it('names the part and the ceiling in the text and the JSON', async () => {
    const operations = [...sequentialPuts(1500, 'big'), ...sequentialPuts(3, 'small')].map((op, id) => ({ ...op, id }));
    const result = await checkHistory(operations, { model: 'kv-cas', memoryBytesMax: 128 << 10, workers: 0 });
    expect(result.valid).toBe('unknown');
    expect(result.undecided).toEqual(['big']);
    const history: History = { operations, faults: [], source: 'test' };
    const model = createModel('kv-cas');
    const text = formatResultText(history, result, model);
    expect(text).toContain('undecided (memory): "big"');
    expect(text).toMatch(/key "big": over the memory ceiling of 128 KiB \(the search would hold [\d.]+ [KM]iB\)/);
    expect(resultJson(history, result, model).overMemory).toEqual([
      { key: 'big', bytes: result.results.find((r) => r.key === 'big')!.memory!.bytes, bytesMax: 128 << 10 },
    ]);
  });

  it('ends a part unknown at the most states a search can number (a Map holds 2^24), never with a RangeError', async () => {
    expect(STATES_MAX).toBeLessThan(2 ** 24);
    const model = createModel('register');
    const result = createPartSearch(model, sequentialWrites(300), { statesMax: 100 }).run(Infinity)!;
    expect(result).toMatchObject({ verdict: 'unknown', reason: 'memory', memory: { statesMax: 100 } });
    // The text says which limit it was.
    const operations = [...sequentialPuts(1500, 'big'), ...sequentialPuts(3, 'small')].map((op, id) => ({ ...op, id }));
    const checked = await checkHistory(operations, { model: 'kv-cas', memoryBytesMax: 128 << 10, workers: 0 });
    const big = checked.results.find((r) => r.key === 'big')!;
    big.memory = { ...big.memory!, statesMax: STATES_MAX };
    const text = formatResultText({ operations, faults: [], source: 'test' }, checked, createModel('kv-cas'));
    expect(text).toMatch(/key "big": over the 16,000,000 states one search can hold \(it held [\d.]+ [KM]iB\)/);
  });

  it('counts the memory held beside a part (by the other parts) against the same ceiling', () => {
    // Alone it holds about 55 KiB at the end.
    const history = sequentialWrites(300);
    const model = createModel('register');
    const ceiling = 96 << 10;
    expect(createPartSearch(model, history, { memoryBytesMax: ceiling }).run(Infinity)!.verdict).toBe('ok');
    const beside = createPartSearch(model, history, { memoryBytesMax: ceiling, memoryBytesElsewhere: () => ceiling / 2 });
    const result = beside.run(Infinity)!;
    expect(result).toMatchObject({ verdict: 'unknown', reason: 'memory', memory: { bytesMax: ceiling } });
    expect(beside.bytes + ceiling / 2).toBeLessThanOrEqual(ceiling);
  });

  it('never lets a search hold more than its ceiling, and changes no verdict it reaches (seeded)', () => {
    const model = createModel('kv-cas');
    let undecided = 0;
    let decided = 0;
    fc.assert(
      fc.property(kvHistorySpec(true, 40), fc.integer({ min: 0, max: 512 }), ({ specs, keys }, extra) => {
        for (const part of model.partition(buildKvHistory(specs, { full: true, keys }))) {
          const expected = searchPart(model, part).verdict;
          // Room for a few hundred bytes of growth past the tables the search starts with.
          const ceiling = createPartSearch(model, part).bytes + extra;
          const search = createPartSearch(model, part, { memoryBytesMax: ceiling });
          let result = search.run(50);
          while (result === undefined) {
            expect(search.bytes).toBeLessThanOrEqual(ceiling);
            result = search.run(50);
          }
          if (result.verdict === 'unknown') {
            undecided++;
            expect(result.reason).toBe('memory');
            expect(result.memory!.bytesMax).toBe(ceiling);
            expect(result.memory!.bytes).toBeGreaterThan(ceiling);
          } else {
            decided++;
            expect(result.verdict).toBe(expected);
            expect(search.bytes).toBeLessThanOrEqual(ceiling);
          }
        }
      }),
      { seed: 17, numRuns: 150 },
    );
    // The property says little unless both outcomes occur.
    expect(undecided).toBeGreaterThan(10);
    expect(decided).toBeGreaterThan(10);
  });

  it('a table too large to allocate fails alone: later searches carve and check as before', () => {
    // 2^53 + 2^31 bytes: past any ArrayBuffer, and its low 32 bits wrap negative under the old
    // `(bytes + 7) & ~7`, which left the shared chunk's offset negative for every later search.
    expect(() => int32s((2 ** 53 + 2 ** 31) / 4)).toThrow(RangeError);
    const small = int32s(5);
    expect(Array.from(small)).toEqual([0, 0, 0, 0, 0]);
    expect(searchPart(createModel('register'), sequentialWrites(50)).verdict).toBe('ok');
  });
});
