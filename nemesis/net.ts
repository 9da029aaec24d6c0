// The Net over many proxies: directed cuts, isolation and flakiness by node pair, translated into
// each proxy's LinkFault. It holds the desired state; the proxies do the work. No sockets here.

import { describeLinkFault, type LinkFault, validateLinkFault } from './proxy.js';
import { CLIENT, type Link, type Net } from './types.js';

/** What the Net needs of a proxy (a real Proxy, or a fake in tests). */
export interface LinkControl {
  set(fault: LinkFault): void;
}

/** One proxied directed link: `from` dials the proxy, the proxy dials `to`. */
export interface NetLink {
  from: string;
  to: string;
  proxy: LinkControl;
}

/** A bad link list or a pair that has no proxy; the message names it. */
export class NetError extends Error {
  override readonly name = 'NetError';
}

/**
 * Builds a Net. A cut [a, b] cuts the forward direction of the a->b proxy and the backward direction
 * of the b->a proxy (whichever exist), so nothing from a reaches b on any connection. Client links
 * are links from 'client' to a node; [node, 'client'] cuts their replies.
 */
export function createNet(links: readonly NetLink[]): Net {
  const byKey = new Map<string, NetLink>();
  const nodes: string[] = [];
  for (const link of links) {
    if (typeof link.from !== 'string' || link.from.length === 0 || typeof link.to !== 'string' || link.to.length === 0)
      throw new NetError(`link ends must be non-empty strings, got ${JSON.stringify([link.from, link.to])}`);
    if (link.from === link.to) throw new NetError(`link ${link.from}->${link.to} connects a node to itself`);
    if (link.to === CLIENT) throw new NetError(`link ${link.from}->${link.to}: client links go from '${CLIENT}' to a node`);
    if (link.proxy === undefined || typeof link.proxy.set !== 'function') throw new NetError(`link ${link.from}->${link.to} has no proxy`);
    const key = keyOf(link.from, link.to);
    if (byKey.has(key)) throw new NetError(`link ${key} is listed twice`);
    byKey.set(key, link);
    for (const end of [link.from, link.to]) if (end !== CLIENT && !nodes.includes(end)) nodes.push(end);
  }
  const cuts = new Set<string>();
  const flakiness = new Map<string, LinkFault>();
  /** The fault last given to each proxy, so unchanged proxies are left alone (a stream proxy destroys
   * blackholed connections whenever a cut is lifted). */
  const applied = new Map<string, string>();

  const checkPair = (pair: Link): void => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new NetError(`a link pair must be [from, to], got ${JSON.stringify(pair)}`);
    const [from, to] = pair;
    if (!byKey.has(keyOf(from, to)) && !byKey.has(keyOf(to, from)))
      throw new NetError(
        `no proxied link between ${JSON.stringify(from)} and ${JSON.stringify(to)}; links: ${[...byKey.keys()].join(', ')}`,
      );
  };

  const sync = (): void => {
    for (const [key, link] of byKey) {
      const fault: LinkFault = { ...flakiness.get(key) };
      if (cuts.has(key)) fault.cutForward = true;
      if (cuts.has(keyOf(link.to, link.from))) fault.cutBackward = true;
      const text = JSON.stringify(fault);
      if (applied.get(key) === text) continue;
      link.proxy.set(fault);
      applied.set(key, text);
    }
  };

  const peerLinks = (): Link[] => [...byKey.values()].filter((l) => l.from !== CLIENT).map((l) => [l.from, l.to] as const);

  const hasPeerLinks = [...byKey.values()].some((l) => l.from !== CLIENT);
  const hasClientLinks = [...byKey.values()].some((l) => l.from === CLIENT);
  const net: Net = {
    nodes,
    capabilities: [
      ...(hasPeerLinks ? (['cut', 'flaky'] as const) : []),
      ...(hasClientLinks ? (['cut-clients', 'flaky-clients'] as const) : []),
    ],
    cut(pairs) {
      pairs.forEach(checkPair);
      for (const [from, to] of pairs) cuts.add(keyOf(from, to));
      sync();
    },
    uncut(pairs) {
      pairs.forEach(checkPair);
      for (const [from, to] of pairs) cuts.delete(keyOf(from, to));
      sync();
    },
    isolate(node, options = {}) {
      if (!nodes.includes(node)) throw new NetError(`unknown node ${JSON.stringify(node)}; nodes: ${nodes.join(', ')}`);
      const pairs: Link[] = [];
      for (const other of nodes) {
        if (other === node) continue;
        pairs.push([node, other], [other, node]);
      }
      if (options.clients && byKey.has(keyOf(CLIENT, node))) pairs.push([CLIENT, node], [node, CLIENT]);
      net.cut(pairs);
      return pairs;
    },
    flaky(fault, pairs) {
      const valid = validateLinkFault(fault, 'flaky');
      if (valid.cutForward || valid.cutBackward) throw new NetError(`flaky faults cannot cut; use cut(), got ${JSON.stringify(fault)}`);
      const targets = pairs ?? peerLinks();
      for (const pair of targets) {
        if (!byKey.has(keyOf(pair[0], pair[1]))) throw new NetError(`no proxied link ${keyOf(pair[0], pair[1])} to make flaky`);
      }
      for (const [from, to] of targets) flakiness.set(keyOf(from, to), valid);
      sync();
    },
    clearFlaky(pairs) {
      for (const [from, to] of pairs ?? peerLinks()) flakiness.delete(keyOf(from, to));
      sync();
    },
    heal() {
      cuts.clear();
      flakiness.clear();
      sync();
    },
    describe() {
      const lines: string[] = [];
      const cutList = [...cuts].sort();
      if (cutList.length > 0) lines.push(`cut: ${cutList.join(' ')}`);
      for (const [key, fault] of [...flakiness].sort(([a], [b]) => a.localeCompare(b)))
        lines.push(`flaky ${key}: ${describeLinkFault(fault)}`);
      return lines.length === 0 ? 'healthy' : lines.join('\n');
    },
  };
  sync();
  return net;
}

function keyOf(from: string, to: string): string {
  return `${from}->${to}`;
}
