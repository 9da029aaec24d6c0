// Our own Raft KV node (`skepsis node`) as a target: a local cluster of node processes laid out on
// the harness's network, the Db over it (with every optional capability: leader, transfer, log
// damage) and KvClient clients with client id and sequence number. The default target.

import { KvClient } from '../../client/kv-client.js';
import { processExits } from '../process-db.js';
import { NODE_DEFAULTS } from '../../node/defaults.js';
import { type ClientTiming, positiveIntegerOption, type Target, TargetOptionError, type TargetSetup } from '../types.js';
import { createClusterDb, waitForLeader } from './db.js';
import { prepareLocalCluster, startAll } from './local-cluster.js';

function port(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** The --db-opt names and the node flags they set. */
const NODE_FLAGS: Record<string, string> = {
  'heartbeat-interval-ms': '--heartbeat-interval-ms',
  'election-timeout-ms': '--election-timeout-ms',
  'snapshot-count': '--snapshot-entries',
};

function optionFlags(options: Record<string, string>): string[] {
  return Object.entries(NODE_FLAGS).flatMap(([name, flag]) => (options[name] !== undefined ? [flag, options[name]] : []));
}

/**
 * A client of our node's HTTP/JSON protocol (docs/kv-http-protocol.md) for one client process, with a
 * session id unique to the run (our target's, and command specs' that speak the protocol).
 */
export function skepsisHttpClient(setup: TargetSetup, processId: number, home: string, timing: ClientTiming): KvClient {
  return new KvClient({
    nodes: new Map(setup.ids.map((id) => [id, `http://${setup.addressing.clientAddress(id)}`])),
    clientId: `p${processId}-s${setup.seed}-${setup.runId}`,
    // Like Jepsen's clients, each process is bound to one node (and follows redirects from it).
    home,
    attemptTimeoutMs: timing.attemptTimeoutMs,
    deadlineMs: timing.deadlineMs,
    localAddress: setup.addressing.clientLocalAddress,
  });
}

export const skepsisTarget: Target = {
  name: 'skepsis',
  summary: 'our own Raft KV node (skepsis node)',
  // Named as etcd's, so one suite (e.g. the presets) can tune either store; given ones only are passed.
  options: [
    { name: 'heartbeat-interval-ms', describe: `the node's --heartbeat-interval-ms (its default ${NODE_DEFAULTS.heartbeatIntervalMs})` },
    { name: 'election-timeout-ms', describe: `the node's --election-timeout-ms (its default ${NODE_DEFAULTS.electionTimeoutMs})` },
    {
      name: 'snapshot-count',
      describe: `the node's --snapshot-entries: entries between snapshots (its default ${NODE_DEFAULTS.snapshotEntries})`,
    },
  ],
  capabilities: ['leader', 'transfer', 'damage-log'],
  peerLinks: { proxyable: true },
  defaultNet: 'proxy',
  nodeLogCheck: true,
  validate(options, extra) {
    for (const [name, flag] of Object.entries(NODE_FLAGS)) {
      if (options[name] === undefined) continue;
      positiveIntegerOption('skepsis', name, options[name]);
      if (extra.nodeArgs.some((arg) => arg === flag || arg.startsWith(`${flag}=`)))
        throw new TargetOptionError(`--db-opt ${name} and --node-arg ${flag} set the same node flag; give one`);
    }
    const heartbeat = Number(options['heartbeat-interval-ms'] ?? NODE_DEFAULTS.heartbeatIntervalMs);
    const election = Number(options['election-timeout-ms'] ?? NODE_DEFAULTS.electionTimeoutMs);
    if (heartbeat >= election)
      throw new TargetOptionError(
        `--db-opt heartbeat-interval-ms (${heartbeat}) must be below election-timeout-ms (${election}) for target skepsis`,
      );
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
      extraArgs: [
        ...setup.unsafeBugs.flatMap((bug) => ['--unsafe-bug', bug]),
        '--seed',
        String(setup.seed),
        ...optionFlags(setup.options),
        ...setup.nodeArgs,
      ],
    });
    return {
      db: createClusterDb(cluster, setup.log),
      start: async () => {
        await startAll(cluster);
      },
      waitForLeader: (options) => waitForLeader(cluster, options),
      client: (processId, home, timing) => skepsisHttpClient(setup, processId, home, timing),
      stop: () => cluster.stop().catch(() => cluster.kill()),
      kill: () => cluster.kill(),
      nodeExits: () => processExits(cluster.ids, cluster.nodes),
    };
  },
};
