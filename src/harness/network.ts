// The network a run's nodes live on, chosen by --net: the harness's proxies (every peer and client
// link through a relay the Net controls), network hosts (a namespace per node, cuts at the IP level:
// nemesis/hosts.ts), or direct loopback links (no network faults). Each gives the target its
// addressing and the nemeses their Net, and is closed on every exit path.

import { createHostsNetwork, FLAKY_UNDER_HOSTS } from '../../nemesis/hosts.js';
import { createNet } from '../../nemesis/net.js';
import type { StartProxyHost } from '../../nemesis/proxy-host.js';
import type { Net, NetCapability } from '../../nemesis/types.js';
import type { Random } from '../raft/random.js';
import type { NetName, NodeAddressing, Target } from '../targets/types.js';
import { freePorts } from './launcher.js';
import { startLinkProxies } from './proxies.js';
import type { LinkTraffic } from './results.js';

const LOOPBACK = '127.0.0.1';

/** What a network can do for a target, known before anything starts (the Net it makes reports the same). */
export function netCapabilities(net: NetName, peerLinksProxied: boolean): NetCapability[] {
  if (net === 'hosts') return ['cut', 'cut-clients'];
  if (net === 'direct') return [];
  // The target's own router: every message passes the harness, so every fault applies.
  if (net === 'router') return ['cut', 'cut-clients', 'flaky', 'flaky-clients'];
  return [...(peerLinksProxied ? (['cut', 'flaky'] as const) : []), 'cut-clients', 'flaky-clients'];
}

/** Why `net` lacks `missing` for a target, for the refusal message. */
export function missingNetReason(net: NetName, missing: NetCapability, target: Target): string | undefined {
  if (net === 'hosts' && missing.startsWith('flaky')) return FLAKY_UNDER_HOSTS;
  if (net === 'direct') return 'direct links cannot be cut or slowed; drop --no-proxy / --net direct';
  if (net === 'proxy' && !target.peerLinks.proxyable) return target.peerLinks.reason;
  return undefined;
}

export interface RunNetwork {
  addressing: NodeAddressing;
  net: Net;
  /** What the proxies did (null: no proxies, or their counters were lost). Read after the nodes stop. */
  traffic(): Promise<LinkTraffic | null>;
  close(): Promise<void>;
}

export interface RunNetworkOptions {
  net: NetName;
  ids: readonly string[];
  /** Whether the target's peer links can go through per-link proxies (not etcd's). */
  proxyPeers: boolean;
  /** Nodes the harness does not start (a running cluster): each node's client API. Then there are no
   * peer links, and under --net proxy only the client links are proxied, to these. */
  endpoints?: ReadonlyMap<string, { host: string; port: number }>;
  random: Random;
  onProxyFailure?: (error: Error) => void;
  proxyHost?: StartProxyHost;
  log?: (line: string) => void;
}

export async function createRunNetwork(options: RunNetworkOptions): Promise<RunNetwork> {
  const { ids } = options;
  if (options.net === 'router') {
    // The target routes its own messages and brings its own Net (TargetCluster.net); nothing listens.
    const none = (): never => {
      throw new Error('--net router has no addresses: the target routes its own messages');
    };
    return {
      addressing: {
        net: 'router',
        listenHost: none,
        peerPort: none,
        clientPort: none,
        peerAddress: none,
        clientAddress: none,
        controlAddress: none,
        spawnPrefix: () => [],
      },
      net: createNet([]),
      traffic: async () => null,
      close: async () => {},
    };
  }
  if (options.net === 'hosts') {
    const hosts = createHostsNetwork(ids, { log: options.log });
    // Every node is on a host of its own, so all can use the same ports.
    const peerPort = 2380;
    const clientPort = 2379;
    const at = (id: string, port: number) => `${hosts.address(id)}:${port}`;
    return {
      addressing: {
        net: 'hosts',
        listenHost: hosts.address,
        peerPort: () => peerPort,
        clientPort: () => clientPort,
        peerAddress: (_from, to) => at(to, peerPort),
        clientAddress: (id) => at(id, clientPort),
        controlAddress: (id) => at(id, clientPort),
        clientLocalAddress: hosts.clientAddress,
        spawnPrefix: hosts.spawnPrefix,
      },
      net: hosts.net,
      traffic: async () => null,
      close: hosts.close,
    };
  }
  if (options.endpoints !== undefined) return endpointsNetwork(options, options.endpoints);
  const ports = await freePorts(ids.length * 2);
  const peerPorts = new Map(ids.map((id, i) => [id, ports[i]]));
  const clientPorts = new Map(ids.map((id, i) => [id, ports[ids.length + i]]));
  const direct = (map: Map<string, number>) => (id: string) => `${LOOPBACK}:${map.get(id)}`;
  const base = {
    listenHost: () => LOOPBACK,
    peerPort: (id: string) => peerPorts.get(id)!,
    clientPort: (id: string) => clientPorts.get(id)!,
    controlAddress: direct(clientPorts),
    spawnPrefix: () => [],
  };
  if (options.net === 'direct') {
    return {
      addressing: { net: 'direct', ...base, peerAddress: (_from, to) => direct(peerPorts)(to), clientAddress: direct(clientPorts) },
      net: createNet([]),
      traffic: async () => null,
      close: async () => {},
    };
  }
  const proxies = await startLinkProxies(
    options.proxyPeers ? ids : [],
    peerPorts,
    clientPorts,
    options.random,
    options.onProxyFailure,
    options.proxyHost,
    ids,
  );
  return {
    addressing: {
      net: 'proxy',
      ...base,
      peerAddress: (from, to) => (options.proxyPeers ? `${LOOPBACK}:${proxies.peerPort(from, to)}` : direct(peerPorts)(to)),
      clientAddress: (id) => `${LOOPBACK}:${proxies.clientProxies.get(id)!.port}`,
    },
    net: proxies.net,
    traffic: () => proxies.traffic(),
    close: proxies.close,
  };
}

/** A running cluster's network: clients reach its endpoints, directly or through a proxy per client link. */
async function endpointsNetwork(
  options: RunNetworkOptions,
  endpoints: ReadonlyMap<string, { host: string; port: number }>,
): Promise<RunNetwork> {
  const { ids } = options;
  const endpoint = (id: string) => {
    const at = endpoints.get(id);
    if (at === undefined) throw new Error(`no endpoint for node ${id}`);
    return at;
  };
  const direct = (id: string) => `${endpoint(id).host.includes(':') ? `[${endpoint(id).host}]` : endpoint(id).host}:${endpoint(id).port}`;
  const noPeers = (): never => {
    throw new Error('a running cluster has no peer links the harness knows');
  };
  const base = {
    listenHost: (id: string) => endpoint(id).host,
    peerPort: noPeers,
    clientPort: (id: string) => endpoint(id).port,
    peerAddress: noPeers,
    controlAddress: direct,
    spawnPrefix: () => [],
  };
  if (options.net === 'direct')
    return {
      addressing: { net: 'direct', ...base, clientAddress: direct },
      net: createNet([]),
      traffic: async () => null,
      close: async () => {},
    };
  if (options.net !== 'proxy') throw new Error(`--net ${options.net} cannot reach a running cluster's endpoints`);
  const clientPorts = new Map(ids.map((id) => [id, endpoint(id).port]));
  const proxies = await startLinkProxies(
    [],
    new Map(),
    clientPorts,
    options.random,
    options.onProxyFailure,
    options.proxyHost,
    ids,
    (id) => endpoint(id).host,
  );
  return {
    addressing: { net: 'proxy', ...base, clientAddress: (id) => `${LOOPBACK}:${proxies.clientProxies.get(id)!.port}` },
    net: proxies.net,
    traffic: () => proxies.traffic(),
    close: proxies.close,
  };
}
