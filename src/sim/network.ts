// The simulated network: per-link drop probability, delay range, duplication, rare long delays
// (reordering), node disconnection and partitions of any shape. It decides fates; the simulator
// schedules deliveries. It never looks inside messages except to count them.

import type { Message } from '../raft/message.js';
import type { Random } from '../raft/random.js';
import type { NodeId } from '../raft/types.js';

export interface LinkOptions {
  /** Probability that a message is lost. Default 0. */
  dropProbability: number;
  /** Delivery delay in ms, uniform in [delayMinMs, delayMaxMs]. Default 1..10. */
  delayMinMs: number;
  delayMaxMs: number;
  /** Probability that a message is delivered twice. Default 0. */
  duplicateProbability: number;
  /** Probability of an extra long delay in [200, 2200] ms (the 6.824 "long reordering"). Default 0. */
  longDelayProbability: number;
}

export const RELIABLE: LinkOptions = {
  dropProbability: 0,
  delayMinMs: 1,
  delayMaxMs: 10,
  duplicateProbability: 0,
  longDelayProbability: 0,
};

/** The 6.824 "unreliable" network: up to 26 ms of delay and 10% loss. */
export const UNRELIABLE: LinkOptions = {
  dropProbability: 0.1,
  delayMinMs: 0,
  delayMaxMs: 26,
  duplicateProbability: 0.02,
  longDelayProbability: 0,
};

export interface NetworkCounters {
  /** Messages handed to the network, by type. */
  sentByType: Record<string, number>;
  sent: number;
  dropped: number;
  delivered: number;
  /** Bytes of entry and snapshot data sent. */
  payloadBytes: number;
}

export class Network {
  private defaults: LinkOptions;
  private readonly links = new Map<string, LinkOptions>();
  private readonly disconnected = new Set<NodeId>();
  /** Node -> group number; nodes in different groups cannot talk. Empty: no partition. */
  private groupOf = new Map<NodeId, number>();
  readonly counters: NetworkCounters = { sentByType: {}, sent: 0, dropped: 0, delivered: 0, payloadBytes: 0 };

  constructor(
    private readonly random: Random,
    defaults: LinkOptions = RELIABLE,
  ) {
    this.defaults = { ...defaults };
  }

  setDefaults(options: Partial<LinkOptions>): void {
    this.defaults = { ...this.defaults, ...options };
  }

  /** Overrides one direction of one link. */
  setLink(from: NodeId, to: NodeId, options: Partial<LinkOptions>): void {
    this.links.set(`${from}>${to}`, { ...this.linkOptions(from, to), ...options });
  }

  linkOptions(from: NodeId, to: NodeId): LinkOptions {
    return this.links.get(`${from}>${to}`) ?? this.defaults;
  }

  disconnect(id: NodeId): void {
    this.disconnected.add(id);
  }

  connect(id: NodeId): void {
    this.disconnected.delete(id);
  }

  isConnected(id: NodeId): boolean {
    return !this.disconnected.has(id);
  }

  /** Splits nodes into groups; nodes not listed are each alone. */
  partition(groups: NodeId[][]): void {
    this.groupOf = new Map();
    groups.forEach((group, n) => group.forEach((id) => this.groupOf.set(id, n)));
  }

  heal(): void {
    this.groupOf = new Map();
    this.disconnected.clear();
  }

  canTalk(from: NodeId, to: NodeId): boolean {
    if (this.disconnected.has(from) || this.disconnected.has(to)) return false;
    if (this.groupOf.size === 0) return true;
    const a = this.groupOf.get(from);
    const b = this.groupOf.get(to);
    return a !== undefined && a === b;
  }

  /** Decides the delays (ms) of the copies of `m` that will arrive: none, one or two. */
  route(m: Message): number[] {
    this.counters.sent++;
    this.counters.sentByType[m.type] = (this.counters.sentByType[m.type] ?? 0) + 1;
    if (m.type === 'AppendEntries') for (const e of m.entries) this.counters.payloadBytes += e.data.length;
    if (m.type === 'InstallSnapshot') this.counters.payloadBytes += m.data.length;
    const link = this.linkOptions(m.from, m.to);
    if (!this.canTalk(m.from, m.to) || this.random.chance(link.dropProbability)) {
      this.counters.dropped++;
      return [];
    }
    const delays = [this.delay(link)];
    if (this.random.chance(link.duplicateProbability)) delays.push(this.delay(link));
    return delays;
  }

  private delay(link: LinkOptions): number {
    let delay = this.random.nextInt(link.delayMinMs, link.delayMaxMs + 1);
    if (this.random.chance(link.longDelayProbability)) delay += this.random.nextInt(200, 2201);
    return delay;
  }
}
