// One `skepsis test` run: starts a target's real node processes on the network the harness controls, runs the
// workload's clients while the nemesis schedule injects faults, heals, runs final reads, records the
// history as it happens, then checks it and writes the store folder. Never leaves a process behind.

import { execaSync } from 'execa';
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNemesis } from '../../nemesis/nemesis.js';
import type { StartProxyHost } from '../../nemesis/proxy-host.js';
import { runSchedule, type ScheduleResult } from '../../nemesis/schedule.js';
import type { FaultRecord, Net } from '../../nemesis/types.js';
import { getWorkload } from '../../workloads/index.js';
import { kvStoreClient } from '../../workloads/kv-command.js';
import type { Workload } from '../../workloads/types.js';
import { Random } from '../raft/random.js';
import { resolveTarget } from '../targets/index.js';
import type { TargetCluster } from '../targets/types.js';
import { analyzeRun, type AnalyzeOutcome } from './analyze.js';
import { NodeStartError } from './launcher.js';
import { createRunNetwork, type RunNetwork } from './network.js';
import { Recorder } from './recorder.js';
import { type LinkTraffic, type MessageStats, nodeIds, type TestConfig } from './results.js';
import type { RouterStats } from '../targets/maelstrom/router.js';
import { FaultWindowPairer } from '../../checker/fault-windows.js';
import type { HistoryEvent } from '../../checker/history.js';
import { runWorkload, type RunProgress } from './runner.js';

export interface RunTestOptions {
  config: Omit<TestConfig, 'gitCommit' | 'startedAt' | 'skepsisVersion'>;
  /** Root of the store; the run goes to <store>/<name>/<timestamp>/. */
  store: string;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
  /** Aborting stops the run early (Ctrl-C): it still heals, stops the nodes and checks what was recorded. */
  signal?: AbortSignal;
  /** What relays the links under --net proxy. Default: the proxies on their worker thread
   * (bench:harness --baseline passes a bare native relay to compare them with). */
  proxyHost?: StartProxyHost;
}

export interface RunTestOutcome extends AnalyzeOutcome {
  dir: string;
}

/** Starts of a cluster whose node found its port taken, each on new ports. */
const START_ATTEMPTS_MAX = 3;
/** How a node's log says its port was taken: Node.js (EADDRINUSE), Go (etcd), C and Python (errno text). */
const PORT_TAKEN = /EADDRINUSE|address already in use/i;

/** A node could not start; carries its log excerpt. Nothing is left running. */
export class RunSetupError extends Error {
  override readonly name = 'RunSetupError';
}

function gitCommit(): string | null {
  try {
    const cwd = fileURLToPath(new URL('.', import.meta.url));
    return execaSync('git', ['rev-parse', 'HEAD'], { reject: false, timeout: 5000, cwd }).stdout.trim() || null;
  } catch {
    return null;
  }
}

function packageVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // Try the next.
    }
  }
  return 'unknown';
}

/**
 * Bounds of the phases after the time limit, so every run ends within its time limit plus these
 * (and the heal and the check). A healed cluster elects a leader in about a second and answers the
 * final reads in milliseconds; one that cannot (a bug broke it, or its processes hang) would
 * otherwise wait 30 s for a leader and retry timed-out final reads for 60 s (a chase run with the
 * commit-prior-term bug took 76 s for a 20 s time limit, 49 s of it in final reads).
 */
export function afterRunBoundsMs(opTimeoutMs: number): { leaderWaitMs: number; finalReadsMs: number } {
  return { leaderWaitMs: 10_000, finalReadsMs: Math.max(10_000, 2 * opTimeoutMs) };
}

function timestampName(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '').replace('T', '-').slice(0, 17) + `-${String(date.getMilliseconds()).padStart(3, '0')}`;
}

export async function runTest(options: RunTestOptions): Promise<RunTestOutcome> {
  const progress = options.progress ?? (() => {});
  const started = new Date();
  const config: TestConfig = {
    ...options.config,
    gitCommit: gitCommit(),
    startedAt: started.toISOString(),
    skepsisVersion: packageVersion(),
  };
  const workload: Workload<any> = getWorkload(config.workload);
  const testDir = join(resolve(options.store), config.name);
  const dir = join(testDir, timestampName(started));
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  writeFileSync(join(dir, 'test.json'), `${JSON.stringify(config, null, 2)}\n`);
  const latest = join(testDir, 'latest');
  rmSync(latest, { force: true });
  symlinkSync(timestampName(started), latest);

  const random = new Random(config.seed);
  const target = resolveTarget(config.db, config.dbSpec);
  const ids = nodeIds(config.nodes);
  const problems: string[] = [];
  const abort = new AbortController();
  // Proxies that stop forwarding end the run: what follows would measure the harness, not the store.
  const onProxyFailure = (error: Error) => {
    problems.push(`the proxies stopped: ${error.message}`);
    abort.abort();
  };
  // The network and the cluster on it; made again on fresh ports when a port was taken (below).
  // A second try draws from a fork of the first's stream, so runs that need no retry stay as they were.
  const networkRandom = random.fork();
  const setUp = async (netRandom: Random): Promise<{ network: RunNetwork; cluster: TargetCluster }> => {
    const network = await createRunNetwork({
      net: config.net,
      ids,
      proxyPeers: target.peerLinks.proxyable,
      endpoints: target.endpoints,
      random: netRandom,
      onProxyFailure,
      proxyHost: options.proxyHost,
      log: (line) => progress(`  ${line}`),
    });
    try {
      const cluster = await target.prepare({
        ids,
        dir: join(dir, 'nodes'),
        addressing: network.addressing,
        seed: config.seed,
        options: config.dbOptions,
        unsafeBugs: config.unsafeBugs,
        nodeArgs: config.nodeArgs,
        workload: config.workload,
        bin: config.bin,
        binArgs: config.binArgs,
        runId: String(started.getTime()),
        net: network.net,
        log: (line) => progress(`  db: ${line}`),
      });
      return { network, cluster };
    } catch (error) {
      await network.close();
      throw error;
    }
  };
  let { network, cluster } = await setUp(networkRandom);
  // The network is closed once, whichever path closes it (a retry that fails to set up leaves the old one).
  let networkClosed: Promise<void> | undefined;
  const closeNetwork = (): Promise<void> => (networkClosed ??= network.close());
  // Created once the cluster is up, so the history's clock starts with the workload.
  let recorder: Recorder | undefined;
  let interrupted = false;
  let links: LinkTraffic | null = null;
  let messages: MessageStats | null = null;
  const closeAll = async () => {
    await cluster.stop().catch(() => cluster.kill());
    // Read once every node is gone, so the counters are final; a dead proxy worker leaves them null.
    links = await network.traffic().catch(() => null);
    if (cluster.messages) messages = messageStats(cluster.messages(), recorder?.events ?? []);
    await closeNetwork();
  };
  const started_ = performance.now();
  let schedule: Promise<ScheduleResult> | undefined;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await cluster.start();
        break;
      } catch (error) {
        if (!(error instanceof NodeStartError)) throw error;
        // Ports are chosen free, then released for the node to take: another run on this machine
        // (a parallel test, a restarted node) can take one in between. Start again on new ones.
        if (!PORT_TAKEN.test(error.message) || attempt >= START_ATTEMPTS_MAX) throw new RunSetupError(error.message);
        progress(
          `skepsis test: ${error.id}'s port was taken before it could listen (another process on this machine); starting again on new ports`,
        );
        await cluster.stop().catch(() => cluster.kill());
        await closeNetwork();
        renameSync(join(dir, 'nodes'), join(dir, `nodes-attempt-${attempt}`));
        mkdirSync(join(dir, 'nodes'));
        ({ network, cluster } = await setUp(networkRandom.fork()));
        networkClosed = undefined;
      }
    }
    progress(
      `skepsis test: ${config.nodes} ${target.name} nodes up on --net ${config.net} (logs in ${join(dir, 'nodes')}); waiting for a leader`,
    );
    const leader = await cluster.waitForLeader({ timeoutMs: 30_000, signal: options.signal });
    if (leader === undefined && !options.signal?.aborted) problems.push('no leader was elected within 30 s of starting');
    recorder = new Recorder({ path: join(dir, 'history.jsonl') });
    const history = recorder;

    const timing = { attemptTimeoutMs: Math.min(1000, config.opTimeoutMs), deadlineMs: Math.max(1, config.opTimeoutMs - 250) };
    const clientFactory = (processId: number) => {
      const home = ids[processId % ids.length];
      // Message workloads (g-set, broadcast ...) run only on targets with a messageClient (checked up front in cli/test.ts).
      if (workload.messages && cluster.messageClient) return cluster.messageClient(workload.messages, processId, home, timing);
      return kvStoreClient(workload, cluster.client(processId, home, timing));
    };
    const net: Net = cluster.net ?? network.net;
    const db = cluster.db;
    const onOuterAbort = () => {
      interrupted = true;
      abort.abort();
    };
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const faults = new FaultWindowPairer();
    const onFault = (record: FaultRecord) => {
      faults.add(history.fault(record.f, record.value));
      progress(`  nemesis: ${record.f} ${JSON.stringify(record.value).slice(0, 200)}`);
    };
    const nemeses = config.nemesis === 'none' ? [] : createNemesis(config.nemesis);
    schedule = runSchedule({
      nemeses,
      ctx: { db, net, random: random.fork(), log: (line) => progress(`  nemesis: ${line}`), signal: abort.signal },
      intervalMs: config.nemesisIntervalMs,
      timeLimitMs: config.timeLimitMs,
      onEvent: onFault,
    });
    const report = (p: RunProgress) =>
      progress(
        `[${(p.elapsedMs / 1000).toFixed(0)}/${(config.timeLimitMs / 1000).toFixed(0)} s] ${p.opsPerSecond.toFixed(0)} ops/s ` +
          `ok ${p.ok} fail ${p.fail} info ${p.info}; faults: ${activeFaults(faults)}`,
      );
    const main = await runWorkload({
      generator: workload.generator(config.workloadOptions),
      clientFactory,
      concurrency: config.concurrency,
      seed: config.seed,
      recorder: history,
      timeLimitMs: config.timeLimitMs,
      signal: abort.signal,
      opTimeoutMs: config.opTimeoutMs,
      onProgress: report,
    });
    const healed = await schedule;
    problems.push(...healed.healProblems);
    if (main.stopReason === 'aborted' && !interrupted) problems.push('the workload stopped early (aborted)');
    if (workload.finalGenerator && !interrupted) {
      progress('skepsis test: healed; waiting for a leader, then final reads');
      const bounds = afterRunBoundsMs(config.opTimeoutMs);
      if ((await cluster.waitForLeader({ timeoutMs: bounds.leaderWaitMs, signal: options.signal })) === undefined)
        problems.push(`no leader within ${bounds.leaderWaitMs / 1000} s after the final heal`);
      await runWorkload({
        generator: workload.finalGenerator(config.workloadOptions, { events: history.events }),
        clientFactory,
        concurrency: config.concurrency,
        seed: config.seed + 1,
        recorder: history,
        timeLimitMs: bounds.finalReadsMs,
        signal: abort.signal,
        opTimeoutMs: config.opTimeoutMs,
      });
    }
    options.signal?.removeEventListener('abort', onOuterAbort);
  } finally {
    // On an error mid-run, stop the schedule too (it heals on its way out) before the nodes go.
    abort.abort();
    await schedule?.catch(() => undefined);
    await recorder?.close().catch((error: unknown) => problems.push(`history file: ${(error as Error).message}`));
    await closeAll();
  }
  const elapsedMs = performance.now() - started_;
  progress(`skepsis test: run done in ${(elapsedMs / 1000).toFixed(1)} s; ${recorder?.events.length ?? 0} events; checking`);
  const nodeExits = cluster.nodeExits();
  const outcome = await analyzeRun(dir, { problems, interrupted, elapsedMs, nodeExits, links, messages, progress });
  return { ...outcome, dir };
}

/** The kinds of the faults in effect, e.g. `kill, partition x2`, or `none`. */
function activeFaults(faults: FaultWindowPairer): string {
  const counts = new Map<string, number>();
  for (const window of faults.active()) counts.set(window.kind, (counts.get(window.kind) ?? 0) + 1);
  if (counts.size === 0) return 'none';
  return [...counts].map(([kind, n]) => (n === 1 ? kind : `${kind} x${n}`)).join(', ');
}

/** A routed network's counts with messages per client operation (as Maelstrom's net stats give them). */
function messageStats(stats: RouterStats, events: readonly HistoryEvent[]): MessageStats {
  const operations = events.filter((e) => e.type === 'invoke' && typeof e.process === 'number').length;
  const per = (count: number) => (operations === 0 ? null : count / operations);
  const { nodes, clients, services } = stats.totals;
  return { ...stats, perOperation: { nodes: per(nodes.sent + services.sent), all: per(nodes.sent + clients.sent + services.sent) } };
}
