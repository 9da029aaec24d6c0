// Random small concurrent histories for the key-value models (kv: get/put/append, keys start as "";
// kv-cas: also cas and delete, keys start absent), built like random-history.ts builds register
// histories: each op takes effect at a point inside its interval, so the history is linearizable by
// construction, unless a mutation then corrupts a result. Indeterminate ops may or may not apply.
//
// Written text is mostly a token unique to the op ("c," for the op at index 2), so whether an
// indeterminate append or put shows inside a get's value depends on whether it took effect and
// was read before the next put; some ops write the shared texts "x" and "xy" instead, so a text
// can also show because another op wrote it, or as part of a longer one.

import fc from 'fast-check';
import type { Operation, OperationStatus } from '../../checker/history.js';
import { CAS_MISMATCH } from '../../checker/model.js';
import { assembleOps, effectOrder, placeOps } from './random-history.js';

export type KvF = 'get' | 'put' | 'append' | 'cas' | 'delete';

export interface KvOpSpec {
  process: number;
  f: KvF;
  /** Key index; taken modulo the number of keys of the history. */
  key: number;
  /** 0-3: the op's own token; 4: "x"; 5: "xy". */
  text: number;
  /** A cas expects the value at its point, the absent value, or what the op `other` wrote. */
  from: 'current' | 'absent' | 'other';
  /** Index (modulo the history's length) of another op, whose text a cas or a corrupted get uses. */
  other: number;
  gap: number;
  duration: number;
  /** Where in [call, ret] the op takes effect, as a fraction. */
  at: number;
  /** ok, indeterminate that applied or did not, or a definite failure (a cas that completes may still mismatch). */
  outcome: 'ok' | 'info-applied' | 'info-lost' | 'fail';
  /** Corrupt the op: an ok write is lost, a failed one applies, a get returns another value, a cas reports the wrong outcome. */
  mutate: boolean;
}

const SHARED_TEXTS = ['x', 'xy'];

export function kvOpSpec(full: boolean): fc.Arbitrary<KvOpSpec> {
  const fs: KvF[] = full ? ['get', 'get', 'put', 'append', 'append', 'cas', 'delete'] : ['get', 'get', 'put', 'append', 'append'];
  return fc.record({
    process: fc.integer({ min: 0, max: 2 }),
    f: fc.constantFrom(...fs),
    key: fc.integer({ min: 0, max: 1 }),
    text: fc.integer({ min: 0, max: 5 }),
    from: fc.constantFrom('current', 'current', 'absent', 'other'),
    other: fc.nat({ max: 8 }),
    gap: fc.integer({ min: 0, max: 3 }),
    duration: fc.integer({ min: 1, max: 6 }),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    outcome: fc.constantFrom('ok', 'ok', 'ok', 'info-applied', 'info-lost', 'fail'),
    mutate: fc.integer({ min: 0, max: 2 }).map((n) => n === 0),
  });
}

/** Up to `maxLength` op specs and a number of keys (1 or 2). */
export function kvHistorySpec(full: boolean, maxLength = 9): fc.Arbitrary<{ specs: KvOpSpec[]; keys: number }> {
  return fc.record({
    specs: fc.array(kvOpSpec(full), { minLength: 1, maxLength }),
    keys: fc.integer({ min: 1, max: 2 }),
  });
}

/** The text an op writes (put, append, a cas's new value). */
function textOf(s: KvOpSpec, index: number): string {
  return s.text < 4 ? `${String.fromCharCode(97 + index)},` : SHARED_TEXTS[s.text - 4];
}

/**
 * Builds operations for the kv (`full` false) or kv-cas (`full` true) model from specs, on keys
 * "0" .. keys-1. For kv, cas and delete specs become appends and gets.
 */
export function buildKvHistory(specs: KvOpSpec[], options: { full: boolean; keys: number }): Operation[] {
  const { full, keys } = options;
  const initial: string | null = full ? null : '';
  const fOf = (s: KvOpSpec): KvF => (full ? s.f : s.f === 'cas' ? 'append' : s.f === 'delete' ? 'get' : s.f);
  const placements = placeOps(specs.map((s) => ({ ...s, indeterminate: s.outcome === 'info-applied' || s.outcome === 'info-lost' })));
  const drafts = specs.map((s, index) => {
    const other = specs.length > 1 ? (index + 1 + (s.other % (specs.length - 1))) % specs.length : index;
    return { s, f: fOf(s), text: textOf(s, index), other, key: s.key % keys };
  });
  const state = new Map<number, string | null>();
  const results = new Map<number, { input?: unknown; output?: unknown; status: OperationStatus; error?: string }>();
  for (const i of effectOrder(placements)) {
    const d = drafts[i];
    const { s, f, text } = d;
    const current = state.has(d.key) ? state.get(d.key)! : initial;
    const info = s.outcome === 'info-applied' || s.outcome === 'info-lost';
    const status: OperationStatus = info ? 'info' : s.outcome === 'fail' ? 'fail' : 'ok';
    // Whether a write takes effect: ok ones do unless lost, failed ones do not unless they wrongly did.
    const applies = s.outcome === 'info-applied' || (s.outcome === 'ok' && !s.mutate) || (s.outcome === 'fail' && s.mutate);
    switch (f) {
      case 'get': {
        if (status !== 'ok') {
          results.set(i, { status });
          break;
        }
        let output: string | null = current;
        if (s.mutate) {
          // Another op's text (it may still be explained by a concurrent write), or text nobody wrote.
          const otherText = drafts[d.other].text;
          output = otherText !== current ? otherText : `${current ?? ''}z`;
        }
        results.set(i, { output, status });
        break;
      }
      case 'put':
      case 'append':
        if (applies) state.set(d.key, f === 'put' ? text : (current ?? '') + text);
        results.set(i, { input: text, status });
        break;
      case 'delete':
        if (applies) state.set(d.key, null);
        results.set(i, { status });
        break;
      case 'cas': {
        const from = s.from === 'current' ? current : s.from === 'absent' ? null : drafts[d.other].text;
        const input = [from, text];
        const matches = from === current;
        if (s.outcome === 'ok') {
          // A completed cas: ok when it matched, a mismatch otherwise; a mutation reports the other
          // outcome (and a wrongly reported success overwrites anyway).
          const success = s.mutate ? !matches : matches;
          if (success) state.set(d.key, text);
          results.set(i, success ? { input, status: 'ok' } : { input, status: 'fail', error: CAS_MISMATCH });
        } else {
          if (matches && applies) state.set(d.key, text);
          results.set(i, { input, status });
        }
        break;
      }
    }
  }
  return assembleOps(placements, (i) => ({ f: drafts[i].f, key: String(drafts[i].key), ...results.get(i)! }));
}
