// Skepsis as Maelstrom's network: every line a node or an in-harness client writes is routed by
// `dest` to a node, a client or a service; the Net (nemesis/net.ts over one LinkControl per directed
// link) cuts, delays and drops at delivery, one-way included. Counts per link what was sent,
// delivered, cut and dropped. A malformed line, an unknown dest or a reply to nothing is logged and
// counted, never thrown. No processes here: endpoints are given.

import { createNet, type NetLink } from '../../../nemesis/net.js';
import type { LinkFault } from '../../../nemesis/proxy.js';
import { CLIENT, type Net } from '../../../nemesis/types.js';
import type { Random } from '../../raft/random.js';
import { describeMessage, type MaelstromMessage, parseMessage } from './protocol.js';

/** Something that takes delivered messages: a node's stdin, a client, a service. */
export interface Endpoint {
  /** Delivers; false when the endpoint could not take it (a node that is down or overloaded).
   * `line` is the message's text as its sender wrote it, when it came as a line (saves rendering it again). */
  deliver(message: MaelstromMessage, line?: string): boolean;
}

/** What happened to the messages of one directed link (clients are one end, `client`). */
export interface LinkCounts {
  sent: number;
  delivered: number;
  /** Lost to a cut. */
  cut: number;
  /** Lost to a flaky link's drop fraction. */
  dropped: number;
  /** Lost because the destination was down or over its bound. */
  undeliverable: number;
}

/** Counters over the whole run, as results.json records them. */
export interface RouterStats {
  /** By `from->to`, with clients as `client` and services by name. */
  links: Record<string, LinkCounts>;
  /** Messages between nodes, between clients and nodes, and between nodes and services (Maelstrom's servers / clients split). */
  totals: { nodes: LinkCounts; clients: LinkCounts; services: LinkCounts };
  malformed: number;
  unknownDest: number;
  /** Replies to a client that matched no request it was waiting for. */
  repliesToNothing: number;
  /** Messages held for delay that were over inFlightMax (counted in undeliverable too). */
  overflow: number;
}

export interface RouterOptions {
  nodes: readonly string[];
  /** In-harness services by name (lin-kv, seq-kv ...): never behind a fault, like Maelstrom's. */
  services?: ReadonlyMap<string, Endpoint>;
  random: Random;
  log(line: string): void;
  /** Delayed messages held at once; past it they are lost (and counted). Default 100 000. */
  inFlightMax?: number;
  /** Log lines about bad traffic, at most; then counted only. Default 100. */
  complaintLinesMax?: number;
}

const CLIENT_ID = /^c\d+$/;

function zero(): LinkCounts {
  return { sent: 0, delivered: 0, cut: 0, dropped: 0, undeliverable: 0 };
}

export class Router {
  readonly net: Net;
  private readonly nodes = new Map<string, Endpoint | undefined>();
  private readonly clients = new Map<string, Endpoint & { expects(inReplyTo: number): boolean }>();
  private readonly services: ReadonlyMap<string, Endpoint>;
  private readonly faults = new Map<string, LinkFault>();
  private readonly counts = new Map<string, LinkCounts>();
  private readonly totals = { nodes: zero(), clients: zero(), services: zero() };
  private malformed = 0;
  private unknownDest = 0;
  private repliesToNothing = 0;
  private overflow = 0;
  private inFlight = 0;
  private complaints = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlightMax: number;
  private readonly complaintLinesMax: number;

  constructor(private readonly options: RouterOptions) {
    this.services = options.services ?? new Map();
    this.inFlightMax = options.inFlightMax ?? 100_000;
    this.complaintLinesMax = options.complaintLinesMax ?? 100;
    for (const id of options.nodes) this.nodes.set(id, undefined);
    const links: NetLink[] = [];
    const control = (key: string) => ({ set: (fault: LinkFault) => this.faults.set(key, fault) });
    for (const from of options.nodes) {
      links.push({ from: CLIENT, to: from, proxy: control(`${CLIENT}->${from}`) });
      for (const to of options.nodes) if (from !== to) links.push({ from, to, proxy: control(`${from}->${to}`) });
    }
    this.net = createNet(links);
  }

  /** Where messages to node `id` go (undefined while it is down). */
  attachNode(id: string, endpoint: Endpoint | undefined): void {
    if (!this.nodes.has(id)) throw new Error(`unknown node ${JSON.stringify(id)}`);
    this.nodes.set(id, endpoint);
  }

  attachClient(id: string, endpoint: Endpoint & { expects(inReplyTo: number): boolean }): void {
    this.clients.set(id, endpoint);
  }

  detachClient(id: string): void {
    this.clients.delete(id);
  }

  /** A line a node wrote on stdout (`from` is the node it came from). */
  routeLine(from: string, line: string): void {
    if (line.trim() === '') return;
    const parsed = parseMessage(line);
    if ('error' in parsed) {
      this.malformed++;
      this.complain(`${from}: malformed line (${parsed.error}): ${line.slice(0, 200)}`);
      return;
    }
    this.send(parsed, from, line);
  }

  /** Sends a message; `from` is who really sent it (a node cannot speak for another). */
  send(message: MaelstromMessage, from = message.src, line?: string): void {
    if (message.src !== from) {
      this.malformed++;
      this.complain(`${from}: message claims src ${JSON.stringify(message.src)}; dropped: ${describeMessage(message)}`);
      return;
    }
    const { src, dest } = message;
    const endpointOf = (): { endpoint: Endpoint | undefined; kind: keyof RouterStats['totals'] } | undefined => {
      if (this.nodes.has(dest))
        return { endpoint: this.nodes.get(dest), kind: CLIENT_ID.test(src) ? 'clients' : this.services.has(src) ? 'services' : 'nodes' };
      if (this.services.has(dest)) return { endpoint: this.services.get(dest), kind: 'services' };
      if (CLIENT_ID.test(dest) && this.nodes.has(src)) {
        const client = this.clients.get(dest);
        const inReplyTo = message.body.in_reply_to;
        if (client === undefined || inReplyTo === undefined || !client.expects(inReplyTo)) {
          this.repliesToNothing++;
          this.complain(`reply to nothing (no such request pending): ${describeMessage(message)}`);
          return undefined;
        }
        return { endpoint: client, kind: 'clients' };
      }
      return undefined;
    };
    const target = endpointOf();
    if (target === undefined) {
      if (!(CLIENT_ID.test(dest) && this.nodes.has(src))) {
        this.unknownDest++;
        this.complain(`unknown dest ${JSON.stringify(dest)}: ${describeMessage(message)}`);
      }
      return;
    }
    const linkKey = `${CLIENT_ID.test(src) ? CLIENT : src}->${CLIENT_ID.test(dest) ? CLIENT : dest}`;
    const counts = this.countsOf(linkKey);
    const total = this.totals[target.kind];
    counts.sent++;
    total.sent++;
    const fault = this.faultFor(src, dest);
    if (fault.cut) {
      counts.cut++;
      total.cut++;
      return;
    }
    if (fault.dropFraction > 0 && this.options.random.chance(fault.dropFraction)) {
      counts.dropped++;
      total.dropped++;
      return;
    }
    const deliver = () => {
      if (target.endpoint?.deliver(message, line)) {
        counts.delivered++;
        total.delivered++;
      } else {
        counts.undeliverable++;
        total.undeliverable++;
      }
    };
    const delayMs = fault.delayMs + (fault.jitterMs > 0 ? this.options.random.nextFloat() * fault.jitterMs : 0);
    if (delayMs <= 0) return deliver();
    if (this.inFlight >= this.inFlightMax) {
      this.overflow++;
      counts.undeliverable++;
      total.undeliverable++;
      return;
    }
    this.inFlight++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.inFlight--;
      deliver();
    }, delayMs);
    this.timers.add(timer);
  }

  /** What the Net's faults do to a message from `src` to `dest` now. */
  private faultFor(src: string, dest: string): { cut: boolean; delayMs: number; jitterMs: number; dropFraction: number } {
    let forward: LinkFault | undefined;
    let cut = false;
    if (this.nodes.has(src) && this.nodes.has(dest)) {
      forward = this.faults.get(`${src}->${dest}`);
      cut = forward?.cutForward === true || this.faults.get(`${dest}->${src}`)?.cutBackward === true;
    } else if (CLIENT_ID.test(src) && this.nodes.has(dest)) {
      forward = this.faults.get(`${CLIENT}->${dest}`);
      cut = forward?.cutForward === true;
    } else if (this.nodes.has(src) && CLIENT_ID.test(dest)) {
      forward = this.faults.get(`${CLIENT}->${src}`);
      cut = forward?.cutBackward === true;
    }
    return { cut, delayMs: forward?.delayMs ?? 0, jitterMs: forward?.jitterMs ?? 0, dropFraction: forward?.dropFraction ?? 0 };
  }

  private countsOf(key: string): LinkCounts {
    let counts = this.counts.get(key);
    if (counts === undefined) {
      counts = zero();
      this.counts.set(key, counts);
    }
    return counts;
  }

  private complain(line: string): void {
    this.complaints++;
    if (this.complaints <= this.complaintLinesMax) this.options.log(line);
    else if (this.complaints === this.complaintLinesMax + 1) this.options.log(`more bad traffic: counted, no longer logged`);
  }

  stats(): RouterStats {
    const links = Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, { ...v }]));
    return {
      links,
      totals: { nodes: { ...this.totals.nodes }, clients: { ...this.totals.clients }, services: { ...this.totals.services } },
      malformed: this.malformed,
      unknownDest: this.unknownDest,
      repliesToNothing: this.repliesToNothing,
      overflow: this.overflow,
    };
  }

  /** Drops every delayed message still held. */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.inFlight = 0;
  }
}
