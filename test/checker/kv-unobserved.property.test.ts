// The key-value models' `unobserved` hook changes no verdict: on random small kv and kv-cas
// histories (one or two keys, some linearizable by construction and some corrupted), searching each
// part with the hook (first without the unobserved indeterminate writes, then whole if that finds
// no linearization) gives the verdict of searching it without the hook, and of brute force.
// SKEPSIS_PROPERTY_RUNS raises the number of cases; SKEPSIS_PROPERTY_COUNTS prints the counts.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Operation } from '../../checker/history.js';
import { CAS_MISMATCH } from '../../checker/model.js';
import { createModel } from '../../checker/models/index.js';
import { maximalTexts } from '../../checker/models/kv.js';
import { searchPart } from '../../checker/search.js';
import { bruteForceLinearizable } from './brute-force.js';
import { ops } from './ops.js';
import { buildKvHistory, kvHistorySpec } from './random-kv-history.js';

const RUNS = Number(process.env.SKEPSIS_PROPERTY_RUNS ?? 300);

const withoutThem = (part: Operation[], ids: Set<number>): Operation[] => part.filter((op) => !ids.has(op.id));

/** With SKEPSIS_PROPERTY_COUNTS set, prints how often each case came up (to tune the generator). */
function report(name: string, counts: Record<string, number>): void {
  if (process.env.SKEPSIS_PROPERTY_COUNTS) console.log(`${name}: ${JSON.stringify(counts)}`);
}

describe('key-value models: leaving out unobserved indeterminate writes first', () => {
  for (const name of ['kv', 'kv-cas']) {
    const full = name === 'kv-cas';
    it(`${name}: gives the verdict of the whole part, and of brute force`, () => {
      const model = createModel(name);
      const { unobserved: _, ...plain } = model;
      const counts = { leftOut: 0, seenWrites: 0, valid: 0, invalid: 0, fellBack: 0, rescued: 0 };
      fc.assert(
        fc.property(kvHistorySpec(full), ({ specs, keys }) => {
          const history = buildKvHistory(specs, { full, keys });
          let valid = true;
          let leftOut = false;
          for (const part of model.partition(history)) {
            const verdict = searchPart(model, part).verdict;
            expect(verdict).toBe(searchPart(plain, part).verdict);
            if (verdict !== 'ok') valid = false;
            const unobserved = model.unobserved!(part);
            // Indeterminate writes whose text some get or cas shows: these the first try keeps.
            const writes = part.filter((op) => op.status === 'info' && ['put', 'append', 'cas'].includes(op.f));
            counts.seenWrites += writes.filter((op) => !unobserved.has(op.id)).length;
            if (unobserved.size === 0) continue;
            leftOut = true;
            const firstTry = searchPart(plain, withoutThem(part, unobserved)).verdict;
            // The first try found no linearization, so the whole part was searched too.
            if (firstTry === 'illegal') counts.fellBack++;
            if (firstTry === 'illegal' && verdict === 'ok') counts.rescued++;
          }
          expect(valid).toBe(bruteForceLinearizable(plain, history));
          if (leftOut) counts.leftOut++;
          if (valid) counts.valid++;
          else counts.invalid++;
        }),
        { numRuns: RUNS },
      );
      report(name, counts);
      // The generator must often leave something out and often keep an indeterminate write because
      // its text shows, and produce both verdicts, or the property proves little.
      expect(counts.leftOut).toBeGreaterThan(RUNS / 20);
      expect(counts.seenWrites).toBeGreaterThan(RUNS / 20);
      expect(counts.valid).toBeGreaterThan(RUNS / 10);
      expect(counts.invalid).toBeGreaterThan(RUNS / 10);
      // Without cas nothing but a read observes the state, and a write's text shows in every read
      // until the next put: the first try is then complete, and the whole part is searched only to
      // confirm a violation.
      if (!full) expect(counts.rescued).toBe(0);
    });
  }

  it('kv-cas: ... also when only a left-out write explains a failed cas (the whole part is searched then)', () => {
    // After a random one-key history: put "P,"; an indeterminate append, put or cas writing "Q,"
    // that no get shows; a cas from "P," that failed. The write of "Q," explains the failure (an
    // indeterminate write of the prefix may too), so the first try usually fails and the verdict
    // must come from the whole part: that of the random prefix.
    const model = createModel('kv-cas');
    const { unobserved: _, ...plain } = model;
    let fellBack = 0;
    fc.assert(
      fc.property(kvHistorySpec(true, 8), fc.constantFrom('append', 'put', 'cas'), ({ specs }, f) => {
        const prefix = buildKvHistory(specs, { full: true, keys: 1 });
        const key = '0';
        const end = Math.max(0, ...prefix.map((op) => (Number.isFinite(op.ret) ? op.ret : op.call))) + 10;
        const tail = ops(
          { process: 100, f: 'put', key, input: 'P,', call: end, ret: end + 1 },
          { process: 101, f, key, input: f === 'cas' ? ['P,', 'Q,'] : 'Q,', call: end + 2, status: 'info' },
          { process: 102, f: 'cas', key, input: ['P,', 'R,'], call: end + 3, ret: end + 4, status: 'fail', error: CAS_MISMATCH },
        );
        const history: Operation[] = [...prefix, ...tail].map((op, id) => ({ ...op, id }));
        const unobserved = model.unobserved!(history);
        expect(unobserved.has(prefix.length + 1)).toBe(true);
        const expected = searchPart(plain, prefix).verdict;
        expect(expected).toBe(bruteForceLinearizable(plain, prefix) ? 'ok' : 'illegal');
        expect(searchPart(plain, history).verdict).toBe(expected);
        expect(searchPart(model, history).verdict).toBe(expected);
        const firstTry = searchPart(plain, withoutThem(history, unobserved)).verdict;
        if (expected === 'ok' && firstTry === 'illegal') fellBack++;
      }),
      { numRuns: RUNS },
    );
    report('kv-cas fallback', { fellBack });
    expect(fellBack).toBeGreaterThan(RUNS / 10);
  });

  it('finds a text in the observed texts reduced to the maximal ones exactly when it is in one of them all', () => {
    // Texts over a two-letter alphabet, many of them prefixes of others, around the 16-character
    // grouping; some extend another by appends, as a key's reads do.
    const text = fc.nat(40).chain((length) => fc.string({ unit: fc.constantFrom('a', 'b'), minLength: length, maxLength: length }));
    const texts = fc
      .array(text, { maxLength: 40 })
      .chain((base) =>
        fc
          .array(fc.tuple(fc.nat(Math.max(0, base.length - 1)), text), { maxLength: 40 })
          .map((grown) => [...base, ...grown.filter(() => base.length > 0).map(([i, more]) => base[i] + more)]),
      );
    let dropped = 0;
    fc.assert(
      fc.property(texts, fc.array(text, { maxLength: 20 }), (all, probes) => {
        const kept = maximalTexts(all);
        dropped += new Set(all).size - new Set(kept).size;
        for (const t of kept) expect(all).toContain(t);
        for (const t of [...all, ...probes]) {
          expect(kept.some((k) => k.includes(t))).toBe(all.some((a) => a.includes(t)));
        }
      }),
      { numRuns: RUNS },
    );
    // Not vacuous: the reduction dropped texts.
    expect(dropped).toBeGreaterThan(RUNS);
  });
});
