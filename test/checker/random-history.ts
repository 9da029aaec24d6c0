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

/** When and as which process an op runs. */
export interface Placement {
  call: number;
  ret: number;
  /** When it takes effect, inside [call, ret]. */
  point: number;
  process: number;
}

/**
 * Places ops on three processes, each running one op at a time after its `gap`; an indeterminate
 * op retires its process id, and that process goes on under a new one, as in Jepsen.
 */
export function placeOps(
  specs: readonly { process: number; gap: number; duration: number; at: number; indeterminate: boolean }[],
): Placement[] {
  const free = [0, 0, 0];
  let nextProcess = 3;
  const processName = [0, 1, 2];
  return specs.map((s) => {
    const call = free[s.process] + s.gap;
    const ret = call + s.duration;
    free[s.process] = ret;
    const process = processName[s.process];
    if (s.indeterminate) processName[s.process] = nextProcess++;
    return { call, ret, point: call + s.at * s.duration, process };
  });
}

/** Op indices in the order the ops take effect (ties: spec order). */
export function effectOrder(placements: readonly Placement[]): number[] {
  return placements.map((_, i) => i).sort((x, y) => placements[x].point - placements[y].point || x - y);
}

/** What an op did, as the history records it. */
export type OpResult = Pick<Operation, 'f' | 'key' | 'status'> & Partial<Pick<Operation, 'input' | 'output' | 'error'>>;

/** The operations in call order, numbered; an info op never returns. */
export function assembleOps(placements: readonly Placement[], resultOf: (index: number) => OpResult): Operation[] {
  const ops = placements.map((p, i): Operation => {
    const result = resultOf(i);
    return {
      id: 0,
      process: p.process,
      f: result.f,
      key: result.key,
      input: result.input,
      output: result.output,
      status: result.status,
      error: result.error,
      call: p.call,
      ret: result.status === 'info' ? Infinity : p.ret,
      callIndex: i,
      retIndex: i,
      line: i + 1,
    };
  });
  ops.sort((x, y) => x.call - y.call);
  ops.forEach((op, id) => (op.id = id));
  return ops;
}

/** Builds operations for the register models (`keyed`: one register per key, as kv-cas style keys). */
export function buildHistory(specs: OpSpec[], keyed: boolean): Operation[] {
  const placements = placeOps(specs.map((s) => ({ ...s, indeterminate: s.outcome !== 'ok' })));
  const state = new Map<number, number | null>();
  const outputs = new Map<number, { output: unknown; status: OperationStatus; error?: string }>();
  for (const i of effectOrder(placements)) {
    const s = specs[i];
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
  return assembleOps(placements, (i) => {
    const s = specs[i];
    return {
      f: s.f,
      key: keyed ? String(s.key) : undefined,
      input: s.f === 'read' ? undefined : s.f === 'write' ? s.a : [s.a, s.b],
      ...outputs.get(i)!,
    };
  });
}
