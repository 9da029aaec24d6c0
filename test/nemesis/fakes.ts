// Test doubles for the nemesis tests: a Db that records calls and keeps node states in memory, a
// Net over recording link controls, and a virtual clock that jumps to the next timer when idle.

import { createNet, type LinkControl } from '../../nemesis/net.js';
import type { LinkFault } from '../../nemesis/proxy.js';
import type { Clock, Db, Net } from '../../nemesis/types.js';
import type { Random } from '../../src/raft/random.js';

/** A cluster in memory: kill/start/pause/resume change sets; every call is logged with the virtual time. */
export class FakeDb implements Db {
  readonly calls: string[] = [];
  readonly running: Set<string>;
  readonly paused = new Set<string>();
  /** Nodes whose start() rejects, as a node refusing a damaged log would. */
  readonly refuseStart = new Set<string>();
  leaderNode: string | undefined;

  constructor(
    readonly nodes: readonly string[],
    private readonly clock?: Clock,
  ) {
    this.running = new Set(nodes);
    this.leaderNode = nodes[0];
  }

  private log(call: string): void {
    this.calls.push(this.clock ? `${Math.round(this.clock.now())} ${call}` : call);
  }

  private available(node: string): boolean {
    return this.running.has(node) && !this.paused.has(node);
  }

  async kill(node: string): Promise<void> {
    this.log(`kill ${node}`);
    this.running.delete(node);
    this.paused.delete(node);
  }

  async start(node: string): Promise<void> {
    this.log(`start ${node}`);
    if (this.refuseStart.has(node)) throw new Error(`${node} refused to start: log checksum mismatch at the tail`);
    this.running.add(node);
  }

  async pause(node: string): Promise<void> {
    this.log(`pause ${node}`);
    this.paused.add(node);
  }

  async resume(node: string): Promise<void> {
    this.log(`resume ${node}`);
    this.paused.delete(node);
  }

  isRunning(node: string): boolean {
    return this.running.has(node);
  }

  /** The leader if it is available; else the first available node "wins an election". */
  async leader(): Promise<string | undefined> {
    if (this.leaderNode === undefined || !this.available(this.leaderNode)) this.leaderNode = this.nodes.find((n) => this.available(n));
    return this.leaderNode;
  }

  async transferLeader(to: string): Promise<boolean> {
    this.log(`transfer ${to}`);
    if (!this.available(to)) return false;
    this.leaderNode = to;
    return true;
  }

  async damageLog(node: string, how: 'cut' | 'garble' | 'synced', random: Random): Promise<string> {
    this.log(`damage ${node} ${how}`);
    if (this.running.has(node)) throw new Error(`damageLog(${node}) while it runs`);
    return `${how} ${random.nextInt(1, 100)} bytes at the tail`;
  }
}

/** A Net over fake proxies for every directed peer link and every client link; `faults` has each proxy's current fault. */
export function fakeNet(nodes: readonly string[]): { net: Net; faults: Map<string, LinkFault> } {
  const faults = new Map<string, LinkFault>();
  const links: Array<{ from: string; to: string; proxy: LinkControl }> = [];
  const add = (from: string, to: string): void => {
    const key = `${from}->${to}`;
    links.push({ from, to, proxy: { set: (fault) => faults.set(key, fault) } });
  };
  for (const from of nodes) for (const to of nodes) if (from !== to) add(from, to);
  for (const node of nodes) add('client', node);
  return { net: createNet(links), faults };
}

/** True when every fake proxy is healthy. */
export function allHealthy(faults: Map<string, LinkFault>): boolean {
  return [...faults.values()].every((fault) => Object.keys(fault).length === 0);
}

interface Timer {
  atMs: number;
  seq: number;
  fire: () => void;
}

/**
 * Virtual time. sleep() registers a timer; run(promise) lets every pending microtask and immediate
 * settle, then jumps to the earliest timer and fires it, until the promise settles.
 */
export class VirtualClock implements Clock {
  private nowMs = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.nowMs;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = this.at(this.nowMs + Math.max(0, ms), () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = (): void => {
        this.timers = this.timers.filter((t) => t !== timer);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Runs `fire` at virtual time atMs. */
  at(atMs: number, fire: () => void): Timer {
    const timer = { atMs, seq: this.seq++, fire };
    this.timers.push(timer);
    return timer;
  }

  async run<T>(promise: Promise<T>, stepsMax = 100_000): Promise<T> {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let step = 0; ; step++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (settled) return promise;
      if (step >= stepsMax) throw new Error(`virtual clock: not settled after ${stepsMax} timers`);
      if (this.timers.length === 0) throw new Error('virtual clock: stuck (nothing scheduled and the promise is pending)');
      this.timers.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
      const next = this.timers.shift()!;
      this.nowMs = Math.max(this.nowMs, next.atMs);
      next.fire();
    }
  }
}
