// Seeded scenarios built to catch deliberate bugs (UnsafeBug): a scripted Figure 8 for
// commit-prior-term, repeated leader crashes (split elections) for vote-twice, and a leader cut
// off from its peers but not from its clients for the service's stale-read. Against the correct
// node they must find nothing. They prove that the invariant checks can fail.

import type { NodeAnswer } from '../node/errors.js';
import type { KvService } from '../node/kv-service.js';
import type { NodeId } from '../raft/types.js';
import { LabTester } from './lab-tester.js';
import { Simulator, SimulationFailure } from './simulator.js';

/** The bugs with a scenario of their own (no-dedup is found by the swarm's clients). */
export type HuntedBug = 'commit-prior-term' | 'vote-twice' | 'stale-read';

export interface BugHuntOptions {
  seed: number;
  /** Which bug's scenario to run. */
  scenario: HuntedBug;
  /** Switch the bug on in every node; false runs the same scenario on the correct node. */
  unsafe: boolean;
  /** Rounds of the scenario (each a full Figure 8, one leader crash, or one cut-off leader). Defaults 4, 25 and 4. */
  rounds?: number;
}

export interface BugHuntResult {
  seed: number;
  scenario: HuntedBug;
  /** A safety invariant was violated (the detail says which, with the replay command). */
  detected: boolean;
  detail?: string;
  /** Rounds run to the end (rounds skipped because the cluster did not get into shape count too). */
  roundsRun: number;
  /** Rounds that got the cluster into the shape the bug needs: the Figure 8 cut was made, or
   * two candidates campaigned in one term, or a write was acknowledged that the cut-off leader lacks. */
  roundsShaped: number;
  traceHash: number;
}

/** Runs one seed; a violated invariant is a detection, any other failure (no progress) throws. */
export function runBugHunt(options: BugHuntOptions): BugHuntResult {
  const sim = new Simulator({
    seed: options.seed,
    nodeCount: 5,
    unsafeBugs: options.unsafe ? [options.scenario] : [],
    raft: {
      // One entry per AppendEntries: a new leader's no-op travels apart from the older entries.
      ...(options.scenario === 'commit-prior-term' ? { messageBytesMax: 64 } : {}),
    },
    network: options.scenario === 'vote-twice' ? { delayMinMs: 5, delayMaxMs: 40 } : { delayMinMs: 1, delayMaxMs: 10 },
    replayCommand: `runBugHunt({ seed: ${options.seed}, scenario: '${options.scenario}', unsafe: ${options.unsafe} }) from src/sim/bug-hunt.ts`,
  });
  const progress = { roundsRun: 0, roundsShaped: 0 };
  try {
    if (options.scenario === 'commit-prior-term') figure8(sim, options.rounds ?? 4, progress);
    else if (options.scenario === 'vote-twice') splitElections(sim, options.rounds ?? 25, progress);
    else cutOffLeaderReads(sim, options.rounds ?? 4, progress);
  } catch (error) {
    if (error instanceof SimulationFailure && error.detail.includes('invariant violated')) {
      return {
        seed: options.seed,
        scenario: options.scenario,
        detected: true,
        detail: error.message,
        ...progress,
        traceHash: sim.traceHash,
      };
    }
    throw error;
  }
  return { seed: options.seed, scenario: options.scenario, detected: false, ...progress, traceHash: sim.traceHash };
}

/**
 * Figure 8 of the Raft paper, with no-ops. Per round, with nodes picked at random:
 * 1. A leads; cut {A, B} off from {C, D, E}; A appends X at index i, which reaches B only.
 * 2. The majority side elects a leader E' (its no-op, and a client write, land at i with a newer
 *    term); E' is cut off the moment it takes office, so nobody else gets those entries.
 * 3. Heal all but E': A or B leads again (term T2) and replicates X to C and D one entry per
 *    message, then its no-op. The moment it commits i, the X-holders A and B are cut off.
 *    Correct core: it commits i only once its no-op is on a majority, so C or D holds the no-op.
 *    Buggy core: it has no no-op and commits X as soon as a majority holds X.
 * 4. Reconnect E'. Correct core: C or D (with the no-op) wins and keeps X. Buggy core: E' wins with
 *    C's and D's votes and lacks the committed X: leader completeness breaks.
 */
function figure8(sim: Simulator, rounds: number, progress: { roundsRun: number; roundsShaped: number }): void {
  const lab = new LabTester(sim);
  const random = sim.random.fork();
  /** Step 2 and 3 triggers, run after every Ready of every node. */
  let onLeader: ((id: NodeId) => void) | undefined;
  sim.readyListeners.push((id) => onLeader?.(id));
  for (let round = 0; round < rounds; round++) {
    sim.network.heal();
    lab.one(`round-${round}`, 5, true);
    const a = lab.checkOneLeader();
    const others = sim.ids.filter((id) => id !== a);
    const b = random.pick(others);
    const majority = others.filter((id) => id !== b);
    const termBefore = sim.raft(a)!.term;
    sim.network.partition([[a, b], majority]);
    // Big enough that X and a no-op never share a 64-byte message.
    const proposal = sim.propose(a, `X${round}-${'x'.repeat(38 + random.nextInt(0, 10))}`);
    progress.roundsRun++;
    if (!proposal.ok) continue;
    const index = proposal.index;
    sim.runFor(50 + random.nextInt(0, 50));
    if (sim.raft(b)?.log.termOrZero(index) !== proposal.term) continue;

    // Step 2: the majority side elects E'; cut it off as it takes office.
    let isolated: NodeId | undefined;
    onLeader = (id) => {
      const raft = sim.raft(id);
      if (isolated === undefined && majority.includes(id) && raft?.role === 'leader' && raft.term > termBefore) {
        isolated = id;
        sim.network.disconnect(id);
      }
    };
    sim.runUntil(() => isolated !== undefined, 10_000);
    onLeader = undefined;
    if (isolated === undefined) continue;
    // A client write reaches E' alone (the buggy core has no no-op to put there).
    sim.propose(isolated, `Y${round}`);
    const eTerm = sim.raft(isolated)!.term;
    if (sim.raft(isolated)!.log.termOrZero(index) <= proposal.term) continue;

    // Step 3: heal all but E'; cut off A and B once their new leader commits index i.
    let cut = false;
    onLeader = (id) => {
      const raft = sim.raft(id);
      if (!cut && (id === a || id === b) && raft?.role === 'leader' && raft.term > eTerm && raft.log.committed >= index) {
        cut = true;
        sim.network.disconnect(a);
        sim.network.disconnect(b);
      }
    };
    sim.network.heal();
    sim.network.disconnect(isolated);
    sim.runUntil(() => cut, 10_000);
    onLeader = undefined;
    if (!cut) continue;
    progress.roundsShaped++;

    // Step 4: E' comes back to C and D; someone must lead them (invariants check the winner).
    sim.network.connect(isolated);
    sim.runUntil(() => majority.some((id) => sim.raft(id)?.role === 'leader'), 10_000);
    sim.runFor(500);
  }
  sim.network.heal();
  lab.one('end', 5, true);
}

/**
 * Crashes the leader again and again: the followers time out close together, so several
 * candidates ask for votes in one term (slow links widen the overlap). A node that grants two of
 * them breaks the one-vote-per-term invariant, and may make two leaders in one term.
 */
function splitElections(sim: Simulator, rounds: number, progress: { roundsRun: number; roundsShaped: number }): void {
  const lab = new LabTester(sim);
  /** Candidates per term, to count contested elections. */
  const candidates = new Map<number, Set<NodeId>>();
  sim.readyListeners.push((id, ready) => {
    const raft = sim.raft(id);
    if (ready.softState?.role !== 'candidate' || raft === undefined) return;
    const set = candidates.get(raft.term) ?? new Set<NodeId>();
    candidates.set(raft.term, set.add(id));
  });
  for (let round = 0; round < rounds; round++) {
    const leader = lab.checkOneLeader();
    const termBefore = sim.raft(leader)!.term;
    sim.crash(leader);
    sim.runUntil(() => sim.leaders().some((r) => r.term > termBefore), 10_000);
    const termAfter = Math.max(...sim.liveRafts().map((r) => r.term));
    for (let term = termBefore + 1; term <= termAfter; term++) {
      if ((candidates.get(term)?.size ?? 0) > 1) {
        progress.roundsShaped++;
        break;
      }
    }
    sim.restart(leader);
    progress.roundsRun++;
  }
  lab.one('end', 5, true);
}

/**
 * A leader is cut off from its peers but not from its clients. The majority elects a new leader and
 * acknowledges a write; then a read starts on the old leader. Correct node: the old leader cannot
 * confirm a read round (and CheckQuorum makes it step down), so the read fails. stale-read: it
 * answers from its own state, the value before the acknowledged write, which no linearizable
 * history allows.
 */
function cutOffLeaderReads(sim: Simulator, rounds: number, progress: { roundsRun: number; roundsShaped: number }): void {
  const lab = new LabTester(sim);
  let seq = 0;
  const write = (id: NodeId, value: string): NodeAnswer | undefined =>
    ask(sim, id, (service, answer) => service.propose({ op: 'put', key: 'hunt', value, clientId: 'hunter', seq: ++seq }, answer));
  for (let round = 0; round < rounds; round++) {
    sim.network.heal();
    const old = lab.checkOneLeader();
    const termBefore = sim.raft(old)!.term;
    progress.roundsRun++;
    if (write(old, `old-${round}`)?.ok !== true) continue;
    sim.network.disconnect(old);
    sim.runUntil(() => sim.leaders().some((raft) => raft.id !== old && raft.term > termBefore), 10_000);
    const fresh = sim.leaders().find((raft) => raft.id !== old)?.id;
    if (fresh === undefined || write(fresh, `new-${round}`)?.ok !== true) continue;
    progress.roundsShaped++;
    // The read begins after new-<round> was acknowledged: only new-<round> (or a failure) is allowed.
    const read = ask(sim, old, (service, answer) => service.read('hunt', answer));
    if (read?.ok === true && read.value !== `new-${round}`) {
      throw sim.failure(
        `invariant violated: linearizable reads: ${old} (cut off) answered a read of hunt with ${JSON.stringify(read.value)} after ${fresh} acknowledged new-${round}`,
      );
    }
  }
  sim.network.heal();
  lab.one('end', 5, true);
}

/** Sends one request to a node's service and runs the simulation until it answers (undefined: no answer in 5 s). */
function ask(sim: Simulator, id: NodeId, send: (service: KvService, answer: (answer: NodeAnswer) => void) => void): NodeAnswer | undefined {
  if (!sim.isUp(id)) return undefined;
  let result: NodeAnswer | undefined;
  send(sim.node(id).service, (answer) => (result = answer));
  sim.runUntil(() => result !== undefined, 5000);
  return result;
}
