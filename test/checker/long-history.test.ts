// Long single-key histories (a soak against one key): a verdict, or unknown within the memory
// ceiling naming the key and the budget, never a crash. The bench runs them at 200,000 ops.
// Replay one: npx vitest run test/checker/long-history.test.ts (the seeds are fixed below).

import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../checker/check.js';
import { createModel } from '../../checker/models/index.js';
import { formatResultText } from '../../checker/report.js';
import { longSingleKeyHistory } from './long-history.js';

describe('long single-key histories', () => {
  it('a 20,000-op register history is decided, with a small cache', async () => {
    const seed = 7;
    const operations = longSingleKeyHistory({ count: 20_000, seed, kind: 'register' });
    const result = await checkHistory(operations, { model: 'cas-register', workers: 0 });
    expect(result.valid, `seed ${seed}`).toBe(true);
    expect(result.parts).toBe(1);
    // The required sets are stored as short windows: far below a 2,500-byte bitset per entry.
    expect(result.steps).toBeLessThan(40_000);
  });

  it('a long kv history over a low ceiling ends unknown naming the key and the budget; with room it is valid', async () => {
    const seed = 11;
    const operations = longSingleKeyHistory({ count: 5_000, seed, kind: 'kv' });
    const roomy = await checkHistory(operations, { model: 'kv', workers: 0 });
    expect(roomy.valid, `seed ${seed}`).toBe(true);
    const ceiling = 256 << 10;
    const tight = await checkHistory(operations, { model: 'kv', workers: 0, memoryBytesMax: ceiling });
    expect(tight.valid, `seed ${seed}`).toBe('unknown');
    expect(tight.undecided).toEqual(['k']);
    expect(tight.results[0]).toMatchObject({ verdict: 'unknown', reason: 'memory', memory: { bytesMax: ceiling } });
    const text = formatResultText({ operations, faults: [], source: 'long' }, tight, createModel('kv'));
    expect(text).toMatch(/key "k": over the memory ceiling of 256 KiB \(the search would hold [\d.]+ [KM]iB\)/);
  });

  it('a 50,000-op kv history is decided: unobserved writes are found among tens of thousands of long reads', async () => {
    // Its gets return some 10,000 distinct values, 21 million characters in all: telling which
    // indeterminate appends nobody saw once cost too much here, nothing was left out first, and the
    // search ran out of memory (unknown after 10 s). The reads reduced to the longest of each put's
    // run (maximalTexts) are about 130 texts.
    const seed = 1;
    const operations = longSingleKeyHistory({ count: 50_000, seed, kind: 'kv' });
    const unobserved = createModel('kv').unobserved!(operations);
    expect(unobserved.size).toBeGreaterThan(0);
    const result = await checkHistory(operations, { model: 'kv', workers: 0, timeoutMs: 60_000 });
    expect(result.valid, `seed ${seed}`).toBe(true);
    expect(result.steps).toBeLessThan(100_000);
  });

  it('builds the same history from the same seed, and a different one from another', () => {
    const a = longSingleKeyHistory({ count: 300, seed: 3, kind: 'kv' });
    expect(longSingleKeyHistory({ count: 300, seed: 3, kind: 'kv' })).toEqual(a);
    expect(longSingleKeyHistory({ count: 300, seed: 4, kind: 'kv' })).not.toEqual(a);
  });
});
