// Our own Raft KV node (`skepsis node`) as a target: a local cluster of node processes laid out on
// the harness's network, the Db over it (with every optional capability: leader, transfer, log
// damage) and KvClient clients with client id and sequence number. The default target.

import { KvClient } from '../../client/kv-client.js';
import { processExits } from '../process-db.js';
import type { Target } from '../types.js';
import { createClusterDb, waitForLeader } from './db.js';
import { prepareLocalCluster, startAll } from './local-cluster.js';

function port(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

export const skepsisTarget: Target = {
  name: 'skepsis',
  summary: 'our own Raft KV node (skepsis node)',
  options: [],
  capabilities: ['leader', 'transfer', 'damage-log'],
  peerLinks: { proxyable: true },
  defaultNet: 'proxy',
  nodeLogCheck: true,
  validate() {
    return { version: 'this build' };
  },
  async prepare(setup) {
    const { addressing } = setup;
    const cluster = await prepareLocalCluster({
      nodes: setup.ids.length,
      dir: setup.dir,
      peerPorts: new Map(setup.ids.map((id) => [id, addressing.peerPort(id)])),
      clientPorts: new Map(setup.ids.map((id) => [id, addressing.clientPort(id)])),
      advertisedPeerPort: (from, to) => port(addressing.peerAddress(from, to)),
      hostOf: addressing.net === 'hosts' ? (id) => addressing.listenHost(id) : undefined,
      spawnPrefix: (id) => addressing.spawnPrefix(id),
      extraArgs: [...setup.unsafeBugs.flatMap((bug) => ['--unsafe-bug', bug]), '--seed', String(setup.seed), ...setup.nodeArgs],
    });
    const clientUrls = new Map(setup.ids.map((id) => [id, `http://${addressing.clientAddress(id)}`]));
    return {
      db: createClusterDb(cluster, setup.log),
      start: async () => {
        await startAll(cluster);
      },
      waitForLeader: (options) => waitForLeader(cluster, options),
      client: (processId, home, timing) =>
        new KvClient({
          nodes: clientUrls,
          clientId: `p${processId}-s${setup.seed}-${setup.runId}`,
          // Like Jepsen's clients, each process is bound to one node (and follows redirects from it).
          home,
          attemptTimeoutMs: timing.attemptTimeoutMs,
          deadlineMs: timing.deadlineMs,
          localAddress: addressing.clientLocalAddress,
        }),
      stop: () => cluster.stop().catch(() => cluster.kill()),
      kill: () => cluster.kill(),
      nodeExits: () => processExits(cluster.ids, cluster.nodes),
    };
  },
};
