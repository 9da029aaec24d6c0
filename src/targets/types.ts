// The target seam: a store under test is a Target, which lays out a cluster (a Db for the nemeses,
// plus a KvStore per client process for the workloads) on the network the harness gives it. The
// harness, nemeses and workloads know only these interfaces; each target lives in a folder of its
// own (src/targets/skepsis, src/targets/etcd). Types only.

import type { NemesisSpec } from '../../nemesis/nemesis.js';
import type { Db, DbCapability, Net, NetCapability } from '../../nemesis/types.js';
import type { RouterStats } from './maelstrom/router.js';
import type { KvStore } from '../../workloads/kv-command.js';
import type { Client, MessageCodec } from '../../workloads/types.js';

/** How links are made: through the harness's proxies, on network hosts, or direct (no faults). */
export type NetName = 'proxy' | 'hosts' | 'direct' | 'router';
export const NET_NAMES: readonly NetName[] = ['proxy', 'hosts', 'direct', 'router'];
/** The nets the harness makes; 'router' is a target's own (Maelstrom's, where Skepsis routes every message). */
export const HARNESS_NET_NAMES: readonly NetName[] = ['proxy', 'hosts', 'direct'];

/**
 * Where a node listens and how others reach it, as the harness's network decides. Targets build
 * their command lines from it and never pick addresses themselves.
 */
export interface NodeAddressing {
  net: NetName;
  /** The address a node listens on (its own host under --net hosts, else 127.0.0.1). */
  listenHost(node: string): string;
  /** The ports a node listens on (peers, clients). */
  peerPort(node: string): number;
  clientPort(node: string): number;
  /** Where `from` dials `to` for peer traffic, `host:port` (a proxy under --net proxy). */
  peerAddress(from: string, to: string): string;
  /** Where the harness's clients reach the node, `host:port` (a proxy under --net proxy). */
  clientAddress(node: string): string;
  /** Where the harness's own control calls (leader, readiness) reach the node, `host:port`: never through a fault. */
  controlAddress(node: string): string;
  /** The source address client connections must bind, so client links can be cut apart from control calls. */
  clientLocalAddress?: string;
  /** Prepended to a node's command line (e.g. `ip netns exec <ns>`). */
  spawnPrefix(node: string): string[];
}

/** How long client operations may take; the target's clients honour both. */
export interface ClientTiming {
  /** One request. */
  attemptTimeoutMs: number;
  /** One whole operation (its attempts, redirects and retries). */
  deadlineMs: number;
}

/** What a target is given to lay out its cluster. */
export interface TargetSetup {
  ids: readonly string[];
  /** The run's nodes/ folder: each node's data under <dir>/<id>/data, its log in <dir>/<id>.log. */
  dir: string;
  addressing: NodeAddressing;
  seed: number;
  /** --db-opt values, validated by the target's parseOptions. */
  options: Record<string, string>;
  /** Our node's --unsafe-bug and --node-arg (other targets refuse them in validate). */
  unsafeBugs: readonly string[];
  nodeArgs: readonly string[];
  /** The workload's name (a Maelstrom broadcast run sends `topology` first). */
  workload?: string;
  /** --bin and --bin-arg: the node program of targets that run a user's binary (maelstrom). */
  bin?: string;
  binArgs?: readonly string[];
  /** A unique id for this run (client ids, cluster tokens). */
  runId: string;
  /** The harness's Net, for targets that add faults of their own to it (a command spec's partition commands). */
  net?: Net;
  log(line: string): void;
}

/** A laid-out cluster: nothing runs until start(). */
export interface TargetCluster {
  /** For the nemeses: kill, start, pause, resume, and the target's optional capabilities. */
  db: Db;
  /** Starts every node and waits for each to be ready; on failure nothing is left running and the
   * error (a NodeStartError) carries the failing node's log. */
  start(): Promise<void>;
  /** Polls until the cluster has a leader (or, for targets that cannot tell, answers); undefined on timeout or abort. */
  waitForLeader(options: { timeoutMs: number; signal?: AbortSignal }): Promise<string | undefined>;
  /** A client for one client process, bound to its home node. */
  client(processId: number, home: string, timing: ClientTiming): KvStore;
  /** A client for a message workload (g-set, broadcast ...), for targets that list such workloads. */
  messageClient?(codec: MessageCodec, processId: number, home: string, timing: ClientTiming): Client;
  /** The target's own Net, for targets whose network is the harness itself (--net router). */
  net?: Net;
  /** Message counts of a routed network (results.json `messages`), read after the nodes stop. */
  messages?(): RouterStats;
  /** SIGTERM then SIGKILL every node; resolves when all are gone. */
  stop(): Promise<void>;
  /** SIGKILL every node. */
  kill(): Promise<void>;
  /** How each node's incarnations ended, newest last. */
  nodeExits(): Record<string, string[]>;
}

/** A prerequisite is missing (e.g. the etcd binary); the message names the package and the option. */
export class TargetUnavailableError extends Error {
  override readonly name = 'TargetUnavailableError';
}

/** A --db-opt the target does not take, or a bad value; the message names it and what is allowed. */
export class TargetOptionError extends Error {
  override readonly name = 'TargetOptionError';
}

export interface TargetOptionSpec {
  name: string;
  describe: string;
  /** The value used when the option is not given, as text. */
  default?: string;
}

export interface Target {
  /** `--db NAME`. */
  name: string;
  /** One line for --help. */
  summary: string;
  /** The --db-opt names it takes. */
  options: readonly TargetOptionSpec[];
  /** The optional Db capabilities its clusters offer. */
  capabilities: readonly DbCapability[];
  /** Whether its peer links can each go through a proxy of their own under --net proxy (ours can;
   * etcd's cannot); when not, only the client links are proxied and the reason says why. */
  peerLinks: { proxyable: true } | { proxyable: false; reason: string };
  /** The network used when --net is not given. */
  defaultNet: NetName;
  /** The workloads its clients can run, when not every KV workload (other combinations are refused up front). */
  workloads?: readonly string[];
  /** Whether nodes log `SAFETY VIOLATION` lines the harness should scan for (our node only). */
  nodeLogCheck: boolean;
  /** Nodes the harness does not start (a running cluster): where each node's client API listens. The
   * network then proxies (or not) the client links to these, and has no peer links. */
  endpoints?: ReadonlyMap<string, { host: string; port: number }>;
  /** The nets it can run on, when not every harness net (others are refused up front with `netsReason`). */
  nets?: readonly NetName[];
  netsReason?: string;
  /** Network faults the target's cluster makes itself, on any net (its TargetCluster.net carries them out). */
  ownNetCapabilities?: readonly NetCapability[];
  /** Why it cannot inject a fault beyond what its capabilities say (naming what would enable it),
   * or undefined; given, it replaces the generic refusal of that fault. */
  refuseNemesis?(spec: NemesisSpec): string | undefined;
  /**
   * Checks the options and the prerequisites before anything starts, and returns the store's
   * version (for test.json and the report). Throws TargetOptionError or TargetUnavailableError.
   */
  validate(
    options: Record<string, string>,
    extra: { unsafeBugs: readonly string[]; nodeArgs: readonly string[]; bin?: string },
  ): { version: string };
  /** Lays out a cluster (nothing starts). */
  prepare(setup: TargetSetup): Promise<TargetCluster>;
}

/** Parses `--db-opt NAME=VALUE` items against a target's option names; defaults are filled in. */
export function parseTargetOptions(target: Target, items: readonly string[]): Record<string, string> {
  const options: Record<string, string> = {};
  for (const spec of target.options) if (spec.default !== undefined) options[spec.name] = spec.default;
  const names = target.options.map((o) => o.name);
  for (const item of items) {
    const at = item.indexOf('=');
    if (at <= 0) throw new TargetOptionError(`--db-opt must look like NAME=VALUE, got ${JSON.stringify(item)}`);
    const name = item.slice(0, at);
    if (!names.includes(name))
      throw new TargetOptionError(`--db-opt ${name}: target ${target.name} takes ${names.length ? names.join(', ') : 'no options'}`);
    options[name] = item.slice(at + 1);
  }
  return options;
}

/** A boolean --db-opt value. */
/** A --db-opt that must be a positive integer. */
export function positiveIntegerOption(target: string, name: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new TargetOptionError(`--db-opt ${name} for target ${target} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

export function booleanOption(target: string, name: string, value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new TargetOptionError(`--db-opt ${name} for target ${target} must be true or false, got ${JSON.stringify(value)}`);
}
