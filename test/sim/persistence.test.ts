// 6.824 part C (persistence) as seeded simulations: restarts, Figure 8 (reliable and unreliable),
// unreliable agreement and churn. Crashes keep only what went through Ready.

import { describe, expect, it } from 'vitest';
import { UNRELIABLE } from '../../src/sim/network.js';
import { makeLab } from './lab-helpers.js';

const FILE = 'test/sim/persistence.test.ts';

describe('6.824 persistence', () => {
  it('restart after crashes (persist1)', () => {
    const { sim, lab } = makeLab(FILE, 'persist1', { seed: 21, nodeCount: 3 });
    lab.one('11', 3, true);
    sim.ids.forEach((id) => sim.crash(id));
    sim.ids.forEach((id) => sim.restart(id));
    lab.one('12', 3, true);
    const leader1 = lab.checkOneLeader();
    sim.crash(leader1);
    sim.restart(leader1);
    lab.one('13', 3, true);
    const leader2 = lab.checkOneLeader();
    sim.crash(leader2);
    lab.one('14', 2, true);
    sim.restart(leader2);
    lab.wait(lab.one('15', 3, true), 3, -1);
    const follower = sim.ids.find((id) => id !== lab.checkOneLeader())!;
    sim.crash(follower);
    lab.one('16', 2, true);
    sim.restart(follower);
    lab.one('17', 3, true);
  });

  it('persist3: a restarted leader kept its log', () => {
    const { sim, lab } = makeLab(FILE, 'persist3', { seed: 22, nodeCount: 3 });
    lab.one('101', 3, false);
    const leader = lab.checkOneLeader();
    const third = sim.ids[(sim.ids.indexOf(leader) + 2) % 3];
    sim.network.disconnect(third);
    lab.one('102', 2, false);
    sim.crash(leader);
    sim.crash(sim.ids[(sim.ids.indexOf(leader) + 1) % 3]);
    sim.network.connect(third);
    sim.restart(leader);
    lab.one('103', 2, true);
    sim.restart(sim.ids[(sim.ids.indexOf(leader) + 1) % 3]);
    lab.one('104', 3, true);
  });

  function figure8(name: string, seed: number, unreliable: boolean, iterations: number): void {
    const { sim, lab } = makeLab(FILE, name, { seed, nodeCount: 5, network: unreliable ? UNRELIABLE : {} });
    lab.one(String(sim.random.nextInt(0, 10000)), 1, true);
    let up = 5;
    for (let iteration = 0; iteration < iterations; iteration++) {
      if (unreliable && iteration === Math.floor(iterations / 5)) sim.network.setDefaults({ longDelayProbability: 0.66 });
      let leader: string | undefined;
      for (const id of sim.ids) {
        if (sim.propose(id, String(sim.random.nextInt(0, 10000))).ok) leader = id;
      }
      sim.runFor(sim.random.chance(0.1) ? sim.random.nextInt(0, 500) : sim.random.nextInt(0, 13));
      if (leader !== undefined) {
        if (unreliable) {
          if (sim.random.chance(0.5)) {
            sim.network.disconnect(leader);
            up--;
          }
        } else if (sim.isUp(leader)) {
          sim.crash(leader);
          up--;
        }
      }
      if (up < 3) {
        const id = sim.random.pick(sim.ids);
        if (unreliable ? !sim.network.isConnected(id) : !sim.isUp(id)) {
          if (unreliable) sim.network.connect(id);
          else sim.restart(id);
          up++;
        }
      }
    }
    for (const id of sim.ids) {
      if (!sim.isUp(id)) sim.restart(id);
      sim.network.connect(id);
    }
    sim.network.setDefaults({ dropProbability: 0, longDelayProbability: 0 });
    lab.one(String(sim.random.nextInt(0, 10000)), 5, true);
  }

  it('Figure 8: commit only current-term entries (5 nodes, leader crashes)', () => figure8('Figure 8', 23, false, 300));
  it('Figure 8 unreliable: drops and long reordering', () => figure8('Figure 8 unreliable', 24, true, 300));

  it('unreliable agreement', () => {
    const { sim, lab } = makeLab(FILE, 'unreliable agreement', { seed: 25, nodeCount: 5, network: UNRELIABLE });
    for (let iteration = 1; iteration < 30; iteration++) {
      for (let j = 0; j < 4; j++) {
        const leader = sim.leaders()[0];
        if (leader) sim.propose(leader.id, `${100 * iteration + j}`);
      }
      lab.one(String(iteration), 1, true);
    }
    sim.network.setDefaults({ dropProbability: 0, duplicateProbability: 0 });
    lab.one('100', 5, true);
  });

  it('churn: every value a client saw committed is in the final log', () => {
    const { sim, lab } = makeLab(FILE, 'churn', { seed: 26, nodeCount: 5, network: UNRELIABLE });
    const seen = new Map<number, string>();
    const pending: { index: number; term: number; command: string; node: string }[] = [];
    let counter = 0;
    sim.applyListeners.push((_id, index, term, command) => {
      for (const p of pending) if (p.index === index && p.term === term && p.command === command) seen.set(index, command);
    });
    for (let round = 0; round < 20; round++) {
      for (let client = 0; client < 3; client++) {
        for (const id of sim.ids) {
          const command = `v${counter++}`;
          const r = sim.propose(id, command);
          if (r.ok) pending.push({ index: r.index, term: r.term, command, node: id });
        }
      }
      sim.runFor(700);
      const victim = sim.random.pick(sim.ids);
      const roll = sim.random.nextFloat();
      if (roll < 0.2) sim.network.disconnect(victim);
      else if (roll < 0.7) {
        if (!sim.isUp(victim)) sim.restart(victim);
        sim.network.connect(victim);
      } else if (roll < 0.9) sim.crash(victim);
    }
    sim.network.setDefaults({ dropProbability: 0, duplicateProbability: 0 });
    for (const id of sim.ids) {
      if (!sim.isUp(id)) sim.restart(id);
      sim.network.connect(id);
    }
    const last = lab.one('final', 5, true);
    expect(seen.size).toBeGreaterThan(0);
    for (const [index, command] of seen) {
      expect(index).toBeLessThanOrEqual(last);
      expect(lab.nCommitted(index).command).toBe(command);
    }
  });
});
