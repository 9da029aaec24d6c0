// Random small concurrent histories for property tests: processes run operations one at a time;
// each op takes effect at a point inside its interval, so the history is linearizable by
// construction, unless a mutation then corrupts a result. Indeterminate ops may or may not apply.

import fc from 'fast-check';
import type { Operation, OperationStatus } from '../../checker/history.js';
import { CAS_MISMATCH } from '../../checker/models/register.js';

export interface OpSpec {
  process: number;
  f: 'read' | 'write' | 'cas';
  key: number;
  a: number;
  b: number;
  gap: number;
  duration: number;
  /** Where in [call, ret] the op takes effect, as a fraction. */
  at: number;
  /** ok, or indeterminate that applied, or indeterminate that did not. */
  outcome: 'ok' | 'info-applied' | 'info-lost';
  mutate: boolean;
}

export const opSpec: fc.Arbitrary<OpSpec> = fc.record({
  process: fc.integer({ min: 0, max: 2 }),
  f: fc.constantFrom('read', 'write', 'cas'),
  key: fc.integer({ min: 0, max: 1 }),
  a: fc.integer({ min: 0, max: 2 }),
  b: fc.integer({ min: 0, max: 2 }),
  gap: fc.integer({ min: 0, max: 3 }),
  duration: fc.integer({ min: 1, max: 6 }),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  outcome: fc.constantFrom('ok', 'ok', 'ok', 'info-applied', 'info-lost'),
  mutate: fc.boolean(),
});

/** Builds operations for the register models (`keyed`: one register per key, as kv-cas style keys). */
export function buildHistory(specs: OpSpec[], keyed: boolean): Operation[] {
  const free = [0, 0, 0];
  const retired = new Set<number>();
  let nextProcess = 3;
  const processName = [0, 1, 2];
  const drafts = specs.map((s) => {
    const call = free[s.process] + s.gap;
    const ret = call + s.duration;
    free[s.process] = ret;
    const process = processName[s.process];
    // An indeterminate op retires its process id, as in Jepsen.
    if (s.outcome !== 'ok') {
      retired.add(process);
      processName[s.process] = nextProcess++;
    }
    return { s, call, ret, point: call + s.at * s.duration, process };
  });
  const state = new Map<number, number | null>();
  const outputs = new Map<number, { output: unknown; status: OperationStatus; error?: string }>();
  const byPoint = drafts.map((d, i) => ({ d, i })).sort((x, y) => x.d.point - y.d.point || x.i - y.i);
  for (const { d, i } of byPoint) {
    const { s } = d;
    const key = keyed ? s.key : 0;
    const current = state.get(key) ?? null;
    const applies = s.outcome !== 'info-lost';
    if (s.f === 'read') {
      const value = s.mutate ? (current === null ? s.a : (current + 1) % 3) : current;
      outputs.set(i, s.outcome === 'ok' ? { output: value, status: 'ok' } : { output: undefined, status: 'info' });
    } else if (s.f === 'write') {
      if (applies && !(s.mutate && s.outcome === 'ok')) state.set(key, s.a);
      outputs.set(i, { output: s.a, status: s.outcome === 'ok' ? 'ok' : 'info' });
    } else {
      const matches = current === s.a;
      if (matches && applies) state.set(key, s.b);
      if (s.outcome !== 'ok') outputs.set(i, { output: undefined, status: 'info' });
      else if (s.mutate ? !matches : matches) outputs.set(i, { output: [s.a, s.b], status: 'ok' });
      else outputs.set(i, { output: [s.a, s.b], status: 'fail', error: CAS_MISMATCH });
    }
  }
  const ops = drafts.map((d, i): Operation => {
    const out = outputs.get(i)!;
    return {
      id: 0,
      process: d.process,
      f: d.s.f,
      key: keyed ? String(d.s.key) : undefined,
      input: d.s.f === 'read' ? undefined : d.s.f === 'write' ? d.s.a : [d.s.a, d.s.b],
      output: out.output,
      status: out.status,
      error: out.error,
      call: d.call,
      ret: out.status === 'info' ? Infinity : d.ret,
      callIndex: i,
      retIndex: i,
      line: i + 1,
    };
  });
  ops.sort((x, y) => x.call - y.call);
  ops.forEach((op, id) => (op.id = id));
  return ops;
}
