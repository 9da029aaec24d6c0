// `--net hosts`: every node on a network host of its own (a Linux network namespace on a bridge,
// with an address in 198.18.0.0/15, the range reserved for network testing), and a Net whose cuts act
// on the network itself, so they hold for any binary whatever its protocol. No relay sits on the path.
//
// How a cut works: a cut [a, b] is a policy rule inside b's namespace that drops every packet from
// a's address at input (Jepsen's `iptables -A INPUT -s a -j DROP` on b, made with `ip rule` since
// this kernel has no iptables). TCP then stalls both ways between them, as on a real network; a
// one-way cut is one-way at the IP level. The namespace's `lookup local` rule is moved behind ours,
// or local delivery would win. Client links: the harness's clients connect from one address of the
// bridge (CLIENT_HOST) and its control calls (leader, readiness) from another (CONTROL_HOST), so a
// cut of [client, n] drops clients' packets at n and never the harness's own calls; [n, client] is a
// blackhole route for the clients' address in n's namespace.
//
// Every run takes a /24 of its own, claimed by a lock file in LOCK_DIR that names its owner's pid, so
// two runs can go at once and `skepsis clean` (cleanStaleHosts) can tell what dead runs left behind.
// A detached reaper process watches the owner and removes its network if the owner dies without
// doing it (kill -9 of the harness); close() removes it on every other path.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetError } from './net.js';
import { CLIENT, type Link, type Net } from './types.js';

/** Where each run's claim on its subnet lives (one JSON file per subnet). */
export const LOCK_DIR = '/run/skepsis-hosts';
/** Subnets are 198.18.0.0/24 .. 198.19.255.0/24 (RFC 2544's benchmarking range). */
const SUBNET_COUNT = 512;
const CLAIM_ATTEMPTS_MAX = 64;
/** Host number of the harness's control address and of its clients' address on the bridge. */
const CONTROL_HOST = 254;
const CLIENT_HOST = 253;
/** The priority of our drop rules; the namespace's `lookup local` moves to LOCAL_RULE_PREF. */
const DROP_RULE_PREF = 100;
const LOCAL_RULE_PREF = 1000;
const IP_TIMEOUT_MS = 10_000;
/** Nodes a run may have: host numbers 1..CLIENT_HOST-1. */
export const HOSTS_NODES_MAX = 200;

/** `--net hosts` cannot work here (no root, no `ip`); the message says what is missing and what to use instead. */
export class HostsUnavailableError extends Error {
  override readonly name = 'HostsUnavailableError';
}

/** What a run's lock file records: enough for anyone to remove the network once its owner is dead. */
export interface HostsClaim {
  runId: string;
  pid: number;
  subnet: string;
  bridge: string;
  namespaces: string[];
}

export interface HostsNetwork {
  runId: string;
  /** The first three octets, e.g. `198.18.42`. */
  subnet: string;
  /** Node ids, in order; node i (from 0) has host number i + 1. */
  nodes: readonly string[];
  /** The node's address on its host. */
  address(node: string): string;
  /** The namespace the node's processes run in. */
  namespace(node: string): string;
  /** Prepend to a command to run it on the node's host. */
  spawnPrefix(node: string): string[];
  /** The bridge address the harness's control calls come from (never cut). */
  controlAddress: string;
  /** The bridge address the harness's clients connect from (cut by [client, n] and [n, client]). */
  clientAddress: string;
  /** Cuts, isolation and heal at the IP level. No flakiness: this kernel has no netem. */
  net: Net;
  /** Kills every process left on the hosts, removes the namespaces, links, bridge and claim. Idempotent. */
  close(): Promise<void>;
}

/** Why --net hosts cannot work here, or undefined when it can. */
export function hostsUnavailableReason(): string | undefined {
  if (process.platform !== 'linux')
    return `--net hosts needs Linux network namespaces; this is ${process.platform}. Use --net proxy (the default).`;
  if (process.getuid?.() !== 0)
    return '--net hosts needs root to create network namespaces, a bridge and veth links (run as root, e.g. in CI); use --net proxy (the default), which needs no privileges.';
  const probe = spawnSync('ip', ['-V'], { encoding: 'utf8', timeout: IP_TIMEOUT_MS });
  if (probe.error || probe.status !== 0)
    return `--net hosts needs the \`ip\` command (Debian: apt-get install -y iproute2): ${probe.error?.message ?? probe.stderr.trim()}. Or use --net proxy (the default).`;
  return undefined;
}

function ip(args: string[], input?: string): void {
  const result = spawnSync('ip', args, { encoding: 'utf8', input, timeout: IP_TIMEOUT_MS });
  if (result.error) throw new Error(`ip ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(`ip ${args.join(' ')}${input ? ` <<< ${JSON.stringify(input.trim())}` : ''}: ${result.stderr.trim()}`);
}

function ipQuiet(args: string[]): void {
  spawnSync('ip', args, { encoding: 'utf8', timeout: IP_TIMEOUT_MS });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function subnetName(index: number): string {
  return `198.${18 + (index >> 8)}.${index & 255}`;
}

function claimPath(subnet: string): string {
  return join(LOCK_DIR, `${subnet}.json`);
}

function readClaim(path: string): HostsClaim | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as HostsClaim;
  } catch {
    return undefined;
  }
}

/** Removes what a claim names: processes on its hosts, namespaces, host-side links, bridge, then the claim. */
export function removeClaimed(claim: HostsClaim): void {
  for (const namespace of claim.namespaces) {
    const pids = spawnSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8', timeout: IP_TIMEOUT_MS });
    for (const pid of (pids.stdout ?? '').split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  for (const namespace of claim.namespaces) ipQuiet(['netns', 'del', namespace]);
  claim.namespaces.forEach((_, i) => ipQuiet(['link', 'del', `${claim.bridge}-${i + 1}`]));
  ipQuiet(['link', 'del', claim.bridge]);
  rmSync(claimPath(claim.subnet), { force: true });
}

/**
 * `skepsis clean`: removes the networks of runs whose owner process is gone, and nothing else (a
 * live run's claim is left alone). Returns one line per network removed.
 */
export function cleanStaleHosts(): string[] {
  if (!existsSync(LOCK_DIR)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(LOCK_DIR)) {
    if (!name.endsWith('.json')) continue;
    const claim = readClaim(join(LOCK_DIR, name));
    if (claim === undefined) {
      rmSync(join(LOCK_DIR, name), { force: true });
      continue;
    }
    if (pidAlive(claim.pid)) continue;
    removeClaimed(claim);
    removed.push(
      `run ${claim.runId} (pid ${claim.pid}, gone): ${claim.subnet}.0/24, bridge ${claim.bridge}, ${claim.namespaces.length} namespaces`,
    );
  }
  return removed;
}

/** Claims a free /24 (an exclusive lock file); stale claims of dead owners are cleaned on the way. */
function claimSubnet(runId: string, bridge: string, namespaces: string[]): HostsClaim {
  mkdirSync(LOCK_DIR, { recursive: true });
  const start = randomBytes(2).readUInt16BE() % SUBNET_COUNT;
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS_MAX; attempt++) {
    const subnet = subnetName((start + attempt * 37) % SUBNET_COUNT);
    const claim: HostsClaim = { runId, pid: process.pid, subnet, bridge, namespaces };
    const path = claimPath(subnet);
    const old = readClaim(path);
    if (old !== undefined && !pidAlive(old.pid)) removeClaimed(old);
    try {
      writeFileSync(path, JSON.stringify(claim), { flag: 'wx' });
      return claim;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(
    `no free subnet in 198.18.0.0/15 after ${CLAIM_ATTEMPTS_MAX} tries (see ${LOCK_DIR}; \`skepsis clean\` removes dead runs' networks)`,
  );
}

/** How often a reaper looks whether its owner is still alive. */
const REAP_POLL_MS = 500;

/**
 * The reaper's loop (hosts-reaper.ts runs it in a detached process): waits until the owner process
 * is gone, then removes the network its claim names. Returns at once when the claim is no longer this
 * run's (the owner closed the network itself).
 */
export async function reapWhenGone(ownerPid: number, subnet: string, runId: string): Promise<void> {
  for (;;) {
    const claim = readClaim(claimPath(subnet));
    if (claim === undefined || claim.runId !== runId) return;
    if (!pidAlive(ownerPid)) return removeClaimed(claim);
    await new Promise((resolve) => setTimeout(resolve, REAP_POLL_MS));
  }
}

/** The compiled reaper entry, from this file in nemesis/ (tests run the sources) or in dist/nemesis/. */
function reaperScript(): string {
  for (const relative of ['./hosts-reaper.js', '../dist/nemesis/hosts-reaper.js']) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('cannot find the compiled hosts-reaper.js (run npm run build)');
}

/** Starts a detached process that removes this run's network if this process dies without doing so. */
function startReaper(claim: HostsClaim): void {
  const child = spawn(process.execPath, [reaperScript(), String(claim.pid), claim.subnet, claim.runId], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
}

export interface CreateHostsOptions {
  /** Log one line per step (setup and teardown). */
  log?: (line: string) => void;
}

/** Builds the bridge and one namespace per node. Throws HostsUnavailableError when it cannot. */
export function createHostsNetwork(nodes: readonly string[], options: CreateHostsOptions = {}): HostsNetwork {
  const reason = hostsUnavailableReason();
  if (reason !== undefined) throw new HostsUnavailableError(reason);
  if (nodes.length === 0 || nodes.length > HOSTS_NODES_MAX)
    throw new NetError(`--net hosts takes 1 to ${HOSTS_NODES_MAX} nodes, got ${nodes.length}`);
  const runId = randomBytes(3).toString('hex');
  // Interface names are at most 15 bytes: `sk` + 6 hex + `-` + up to 3 digits.
  const bridge = `sk${runId}`;
  const namespaces = nodes.map((node) => `skepsis-${runId}-${node}`);
  const claim = claimSubnet(runId, bridge, namespaces);
  const subnet = claim.subnet;
  const index = new Map(nodes.map((node, i) => [node, i]));
  const host = (node: string): number => {
    const i = index.get(node);
    if (i === undefined) throw new NetError(`unknown node ${JSON.stringify(node)}; nodes: ${nodes.join(', ')}`);
    return i + 1;
  };
  const address = (node: string) => `${subnet}.${host(node)}`;
  const namespace = (node: string) => namespaces[host(node) - 1];
  const controlAddress = `${subnet}.${CONTROL_HOST}`;
  const clientAddress = `${subnet}.${CLIENT_HOST}`;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    removeClaimed(claim);
    options.log?.(`hosts: removed ${subnet}.0/24 (bridge ${bridge}, ${namespaces.length} namespaces)`);
  };
  try {
    startReaper(claim);
    ip(['link', 'add', bridge, 'type', 'bridge']);
    ip(['addr', 'add', `${controlAddress}/24`, 'dev', bridge]);
    ip(['addr', 'add', `${clientAddress}/24`, 'dev', bridge]);
    ip(['link', 'set', bridge, 'up']);
    nodes.forEach((node, i) => {
      const ns = namespaces[i];
      const veth = `${bridge}-${i + 1}`;
      ip(['netns', 'add', ns]);
      ip(['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      ip(['link', 'set', veth, 'master', bridge, 'up']);
      ip(
        ['-n', ns, '-batch', '-'],
        [
          `addr add ${address(node)}/24 dev eth0`,
          'link set eth0 up',
          'link set lo up',
          `rule add pref ${LOCAL_RULE_PREF} lookup local`,
          'rule del pref 0',
        ].join('\n') + '\n',
      );
    });
  } catch (error) {
    void close();
    throw error;
  }
  options.log?.(`hosts: ${nodes.length} hosts on ${subnet}.0/24 (bridge ${bridge}; clients from ${clientAddress})`);
  const net = createHostsNet(nodes, { address, namespace, clientAddress });
  return {
    runId,
    subnet,
    nodes,
    address,
    namespace,
    spawnPrefix: (node) => ['ip', 'netns', 'exec', namespace(node)],
    controlAddress,
    clientAddress,
    net,
    close,
  };
}

/** How the Net reaches the hosts; a test may pass a recorder instead of `apply`. */
export interface HostsNetLayout {
  address(node: string): string;
  namespace(node: string): string;
  clientAddress: string;
  /** Runs `ip -n <namespace> -batch -` with these lines. Default: the real `ip`. */
  apply?(namespace: string, lines: string[]): void;
}

/**
 * The Net over network hosts. A cut [a, b] drops a's packets at b; [client, n] drops the clients'
 * packets at n; [n, client] blackholes the clients' address in n. Flakiness is refused: delay and
 * loss need netem, which this kernel lacks, and a relay on the path would undo the point of hosts.
 */
export function createHostsNet(nodes: readonly string[], layout: HostsNetLayout): Net {
  const apply = layout.apply ?? ((namespace: string, lines: string[]) => ip(['-n', namespace, '-batch', '-'], lines.join('\n') + '\n'));
  const cuts = new Set<string>();
  const key = (from: string, to: string) => `${from}->${to}`;
  const check = (pair: Link): void => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new NetError(`a link pair must be [from, to], got ${JSON.stringify(pair)}`);
    const [from, to] = pair;
    for (const end of pair) {
      if (end !== CLIENT && !nodes.includes(end)) throw new NetError(`unknown node ${JSON.stringify(end)}; nodes: ${nodes.join(', ')}`);
    }
    if (from === to || (from === CLIENT && to === CLIENT)) throw new NetError(`link ${from}->${to} connects a node to itself`);
  };
  /** The `ip` line that makes (verb add) or lifts (verb del) the cut from -> to, and where it runs. */
  const command = (from: string, to: string, verb: 'add' | 'del'): { namespace: string; line: string } => {
    if (to === CLIENT) return { namespace: layout.namespace(from), line: `route ${verb} blackhole ${layout.clientAddress}/32` };
    const source = from === CLIENT ? layout.clientAddress : layout.address(from);
    return { namespace: layout.namespace(to), line: `rule ${verb} from ${source}/32 pref ${DROP_RULE_PREF} blackhole` };
  };
  const change = (pairs: readonly Link[], verb: 'add' | 'del'): void => {
    pairs.forEach(check);
    const byNamespace = new Map<string, string[]>();
    for (const [from, to] of pairs) {
      const k = key(from, to);
      if (verb === 'add' ? cuts.has(k) : !cuts.has(k)) continue;
      if (verb === 'add') cuts.add(k);
      else cuts.delete(k);
      const { namespace, line } = command(from, to, verb);
      byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), line]);
    }
    for (const [namespace, lines] of byNamespace) apply(namespace, lines);
  };
  const net: Net = {
    nodes,
    capabilities: ['cut', 'cut-clients'],
    cut: (pairs) => change(pairs, 'add'),
    uncut: (pairs) => change(pairs, 'del'),
    isolate(node, options = {}) {
      if (!nodes.includes(node)) throw new NetError(`unknown node ${JSON.stringify(node)}; nodes: ${nodes.join(', ')}`);
      const pairs: Link[] = [];
      for (const other of nodes) if (other !== node) pairs.push([node, other], [other, node]);
      if (options.clients) pairs.push([CLIENT, node], [node, CLIENT]);
      net.cut(pairs);
      return pairs;
    },
    flaky() {
      throw new NetError(FLAKY_UNDER_HOSTS);
    },
    clearFlaky() {
      // Nothing is ever flaky here.
    },
    heal() {
      change(
        [...cuts].map((k) => k.split('->') as unknown as Link),
        'del',
      );
    },
    describe() {
      return cuts.size === 0 ? 'healthy' : `cut: ${[...cuts].sort().join(' ')}`;
    },
  };
  return net;
}

export const FLAKY_UNDER_HOSTS =
  'flaky (delay, loss, broken client connections) is not available under --net hosts: this kernel has no netem qdisc, and a relay on the path would undo what hosts are for; use --net proxy for flaky';
