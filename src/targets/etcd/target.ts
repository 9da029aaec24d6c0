// etcd as a target (`--db etcd`): N members of a real etcd (Debian's etcd-server, or any build given
// by --db-opt etcd-bin), each with its own data dir and ports, wired into one initial cluster on the
// harness's network; the Db over their processes (kill -9, restart on the data dir, SIGSTOP/SIGCONT),
// the leader and leadership transfer through etcd's own maintenance API, and clients over the v3 JSON
// gateway (client.ts). etcd writes no SAFETY VIOLATION lines: for it the history is all there is.
//
// Peer links: etcd members talk over connections either side may have opened (streams the other
// member dialled, pipelined requests), and every member must agree on each member's peer URL, so
// per-link proxies cannot sit between them. Partitions of etcd need --net hosts (cuts at the IP
// level); on --net proxy only the client links are proxied.

import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../../nemesis/types.js';
import { NodeProcess } from '../../harness/launcher.js';
import { killProcesses, pollFor, processDb, processExits, startProcesses, stopProcesses } from '../process-db.js';
import {
  booleanOption,
  type ClientTiming,
  type NodeAddressing,
  positiveIntegerOption,
  type Target,
  TargetOptionError,
  TargetUnavailableError,
} from '../types.js';
import { EtcdKvStore } from './client.js';
import { etcdLeaderFinder, postJson } from './leader.js';

const LEADER_POLL_MS = 100;
const READY_KEY = Buffer.from('skepsis-ready').toString('base64');

/** etcd's own defaults (100 ms heartbeats, 1000 ms elections), as strings for --db-opt. */
const OPTION_DEFAULTS = {
  'etcd-bin': 'etcd',
  'serializable-reads': 'false',
  'heartbeat-interval-ms': '100',
  'election-timeout-ms': '1000',
  'snapshot-count': '10000',
} as const;

/** `etcd --version`'s first line says `etcd Version: 3.4.23`. */
function etcdVersion(bin: string): string {
  const result = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (result.error || result.status !== 0) {
    const why = result.error
      ? (result.error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'not found'
        : result.error.message
      : `exit ${result.status}: ${result.stderr.trim()}`;
    throw new TargetUnavailableError(
      `--db etcd: the etcd binary ${JSON.stringify(bin)} ${why}. Install Debian's etcd-server (apt-get install -y etcd-server), ` +
        'or name another build with --db-opt etcd-bin=PATH.',
    );
  }
  const match = /etcd Version:\s*(\S+)/.exec(result.stdout);
  return match ? match[1] : result.stdout.split('\n')[0].trim();
}

/** A client of the v3 JSON gateway bound to node `home` (the etcd target's, and command specs' that speak the gateway). */
export function etcdGatewayClient(addressing: NodeAddressing, home: string, timing: ClientTiming, serializableReads = false): EtcdKvStore {
  return new EtcdKvStore({
    url: `http://${addressing.clientAddress(home)}`,
    attemptTimeoutMs: timing.attemptTimeoutMs,
    deadlineMs: timing.deadlineMs,
    serializableReads,
    localAddress: addressing.clientLocalAddress,
  });
}

export const etcdTarget: Target = {
  name: 'etcd',
  summary: "etcd (Debian's etcd-server 3.4, or --db-opt etcd-bin=PATH), over its v3 JSON gateway",
  options: [
    { name: 'etcd-bin', describe: 'the etcd binary (a path, or a name on PATH)', default: OPTION_DEFAULTS['etcd-bin'] },
    {
      name: 'serializable-reads',
      describe: 'true: reads are serializable (served locally, possibly stale)',
      default: OPTION_DEFAULTS['serializable-reads'],
    },
    { name: 'heartbeat-interval-ms', describe: "etcd's --heartbeat-interval", default: OPTION_DEFAULTS['heartbeat-interval-ms'] },
    { name: 'election-timeout-ms', describe: "etcd's --election-timeout", default: OPTION_DEFAULTS['election-timeout-ms'] },
    { name: 'snapshot-count', describe: "etcd's --snapshot-count (entries between snapshots)", default: OPTION_DEFAULTS['snapshot-count'] },
  ],
  capabilities: ['leader', 'transfer'],
  peerLinks: {
    proxyable: false,
    reason:
      "etcd members reuse connections either side opened and must agree on each other's peer URLs, so per-link proxies cannot cut them; use --net hosts (cuts at the IP level, needs root)",
  },
  defaultNet: 'hosts',
  nodeLogCheck: false,
  validate(options, extra) {
    if (extra.unsafeBugs.length > 0)
      throw new TargetOptionError('--unsafe-bug plants bugs in our own node only; it does not apply to --db etcd');
    if (extra.nodeArgs.length > 0)
      throw new TargetOptionError('--node-arg passes flags to our own node only; use --db-opt for etcd (see --help)');
    booleanOption('etcd', 'serializable-reads', options['serializable-reads']);
    for (const name of ['heartbeat-interval-ms', 'election-timeout-ms', 'snapshot-count'])
      positiveIntegerOption('etcd', name, options[name]);
    if (Number(options['election-timeout-ms']) < 5 * Number(options['heartbeat-interval-ms']))
      throw new TargetOptionError('--db-opt election-timeout-ms must be at least 5 times heartbeat-interval-ms (etcd refuses less)');
    return { version: etcdVersion(options['etcd-bin']) };
  },
  async prepare(setup) {
    const { ids, addressing, options } = setup;
    const serializable = booleanOption('etcd', 'serializable-reads', options['serializable-reads']);
    // Every member must be told the same peer URLs: the members' own addresses, never proxies.
    const peerUrl = (id: string) => `http://${addressing.listenHost(id)}:${addressing.peerPort(id)}`;
    const initialCluster = ids.map((id) => `${id}=${peerUrl(id)}`).join(',');
    const dataDir = (id: string) => join(setup.dir, id, 'data');
    /** Whether the first start is done: later starts are restarts, ready once the member answers at all. */
    let started = false;
    const nodes = new Map<string, NodeProcess>();
    for (const id of ids) {
      mkdirSync(dataDir(id), { recursive: true });
      const clientUrl = `http://${addressing.listenHost(id)}:${addressing.clientPort(id)}`;
      const control = addressing.controlAddress(id);
      const probe = async (): Promise<boolean> => {
        if (!started) {
          // Ready when the member answers a linearizable read: the cluster has a leader and this member follows it.
          const answer = await postJson(control, '/v3/kv/range', { key: READY_KEY });
          return answer?.header !== undefined;
        }
        // A restart may happen inside a partition, where no linearizable read can answer: the member
        // is up once it answers its own status.
        const status = await postJson(control, '/v3/maintenance/status', {});
        return status?.header !== undefined;
      };
      nodes.set(
        id,
        new NodeProcess({
          id,
          command: options['etcd-bin'],
          prefix: addressing.spawnPrefix(id),
          probe,
          logFile: join(setup.dir, `${id}.log`),
          readyTimeoutMs: 30_000,
          args: [
            '--name',
            id,
            '--data-dir',
            dataDir(id),
            '--listen-peer-urls',
            peerUrl(id),
            '--initial-advertise-peer-urls',
            peerUrl(id),
            '--listen-client-urls',
            clientUrl,
            '--advertise-client-urls',
            clientUrl,
            '--initial-cluster',
            initialCluster,
            '--initial-cluster-state',
            'new',
            '--initial-cluster-token',
            `skepsis-${setup.runId}`,
            '--heartbeat-interval',
            options['heartbeat-interval-ms'],
            '--election-timeout',
            options['election-timeout-ms'],
            '--snapshot-count',
            options['snapshot-count'],
            '--logger',
            'zap',
            '--log-outputs',
            'stderr',
          ],
        }),
      );
    }
    const finder = etcdLeaderFinder(ids, addressing.controlAddress, (id) => nodes.get(id)!.running && !nodes.get(id)!.isPaused);
    const leader = finder.leader;
    const db: Db = {
      ...processDb(ids, nodes, setup.log),
      leader,
      async transferLeader(to) {
        const current = await leader();
        const target = finder.memberIdOf(to);
        if (current === undefined || current === to || target === undefined) return false;
        const answer = await postJson(addressing.controlAddress(current), '/v3/maintenance/transfer-leadership', { targetID: target });
        return answer !== undefined;
      },
    };
    return {
      db,
      async start() {
        await startProcesses(nodes);
        started = true;
        await Promise.all(ids.map(finder.statusOf));
      },
      waitForLeader: (options) => pollFor(leader, options, LEADER_POLL_MS),
      client: (_processId, home, timing) => etcdGatewayClient(addressing, home, timing, serializable),
      stop: () => stopProcesses(nodes),
      kill: () => killProcesses(nodes),
      nodeExits: () => processExits(ids, nodes),
    };
  },
};
