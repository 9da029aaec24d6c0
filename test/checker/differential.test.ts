// The search agrees with a brute-force checker on random small histories, some linearizable by
// construction and some corrupted. SKEPSIS_PROPERTY_RUNS raises the number of cases.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../checker/models/index.js';
import { searchPart } from '../../checker/search.js';
import { bruteForceLinearizable } from './brute-force.js';
import { buildHistory, opSpec } from './random-history.js';

const RUNS = Number(process.env.SKEPSIS_PROPERTY_RUNS ?? 300);

function searchVerdict(modelName: string, ops: ReturnType<typeof buildHistory>): boolean {
  const model = createModel(modelName);
  return model.partition(ops).every((part) => searchPart(model, part).verdict === 'ok');
}

describe('search vs brute force', () => {
  it('cas-register, one register', () => {
    let invalid = 0;
    fc.assert(
      fc.property(fc.array(opSpec, { minLength: 1, maxLength: 8 }), (specs) => {
        const ops = buildHistory(specs, false);
        const expected = bruteForceLinearizable(createModel('cas-register'), ops);
        if (!expected) invalid++;
        expect(searchVerdict('cas-register', ops)).toBe(expected);
      }),
      { numRuns: RUNS },
    );
    // The generator must produce both verdicts, or the property proves little.
    expect(invalid).toBeGreaterThan(RUNS / 20);
    expect(invalid).toBeLessThan(RUNS);
  });

  it('cas-register split by key, and checked whole', () => {
    fc.assert(
      fc.property(fc.array(opSpec, { minLength: 1, maxLength: 8 }), (specs) => {
        const ops = buildHistory(specs, true);
        const expected = bruteForceLinearizable(createModel('cas-register'), ops);
        expect(searchVerdict('cas-register', ops)).toBe(expected);
        const whole = createModel('cas-register', { whole: true });
        expect(searchPart(whole, ops).verdict === 'ok').toBe(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('leaving out unobserved indeterminate writes first gives the verdict of the whole part', () => {
    let fellBack = 0;
    let leftOut = 0;
    fc.assert(
      fc.property(fc.array(opSpec, { minLength: 1, maxLength: 9 }), (specs) => {
        const ops = buildHistory(specs, false);
        const model = createModel('cas-register');
        const unobserved = model.unobserved!(ops);
        const { unobserved: _, ...plain } = model;
        expect(searchPart(model, ops).verdict).toBe(searchPart(plain, ops).verdict);
        if (unobserved.size === 0) return;
        leftOut++;
        const without = ops.filter((op) => !unobserved.has(op.id));
        if (searchPart(plain, without).verdict === 'illegal' && searchPart(plain, ops).verdict === 'ok') fellBack++;
      }),
      { numRuns: RUNS },
    );
    // Both paths must be exercised: histories with writes to leave out, and some of them where only
    // the whole part (a failed cas relying on a left-out write) has a linearization.
    expect(leftOut).toBeGreaterThan(RUNS / 10);
    expect(fellBack).toBeGreaterThan(0);
  });

  it('without the read-only reduction, the verdict is the same', () => {
    fc.assert(
      fc.property(fc.array(opSpec, { minLength: 1, maxLength: 9 }), (specs) => {
        const ops = buildHistory(specs, false);
        const model = createModel('cas-register');
        const reduced = searchPart(model, ops).verdict;
        const plain = searchPart(model, ops, { noReadOnlyReduction: true }).verdict;
        expect(reduced).toBe(plain);
      }),
      { numRuns: RUNS },
    );
  });
});
