// The small interfaces the nemeses are written against: Db (the cluster's processes), Net (the
// proxied links), Clock, and Nemesis itself. No implementations here except the real clock.

import type { Random } from '../src/raft/random.js';
import type { LinkFault } from './proxy.js';

/** A directed link: messages from `from` to `to`. Client links use the id 'client' on one side. */
export type Link = readonly [from: string, to: string];

/** The id that stands for the harness's clients in links such as ['client', 'n1']. */
export const CLIENT = 'client';

/**
 * The cluster's processes: what every target has (our node, etcd, a user's binary). Every method is
 * bounded by the target (it waits for readiness with a timeout and rejects when it gives up).
 * Optional capabilities are separate interfaces a target's Db may also implement (as Jepsen splits
 * Kill, Pause, Primary and LogFiles into protocols); a nemesis that needs one a target lacks is
 * refused before anything starts (nemesis.ts requiredCapabilities).
 */
export interface Db extends Partial<LeaderCapability & TransferCapability & LogDamageCapability> {
  /** Node ids, in a fixed order (choices over them are then reproducible from a seed). */
  nodes: readonly string[];
  /** kill -9. A no-op for a node that is not running. */
  kill(node: string): Promise<void>;
  /** Restarts a killed node with its data dir and waits for readiness. Rejects (with the node's
   * complaint) when the node refuses to start, e.g. on a damaged log. */
  start(node: string): Promise<void>;
  /** SIGSTOP. */
  pause(node: string): Promise<void>;
  /** SIGCONT. Must be a no-op for a node that is not paused (the final heal resumes every node). */
  resume(node: string): Promise<void>;
  /** True from start until kill (a paused node is running). */
  isRunning(node: string): boolean;
}

/** Who leads (partition:isolate-leader, kill:leader, pause:leader, chase). */
export interface LeaderCapability {
  /** The current leader as some node reports it, or undefined when none is known. */
  leader(): Promise<string | undefined>;
}

/** Leadership transfer (the transfer nemesis). */
export interface TransferCapability {
  /** Asks the current leader to hand leadership to `to`; false when it did not happen. */
  transferLeader(to: string): Promise<boolean>;
}

/** Damage to a killed node's log (the disk nemesis). */
export interface LogDamageCapability {
  /**
   * Damage a killed node's log. 'cut' and 'garble' lose only what was never synced (the synced
   * prefix stays; a torn write follows it); 'synced' damages durable data the node must detect and
   * refuse to start on. Returns a description.
   */
  damageLog(node: string, how: 'cut' | 'garble' | 'synced', random: Random): Promise<string>;
}

/** The optional Db capabilities by name, as targets list them and nemeses require them. */
export type DbCapability = 'leader' | 'transfer' | 'damage-log';

/** The capabilities a Db implements. */
export function dbCapabilities(db: Db): DbCapability[] {
  const has: DbCapability[] = [];
  if (db.leader) has.push('leader');
  if (db.transferLeader) has.push('transfer');
  if (db.damageLog) has.push('damage-log');
  return has;
}

/** What a Net can do: cut peer links, cut client links, make peer links flaky, break client connections. */
export type NetCapability = 'cut' | 'cut-clients' | 'flaky' | 'flaky-clients';

/** The network: proxies (createNet, net.ts) or network hosts (hosts.ts). Changes apply at once. */
export interface Net {
  /** What this Net can do (a nemesis that needs more is refused before the run starts). */
  readonly capabilities: readonly NetCapability[];
  /** Node ids that have peer links (every `from`/`to` other than 'client'), in first-seen order. */
  readonly nodes: readonly string[];
  /** Messages from `from` to `to` are lost, for each pair (directed). Adds to the current cuts. */
  cut(pairs: readonly Link[]): void;
  /** Lifts these cuts (others stay). */
  uncut(pairs: readonly Link[]): void;
  /** Cuts every peer link into and out of `node` (and its client links when `clients`); returns the pairs cut. */
  isolate(node: string, options?: { clients?: boolean }): Link[];
  /** Delay, jitter, loss and throttling (cut fields are not allowed here) on these links (default:
   * every peer link), replacing earlier flakiness on them. */
  flaky(fault: LinkFault, pairs?: readonly Link[]): void;
  /** Removes flakiness from these links (default: every peer link, as for flaky). */
  clearFlaky(pairs?: readonly Link[]): void;
  /** Lifts every cut and every flakiness. */
  heal(): void;
  /** One line per faulty link, or `healthy`. */
  describe(): string;
}

/**
 * What a nemesis did. Recorded in the history as an event of type 'info' of the nemesis process
 * (checker/history.ts NEMESIS_PROCESS) with this `f` and `value`. Naming: `start-<kind>` once a fault is in effect, `stop-<kind>` once it is
 * undone (kind: partition, kill, pause, flaky, disk, transfer, chase), and `heal-all` after the final heal.
 * Every view shades the windows checker/fault-windows.ts pairs from them.
 */
export interface FaultRecord {
  f: string;
  value: unknown;
}

/** A clock for waits: real time in runs, virtual time in tests. */
export interface Clock {
  /** Milliseconds from an arbitrary origin; never decreases. */
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface NemesisContext {
  db: Db;
  net: Net;
  /** Seeded; the schedule gives each started fault its own fork. */
  random: Random;
  log(line: string): void;
  /** Aborted when the run is interrupted; a nemesis stops waiting, but stop() must still undo its fault. */
  signal: AbortSignal;
  /** For waits inside a fault (e.g. between leadership transfers). Default: real time. */
  clock?: Clock;
}

/** A fault with a start and a stop. stop() undoes what the last start() did, even a partial start. */
export interface Nemesis {
  /** The spec it was made from, e.g. `partition:halves`. */
  name: string;
  start(ctx: NemesisContext): Promise<FaultRecord>;
  stop(ctx: NemesisContext): Promise<FaultRecord>;
}

/** Real time (performance.now) with abortable sleeps. */
export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    }),
};
