// Simulated Jepsen-style clients and the checker hookup: runs with faults are judged linearizable,
// and a deliberately broken client (stale local reads) is judged not linearizable, so the hookup
// can fail. Also: the history format, dropped reads and mid-Ready crashes. (De-duplication of
// retried commands is the real state machine's: test/kv/sessions.test.ts and state-machine.test.ts.)

import { describe, expect, it } from 'vitest';
import { pairHistory } from '../../checker/history.js';
import { KvClients, KvClientsOptionsError, type KvClientsOptions } from '../../src/sim/kv-clients.js';
import { LabTester } from '../../src/sim/lab-tester.js';
import { Simulator } from '../../src/sim/simulator.js';

const FILE = 'test/sim/kv-clients.test.ts';

/**
 * 3 nodes and clients for 10 s of virtual time: a follower is cut off from 2 s to 6 s (it falls
 * behind), the leader crashes at 4 s and comes back at 6 s; then everything heals and the clients
 * get 4 s to finish.
 */
async function faultyRun(seed: number, options: KvClientsOptions = {}, midReadyCrashProbability = 0) {
  const sim = new Simulator({ seed, nodeCount: 3, midReadyCrashProbability, replayCommand: `npx vitest run ${FILE}` });
  const clients = new KvClients(sim, sim.random.fork(), options);
  clients.start();
  sim.runFor(2000);
  // Mid-Ready crashes may have left no leader: then any node plays the leader's part.
  const leader = sim.leaders()[0]?.id ?? sim.random.pick(sim.ids);
  const follower = sim.ids.find((id) => id !== leader)!;
  clients.recordFault('disconnect', follower);
  sim.network.disconnect(follower);
  sim.runFor(2000);
  clients.recordFault('crash', leader);
  sim.crash(leader);
  sim.runFor(2000);
  clients.recordFault('heal');
  sim.network.heal();
  for (const id of sim.ids) if (!sim.isUp(id)) sim.restart(id);
  sim.runFor(4000);
  clients.stop();
  sim.midReadyCrashProbability = 0;
  for (const id of sim.ids) if (!sim.isUp(id)) sim.restart(id);
  sim.runFor(4000);
  clients.finish();
  const check = await clients.check();
  return { sim, clients, check };
}

describe('simulated clients and the checker', () => {
  it('a run with a cut-off follower and a leader crash is judged linearizable', async () => {
    const { clients, check } = await faultyRun(1);
    expect(check.result.valid, check.text).toBe(true);
    expect(check.result.model).toBe('kv-cas');
    const history = pairHistory(clients.history(), 'test');
    const ok = history.operations.filter((op) => op.status === 'ok');
    for (const f of ['get', 'put', 'cas', 'delete']) expect(ok.some((op) => op.f === f)).toBe(true);
    expect(ok.length).toBeGreaterThan(100);
    expect(history.operations.some((op) => op.f === 'cas' && op.status === 'fail' && op.error === 'cas_mismatch')).toBe(true);
    expect(clients.stats.retries).toBeGreaterThan(0);
    expect(history.faults.map((f) => f.f)).toEqual(['disconnect', 'crash', 'heal']);
  });

  it('the history is in the checker format: increasing index, monotonic ns time, one pending call per process', async () => {
    const { clients } = await faultyRun(2);
    const events = clients.history();
    events.forEach((event, i) => {
      expect(event.index).toBe(i);
      if (i > 0) expect(event.time).toBeGreaterThanOrEqual(events[i - 1].time);
    });
    expect(() => pairHistory(events, 'test')).not.toThrow();
    // An indeterminate operation moves its client to a new process (Jepsen style).
    const infos = events.filter((e) => e.type === 'info' && e.process !== 'nemesis');
    for (const info of infos) expect(events.some((e) => e.index > info.index && e.process === info.process)).toBe(false);
  });

  it('a client that reads a stale local copy is caught as not linearizable', async () => {
    let caught = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const broken = await faultyRun(seed, { unsafeStaleReads: true });
      if (broken.check.result.valid === false) {
        caught++;
        expect(broken.check.text).toContain('NOT linearizable');
      }
      // The same seed with correct clients passes: the verdict comes from the stale reads.
      expect((await faultyRun(seed)).check.result.valid).toBe(true);
    }
    expect(caught).toBeGreaterThanOrEqual(3);
  });

  it('crashes in the middle of Ready handling keep every invariant and a linearizable history', async () => {
    const { sim, check } = await faultyRun(3, {}, 0.01);
    expect(sim.midReadyCrashes).toBeGreaterThan(0);
    expect(check.result.valid, check.text).toBe(true);
  });

  it('the same seed gives the same history', async () => {
    const a = await faultyRun(5);
    const b = await faultyRun(5);
    expect(b.clients.history()).toEqual(a.clients.history());
    expect(b.sim.traceHash).toBe(a.sim.traceHash);
  });

  it('options are validated with the bad value quoted', () => {
    const sim = new Simulator({ seed: 1 });
    expect(() => new KvClients(sim, sim.random.fork(), { clientCount: 0 })).toThrow(KvClientsOptionsError);
    expect(() => new KvClients(sim, sim.random.fork(), { readIndexProbability: 2 })).toThrow(
      'readIndexProbability must be in [0, 1], got 2',
    );
  });
});

describe('dropped reads in the simulator', () => {
  it('a leader cut off with a pending ReadIndex reports it dropped within about an election timeout', () => {
    const sim = new Simulator({ seed: 9, nodeCount: 3 });
    const lab = new LabTester(sim);
    const leader = lab.checkOneLeader();
    lab.one('x', 3, true);
    let droppedAtMs: number | undefined;
    sim.readyListeners.push((id, ready) => {
      if (id === leader && ready.droppedReads.includes('read-1')) droppedAtMs = sim.nowMs;
    });
    sim.network.disconnect(leader);
    const startMs = sim.nowMs;
    expect(sim.readIndex(leader, 'read-1')).toBe('accepted');
    sim.runUntil(() => droppedAtMs !== undefined, 5000);
    expect(droppedAtMs).toBeDefined();
    // CheckQuorum: one to two election timeouts (10 ticks of 100 ms).
    expect(droppedAtMs! - startMs).toBeLessThanOrEqual(2100);
  });
});
