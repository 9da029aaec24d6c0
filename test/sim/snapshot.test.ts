// 6.824 part D (snapshots) as seeded simulations: the application snapshots every 10 applied
// entries; lagging or restarted followers get chunked InstallSnapshot or restart from a snapshot.

import { describe, expect, it } from 'vitest';
import { UNRELIABLE } from '../../src/sim/network.js';
import { makeLab } from './lab-helpers.js';

const FILE = 'test/sim/snapshot.test.ts';

function snapshotCommon(name: string, seed: number, disconnect: boolean, reliable: boolean, crash: boolean): void {
  const { sim, lab } = makeLab(FILE, name, {
    seed,
    nodeCount: 3,
    snapshotEveryEntries: 10,
    // Tiny chunks so that every install takes several InstallSnapshot messages.
    raft: { snapshotChunkBytes: 64 },
    network: reliable ? {} : UNRELIABLE,
  });
  lab.one('start', 3, true);
  let leader = lab.checkOneLeader();
  let installs = 0;
  for (let iteration = 0; iteration < 30; iteration++) {
    const victim = iteration % 2 === 1 ? sim.ids[(sim.ids.indexOf(leader) + 1) % 3] : leader;
    const sender = iteration % 2 === 1 ? leader : sim.ids[(sim.ids.indexOf(leader) + 1) % 3];
    if (disconnect) {
      sim.network.disconnect(victim);
      lab.one(`d${iteration}`, 2, true);
    }
    if (crash) {
      sim.crash(victim);
      lab.one(`c${iteration}`, 2, true);
    }
    // Enough commands to push the log past a snapshot while the victim is away.
    const count = 5 + sim.random.nextInt(0, 10);
    for (let i = 0; i < count; i++) sim.propose(sender, `s${iteration}.${i}`);
    lab.one(`m${iteration}`, disconnect || crash ? 2 : 3, true);
    if (disconnect) {
      sim.network.connect(victim);
      lab.one(`r${iteration}`, 3, true);
      leader = lab.checkOneLeader();
    }
    if (crash) {
      sim.restart(victim);
      lab.one(`r${iteration}`, 3, true);
      leader = lab.checkOneLeader();
    }
    for (const id of sim.ids) {
      // The log never grows much past a snapshot (6.824: MAXLOGSIZE).
      const { logBytes } = sim.node(id).storage.sizeBytes();
      expect(logBytes).toBeLessThan(2000);
    }
    installs = sim.network.counters.sentByType.InstallSnapshot ?? 0;
  }
  if (disconnect || crash) expect(installs).toBeGreaterThan(0);
}

describe('6.824 snapshots', () => {
  it('snapshot basic', () => snapshotCommon('snapshot basic', 31, false, true, false));
  it('install to a lagging follower', () => snapshotCommon('install to a lagging', 32, true, true, false));
  it('install on an unreliable network', () => snapshotCommon('install on an unreliable', 33, true, false, false));
  it('install with crashes', () => snapshotCommon('install with crashes', 34, false, true, true));
  it('install with crashes, unreliable', () => snapshotCommon('install with crashes, unreliable', 35, false, false, true));

  it('crash of every node: nothing committed is lost', () => {
    const { sim, lab } = makeLab(FILE, 'crash of every node', { seed: 36, nodeCount: 3, snapshotEveryEntries: 10 });
    let index1 = lab.one('start', 3, true);
    for (let round = 0; round < 5; round++) {
      const count = 5 + sim.random.nextInt(0, 10);
      for (let i = 0; i < count; i++) lab.one(`r${round}.${i}`, 3, true);
      sim.ids.forEach((id) => sim.crash(id));
      sim.ids.forEach((id) => sim.restart(id));
      const index2 = lab.one(`after${round}`, 3, true);
      expect(index2).toBeGreaterThan(index1);
      index1 = index2;
    }
  });

  it('restart from a snapshot keeps the snapshot (snapshot init)', () => {
    const { sim, lab } = makeLab(FILE, 'restart from a snapshot', { seed: 37, nodeCount: 3, snapshotEveryEntries: 10 });
    for (let i = 0; i < 12; i++) lab.one(`a${i}`, 3, true);
    sim.ids.forEach((id) => sim.crash(id));
    sim.ids.forEach((id) => sim.restart(id));
    lab.one('b', 3, true);
    sim.ids.forEach((id) => sim.crash(id));
    sim.ids.forEach((id) => sim.restart(id));
    lab.one('c', 3, true);
    for (const id of sim.ids) expect(sim.node(id).storage.snapshot().metadata.index).toBeGreaterThanOrEqual(10);
  });
});
