// The proxies a harnessed cluster's links go through: one per directed peer link (frames mode, so a
// fault acts on whole messages) and one per client->node link (stream mode), and the Net over them.

import { createNet, type NetLink } from '../../nemesis/net.js';
import { Proxy } from '../../nemesis/proxy.js';
import { CLIENT, type Net } from '../../nemesis/types.js';
import type { Random } from '../raft/random.js';

export interface LinkProxies {
  /** Keyed `from->to`. */
  peerProxies: Map<string, Proxy>;
  /** Keyed by node id. */
  clientProxies: Map<string, Proxy>;
  all: Proxy[];
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
): Promise<LinkProxies> {
  const peerProxies = new Map<string, Proxy>();
  const clientProxies = new Map<string, Proxy>();
  const all: Proxy[] = [];
  const add = async (proxy: Proxy) => {
    all.push(proxy);
    await proxy.start();
    return proxy;
  };
  try {
    for (const from of ids) {
      for (const to of ids) {
        if (from === to) continue;
        const name = `${from}->${to}`;
        peerProxies.set(
          name,
          await add(new Proxy({ name, targetHost: '127.0.0.1', targetPort: peerPorts.get(to)!, mode: 'frames', random: random.fork() })),
        );
      }
      if (clientPorts) {
        const name = `client->${from}`;
        clientProxies.set(
          from,
          await add(
            new Proxy({ name, targetHost: '127.0.0.1', targetPort: clientPorts.get(from)!, mode: 'stream', random: random.fork() }),
          ),
        );
      }
    }
  } catch (error) {
    await Promise.all(all.map((proxy) => proxy.close()));
    throw error;
  }
  const links: NetLink[] = [
    ...[...peerProxies].map(([key, proxy]): NetLink => {
      const [from, to] = key.split('->');
      return { from, to, proxy };
    }),
    ...[...clientProxies].map(([id, proxy]): NetLink => ({ from: CLIENT, to: id, proxy })),
  ];
  return {
    peerProxies,
    clientProxies,
    all,
    net: createNet(links),
    peerPort: (from, to) => peerProxies.get(`${from}->${to}`)!.port,
    close: async () => {
      await Promise.all(all.map((proxy) => proxy.close()));
    },
  };
}
