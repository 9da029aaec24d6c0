// The workloads: their op streams, their mapping to KV commands, the set checker, the registry and
// option parsing, and whole simulated runs checked by the real checker against each workload's model.

import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../checker/check.js';
import { pairHistory, type HistoryEvent } from '../../checker/history.js';
import { ops as operations } from '../checker/ops.js';
import { limit, phases, timeLimit } from '../../workloads/generator.js';
import { describeWorkloads, getWorkload, parseWorkloadOptions, WORKLOAD_NAMES, WorkloadOptionsError } from '../../workloads/index.js';
import { applyKvCommand, UnknownOperationError } from '../../workloads/kv-command.js';
import { kvWorkload } from '../../workloads/kv.js';
import { registerWorkload } from '../../workloads/register.js';
import { checkSet, parseSetElements, setWorkload } from '../../workloads/set.js';
import { simulatedHistory, simulateGenerator } from '../../workloads/simulate.js';
import type { OpSpec, Workload } from '../../workloads/types.js';

/** Runs a workload's main phase then its final phase on a virtual clock against an in-memory store. */
function simulateWorkload(
  workload: Workload<any>,
  options: Record<string, unknown>,
  run: { threads: number; seed: number; ops: number; staleReads?: boolean },
): HistoryEvent[] {
  const data = new Map<string, string>();
  const previous = new Map<string, string | null>();
  const respond = (op: OpSpec) => {
    const command = workload.encode(op);
    if (run.staleReads && command.kind === 'get' && previous.has(command.key)) {
      return workload.decode(op, { type: 'ok', value: previous.get(command.key) ?? null });
    }
    const before = data.get(command.key) ?? null;
    const reply = applyKvCommand(data, command);
    if (command.kind !== 'get' && reply.type === 'ok') previous.set(command.key, before);
    return workload.decode(op, reply);
  };
  const main = simulateGenerator(limit(run.ops, workload.generator(options)), {
    threads: run.threads,
    seed: run.seed,
    latencyMs: (_, random) => random.nextInt(1, 30),
    respond,
  });
  const events = simulatedHistory(main.ops);
  if (workload.finalGenerator === undefined) return events;
  const final = simulateGenerator(workload.finalGenerator(options, { events }), { threads: run.threads, seed: run.seed, respond });
  const offsetMs = main.endMs + 1;
  const shifted = final.ops.map((op) => ({
    ...op,
    process: op.process + 1000,
    invokeMs: op.invokeMs + offsetMs,
    completeMs: op.completeMs + offsetMs,
    invokeSeq: op.invokeSeq + 1e9,
    completeSeq: op.completeSeq + 1e9,
  }));
  return simulatedHistory([...main.ops, ...shifted]);
}

describe('register', () => {
  const run = (seed: number) =>
    simulateGenerator(limit(300, registerWorkload.generator({ rateOpsPerSecond: 0 })), { threads: 3, seed }).ops;

  it('reads, writes unique increasing values, and cas [from, to] with a new to, on a fresh key every 200 ops', () => {
    const ops = run(1).map((op) => op.op);
    expect(new Set(ops.map((op) => op.f))).toEqual(new Set(['read', 'write', 'cas']));
    expect(new Set(ops.map((op) => op.key))).toEqual(new Set(['r0', 'r1']));
    expect(ops.filter((op) => op.key === 'r0')).toHaveLength(200);
    for (const key of ['r0', 'r1']) {
      const written = ops
        .filter((op) => op.key === key && op.f !== 'read')
        .map((op) => (op.f === 'cas' ? (op.value as number[])[1] : op.value));
      expect(written).toEqual(written.map((_, i) => i + 1));
    }
    for (const op of ops.filter((o) => o.f === 'cas')) {
      const [from, to] = op.value as [number | null, number];
      if (from !== null) {
        expect(from).toBeLessThan(to);
        expect(from).toBeGreaterThanOrEqual(to - 3);
      }
    }
  });

  it('with read-phase-ms, every other phase only reads; between them all three kinds run', () => {
    const sim = simulateGenerator(registerWorkload.generator({ rateOpsPerSecond: 200, readPhaseMs: 1000 }), {
      threads: 4,
      seed: 2,
      timeLimitMs: 6000,
    });
    const inPhase = (op: { invokeMs: number }, odd: boolean) => (Math.floor(op.invokeMs / 1000) % 2 === 1) === odd;
    const readOnly = sim.ops.filter((op) => inPhase(op, true));
    const mixed = sim.ops.filter((op) => inPhase(op, false));
    expect(readOnly.length).toBeGreaterThan(300);
    expect(new Set(readOnly.map((op) => op.op.f))).toEqual(new Set(['read']));
    expect(new Set(mixed.map((op) => op.op.f))).toEqual(new Set(['read', 'write', 'cas']));
  });

  it('is deterministic per seed', () => {
    expect(run(4)).toEqual(run(4));
    expect(run(4)).not.toEqual(run(5));
  });

  it('maps ops to get/put/cas and decodes numbers', () => {
    expect(registerWorkload.encode({ f: 'read', key: 'r' })).toEqual({ kind: 'get', key: 'r' });
    expect(registerWorkload.encode({ f: 'write', key: 'r', value: 7 })).toEqual({ kind: 'put', key: 'r', value: '7' });
    expect(registerWorkload.encode({ f: 'cas', key: 'r', value: [null, 2] })).toEqual({ kind: 'cas', key: 'r', from: null, to: '2' });
    expect(registerWorkload.decode({ f: 'read', key: 'r' }, { type: 'ok', value: '12' })).toEqual({ type: 'ok', value: 12 });
    expect(registerWorkload.decode({ f: 'read', key: 'r' }, { type: 'ok', value: null })).toEqual({ type: 'ok', value: null });
    expect(registerWorkload.decode({ f: 'cas', key: 'r', value: [1, 2] }, { type: 'fail', error: 'cas_mismatch' })).toEqual({
      type: 'fail',
      error: 'cas_mismatch',
    });
    expect(registerWorkload.decode({ f: 'write', key: 'r', value: 3 }, { type: 'info', error: 'timeout' })).toEqual({
      type: 'info',
      error: 'timeout',
    });
    expect(() => registerWorkload.encode({ f: 'append', key: 'r', value: 'x' })).toThrow(UnknownOperationError);
  });

  it('a simulated run against a correct store is linearizable; with stale reads it is not', async () => {
    const good = pairHistory(simulateWorkload(registerWorkload, { rateOpsPerSecond: 0 }, { threads: 4, seed: 3, ops: 400 }), 'sim');
    expect(good.operations.filter((op) => op.f === 'cas' && op.status === 'ok').length).toBeGreaterThan(10);
    expect((await checkHistory(good.operations, { model: registerWorkload.model! })).valid).toBe(true);
    const stale = pairHistory(
      simulateWorkload(registerWorkload, { rateOpsPerSecond: 0 }, { threads: 4, seed: 3, ops: 400, staleReads: true }),
      'sim',
    );
    expect((await checkHistory(stale.operations, { model: registerWorkload.model! })).valid).toBe(false);
  });
});

describe('kv', () => {
  it('spreads ops over fresh keys, a group of threads per key, with unique string values', () => {
    const ops = simulateGenerator(kvWorkload.generator({ rateOpsPerSecond: 0, opsPerKey: 50, threadsPerKey: 2, keysMax: 12 }), {
      threads: 4,
      seed: 2,
      latencyMs: (_, random) => random.nextInt(1, 10),
    }).ops;
    const byKey = new Map<string, OpSpec[]>();
    for (const { op } of ops) byKey.set(op.key!, [...(byKey.get(op.key!) ?? []), op]);
    expect(ops).toHaveLength(600);
    expect(byKey.size).toBe(12);
    for (const keyOps of byKey.values()) {
      expect(keyOps).toHaveLength(50);
      const values = keyOps.filter((op) => op.f !== 'get').map((op) => String(op.value).trim());
      expect(new Set(values).size).toBe(values.length);
      expect(keyOps.filter((op) => op.f !== 'get').every((op) => typeof op.value === 'string')).toBe(true);
    }
  });

  it('final reads cover every key touched, split among threads', () => {
    const events: HistoryEvent[] = ['a', 'b', 'c', 'a'].map((key, index) => ({
      index,
      time: index,
      process: index,
      type: 'invoke',
      f: 'get',
      key,
    }));
    const result = simulateGenerator(kvWorkload.finalGenerator!({}, { events }), { threads: 2, seed: 1 });
    expect(result.ops.map((op) => op.op.key).sort()).toEqual(['a', 'b', 'c']);
    expect(new Set(result.ops.map((op) => op.thread)).size).toBe(2);
  });

  it('simulated runs check valid key by key as kv-cas, and stale reads do not', async () => {
    const options = { rateOpsPerSecond: 0, opsPerKey: 40 };
    const good = pairHistory(simulateWorkload(kvWorkload, options, { threads: 4, seed: 8, ops: 400 }), 'sim');
    const result = await checkHistory(good.operations, { model: kvWorkload.model! });
    expect(result.valid).toBe(true);
    // 400 ops at 40 per key: about 10 keys (the two groups stop mid-key at the limit).
    expect(result.parts).toBeGreaterThanOrEqual(10);
    expect(result.parts).toBeLessThanOrEqual(12);
    const stale = pairHistory(simulateWorkload(kvWorkload, options, { threads: 4, seed: 8, ops: 400, staleReads: true }), 'sim');
    expect((await checkHistory(stale.operations, { model: kvWorkload.model! })).valid).toBe(false);
  });

  it('maps ops to KV commands', () => {
    expect(kvWorkload.encode({ f: 'append', key: 'k1', value: ' 3' })).toEqual({ kind: 'append', key: 'k1', value: ' 3' });
    expect(kvWorkload.decode({ f: 'get', key: 'k1' }, { type: 'ok' })).toEqual({ type: 'ok', value: null });
    expect(() => kvWorkload.encode({ f: 'get' })).toThrow(/needs a key/);
    expect(() => kvWorkload.encode({ f: 'put', key: 'k', value: 3 })).toThrow(/needs a string value, got 3/);
  });
});

describe('set', () => {
  it('adds unique elements, encoded as appends of " n"', () => {
    const ops = simulateGenerator(limit(5, setWorkload.generator({})), { threads: 2, seed: 1 }).ops.map((op) => op.op);
    expect(ops).toEqual([1, 2, 3, 4, 5].map((n) => ({ f: 'add', key: 'set', value: n })));
    expect(setWorkload.encode(ops[0])).toEqual({ kind: 'append', key: 'set', value: ' 1' });
    expect(setWorkload.decode({ f: 'read', key: 'set' }, { type: 'ok', value: ' 1 2 2 x' })).toEqual({ type: 'ok', value: [1, 2, 2, 'x'] });
  });

  it('parses reads given as lists or as raw text', () => {
    expect(parseSetElements([1, '2'])).toEqual([1, 2]);
    expect(parseSetElements(' 3  4 ')).toEqual([3, 4]);
    expect(parseSetElements(null)).toEqual([]);
  });

  const add = (n: number, status: 'ok' | 'fail' | 'info', call: number, ret = call + 1) => ({
    process: n,
    f: 'add',
    key: 'set',
    input: n,
    status,
    call,
    ret,
  });
  const read = (output: unknown, call = 100) => ({ process: 99, f: 'read', key: 'set', output, call, ret: call + 1 });

  it('is valid when every acknowledged element is read back once', () => {
    const result = checkSet(operations(add(1, 'ok', 0), add(2, 'ok', 1), add(3, 'info', 2), read([1, 2])));
    expect(result.valid).toBe(true);
    expect(result).toMatchObject({ acknowledged: 2, indeterminate: 1, lost: [], recovered: [], finalReadSize: 2 });
  });

  it('reports lost elements', () => {
    const result = checkSet(operations(add(1, 'ok', 0), add(2, 'ok', 1), add(3, 'ok', 2), read([1])));
    expect(result.valid).toBe(false);
    expect(result.lost).toEqual([2, 3]);
    expect(result.summary).toContain('2 lost (2 3)');
  });

  it('does not count an add acknowledged after the read began as lost', () => {
    const result = checkSet(operations(add(1, 'ok', 0), add(2, 'ok', 95, 105), read([1], 100)));
    expect(result.valid).toBe(true);
  });

  it('reports duplicated and unexpected elements (including definitely failed adds)', () => {
    const result = checkSet(operations(add(1, 'ok', 0), add(2, 'fail', 1), read([1, 1, 2, 7])));
    expect(result.valid).toBe(false);
    expect(result.duplicated).toEqual([1]);
    expect(result.unexpected).toEqual([2, 7]);
  });

  it('reports recovered indeterminate adds', () => {
    const result = checkSet(operations(add(1, 'ok', 0), add(2, 'info', 1), add(3, 'info', 2), read(' 1 3')));
    expect(result.valid).toBe(true);
    expect(result.recovered).toEqual([3]);
  });

  it('uses the read that completed last', () => {
    const result = checkSet(operations(add(1, 'ok', 0), add(2, 'ok', 1), read([1, 2], 100), read([1], 200)));
    expect(result.lost).toEqual([2]);
  });

  it('is unknown without a successful final read', () => {
    const failedRead = { ...read(undefined), status: 'info' as const };
    const result = checkSet(operations(add(1, 'ok', 0), failedRead));
    expect(result.valid).toBe('unknown');
    expect(result.summary).toContain('no successful read');
    expect(setWorkload.check!(pairHistory([], 'empty')).valid).toBe('unknown');
  });

  it('a simulated run with final reads is valid', () => {
    const history = pairHistory(simulateWorkload(setWorkload, { rateOpsPerSecond: 0 }, { threads: 3, seed: 4, ops: 200 }), 'sim');
    const result = setWorkload.check!(history);
    expect(result).toMatchObject({ valid: true, acknowledged: 200, finalReadSize: 200 });
  });
});

describe('registry and options', () => {
  it('lists the workloads and finds them by name', () => {
    expect(WORKLOAD_NAMES).toEqual([
      'register',
      'kv',
      'set',
      'lin-kv',
      'g-set',
      'broadcast',
      'g-counter',
      'pn-counter',
      'unique-ids',
      'echo',
    ]);
    for (const name of WORKLOAD_NAMES) expect(getWorkload(name).name).toBe(name);
    expect(describeWorkloads()).toContain('--ops-per-key');
  });

  it('names the allowed workloads for an unknown one', () => {
    expect(() => getWorkload('regster')).toThrow(WorkloadOptionsError);
    expect(() => getWorkload('regster')).toThrow(
      'unknown workload "regster" (allowed: register, kv, set, lin-kv, g-set, broadcast, g-counter, pn-counter, unique-ids, echo)',
    );
  });

  it('parses options from command-line text, kebab-case or camelCase, with defaults', () => {
    expect(parseWorkloadOptions('kv', { 'ops-per-key': '20', threadsPerKey: 3 })).toMatchObject({
      opsPerKey: 20,
      threadsPerKey: 3,
      rateOpsPerSecond: 200,
    });
  });

  it('rejects bad values and unknown options, quoting them', () => {
    expect(() => parseWorkloadOptions('kv', { 'ops-per-key': 'many' })).toThrow(
      'workload kv: --ops-per-key must be an integer from 1 to 1000000, got "many"',
    );
    expect(() => parseWorkloadOptions('kv', { 'ops-per-key': '2.5' })).toThrow(/got "2.5"/);
    expect(() => parseWorkloadOptions('register', { 'rate-ops-per-second': -1 })).toThrow(/got -1/);
    expect(() => parseWorkloadOptions('set', { keys: 3 })).toThrow(
      'workload set has no option "keys" (allowed: key, rate-ops-per-second, final-read-attempts)',
    );
    expect(() => parseWorkloadOptions('register', { readWeight: 0, writeWeight: 0, casWeight: 0 })).toThrow(
      /at least one of --read-weight/,
    );
    expect(() => registerWorkload.generator({ casWindow: 0 })).toThrow(WorkloadOptionsError);
  });

  it('leaves the time limit to the runner: main generators are endless', () => {
    const result = simulateGenerator(timeLimit(2000, phases(setWorkload.generator({ rateOpsPerSecond: 100 }))), { threads: 2, seed: 1 });
    expect(result.stopReason).toBe('done');
    expect(result.ops.length).toBeGreaterThan(150);
  });
});
