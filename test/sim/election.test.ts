// 6.824 part A (election) as seeded simulations: initial election, re-election, many elections.

import { describe, expect, it } from 'vitest';
import { makeLab } from './lab-helpers.js';

const FILE = 'test/sim/election.test.ts';

describe('6.824 election', () => {
  it('initial election', () => {
    const { sim, lab } = makeLab(FILE, 'initial election', { seed: 1, nodeCount: 3 });
    lab.checkOneLeader();
    sim.runFor(50);
    const term1 = lab.checkTerms();
    expect(term1).toBeGreaterThanOrEqual(1);
    sim.runFor(2000);
    // With no failures the term must not move (PreVote + CheckQuorum make this strict).
    expect(lab.checkTerms()).toBe(term1);
    lab.checkOneLeader();
  });

  it('re-election', () => {
    const { sim, lab } = makeLab(FILE, 're-election', { seed: 2, nodeCount: 3 });
    const leader1 = lab.checkOneLeader();
    sim.network.disconnect(leader1);
    lab.checkOneLeader();
    // The old leader rejoins; it must not disturb the new one.
    sim.network.connect(leader1);
    const leader2 = lab.checkOneLeader();
    // No quorum: no leader.
    sim.network.disconnect(leader2);
    sim.network.disconnect(sim.ids[(sim.ids.indexOf(leader2) + 1) % 3]);
    sim.runFor(2000);
    lab.checkNoLeader();
    sim.network.connect(sim.ids[(sim.ids.indexOf(leader2) + 1) % 3]);
    lab.checkOneLeader();
    sim.network.connect(leader2);
    lab.checkOneLeader();
  });

  it('many elections (7 nodes, 3 cut at a time)', () => {
    const { sim, lab } = makeLab(FILE, 'many elections', { seed: 3, nodeCount: 7 });
    lab.checkOneLeader();
    for (let round = 0; round < 9; round++) {
      const cut = [0, 1, 2].map(() => sim.random.pick(sim.ids));
      cut.forEach((id) => sim.network.disconnect(id));
      lab.checkOneLeader();
      cut.forEach((id) => sim.network.connect(id));
    }
    lab.checkOneLeader();
  });

  it('a rejoining node does not raise the term (PreVote)', () => {
    const { sim, lab } = makeLab(FILE, 'PreVote', { seed: 4, nodeCount: 3 });
    const leader = lab.checkOneLeader();
    const term = lab.checkTerms();
    const follower = sim.ids.find((id) => id !== leader)!;
    sim.network.disconnect(follower);
    sim.runFor(5000);
    expect(sim.raft(follower)!.term).toBe(term);
    sim.network.connect(follower);
    sim.runFor(2000);
    expect(lab.checkOneLeader()).toBe(leader);
    expect(lab.checkTerms()).toBe(term);
  });

  it('a leader cut off from a majority steps down (CheckQuorum)', () => {
    const { sim, lab } = makeLab(FILE, 'CheckQuorum', { seed: 5, nodeCount: 3 });
    const leader = lab.checkOneLeader();
    const others = sim.ids.filter((id) => id !== leader);
    sim.network.partition([[leader], others]);
    // Within two election timeouts (2 s at 10 ticks of 100 ms) the old leader must step down.
    sim.runFor(2100);
    expect(sim.raft(leader)!.role).not.toBe('leader');
  });
});
