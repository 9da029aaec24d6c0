// `--db command --db-spec FILE`: the user's own store, described by a spec file (spec.ts). Either the
// harness starts its nodes (the spec's `start` command with placeholders, on the harness's network,
// as a Db of spawned processes: kill -9, restart, SIGSTOP/SIGCONT), or the cluster already runs
// (`endpoints`): then only clients run, and the faults are the client-link ones plus whatever the
// spec gives shell commands for (fault-commands.ts). Clients speak our node's HTTP/JSON protocol
// (docs/kv-http-protocol.md, through our KvClient) or etcd's v3 JSON gateway (the etcd target's client).

import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { NemesisSpec } from '../../../nemesis/nemesis.js';
import type { Db } from '../../../nemesis/types.js';
import { NodeProcess, NodeStartError } from '../../harness/launcher.js';
import type { KvStore } from '../../../workloads/kv-command.js';
import { etcdLeaderFinder } from '../etcd/leader.js';
import { etcdGatewayClient } from '../etcd/target.js';
import {
  controlJson,
  highestTermLeader,
  killProcesses,
  pollFor,
  processDb,
  processExits,
  startProcesses,
  stopProcesses,
} from '../process-db.js';
import { skepsisHttpClient } from '../skepsis/target.js';
import { type ClientTiming, type NodeAddressing, type Target, TargetOptionError, type TargetSetup } from '../types.js';
import { endpointsDb, commandNet } from './fault-commands.js';
import { type CommandSpec, expand, type FaultCommand } from './spec.js';

const LEADER_POLL_MS = 100;
const PROBE_INTERVAL_MS = 100;
const TCP_PROBE_TIMEOUT_MS = 1000;

/** Whether a node answers the spec's ready check once, at `address` (`host:port`). */
async function probeOnce(spec: CommandSpec, address: string): Promise<boolean> {
  if (spec.ready.kind === 'http') return (await controlJson(`http://${address}${spec.ready.path}`))?.status === spec.ready.status;
  const colon = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), TCP_PROBE_TIMEOUT_MS);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls the ready check until it passes; throws NodeStartError after the spec's timeout. */
async function waitReady(spec: CommandSpec, id: string, address: string, logExcerpt: string): Promise<void> {
  const ready = await pollFor(
    async () => ((await probeOnce(spec, address)) ? true : undefined),
    { timeoutMs: spec.ready.timeoutMs },
    PROBE_INTERVAL_MS,
  );
  if (ready === undefined)
    throw new NodeStartError(
      id,
      `${address} did not pass the ready check (${describeReady(spec)}) within ${spec.ready.timeoutMs} ms`,
      logExcerpt,
    );
}

function describeReady(spec: CommandSpec): string {
  return spec.ready.kind === 'http' ? `GET ${spec.ready.path} answers ${spec.ready.status}` : 'a TCP connect to the client port';
}

/** The value at a dotted path of a JSON object (`a.b`), or undefined. */
function field(body: unknown, path: string): unknown {
  let value = body;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * Who leads, the spec's way: our protocol's /status (`role` leader, highest `term`), a GET of the
 * spec's path and field, or etcd's maintenance status. Undefined when the spec says `none`.
 */
function leaderFinder(
  spec: CommandSpec,
  ids: readonly string[],
  addressing: NodeAddressing,
  available: (id: string) => boolean,
): (() => Promise<string | undefined>) | undefined {
  const leader = spec.leader;
  if (leader.kind === 'none') return undefined;
  if (leader.kind === 'protocol' && spec.client.protocol === 'etcd-v3-gateway')
    return etcdLeaderFinder(ids, addressing.controlAddress, available).leader;
  const pick =
    leader.kind === 'http'
      ? (body: unknown) => ({ leader: field(body, leader.field), term: leader.termField ? Number(field(body, leader.termField)) : 0 })
      : (body: unknown) => ({
          leader: field(body, 'role') === 'leader' ? field(body, 'id') : undefined,
          term: Number(field(body, 'term')),
        });
  const path = leader.kind === 'http' ? leader.path : '/status';
  return async () => {
    const answers = await Promise.all(
      ids.filter(available).map(async (id) => {
        const reply = await controlJson(`http://${addressing.controlAddress(id)}${path}`);
        return reply?.status === 200 ? pick(reply.body) : undefined;
      }),
    );
    return highestTermLeader(answers.filter((answer) => typeof answer?.leader === 'string' && ids.includes(answer.leader)));
  };
}

/** A client of the spec's protocol, bound to its home node: the etcd target's or our node's. */
function protocolClient(spec: CommandSpec, setup: TargetSetup, processId: number, home: string, timing: ClientTiming): KvStore {
  return spec.client.protocol === 'etcd-v3-gateway'
    ? etcdGatewayClient(setup.addressing, home, timing)
    : skepsisHttpClient(setup, processId, home, timing);
}

/** The fault commands each node nemesis kind needs on a running cluster. */
const NEEDED_COMMANDS: Partial<Record<NemesisSpec['kind'], readonly FaultCommand[]>> = {
  kill: ['kill', 'start'],
  pause: ['pause', 'resume'],
  partition: ['partition', 'heal'],
  chase: ['partition', 'heal'],
};

/** The target a spec describes (its net, capabilities and refusals depend on the spec). */
export function commandTarget(spec: CommandSpec): Target {
  const running = spec.endpoints !== undefined;
  return {
    name: 'command',
    summary: `the user's own store, described by --db-spec FILE (${spec.name})`,
    options: [],
    capabilities: spec.leader.kind === 'none' ? [] : ['leader'],
    peerLinks: running
      ? { proxyable: false, reason: `${spec.file} gives endpoints of a running cluster: the harness cannot put proxies between its nodes` }
      : spec.peerLinksProxyable
        ? { proxyable: true }
        : {
            proxyable: false,
            reason: `${spec.file} does not set peerLinksProxyable (a store that dials exactly the peer addresses it is given may set it true); use --net hosts (cuts at the IP level, needs root)`,
          },
    defaultNet: running || spec.peerLinksProxyable ? 'proxy' : 'hosts',
    nodeLogCheck: false,
    endpoints: spec.endpoints,
    ...(running
      ? {
          nets: ['proxy', 'direct'],
          netsReason: `${spec.file} gives endpoints of a running cluster, which the harness cannot move onto network hosts; use --net proxy (client links) or --net direct`,
        }
      : {}),
    ownNetCapabilities: running && spec.faults.partition !== undefined ? ['cut'] : [],
    refuseNemesis(item) {
      if (!running) return undefined;
      const missing = (NEEDED_COMMANDS[item.kind] ?? []).filter((kind) => spec.faults[kind] === undefined);
      if (missing.length === 0) return undefined;
      return `${item.name} needs ${missing.map((kind) => `faults.${kind}`).join(' and ')} in ${spec.file} (the cluster runs outside the harness; give shell commands with placeholders to enable it)`;
    },
    validate(_options, extra) {
      if (extra.unsafeBugs.length > 0)
        throw new TargetOptionError('--unsafe-bug plants bugs in our own node only; it does not apply to --db command');
      if (extra.nodeArgs.length > 0)
        throw new TargetOptionError(`--node-arg passes flags to our own node only; put the store's flags in start.command of ${spec.file}`);
      return { version: `${spec.name} (spec sha256 ${spec.sha256.slice(0, 12)})` };
    },
    prepare: (setup) => (running ? prepareRunning(spec, setup) : prepareStarted(spec, setup)),
  };
}

/** `start` mode: the harness spawns every node from the spec's command line. */
async function prepareStarted(spec: CommandSpec, setup: TargetSetup) {
  const { ids, addressing } = setup;
  const start = spec.start!;
  const hostPort = (address: string) => {
    const colon = address.lastIndexOf(':');
    return { host: address.slice(0, colon), port: address.slice(colon + 1) };
  };
  const peersOf = (id: string) =>
    ids
      .filter((peer) => spec.peers.includeSelf || peer !== id)
      .map((peer) => {
        const at =
          peer === id
            ? { host: addressing.listenHost(id), port: String(addressing.peerPort(id)) }
            : hostPort(addressing.peerAddress(id, peer));
        return expand(spec.peers.format, { peerId: peer, peerIndex: ids.indexOf(peer) + 1, peerHost: at.host, peerPort: at.port });
      })
      .join(spec.peers.separator);
  const nodes = new Map<string, NodeProcess>();
  for (const [i, id] of ids.entries()) {
    const dataDir = join(setup.dir, id, 'data');
    mkdirSync(dataDir, { recursive: true });
    const values = {
      id,
      index: i + 1,
      host: addressing.listenHost(id),
      clientPort: addressing.clientPort(id),
      peerPort: addressing.peerPort(id),
      peers: peersOf(id),
      dataDir,
      runId: setup.runId,
      seed: setup.seed,
    };
    const [program, ...args] = start.command.map((item) => expand(item, values));
    nodes.set(
      id,
      new NodeProcess({
        id,
        command: program,
        args,
        env: Object.fromEntries(Object.entries(start.env).map(([key, value]) => [key, expand(value, values)])),
        cwd: expand(start.cwd, values),
        prefix: addressing.spawnPrefix(id),
        probe: () => probeOnce(spec, addressing.controlAddress(id)),
        logFile: join(setup.dir, `${id}.log`),
        readyTimeoutMs: spec.ready.timeoutMs,
        stopGraceMs: start.stopGraceMs,
      }),
    );
  }
  const available = (id: string) => nodes.get(id)!.running && !nodes.get(id)!.isPaused;
  const leader = leaderFinder(spec, ids, addressing, available);
  const db: Db = { ...processDb(ids, nodes, setup.log), ...(leader ? { leader } : {}) };
  return {
    db,
    start: () => startProcesses(nodes),
    // A store that cannot tell who leads: any running node will do.
    waitForLeader: (options: { timeoutMs: number; signal?: AbortSignal }) =>
      pollFor(leader ?? (() => Promise.resolve(ids.find(available))), options, LEADER_POLL_MS),
    client: (processId: number, home: string, timing: ClientTiming) => protocolClient(spec, setup, processId, home, timing),
    stop: () => stopProcesses(nodes),
    kill: () => killProcesses(nodes),
    nodeExits: () => processExits(ids, nodes),
  };
}

/** `endpoints` mode: nothing is started; faults run the spec's commands. */
async function prepareRunning(spec: CommandSpec, setup: TargetSetup) {
  const { ids, addressing } = setup;
  if (setup.net === undefined) throw new Error('--db command with endpoints needs the harness Net in its setup');
  const noLog = `(no log: ${spec.file} gives endpoints of a cluster the harness did not start)`;
  const ready = (id: string) => waitReady(spec, id, addressing.controlAddress(id), noLog);
  const db = endpointsDb(spec, ids, ready, setup.log);
  const available = (id: string) => db.isRunning(id);
  const leader = leaderFinder(spec, ids, addressing, available);
  if (leader) db.leader = leader;
  const net = commandNet(spec, ids, setup.net);
  const firstAnswering = async () => {
    for (const id of ids) if (available(id) && (await probeOnce(spec, addressing.controlAddress(id)))) return id;
    return undefined;
  };
  const nothing = async () => {};
  return {
    db,
    net,
    async start() {
      await Promise.all(ids.map(ready));
    },
    waitForLeader: (options: { timeoutMs: number; signal?: AbortSignal }) => pollFor(leader ?? firstAnswering, options, LEADER_POLL_MS),
    client: (processId: number, home: string, timing: ClientTiming) => protocolClient(spec, setup, processId, home, timing),
    // The cluster is not ours to stop; the final heal has already restarted and resumed its nodes.
    stop: nothing,
    kill: nothing,
    nodeExits: () => ({}),
  };
}
