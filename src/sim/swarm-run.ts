// One swarm run: a seed picks the cluster size, network quality, snapshot cadence and a random
// schedule of faults, raw proposals, ReadIndex calls and Jepsen-style clients; the run fails on any
// invariant violation, a ReadIndex that returns too low an index, a client history the checker
// finds not linearizable, or no progress once all faults are healed. An undecided check is reported.

import type { Validity } from '../../checker/check.js';
import type { UnsafeBug } from '../node/kv-service.js';
import type { NodeId } from '../raft/types.js';
import { KvClients, type KvClientsOptions } from './kv-clients.js';
import { LabTester } from './lab-tester.js';
import { Simulator } from './simulator.js';

export interface SwarmRunOptions {
  seed: number;
  /** Virtual duration of the faulty phase. Default 20 s. */
  faultyPhaseMs?: number;
  /** Deliberate bugs switched on in every node (service or core), to prove the swarm finds them. Default none. */
  unsafeBugs?: readonly UnsafeBug[];
  /** Options of the simulated clients (e.g. the test-only unsafeStaleReads). */
  clients?: KvClientsOptions;
  /** Wall-clock budget of the linearizability check; `unknown` past it. Default 10 s. */
  checkTimeoutMs?: number;
}

export interface SwarmRunResult {
  seed: number;
  events: number;
  committed: number;
  elections: number;
  traceHash: number;
  /** Client operations invoked, and how they ended. */
  operations: { invoked: number; ok: number; fail: number; info: number; retries: number };
  /** The checker's verdict on the client history: true, or 'unknown' (false throws). */
  linearizable: Validity;
  /** The checker's report when the verdict is not true. */
  checkText?: string;
  midReadyCrashes: number;
}

export async function runSwarmSeed(options: SwarmRunOptions): Promise<SwarmRunResult> {
  const seed = options.seed;
  const setup = new Simulator({ seed, nodeCount: 1 }).random; // a stream for the set-up choices only
  const nodeCount = setup.pick([3, 3, 5, 5, 7]);
  const flags = [
    options.faultyPhaseMs !== undefined ? ` --duration-ms ${options.faultyPhaseMs}` : '',
    ...(options.unsafeBugs ?? []).map((bug) => ` --unsafe-bug ${bug}`),
    options.clients?.unsafeStaleReads ? ' --unsafe-stale-reads' : '',
  ].join('');
  const replayCommand = `npm run sim -- --seeds 1 --seed-start ${seed}${flags}`;
  const sim = new Simulator({
    seed,
    nodeCount,
    snapshotEveryEntries: setup.pick([0, 5, 20]),
    raft: {
      snapshotChunkBytes: setup.pick([32, 256, 65536]),
      inflightMessagesMax: setup.pick([1, 4, 64]),
      messageBytesMax: setup.pick([64, 4096]),
    },
    unsafeBugs: options.unsafeBugs,
    network: {
      dropProbability: setup.pick([0, 0.05, 0.2]),
      duplicateProbability: setup.pick([0, 0.05]),
      delayMinMs: 0,
      delayMaxMs: setup.pick([5, 30, 150]),
      longDelayProbability: setup.pick([0, 0, 0.1]),
    },
    midReadyCrashProbability: setup.pick([0, 0, 0.002]),
    replayCommand,
  });
  const lab = new LabTester(sim);
  const random = sim.random.fork();
  const clients = new KvClients(sim, sim.random.fork(), {
    clientCount: setup.pick([2, 3, 4]),
    readIndexProbability: setup.pick([0, 0.5, 1]),
    ...options.clients,
  });
  let counter = 0;
  let reads = 0;
  // ReadIndex safety: a confirmed read index covers everything committed before the read began.
  const readsRequired = new Map<string, number>();
  sim.readListeners.push((id, read) => {
    const required = readsRequired.get(read.context);
    if (required !== undefined && read.index < required) {
      throw sim.failure(`${id} confirmed read ${read.context} at index ${read.index}, but ${required} was already committed`);
    }
    readsRequired.delete(read.context);
  });
  const leaderOf = (): NodeId | undefined => sim.liveRafts().find((r) => r.role === 'leader')?.id;
  const faultyPhaseMs = options.faultyPhaseMs ?? 20_000;
  const end = sim.nowMs + faultyPhaseMs;
  clients.start();
  while (sim.nowMs < end) {
    const roll = random.nextFloat();
    const victim = random.pick(sim.ids);
    if (roll < 0.05) {
      clients.recordFault('crash', victim);
      sim.crash(victim);
    } else if (roll < 0.12) {
      clients.recordFault('restart', victim);
      sim.restart(victim);
    } else if (roll < 0.17) {
      const shuffled = [...sim.ids].sort(() => random.nextFloat() - 0.5);
      const cut = random.nextInt(1, sim.ids.length);
      const groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
      clients.recordFault('partition', groups);
      sim.network.partition(groups);
    } else if (roll < 0.22) {
      clients.recordFault('heal');
      sim.network.heal();
    } else if (roll < 0.25) {
      clients.recordFault('disconnect', victim);
      sim.network.disconnect(victim);
    } else if (roll < 0.27) {
      const leader = leaderOf();
      if (leader) sim.raft(leader)!.transferLeader(victim);
    } else if (roll < 0.35) {
      const leader = leaderOf();
      if (leader) {
        const context = `r${reads++}`;
        if (sim.raft(leader)!.readIndex(context) === 'accepted') readsRequired.set(context, sim.invariants.committedIndexMax);
        sim.processReady(sim.node(leader));
      }
    } else {
      // Opaque load on keys the clients never touch, proposed on any node.
      for (let i = random.nextInt(1, 4); i > 0; i--) sim.propose(random.pick(sim.ids), `put noise${random.nextInt(0, 5)} ${counter++}`);
    }
    sim.runFor(random.nextInt(10, 400));
  }
  // Heal everything: the cluster must make progress again (liveness under a good network).
  clients.stop();
  clients.recordFault('heal-all');
  sim.midReadyCrashProbability = 0;
  sim.network.heal();
  sim.network.setDefaults({ dropProbability: 0, duplicateProbability: 0, longDelayProbability: 0, delayMaxMs: 10 });
  for (const id of sim.ids) if (!sim.isUp(id)) sim.restart(id);
  sim.runFor(3000); // long-delayed messages drain; pending client operations end
  const last = lab.one(`final-${seed}`, nodeCount, true);
  clients.finish();
  const check = await clients.check({ timeoutMs: options.checkTimeoutMs ?? 10_000, source: `swarm seed ${seed}` });
  if (check.result.valid === false) throw sim.failure(`client history is not linearizable:\n${check.text}`);
  return {
    seed,
    events: sim.eventsProcessed,
    committed: last,
    elections: Math.max(...sim.liveRafts().map((r) => r.term)),
    traceHash: sim.traceHash,
    operations: { ...clients.stats },
    linearizable: check.result.valid,
    checkText: check.result.valid === true ? undefined : check.text,
    midReadyCrashes: sim.midReadyCrashes,
  };
}
