// The key-value models' `deadStates` hook (a key only appended to: every state of a linearization
// is a prefix of the longest value a get returned, or extends it) changes no verdict, and it is what
// lets a key with appends pending for seconds be decided at all.
// SKEPSIS_PROPERTY_RUNS raises the number of cases; SKEPSIS_PROPERTY_COUNTS prints the counts.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Operation } from '../../checker/history.js';
import { createModel } from '../../checker/models/index.js';
import { wholeHistoryModel } from '../../checker/models/whole.js';
import { searchPart } from '../../checker/search.js';
import { bruteForceLinearizable } from './brute-force.js';
import { ops, type OpInit } from './ops.js';
import { buildKvHistory, kvHistorySpec, type KvOpSpec } from './random-kv-history.js';

const RUNS = Number(process.env.SKEPSIS_PROPERTY_RUNS ?? 300);

/** Most histories only append and get; one in four keeps its puts, cas and deletes (the hook must then stay out). */
const appendOnly = (specs: KvOpSpec[], keepWrites: boolean): KvOpSpec[] =>
  keepWrites ? specs : specs.map((s) => ({ ...s, f: s.f === 'put' || s.f === 'cas' ? 'append' : s.f === 'delete' ? 'get' : s.f }));

describe('key-value models: states no linearization passes through (deadStates)', () => {
  for (const name of ['kv', 'kv-cas']) {
    const full = name === 'kv-cas';
    it(`${name}: cutting them gives the verdict of the plain search and of brute force`, () => {
      const model = createModel(name);
      const { deadStates: _, ...plain } = model;
      const counts = { pruned: 0, notPruned: 0, valid: 0, invalid: 0 };
      fc.assert(
        fc.property(kvHistorySpec(full, 10), fc.integer({ min: 0, max: 3 }), ({ specs, keys }, keep) => {
          const history = buildKvHistory(appendOnly(specs, keep === 0), { full, keys });
          let valid = true;
          for (const part of model.partition(history)) {
            if (model.deadStates!(part) === undefined) counts.notPruned++;
            else counts.pruned++;
            const verdict = searchPart(model, part).verdict;
            expect(verdict).toBe(searchPart(plain, part).verdict);
            if (verdict !== 'ok') valid = false;
          }
          expect(valid).toBe(bruteForceLinearizable(plain, history));
          // Checked whole (one part, every key in one state), the hook gives the same verdict.
          expect(searchPart(wholeHistoryModel(model), history).verdict === 'ok').toBe(valid);
          if (valid) counts.valid++;
          else counts.invalid++;
        }),
        { numRuns: RUNS },
      );
      if (process.env.SKEPSIS_PROPERTY_COUNTS) console.log(`${name}: ${JSON.stringify(counts)}`);
      // Both verdicts, and parts the hook prunes and parts it must leave alone, or this proves little.
      expect(counts.valid).toBeGreaterThan(RUNS / 10);
      expect(counts.invalid).toBeGreaterThan(RUNS / 10);
      expect(counts.pruned).toBeGreaterThan(RUNS / 4);
      expect(counts.notPruned).toBeGreaterThan(RUNS / 20);
    });
  }

  /**
   * The shape of a key from a chase run against a node with --unsafe-bug stale-read (suite
   * standard, seed 1): two appends pending across the whole history (a partition held their
   * replies), batches of concurrent appends whose order only later reads show, and, when `stale`,
   * a read that returns nothing after the first batch was acknowledged.
   */
  function pendingAppends(stale: boolean): Operation[] {
    const inits: OpInit[] = [
      { process: 'a', f: 'append', key: 'k', input: ' p1', call: 0, ret: 10_000 },
      { process: 'b', f: 'append', key: 'k', input: ' p2', call: 1, ret: 10_001 },
    ];
    let value = '';
    let t = 10;
    for (let batch = 0; batch < 6; batch++) {
      const texts = Array.from({ length: 5 }, (_, i) => ` ${batch * 5 + i + 1}`);
      texts.forEach((text, i) => inits.push({ process: `w${i}`, f: 'append', key: 'k', input: text, call: t + i, ret: t + 100 + i }));
      value += texts.join('');
      for (let r = 0; r < 3; r++)
        inits.push({ process: `r${r}`, f: 'get', key: 'k', output: value, call: t + 200 + r * 10, ret: t + 205 + r * 10 });
      t += 300;
    }
    if (stale) inits.push({ process: 'r9', f: 'get', key: 'k', output: null, call: t, ret: t + 5 });
    inits.push({ process: 'r0', f: 'get', key: 'k', output: `${value} p1 p2`, call: 20_000, ret: 20_005 });
    return ops(...inits);
  }

  for (const stale of [false, true]) {
    it(`kv-cas: decides a key with appends pending across it in a few thousand steps (${stale ? 'a stale read: not linearizable' : 'linearizable'})`, () => {
      const model = createModel('kv-cas');
      const { deadStates: _, ...plain } = model;
      const history = pendingAppends(stale);
      const pruned = searchPart(model, history);
      expect(pruned.verdict).toBe(stale ? 'illegal' : 'ok');
      expect(pruned.steps).toBeLessThan(5_000);
      // Without the hook the same search takes many times more steps, or runs out of the budget.
      const without = searchPart(plain, history, { memoryBytesMax: 256 * 2 ** 20 });
      expect(without.verdict === 'unknown' || without.steps > 20 * pruned.steps, `${without.verdict} in ${without.steps} steps`).toBe(true);
      if (without.verdict !== 'unknown') expect(without.verdict).toBe(pruned.verdict);
    });
  }
});
