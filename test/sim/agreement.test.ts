// 6.824 part B (agreement) as seeded simulations, plus bounds on message counts.

import { describe, expect, it } from 'vitest';
import { makeLab } from './lab-helpers.js';

const FILE = 'test/sim/agreement.test.ts';

/** Our leader appends a no-op on taking office, so client commands start at index 2, not 1. */
const NOOP_OFFSET = 1;

describe('6.824 agreement', () => {
  it('basic agreement', () => {
    const { sim, lab } = makeLab(FILE, 'basic agreement', { seed: 11, nodeCount: 3 });
    lab.checkOneLeader();
    for (let i = 1; i <= 3; i++) {
      const index = i + NOOP_OFFSET;
      expect(lab.nCommitted(index).count).toBe(0);
      expect(lab.one(`cmd${i}`, 3, false)).toBe(index);
    }
  });

  it('each command is sent to each peer about once (RPC bytes)', () => {
    const { sim, lab } = makeLab(FILE, 'RPC bytes', { seed: 12, nodeCount: 3 });
    lab.checkOneLeader();
    lab.one('warmup', 3, false);
    const before = sim.network.counters.payloadBytes;
    const command = 'x'.repeat(5000);
    for (let i = 0; i < 10; i++) lab.one(`${command}${i}`, 3, false);
    const sent = sim.network.counters.payloadBytes - before;
    expect(sent).toBeLessThanOrEqual(2 * 10 * 5001 + 50_000);
  });

  it('follower failure', () => {
    const { sim, lab } = makeLab(FILE, 'follower failure', { seed: 13, nodeCount: 3 });
    const leader = lab.checkOneLeader();
    lab.one('101', 3, false);
    const followers = sim.ids.filter((id) => id !== leader);
    sim.network.disconnect(followers[0]);
    lab.one('102', 2, false);
    sim.runFor(1000);
    lab.one('103', 2, false);
    sim.network.disconnect(followers[1]);
    const leader2 = lab.checkOneLeader();
    const result = sim.propose(leader2, '104');
    expect(result.ok).toBe(true);
    sim.runFor(2000);
    if (result.ok) expect(lab.nCommitted(result.index).count).toBe(0);
  });

  it('fail agree: a returning follower catches up', () => {
    const { sim, lab } = makeLab(FILE, 'fail agree', { seed: 14, nodeCount: 3 });
    const leader = lab.checkOneLeader();
    lab.one('101', 3, false);
    const follower = sim.ids.find((id) => id !== leader)!;
    sim.network.disconnect(follower);
    for (const c of ['102', '103', '104', '105']) lab.one(c, 2, false);
    sim.runFor(2000);
    sim.network.connect(follower);
    lab.one('106', 3, true);
    sim.runFor(2000);
    lab.one('107', 3, true);
  });

  it('fail no agree: no commit without a majority', () => {
    const { sim, lab } = makeLab(FILE, 'fail no agree', { seed: 15, nodeCount: 5 });
    lab.one('10', 5, false);
    const leader = lab.checkOneLeader();
    const followers = sim.ids.filter((id) => id !== leader);
    followers.slice(0, 3).forEach((id) => sim.network.disconnect(id));
    const result = sim.propose(leader, '20');
    expect(result.ok).toBe(true);
    sim.runFor(2000);
    if (result.ok) expect(lab.nCommitted(result.index).count).toBe(0);
    followers.slice(0, 3).forEach((id) => sim.network.connect(id));
    const leader2 = lab.checkOneLeader();
    const again = sim.propose(leader2, '30');
    expect(again.ok).toBe(true);
    lab.one('1000', 5, true);
  });

  it('concurrent starts', () => {
    const { sim, lab } = makeLab(FILE, 'concurrent starts', { seed: 16, nodeCount: 3 });
    const leader = lab.checkOneLeader();
    const term = sim.raft(leader)!.term;
    const indexes = [1, 2, 3, 4, 5].map((i) => sim.propose(leader, `c${i}`));
    expect(indexes.every((r) => r.ok)).toBe(true);
    sim.runFor(2000);
    if (sim.raft(leader)!.term === term) {
      for (const r of indexes) if (r.ok) expect(lab.nCommitted(r.index).count).toBe(3);
    }
  });

  it('rejoin of a partitioned leader', () => {
    const { sim, lab } = makeLab(FILE, 'rejoin', { seed: 17, nodeCount: 3 });
    lab.one('101', 3, true);
    const leader1 = lab.checkOneLeader();
    sim.network.disconnect(leader1);
    for (const c of ['102', '103', '104']) sim.propose(leader1, c);
    lab.one('103', 2, true);
    const leader2 = lab.checkOneLeader();
    sim.network.disconnect(leader2);
    sim.network.connect(leader1);
    lab.one('104', 2, true);
    sim.network.connect(leader2);
    lab.one('105', 3, true);
  });

  it('backup: long divergent logs are repaired fast', () => {
    const { sim, lab } = makeLab(FILE, 'backup', { seed: 18, nodeCount: 5 });
    lab.one('start', 5, true);
    const leader1 = lab.checkOneLeader();
    const i = sim.ids.indexOf(leader1);
    const at = (k: number) => sim.ids[(i + k) % 5];
    // Leader and one follower in a minority get 50 entries that will never commit.
    sim.network.partition([
      [leader1, at(1)],
      [at(2), at(3), at(4)],
    ]);
    for (let n = 0; n < 50; n++) sim.propose(leader1, `lost-a${n}`);
    sim.runFor(500);
    for (let n = 0; n < 50; n++) lab.one(`ok-b${n}`, 3, true);
    const leader2 = lab.checkOneLeader();
    const other = [at(2), at(3), at(4)].find((id) => id !== leader2)!;
    sim.network.partition([
      [leader2, other],
      [leader1, at(1), ...[at(2), at(3), at(4)].filter((id) => id !== leader2 && id !== other)],
    ]);
    for (let n = 0; n < 50; n++) sim.propose(leader2, `lost-c${n}`);
    sim.runFor(500);
    // The old minority plus one of the new one: their logs are long and wrong.
    const third = [at(2), at(3), at(4)].find((id) => id !== leader2 && id !== other)!;
    sim.network.partition([
      [leader1, at(1), third],
      [leader2, other],
    ]);
    for (let n = 0; n < 50; n++) lab.one(`ok-d${n}`, 3, true);
    sim.network.heal();
    lab.one('final', 5, true);
  });

  it('message counts: election, per entry, and idle', () => {
    const { sim, lab } = makeLab(FILE, 'message counts', { seed: 19, nodeCount: 3 });
    const requests = () => {
      const c = sim.network.counters.sentByType;
      return (
        (c.RequestVote ?? 0) +
        (c.PreVote ?? 0) +
        (c.AppendEntries ?? 0) +
        (c.Heartbeat ?? 0) +
        (c.InstallSnapshot ?? 0) +
        (c.TimeoutNow ?? 0)
      );
    };
    const leader = lab.checkOneLeader();
    // Requests (not replies) to elect the first leader, including ~0.5 s of heartbeats after.
    expect(requests()).toBeLessThanOrEqual(30);
    const term = sim.raft(leader)!.term;
    const before = requests();
    for (let i = 0; i < 10; i++) lab.one(`c${i}`, 3, false);
    expect(sim.raft(leader)!.term).toBe(term);
    // 6.824 allows 42 for 11 entries with its own waits; ours: 2 appends per entry plus the
    // heartbeats (10/s to each follower) that pass while the tester waits for followers to apply.
    const perEntry = requests() - before;
    expect(perEntry).toBeLessThanOrEqual(10 * 2 + 2 * 10 * 3);
    const idleBefore = requests();
    sim.runFor(1000);
    // 10 heartbeats a second to each of 2 followers.
    expect(requests() - idleBefore).toBeLessThanOrEqual(22);
  });
});
