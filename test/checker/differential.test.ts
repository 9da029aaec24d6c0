// The search agrees with a brute-force checker on random small histories, some linearizable by
// construction and some corrupted. SKEPSIS_PROPERTY_RUNS raises the number of cases.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../checker/models/index.js';
import { createPartSearch, searchPart, type SearchResult } from '../../checker/search.js';
import { bruteForceLinearizable } from './brute-force.js';
import { buildHistory, opSpec } from './random-history.js';
import { ops } from './ops.js';
import { CAS_MISMATCH } from '../../checker/models/register.js';

const RUNS = Number(process.env.SKEPSIS_PROPERTY_RUNS ?? 300);

/** The search run one step per call, as runParts slices it (a pass may end inside a slice). */
function searchInSteps(model: ReturnType<typeof createModel>, part: ReturnType<typeof buildHistory>): SearchResult {
  const search = createPartSearch(model, part);
  for (;;) {
    const result = search.run(1);
    if (result !== undefined) return result;
  }
}

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
    let leftOut = 0;
    fc.assert(
      fc.property(fc.array(opSpec, { minLength: 1, maxLength: 9 }), (specs) => {
        const ops = buildHistory(specs, false);
        const model = createModel('cas-register');
        const { unobserved: _, ...plain } = model;
        if (model.unobserved!(ops).size > 0) leftOut++;
        expect(searchPart(model, ops).verdict).toBe(searchPart(plain, ops).verdict);
      }),
      { numRuns: RUNS },
    );
    expect(leftOut).toBeGreaterThan(RUNS / 10);
  });

  it('... also when only a left-out write explains a failed cas (the whole part is searched then)', () => {
    // After a random history: write 10; an indeterminate write of 11 nobody reads; a cas from 10
    // that failed. The write of 11 explains the failure (an indeterminate write of the prefix may
    // too), so the first try usually fails and the verdict must come from the whole part: that of
    // the random prefix.
    let fellBack = 0;
    fc.assert(
      fc.property(fc.array(opSpec, { minLength: 0, maxLength: 8 }), (specs) => {
        const prefix = buildHistory(specs, false);
        const end = Math.max(0, ...prefix.map((op) => (Number.isFinite(op.ret) ? op.ret : op.call))) + 10;
        const tail = ops(
          { process: 100, f: 'write', input: 10, call: end, ret: end + 1 },
          { process: 101, f: 'write', input: 11, call: end + 2, status: 'info' },
          { process: 102, f: 'cas', input: [10, 12], call: end + 3, ret: end + 4, status: 'fail', error: CAS_MISMATCH },
        );
        const history = [...prefix, ...tail].map((op, id) => ({ ...op, id }));
        const model = createModel('cas-register');
        const { unobserved: _, ...plain } = model;
        const unobserved = model.unobserved!(history);
        expect(unobserved.has(prefix.length + 1)).toBe(true);
        const expected = searchPart(plain, prefix).verdict;
        expect(searchPart(plain, history).verdict).toBe(expected);
        const whole = searchPart(model, history);
        expect(whole.verdict).toBe(expected);
        // In slices of one step the passes pause and resume, and the result is the same.
        expect(searchInSteps(model, history)).toEqual(whole);
        const firstTry = searchPart(
          plain,
          history.filter((op) => !unobserved.has(op.id)),
        ).verdict;
        if (expected === 'ok' && firstTry === 'illegal') fellBack++;
      }),
      { numRuns: RUNS },
    );
    expect(fellBack).toBeGreaterThan(RUNS / 10);
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
