// One swarm run: a seed picks the cluster size, network quality, snapshot cadence and a random
// schedule of faults and client proposals/reads; the run fails on any invariant violation, a
// ReadIndex that returns too low an index, or no progress once all faults are healed.

import type { NodeId } from '../raft/types.js';
import { LabTester } from './lab-tester.js';
import { Simulator } from './simulator.js';

export interface SwarmRunOptions {
  seed: number;
  /** Virtual duration of the faulty phase. Default 20 s. */
  faultyPhaseMs?: number;
}

export interface SwarmRunResult {
  seed: number;
  events: number;
  committed: number;
  elections: number;
  traceHash: number;
}

export function runSwarmSeed(options: SwarmRunOptions): SwarmRunResult {
  const seed = options.seed;
  const setup = new Simulator({ seed, nodeCount: 1 }).random; // a stream for the set-up choices only
  const nodeCount = setup.pick([3, 3, 5, 5, 7]);
  const sim = new Simulator({
    seed,
    nodeCount,
    snapshotEveryEntries: setup.pick([0, 5, 20]),
    raft: {
      snapshotChunkBytes: setup.pick([32, 256, 65536]),
      inflightMessagesMax: setup.pick([1, 4, 64]),
      messageBytesMax: setup.pick([64, 4096]),
    },
    network: {
      dropProbability: setup.pick([0, 0.05, 0.2]),
      duplicateProbability: setup.pick([0, 0.05]),
      delayMinMs: 0,
      delayMaxMs: setup.pick([5, 30, 150]),
      longDelayProbability: setup.pick([0, 0, 0.1]),
    },
    replayCommand: `npm run sim -- --seeds 1 --seed-start ${seed}`,
  });
  const lab = new LabTester(sim);
  const random = sim.random.fork();
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
  while (sim.nowMs < end) {
    const roll = random.nextFloat();
    const victim = random.pick(sim.ids);
    if (roll < 0.05) sim.crash(victim);
    else if (roll < 0.12) sim.restart(victim);
    else if (roll < 0.17) {
      const shuffled = [...sim.ids].sort(() => random.nextFloat() - 0.5);
      const cut = random.nextInt(1, sim.ids.length);
      sim.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
    } else if (roll < 0.22) sim.network.heal();
    else if (roll < 0.25) sim.network.disconnect(victim);
    else if (roll < 0.27) {
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
      for (let i = random.nextInt(1, 4); i > 0; i--) sim.propose(random.pick(sim.ids), `put k${random.nextInt(0, 5)} ${counter++}`);
    }
    sim.runFor(random.nextInt(10, 400));
  }
  // Heal everything: the cluster must make progress again (liveness under a good network).
  sim.network.heal();
  sim.network.setDefaults({ dropProbability: 0, duplicateProbability: 0, longDelayProbability: 0, delayMaxMs: 10 });
  for (const id of sim.ids) if (!sim.isUp(id)) sim.restart(id);
  sim.runFor(3000); // long-delayed messages drain
  const last = lab.one(`final-${seed}`, nodeCount, true);
  return {
    seed,
    events: sim.eventsProcessed,
    committed: last,
    elections: Math.max(...sim.liveRafts().map((r) => r.term)),
    traceHash: sim.traceHash,
  };
}
