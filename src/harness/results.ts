// The shapes of a stored run: test.json (what was asked) and results.json (what was found). The
// store folder also holds history.jsonl (the checker's format), the nodes' logs and report.html.

import type { Validity } from '../../checker/check.js';
import { faultWindows as pairFaultWindows } from '../../checker/fault-windows.js';
import type { HistoryEvent } from '../../checker/history.js';
import type { RouterStats } from '../targets/maelstrom/router.js';
import type { NodeLogCheck } from './node-logs.js';

/** The ids of a run's nodes: n1..nN. */
export function nodeIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

/** test.json: every option of the run, the seed and the git commit, so it can be repeated. */
export interface TestConfig {
  name: string;
  workload: string;
  workloadOptions: Record<string, unknown>;
  /** The nemesis spec as given, e.g. `partition,kill` or `none`. */
  nemesis: string;
  nemesisIntervalMs: number;
  nodes: number;
  concurrency: number;
  timeLimitMs: number;
  seed: number;
  unsafeBugs: string[];
  /** Extra `skepsis node` flags. */
  nodeArgs: string[];
  /** The target (`--db`): skepsis, etcd ... */
  db: string;
  /** Its --db-opt values, defaults filled in. */
  dbOptions: Record<string, string>;
  /** The store's version as the target reports it (e.g. etcd's `3.4.23`). */
  dbVersion: string;
  /** How links are made (`--net`): proxy, hosts or direct. */
  net: 'proxy' | 'hosts' | 'direct' | 'router';
  /** --db-spec of --db command: the file (absolute), the sha256 of its bytes and its content. */
  dbSpec?: { file: string; sha256: string; spec: unknown };
  /** --bin and --bin-arg (targets that run a user's program: maelstrom). */
  bin?: string;
  binArgs?: string[];
  /** Runs stored before --net existed say only whether links were proxied. */
  proxies?: boolean;
  opTimeoutMs: number;
  checkTimeoutMs: number;
  /** The command that repeats this run. */
  command: string;
  gitCommit: string | null;
  startedAt: string;
  skepsisVersion: string;
}

export interface OutcomeCounts {
  ok: number;
  fail: number;
  info: number;
}

/** One fault window, from its start-* record to its stop-* record (ns since the run's start). */
export interface FaultWindow {
  kind: string;
  startNs: number;
  /** Absent when the run ended while the fault was active (the final heal ended it). */
  stopNs?: number;
  value: unknown;
}

/** The fault windows of results.json (ns), paired by the checker's one rule (checker/fault-windows.ts). */
export function faultWindows(events: readonly HistoryEvent[]): FaultWindow[] {
  return pairFaultWindows(events).map((w) =>
    w.stop === undefined
      ? { kind: w.kind, startNs: w.start, value: w.value }
      : { kind: w.kind, startNs: w.start, stopNs: w.stop, value: w.value },
  );
}

/** results.json */
export interface TestResults {
  /** Combined: invalid beats unknown beats valid. */
  valid: Validity;
  /** Why, one line per check. */
  summary: string[];
  test: TestConfig;
  elapsedMs: number;
  interrupted: boolean;
  /** The linearizability check (checker/report.ts resultJson), or null when the workload has no model. */
  linearizability: (Record<string, unknown> & { valid: Validity; elapsedMs: number }) | null;
  /** The workload's own check (e.g. set: lost and duplicated elements), or null. */
  workloadCheck: { valid: Validity; summary: string } | null;
  /** Node log lines reporting a broken Raft invariant (src/harness/node-logs.ts). */
  nodeLogs: NodeLogCheck;
  stats: OutcomeCounts & { byF: Record<string, OutcomeCounts>; operations: number; opsPerSecond: number };
  /** Share of ops that ended ok, overall and while some fault was active. */
  availability: { overall: number; duringFaults: number | null; outsideFaults: number | null };
  faults: FaultWindow[];
  /** What the final heal could not fix (e.g. a node that refused to restart), and other run problems. */
  problems: string[];
  /** How each node's incarnations ended, newest last. */
  nodeExits: Record<string, string[]>;
  /** What the proxies did to the traffic (null: the run had no proxies, or their counters were lost). */
  links: LinkTraffic | null;
  /** A routed network's message counts (--db maelstrom), with messages per operation; absent otherwise. */
  messages?: MessageStats | null;
  checkElapsedMs: number;
}

/** One kind of link's proxy counters, summed over its links. */
export interface LinkTrafficTotals {
  links: number;
  connectionsAccepted: number;
  /** Broken by the proxy: random drops (client links), overflows, heals of blackholed connections. */
  connectionsBroken: number;
  /** Frames forwarded or not (peer links only; client links carry raw bytes). */
  frames: number;
  framesCut: number;
  framesDropped: number;
  framesOverflow: number;
  bytesDiscarded: number;
}

/** The proxies' counters at the end of a run: peer links (node to node) and client links. */
export interface LinkTraffic {
  peer: LinkTrafficTotals;
  client: LinkTrafficTotals;
}

/** The router's counts (src/targets/maelstrom/router.ts) and messages per operation, as Maelstrom reports them. */
export interface MessageStats extends RouterStats {
  /** Messages between nodes (and services) per client operation; null without operations. */
  perOperation: { nodes: number | null; all: number | null };
}

/** Combines verdicts: invalid beats unknown beats valid. */
export function combineValidity(verdicts: Validity[]): Validity {
  if (verdicts.includes(false)) return false;
  if (verdicts.includes('unknown')) return 'unknown';
  return true;
}
