// The schedule on a virtual clock with a recording Db: alternation, jittered intervals, mixed kinds,
// the time limit, determinism per seed, and the final heal (also when aborted mid-fault).

import { describe, expect, it } from 'vitest';
import { createNemesis } from '../../nemesis/nemesis.js';
import { runSchedule, ScheduleOptionsError, type ScheduleOptions, type ScheduleResult } from '../../nemesis/schedule.js';
import type { FaultRecord, Nemesis, NemesisContext } from '../../nemesis/types.js';
import { Random } from '../../src/raft/random.js';
import { allHealthy, FakeDb, fakeNet, VirtualClock } from './fakes.js';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];

interface Run {
  result: ScheduleResult;
  /** `time f` per record, in virtual ms. */
  events: string[];
  db: FakeDb;
  faults: ReturnType<typeof fakeNet>['faults'];
  clock: VirtualClock;
  lines: string[];
}

async function run(
  options: {
    seed: number;
    spec?: string;
    nemeses?: Nemesis[];
    abortAtMs?: number;
    before?: (db: FakeDb) => void;
  } & Partial<ScheduleOptions>,
): Promise<Run> {
  const clock = new VirtualClock();
  const db = new FakeDb(NODES, clock);
  options.before?.(db);
  const { net, faults } = fakeNet(NODES);
  const controller = new AbortController();
  const lines: string[] = [];
  const ctx: NemesisContext = { db, net, random: new Random(options.seed), log: (line) => lines.push(line), signal: controller.signal };
  if (options.abortAtMs !== undefined) clock.at(options.abortAtMs, () => controller.abort());
  const events: string[] = [];
  const result = await clock.run(
    runSchedule({
      nemeses: options.nemeses ?? createNemesis(options.spec ?? 'partition,kill,pause,flaky,disk,transfer'),
      ctx,
      clock,
      timeLimitMs: options.timeLimitMs ?? 120_000,
      intervalMs: options.intervalMs,
      onEvent: (record: FaultRecord) => events.push(`${Math.round(clock.now())} ${record.f}`),
    }),
  );
  return { result, events, db, faults, clock, lines };
}

function healed(r: Run): void {
  expect(r.result.healProblems).toEqual([]);
  expect(NODES.every((n) => r.db.isRunning(n))).toBe(true);
  expect(r.db.paused.size).toBe(0);
  expect(allHealthy(r.faults)).toBe(true);
  expect(r.result.records.at(-1)).toEqual({ f: 'heal-all', value: { problems: [], net: 'healthy' } });
}

describe('schedule', () => {
  it('alternates start and stop of the same kind at jittered intervals, mixes kinds, ends with heal-all', async () => {
    const r = await run({ seed: 1, timeLimitMs: 600_000 });
    const fs = r.result.records.map((x) => x.f);
    expect(fs.at(-1)).toBe('heal-all');
    const pairs = fs.slice(0, -1);
    expect(pairs.length % 2).toBe(0);
    for (let i = 0; i < pairs.length; i += 2) {
      expect(pairs[i]).toMatch(/^start-/);
      expect(pairs[i + 1]).toBe(pairs[i].replace('start-', 'stop-'));
    }
    // 600 s at 10 s +-25% per wait, two waits per fault: between 24 and 40 faults.
    expect(r.result.faultsStarted).toBeGreaterThanOrEqual(24);
    expect(r.result.faultsStarted).toBeLessThanOrEqual(40);
    expect(new Set(pairs.filter((f) => f.startsWith('start-'))).size).toBe(6);
    const times = r.events.map((e) => Number(e.split(' ')[0]));
    expect(times[0]).toBeGreaterThanOrEqual(7500);
    expect(times[0]).toBeLessThanOrEqual(12_500);
    const gaps = times.slice(1, -2).map((t, i) => t - times[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(7500);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(12_500);
    expect(new Set(gaps).size).toBeGreaterThan(gaps.length / 2); // jittered, not fixed
    expect(times.at(-1)).toBeLessThanOrEqual(600_000);
    expect(r.result.aborted).toBe(false);
    healed(r);
    expect(r.clock.pendingTimers).toBe(0);
  });

  it('the same seed gives the same schedule, the same Db calls and the same records; another seed differs', async () => {
    const a = await run({ seed: 42 });
    const b = await run({ seed: 42 });
    const c = await run({ seed: 43 });
    expect(b.events).toEqual(a.events);
    expect(b.db.calls).toEqual(a.db.calls);
    expect(JSON.stringify(b.result.records)).toBe(JSON.stringify(a.result.records));
    expect(b.lines).toEqual(a.lines);
    expect(c.events).not.toEqual(a.events);
    expect(a.db.calls.length).toBeGreaterThan(5);
  });

  it('aborted mid-kill:all: the kill is stopped, every node restarted, the schedule ends at once', async () => {
    const r = await run({ seed: 2, spec: 'kill:all', abortAtMs: 15_000 });
    expect(r.result.aborted).toBe(true);
    expect(r.result.records.map((x) => x.f)).toEqual(['start-kill', 'stop-kill', 'heal-all']);
    expect(r.events.at(-1)).toBe('15000 heal-all');
    expect(r.db.calls.filter((c) => c.includes('kill')).length).toBe(5);
    expect(r.db.calls.filter((c) => c.startsWith('15000 start')).length).toBe(5);
    healed(r);
    expect(r.clock.pendingTimers).toBe(0);
  });

  it('aborted mid-fault for every kind: the final heal leaves the net healthy and every node running and resumed', async () => {
    for (const spec of ['partition:halves', 'pause:all', 'flaky', 'disk', 'transfer', 'kill:majority']) {
      const r = await run({ seed: 3, spec, abortAtMs: 14_000, timeLimitMs: 60_000 });
      expect(r.result.records.map((x) => x.f)[0]).toMatch(/^start-/);
      expect(r.result.records.length).toBe(3);
      healed(r);
      expect(r.clock.pendingTimers).toBe(0);
    }
  });

  it('aborted before anything started: just the heal', async () => {
    const r = await run({ seed: 4, abortAtMs: 100 });
    expect(r.result.records.map((x) => x.f)).toEqual(['heal-all']);
    expect(r.result.faultsStarted).toBe(0);
    healed(r);
  });

  it('the final heal repairs what a failing stop left behind, and the failure is recorded', async () => {
    let calls = 0;
    const clumsy: Nemesis = {
      name: 'clumsy',
      async start(ctx) {
        await ctx.db.kill('n2');
        await ctx.db.pause('n3');
        ctx.net.cut([['n1', 'n4']]);
        return { f: 'start-clumsy', value: null };
      },
      async stop() {
        calls++;
        throw new Error('stop failed');
      },
    };
    const r = await run({ seed: 5, nemeses: [clumsy], timeLimitMs: 25_000 });
    expect(calls).toBe(1);
    expect(r.result.records[1]).toEqual({ f: 'stop-clumsy', value: { nemesis: 'clumsy', error: 'stop failed' } });
    healed(r);
    expect(r.lines.some((l) => l.includes('stop clumsy failed: stop failed'))).toBe(true);
  });

  it('a node that refuses to start after disk damage is reported by the final heal', async () => {
    const r = await run({
      seed: 6,
      spec: 'disk:garble',
      timeLimitMs: 25_000,
      before: (db) => {
        for (const node of NODES) db.refuseStart.add(node);
      },
    });
    const stop = r.result.records.find((x) => x.f === 'stop-disk')!;
    const node = (stop.value as { node: string }).node;
    expect(stop.value).toMatchObject({ how: 'garble', outcome: 'refused' });
    expect(r.result.healProblems).toEqual([`${node}: did not start: ${node} refused to start: log checksum mismatch at the tail`]);
    expect(r.lines.at(-1)).toContain('heal incomplete');
  });

  it('no fault starts after the time limit and an active one stops at it', async () => {
    const r = await run({ seed: 7, spec: 'kill:one', timeLimitMs: 15_000, intervalMs: 10_000 });
    expect(r.result.records.map((x) => x.f)).toEqual(['start-kill', 'stop-kill', 'heal-all']);
    expect(r.events[1]).toBe('15000 stop-kill');
    const quiet = await run({ seed: 7, spec: 'kill:one', timeLimitMs: 5_000 });
    expect(quiet.result.records.map((x) => x.f)).toEqual(['heal-all']);
    expect(quiet.clock.now()).toBe(5_000);
  });

  it('with no nemeses it waits out the time limit, then heals', async () => {
    const r = await run({ seed: 8, nemeses: [], timeLimitMs: 30_000, before: (db) => db.running.delete('n4') });
    expect(r.clock.now()).toBe(30_000);
    expect(r.db.calls).toContain('30000 start n4');
    healed(r);
  });

  it('rejects bad options, quoting the value', async () => {
    const { net } = fakeNet(NODES);
    const ctx: NemesisContext = { db: new FakeDb(NODES), net, random: new Random(1), log: () => {}, signal: new AbortController().signal };
    await expect(runSchedule({ nemeses: [], ctx, timeLimitMs: -1 })).rejects.toThrow(ScheduleOptionsError);
    await expect(runSchedule({ nemeses: [], ctx, timeLimitMs: 10, intervalMs: 0 })).rejects.toThrow(/intervalMs .* got 0/);
    await expect(runSchedule({ nemeses: [], ctx, timeLimitMs: 10, jitterFraction: 1 })).rejects.toThrow(/jitterFraction .* got 1/);
  });
});
