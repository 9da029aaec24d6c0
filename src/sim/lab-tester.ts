// The 6.824 tester's helpers (checkOneLeader, one, nCommitted ...) over the simulator, in virtual
// time with the course's budgets: a leader within ~5 s, agreement within 10 s per command.

import type { NodeId } from '../raft/types.js';
import type { Simulator } from './simulator.js';

export class LabTester {
  constructor(readonly sim: Simulator) {}

  fail(detail: string): never {
    throw this.sim.failure(detail);
  }

  /** Connected live nodes. */
  connected(): NodeId[] {
    return this.sim.ids.filter((id) => this.sim.isUp(id) && this.sim.network.isConnected(id));
  }

  /** Waits (up to 10 polls of ~0.5 s) for exactly one leader in the newest term among connected nodes. */
  checkOneLeader(): NodeId {
    for (let attempt = 0; attempt < 10; attempt++) {
      this.sim.runFor(this.sim.random.nextInt(450, 551));
      const byTerm = new Map<number, NodeId[]>();
      for (const id of this.connected()) {
        const raft = this.sim.raft(id)!;
        if (raft.role === 'leader') byTerm.set(raft.term, [...(byTerm.get(raft.term) ?? []), id]);
      }
      let newest = -1;
      for (const [term, leaders] of byTerm) {
        if (leaders.length > 1) this.fail(`term ${term} has ${leaders.length} leaders: ${leaders.join(', ')}`);
        newest = Math.max(newest, term);
      }
      if (newest >= 0) return byTerm.get(newest)![0];
    }
    this.fail('expected one leader, got none');
  }

  /** All connected nodes agree on the term; returns it. */
  checkTerms(): number {
    let term = -1;
    for (const id of this.connected()) {
      const t = this.sim.raft(id)!.term;
      if (term === -1) term = t;
      else if (t !== term) this.fail(`servers disagree on term: ${term} vs ${t} at ${id}`);
    }
    return term;
  }

  checkNoLeader(): void {
    for (const id of this.connected()) {
      if (this.sim.raft(id)!.role === 'leader') this.fail(`expected no leader among connected servers, but ${id} claims to be leader`);
    }
  }

  nCommitted(index: number): { count: number; command: string | undefined } {
    return this.sim.committedCount(index);
  }

  /**
   * Proposes `command` on whichever node accepts it and waits for `expectedServers` to apply it
   * at that index; with `retry`, tries again if another command took the index. Returns the index.
   */
  one(command: string, expectedServers: number, retry: boolean): number {
    const deadline = this.sim.nowMs + 10_000;
    let next = 0;
    while (this.sim.nowMs < deadline) {
      let index = -1;
      for (let i = 0; i < this.sim.ids.length; i++) {
        next = (next + 1) % this.sim.ids.length;
        const result = this.sim.propose(this.sim.ids[next], command);
        if (result.ok) {
          index = result.index;
          break;
        }
      }
      if (index !== -1) {
        const done = this.sim.runUntil(() => {
          const { count, command: applied } = this.nCommitted(index);
          return count >= expectedServers && applied === command;
        }, 2000);
        if (done) return index;
        if (!retry) this.fail(`one(${command}) failed to reach agreement at index ${index}`);
      } else {
        this.sim.runFor(50);
      }
    }
    this.fail(`one(${command}) failed to reach agreement within 10 s`);
  }

  /** Waits for `n` nodes to apply `index`; gives up early if a term passes `startTerm`. */
  wait(index: number, n: number, startTerm: number): string | undefined {
    let delayMs = 10;
    for (let i = 0; i < 30; i++) {
      if (this.nCommitted(index).count >= n) break;
      this.sim.runFor(delayMs);
      if (delayMs < 1000) delayMs *= 2;
      if (startTerm > -1 && this.sim.liveRafts().some((r) => r.term > startTerm)) return undefined;
    }
    const { count, command } = this.nCommitted(index);
    if (count < n) this.fail(`only ${count} decided for index ${index}; wanted ${n}`);
    return command;
  }
}
