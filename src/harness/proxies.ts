// The proxies a harnessed cluster's links go through: one per directed peer link (frames mode, so a
// fault acts on whole messages) and one per client->node link (stream mode), and the Net over them.
// They run on a worker thread of their own (nemesis/proxy-host.ts), so a busy harness never holds a
// message back.

import { createNet, type NetLink } from '../../nemesis/net.js';
import { startProxyHost, type ProxySpec, type RemoteProxy } from '../../nemesis/proxy-host.js';
import { CLIENT, type Net } from '../../nemesis/types.js';
import type { Random } from '../raft/random.js';

export interface LinkProxies {
  /** Keyed `from->to`. */
  peerProxies: Map<string, RemoteProxy>;
  /** Keyed by node id. */
  clientProxies: Map<string, RemoteProxy>;
  net: Net;
  /** Where `from` dials `to`. */
  peerPort(from: string, to: string): number;
  close(): Promise<void>;
}

export async function startLinkProxies(
  ids: readonly string[],
  peerPorts: Map<string, number>,
  clientPorts: Map<string, number> | undefined,
  random: Random,
  onFailure?: (error: Error) => void,
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
    if (clientPorts) {
      specs.push({
        name: `client->${from}`,
        targetHost: '127.0.0.1',
        targetPort: clientPorts.get(from)!,
        mode: 'stream',
        seed: random.nextUint32(),
      });
    }
  }
  const host = await startProxyHost(specs, onFailure);
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
    close: host.close,
  };
}
