// The runner against an in-memory KV store with real (short) random delays: histories it records
// parse and check valid, timeouts become info with new processes, a stale-read store is caught,
// and time limits, aborts, client errors and the history bound all end the run cleanly.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkHistory } from '../../checker/check.js';
import { parseHistoryText } from '../../checker/format/index.js';
import type { History } from '../../checker/history.js';
import { HistoryLimitError, Recorder } from '../../src/harness/recorder.js';
import { ClientContractError, runWorkload, RunnerOptionsError, type RunProgress } from '../../src/harness/runner.js';
import { limit, repeat, type Generator } from '../../workloads/generator.js';
import { kvWorkload } from '../../workloads/kv.js';
import { registerWorkload } from '../../workloads/register.js';
import { setWorkload } from '../../workloads/set.js';
import type { Client, Completion } from '../../workloads/types.js';
import { MemoryKvStore, type MemoryStoreOptions } from '../workloads/memory-store.js';

let dir: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'skepsis-runner-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function recorder(eventsMax?: number): Recorder {
  const made = new Recorder({ path: join(dir, `history-${Math.random().toString(36).slice(2)}.jsonl`), eventsMax });
  cleanups.push(() => made.close());
  return made;
}

function store(options: MemoryStoreOptions): MemoryKvStore {
  const made = new MemoryKvStore(options);
  cleanups.push(() => made.dispose());
  return made;
}

/** The history as the checker reads it from the recorder's file. */
async function fileHistory(rec: Recorder): Promise<History> {
  await rec.close();
  return parseHistoryText(readFileSync(rec.path!, 'utf8'), rec.path!).history;
}

describe('runWorkload', () => {
  it('runs the register workload; the recorded file parses and checks linearizable', async () => {
    const rec = recorder();
    const memory = store({ seed: 1, latencyMsMax: 2 });
    const stats = await runWorkload({
      generator: limit(300, registerWorkload.generator({ rateOpsPerSecond: 0 })),
      clientFactory: memory.factory(registerWorkload),
      concurrency: 4,
      seed: 1,
      recorder: rec,
      timeLimitMs: 20_000,
    });
    expect(stats).toMatchObject({ invoked: 300, info: 0, stopReason: 'done', processesUsed: 4, nextProcess: 4 });
    expect(stats.ok + stats.fail).toBe(300);
    expect(stats.byF.read.ok).toBeGreaterThan(50);
    const history = await fileHistory(rec);
    expect(history.operations).toHaveLength(300);
    // Every invoke precedes its completion in the file, one call per process at a time (pairHistory checks).
    expect(new Set(history.operations.map((op) => op.process))).toEqual(new Set([0, 1, 2, 3]));
    const result = await checkHistory(history.operations, { model: 'cas-register' });
    expect(result.valid).toBe(true);
    // All clients closed.
    expect(memory.closedClients.sort()).toEqual([0, 1, 2, 3]);
  });

  it('records timeouts as info and moves the thread to a new process with a fresh client', async () => {
    const rec = recorder();
    const memory = store({ seed: 2, latencyMsMax: 1, hangProbability: 0.05, hangIgnoresAbort: true });
    const stats = await runWorkload({
      generator: limit(200, registerWorkload.generator({ rateOpsPerSecond: 0 })),
      clientFactory: memory.factory(registerWorkload),
      concurrency: 3,
      seed: 2,
      recorder: rec,
      opTimeoutMs: 40,
    });
    expect(stats.info).toBeGreaterThan(0);
    expect(stats.processesUsed).toBe(3 + stats.info);
    const history = await fileHistory(rec);
    const infos = history.operations.filter((op) => op.status === 'info');
    expect(infos.every((op) => op.error === 'timeout')).toBe(true);
    // Each retired process never invokes again; its thread continues as process + 3.
    for (const op of infos) {
      const process = op.process as number;
      expect(history.operations.filter((other) => other.process === process && other.call > op.call)).toEqual([]);
      expect(memory.createdClients).toContain(process + 3);
      expect(memory.closedClients).toContain(process);
    }
    expect(memory.createdClients).toHaveLength(3 + stats.info);
    expect(memory.closedClients.sort()).toEqual([...memory.createdClients].sort());
    // Indeterminate writes may have applied or not: still linearizable.
    expect((await checkHistory(history.operations, { model: 'cas-register' })).valid).toBe(true);
  });

  it('catches a store that serves stale reads', async () => {
    const rec = recorder();
    const memory = store({ seed: 3, latencyMsMax: 1, staleReads: true });
    await runWorkload({
      generator: limit(200, registerWorkload.generator({ rateOpsPerSecond: 0 })),
      clientFactory: memory.factory(registerWorkload),
      concurrency: 3,
      seed: 3,
      recorder: rec,
    });
    const history = await fileHistory(rec);
    expect((await checkHistory(history.operations, { model: 'cas-register' })).valid).toBe(false);
  });

  it('runs kv and then its final reads as a second run, continuing the process numbering', async () => {
    const rec = recorder();
    const memory = store({ seed: 4, latencyMsMax: 1 });
    const options = { rateOpsPerSecond: 0, opsPerKey: 30 };
    const main = await runWorkload({
      generator: limit(240, kvWorkload.generator(options)),
      clientFactory: memory.factory(kvWorkload),
      concurrency: 4,
      seed: 4,
      recorder: rec,
    });
    const final = await runWorkload({
      generator: kvWorkload.finalGenerator!(options, { events: rec.events }),
      clientFactory: memory.factory(kvWorkload),
      concurrency: 4,
      seed: 5,
      recorder: rec,
    });
    expect(main.nextProcess).toBe(4);
    expect(final.stopReason).toBe('done');
    const history = await fileHistory(rec);
    const finalReads = history.operations.filter((op) => (op.process as number) >= 4);
    expect(finalReads.every((op) => op.f === 'get' && op.status === 'ok')).toBe(true);
    expect(new Set(finalReads.map((op) => op.key)).size).toBe(new Set(history.operations.map((op) => op.key)).size);
    expect((await checkHistory(history.operations, { model: 'kv-cas' })).valid).toBe(true);
  });

  it('runs set adds and final reads; checkSet finds nothing lost', async () => {
    const rec = recorder();
    const memory = store({ seed: 6, latencyMsMax: 1 });
    await runWorkload({
      generator: limit(150, setWorkload.generator({ rateOpsPerSecond: 0 })),
      clientFactory: memory.factory(setWorkload),
      concurrency: 3,
      seed: 6,
      recorder: rec,
    });
    await runWorkload({
      generator: setWorkload.finalGenerator!({}, { events: rec.events }),
      clientFactory: memory.factory(setWorkload),
      concurrency: 3,
      seed: 7,
      recorder: rec,
    });
    const result = setWorkload.check!(await fileHistory(rec));
    expect(result).toMatchObject({ valid: true, acknowledged: 150, finalReadSize: 150, lost: [] });
  });

  it('stops issuing at the time limit, reports progress, and holds the rate', async () => {
    const rec = recorder();
    const memory = store({ seed: 7, latencyMsMax: 1 });
    const progress: RunProgress[] = [];
    const stats = await runWorkload({
      generator: registerWorkload.generator({ rateOpsPerSecond: 200 }),
      clientFactory: memory.factory(registerWorkload),
      concurrency: 2,
      seed: 7,
      recorder: rec,
      timeLimitMs: 600,
      progressIntervalMs: 100,
      onProgress: (p) => progress.push(p),
    });
    expect(stats.stopReason).toBe('time-limit');
    expect(stats.elapsedMs).toBeGreaterThanOrEqual(600);
    expect(stats.elapsedMs).toBeLessThan(3000);
    // 200/s for 0.6 s: about 120; generous bounds for a busy machine.
    expect(stats.invoked).toBeGreaterThan(60);
    expect(stats.invoked).toBeLessThan(200);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    const last = progress[progress.length - 1];
    expect(last.ok + last.fail + last.info).toBe(stats.invoked);
    expect(last.inFlight).toBe(0);
    expect(progress.some((p) => p.opsPerSecond > 0)).toBe(true);
  });

  it('on abort, records the ops in flight as info "aborted" and returns promptly', async () => {
    const rec = recorder();
    const memory = store({ seed: 8, latencyMsMax: 1, hangProbability: 1, hangIgnoresAbort: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    const stats = await runWorkload({
      generator: registerWorkload.generator({ rateOpsPerSecond: 0 }),
      clientFactory: memory.factory(registerWorkload),
      concurrency: 3,
      seed: 8,
      recorder: rec,
      opTimeoutMs: 60_000,
      signal: controller.signal,
    });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(stats).toMatchObject({ stopReason: 'aborted', invoked: 3, info: 3 });
    const history = await fileHistory(rec);
    expect(history.operations.map((op) => op.error)).toEqual(['aborted', 'aborted', 'aborted']);
  });

  it('records a client that throws or rejects as info with its message', async () => {
    const rec = recorder();
    let calls = 0;
    const client = (): Client => ({
      async invoke(): Promise<Completion> {
        calls++;
        if (calls === 1) throw new Error('connection reset');
        return { type: 'ok', value: null };
      },
      close: async () => {},
    });
    const stats = await runWorkload({
      generator: limit(3, repeat({ f: 'read', key: 'r' })),
      clientFactory: client,
      concurrency: 1,
      seed: 1,
      recorder: rec,
    });
    expect(stats).toMatchObject({ info: 1, ok: 2, nextProcess: 2 });
    const history = await fileHistory(rec);
    expect(history.operations.map((op) => [op.process, op.status, op.error])).toEqual([
      [0, 'info', 'connection reset'],
      [1, 'ok', undefined],
      [1, 'ok', undefined],
    ]);
  });

  it('stops with the history bound error, the file still well formed', async () => {
    const rec = recorder(41);
    const memory = store({ seed: 9, latencyMsMax: 1 });
    await expect(
      runWorkload({
        generator: registerWorkload.generator({ rateOpsPerSecond: 0 }),
        clientFactory: memory.factory(registerWorkload),
        concurrency: 3,
        seed: 9,
        recorder: rec,
      }),
    ).rejects.toThrow(HistoryLimitError);
    const history = await fileHistory(rec);
    expect(rec.events.length).toBeLessThanOrEqual(41);
    expect(history.operations.every((op) => op.status !== 'info')).toBe(true);
    expect(memory.closedClients).toHaveLength(3);
  });

  it('stops on a client that breaks its contract', async () => {
    const rec = recorder();
    const broken = (): Client => ({ invoke: async () => ({ type: 'maybe' }) as unknown as Completion, close: async () => {} });
    await expect(
      runWorkload({ generator: repeat({ f: 'read' }), clientFactory: broken, concurrency: 2, seed: 1, recorder: rec }),
    ).rejects.toThrow(ClientContractError);
  });

  it('surfaces a stuck generator instead of waiting forever', async () => {
    const stuck: Generator = { name: 'stuck', op: () => ({ type: 'pending', next: stuck }) };
    const memory = store({ seed: 1 });
    await expect(
      runWorkload({ generator: stuck, clientFactory: memory.factory(registerWorkload), concurrency: 1, seed: 1, recorder: recorder() }),
    ).rejects.toThrow(/is stuck/);
    expect(memory.closedClients).toEqual([0]);
  });

  it('validates its options, quoting the bad value', async () => {
    const base = {
      generator: repeat({ f: 'read' }),
      clientFactory: store({ seed: 1 }).factory(registerWorkload),
      seed: 1,
      recorder: recorder(),
    };
    await expect(runWorkload({ ...base, concurrency: 0 })).rejects.toThrow(RunnerOptionsError);
    await expect(runWorkload({ ...base, concurrency: 1, opTimeoutMs: 0 })).rejects.toThrow('opTimeoutMs must be a number >= 1, got 0');
  });
});
