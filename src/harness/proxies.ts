// The proxies a harnessed cluster's links go through: one per directed peer link (frames mode, so a
// fault acts on whole messages) and one per client->node link (stream mode), and the Net over them.
// They run on a worker thread of their own (nemesis/proxy-host.ts), so a busy harness never holds a
// message back.

import { createNet, type NetLink } from '../../nemesis/net.js';
import { startProxyHost, type ProxySpec, type RemoteProxy, type StartProxyHost } from '../../nemesis/proxy-host.js';
import type { ProxyStats } from '../../nemesis/proxy.js';
import { CLIENT, type Net } from '../../nemesis/types.js';
import type { Random } from '../raft/random.js';
import type { LinkTraffic, LinkTrafficTotals } from './results.js';

export interface LinkProxies {
  /** Keyed `from->to`. */
  peerProxies: Map<string, RemoteProxy>;
  /** Keyed by node id. */
  clientProxies: Map<string, RemoteProxy>;
  net: Net;
  /** Where `from` dials `to`. */
  peerPort(from: string, to: string): number;
  /** The proxies' counters so far, summed by kind of link. */
  traffic(): Promise<LinkTraffic>;
  close(): Promise<void>;
}

export async function startLinkProxies(
  ids: readonly string[],
  peerPorts: Map<string, number>,
  clientPorts: Map<string, number> | undefined,
  random: Random,
  onFailure?: (error: Error) => void,
  startHost: StartProxyHost = startProxyHost,
  clientIds: readonly string[] = ids,
  /** Where each node's client API listens (a running cluster's endpoints); default 127.0.0.1. */
  clientHostOf: (id: string) => string = () => '127.0.0.1',
): Promise<LinkProxies> {
  const specs: ProxySpec[] = [];
  for (const from of ids) {
    for (const to of ids) {
      if (from === to) continue;
      specs.push({
        name: `${from}->${to}`,
        targetHost: '127.0.0.1',
        targetPort: peerPorts.get(to)!,
        mode: 'frames',
        seed: random.nextUint32(),
      });
    }
  }
  // Client links may be proxied for nodes whose peer links are not (etcd on --net proxy).
  for (const from of clientPorts ? clientIds : []) {
    specs.push({
      name: `client->${from}`,
      targetHost: clientHostOf(from),
      targetPort: clientPorts!.get(from)!,
      mode: 'stream',
      seed: random.nextUint32(),
    });
  }
  const host = await startHost(specs, onFailure);
  const peerProxies = new Map<string, RemoteProxy>();
  const clientProxies = new Map<string, RemoteProxy>();
  const links: NetLink[] = [];
  for (const proxy of host.proxies) {
    const [from, to] = proxy.name.split('->');
    if (from === CLIENT) clientProxies.set(to, proxy);
    else peerProxies.set(proxy.name, proxy);
    links.push({ from, to, proxy });
  }
  return {
    peerProxies,
    clientProxies,
    net: createNet(links),
    peerPort: (from, to) => peerProxies.get(`${from}->${to}`)!.port,
    traffic: async () =>
      summarizeTraffic(
        host.proxies.map((proxy) => proxy.name),
        await host.stats(),
      ),
    close: host.close,
  };
}

/** Sums proxy counters by kind of link (`client->n1` is a client link, `n1->n2` a peer link). */
export function summarizeTraffic(names: readonly string[], stats: readonly ProxyStats[]): LinkTraffic {
  const empty = (): LinkTrafficTotals => ({
    links: 0,
    connectionsAccepted: 0,
    connectionsBroken: 0,
    frames: 0,
    framesCut: 0,
    framesDropped: 0,
    framesOverflow: 0,
    bytesDiscarded: 0,
  });
  const traffic: LinkTraffic = { peer: empty(), client: empty() };
  stats.forEach((stat, i) => {
    const totals = names[i]?.startsWith(`${CLIENT}->`) ? traffic.client : traffic.peer;
    totals.links++;
    totals.connectionsAccepted += stat.connectionsAccepted;
    totals.connectionsBroken += stat.connectionsBroken;
    for (const direction of [stat.forward, stat.backward]) {
      totals.frames += direction.framesIn;
      totals.framesCut += direction.framesCut;
      totals.framesDropped += direction.framesDropped;
      totals.framesOverflow += direction.framesOverflow;
      totals.bytesDiscarded += direction.bytesDiscarded;
    }
  });
  return traffic;
}
