// `npm run bench:harness`: the same `skepsis test` load (kv workload, no rate limit, no faults) with
// every link through the proxies and with direct links, alternated over several rounds in this one
// process; prints ops/s for each and the ratio (goal: proxied within 10% of direct), and how long
// checking each run took. A benchmark, not a test.
//
// Where the difference goes: while a run's workload is in its steady middle (15% to 85% of its
// operations, so node start-up, JIT warm-up and the final check are left out), the bench samples the
// CPU time of this process's main thread (clients, recorder), of its other threads (the proxy
// worker, V8's helpers) and of the node processes, and prints each per operation. It also prints the
// share of CPU time the hypervisor stole during each run: on a shared machine that, not the code,
// is often what moves a round. Linux only (/proc).
//
// Flags: --rounds N (3), --time-limit S (10), --concurrency N (16), --nodes N (3), --rate R (0: no
// limit, the CPU saturates; R: a fixed offered load, to see whether the proxies hold throughput or
// latency back at that rate), --baseline (also run each round through native-relay.c, the cheapest
// relay possible, so what relaying itself costs on this machine stands beside what ours costs),
// --hosts (also our node on network hosts, --net hosts: no relay on the path; needs root),
// --db etcd (etcd beside our node under the same load, direct and on network hosts: how fast etcd
// goes here, and whether the harness, not etcd, is what limits it).

import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseWorkloadOptions } from '../../workloads/index.js';
import { runTest } from '../../src/harness/run-test.js';
import { etcdTarget } from '../../src/targets/etcd/target.js';
import { parseTargetOptions } from '../../src/targets/types.js';
import { buildNativeRelay, startNativeRelayHost } from './native-relay.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'time-limit': { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    nodes: { type: 'string', default: '3' },
    // 0: as fast as the clients go (the CPU saturates). A fixed offered load instead asks whether
    // the proxies hold throughput and latency back at that rate.
    rate: { type: 'string', default: '0' },
    // Also run every round through native-relay.c, the cheapest relay possible (needs cc).
    baseline: { type: 'boolean', default: false },
    hosts: { type: 'boolean', default: false },
    db: { type: 'string', default: 'skepsis' },
  },
});
function positiveInteger(flag: string, raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${flag} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}
const rounds = positiveInteger('rounds', values.rounds);
const timeLimitMs = positiveInteger('time-limit', values['time-limit']) * 1000;
const concurrency = positiveInteger('concurrency', values.concurrency);
const nodes = positiveInteger('nodes', values.nodes);
const rate = values.rate === '0' ? 0 : positiveInteger('rate', values.rate);
if (values.db !== 'skepsis' && values.db !== 'etcd') throw new Error(`--db must be skepsis or etcd, got ${JSON.stringify(values.db)}`);
/** Each mode: which target, on which network; `relay` swaps our proxies for the native relay. */
const MODES = {
  proxied: { db: 'skepsis', net: 'proxy' },
  direct: { db: 'skepsis', net: 'direct' },
  relay: { db: 'skepsis', net: 'proxy' },
  hosts: { db: 'skepsis', net: 'hosts' },
  'etcd-direct': { db: 'etcd', net: 'direct' },
  'etcd-hosts': { db: 'etcd', net: 'hosts' },
} as const;
type Mode = keyof typeof MODES;
const relayBinary = values.baseline ? buildNativeRelay() : undefined;
const modes: Mode[] =
  values.db === 'etcd'
    ? ['direct', 'etcd-direct', 'etcd-hosts']
    : ['proxied', 'direct', ...(relayBinary ? (['relay'] as const) : []), ...(values.hosts ? (['hosts'] as const) : [])];
/** What each mode is compared with: our node direct, or etcd direct for etcd on hosts. */
const BASELINE: Partial<Record<Mode, Mode>> = {
  proxied: 'direct',
  relay: 'direct',
  hosts: 'direct',
  'etcd-direct': 'direct',
  'etcd-hosts': 'etcd-direct',
};
const GOAL: Partial<Record<Mode, string>> = {
  proxied: 'goal >= 0.9',
  relay: 'the native relay: what relaying alone costs here',
  hosts: 'goal >= 0.9: no relay on the path',
  'etcd-direct': 'etcd against our node, same load (an etcd append is a range plus a txn)',
  'etcd-hosts': 'etcd on network hosts against etcd direct',
};

const store = mkdtempSync(join(tmpdir(), 'skepsis-bench-harness-'));

/** CPU ms (user + system) from a /proc stat line: fields 14 and 15 of stat(5). */
function statCpuMs(path: string): number {
  try {
    const fields = readFileSync(path, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0; // the process or thread is gone
  }
}

interface CpuSample {
  atMs: number;
  main: number;
  otherThreads: number;
  nodes: number;
  /** Completed operations recorded so far. */
  ops: number;
}

/** CPU of this process's threads and of its child processes (the nodes), by component. */
function cpuNow(): Omit<CpuSample, 'atMs' | 'ops'> {
  const all = statCpuMs('/proc/self/stat');
  const main = statCpuMs(`/proc/self/task/${process.pid}/stat`);
  let nodeMs = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ');
      if (Number(fields[1]) === process.pid) nodeMs += ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    } catch {
      // gone between readdir and read
    }
  }
  return { main, otherThreads: all - main, nodes: nodeMs };
}

/** Stolen and total jiffies over all CPUs (/proc/stat's first line). */
function stealNow(): { steal: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { steal: fields[7] ?? 0, total: fields.reduce((sum, value) => sum + value, 0) };
}

/**
 * Follows a run's history.jsonl as it grows (reads only the new bytes): `count()` reads on and
 * returns the completed operations so far; `okLatenciesMs()` the latencies of those that ended ok.
 */
function historyFollower(runRoot: string): { count(): number; okLatenciesMs(): number[] } {
  let path: string | undefined;
  let offset = 0;
  let completions = 0;
  const invoked = new Map<number, number>();
  const latencies: number[] = [];
  const buffer = Buffer.alloc(1 << 20);
  const count = (): number => {
    if (path === undefined) {
      const dirs = existsSync(runRoot) ? readdirSync(runRoot).filter((name) => name !== 'latest') : [];
      if (dirs.length === 0 || !existsSync(join(runRoot, dirs[0], 'history.jsonl'))) return 0;
      path = join(runRoot, dirs[0], 'history.jsonl');
    }
    const fd = openSync(path, 'r');
    try {
      for (;;) {
        const read = readSync(fd, buffer, 0, buffer.length, offset);
        if (read === 0) break;
        // Only whole lines. A completion is a client's event (numeric process) that is not an invoke;
        // fault records belong to the process "nemesis".
        const end = buffer.lastIndexOf(10, read - 1);
        if (end < 0) break;
        for (const line of buffer.toString('utf8', 0, end).split('\n')) {
          const event = JSON.parse(line) as { process?: unknown; type?: unknown; time?: unknown };
          if (typeof event.process !== 'number' || typeof event.time !== 'number') continue;
          if (event.type === 'invoke') {
            invoked.set(event.process, event.time);
            continue;
          }
          completions++;
          const start = invoked.get(event.process);
          if (start !== undefined && event.type === 'ok') latencies.push((event.time - start) / 1e6);
          invoked.delete(event.process);
        }
        offset += end + 1;
      }
    } finally {
      closeSync(fd);
    }
    return completions;
  };
  return {
    count,
    okLatenciesMs: () => {
      count();
      return [...latencies].sort((a, b) => a - b);
    },
  };
}

interface RunFigures {
  opsPerSecond: number;
  /** Latency of ok operations, ms. */
  p50Ms: number;
  p99Ms: number;
  /** CPU ms per operation in the steady window, by component. */
  main: number;
  otherThreads: number;
  nodes: number;
  stealPercent: number;
  checkMs: number;
  ops: number;
}

/** One `skepsis test` run of the bench's load, with or without proxies. */
/** One `skepsis test` run of the bench's load: through the proxies, direct, or through the native relay. */
async function run(mode: Mode, limitMs: number, seed: number, label: string): Promise<RunFigures> {
  const name = `${label}-${mode}`;
  const history = historyFollower(join(store, name));
  const samples: CpuSample[] = [];
  const sampler = setInterval(() => samples.push({ atMs: performance.now(), ...cpuNow(), ops: history.count() }), 250);
  const stealBefore = stealNow();
  try {
    const outcome = await runTest({
      store,
      config: {
        name,
        workload: 'kv',
        workloadOptions: parseWorkloadOptions('kv', { 'rate-ops-per-second': String(rate) }),
        nemesis: 'none',
        nemesisIntervalMs: 10_000,
        nodes,
        concurrency,
        timeLimitMs: limitMs,
        seed,
        unsafeBugs: [],
        nodeArgs: [],
        db: MODES[mode].db,
        dbOptions: MODES[mode].db === 'etcd' ? parseTargetOptions(etcdTarget, []) : {},
        dbVersion: MODES[mode].db,
        net: MODES[mode].net,
        opTimeoutMs: 5000,
        checkTimeoutMs: 120_000,
        command: 'bench:harness',
      },
      proxyHost: mode === 'relay' ? (specs, onFailure) => startNativeRelayHost(relayBinary!, specs, onFailure) : undefined,
    });
    const stealAfter = stealNow();
    const { stats } = outcome.results;
    const total = samples.at(-1)?.ops ?? 0;
    const steady = samples.filter((sample) => sample.ops >= total * 0.15 && sample.ops <= total * 0.85);
    const first = steady[0];
    const last = steady.at(-1);
    const windowOps = first && last ? last.ops - first.ops : 0;
    const perOp = (key: 'main' | 'otherThreads' | 'nodes') => (windowOps > 0 ? (last![key] - first![key]) / windowOps : NaN);
    const latencies = history.okLatenciesMs();
    const quantile = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    return {
      opsPerSecond: stats.operations / (limitMs / 1000),
      p50Ms: quantile(0.5),
      p99Ms: quantile(0.99),
      main: perOp('main'),
      otherThreads: perOp('otherThreads'),
      nodes: perOp('nodes'),
      stealPercent: (100 * (stealAfter.steal - stealBefore.steal)) / Math.max(1, stealAfter.total - stealBefore.total),
      checkMs: outcome.results.checkElapsedMs,
      ops: stats.operations,
    };
  } finally {
    clearInterval(sampler);
  }
}

const figures = Object.fromEntries(Object.keys(MODES).map((mode) => [mode, [] as RunFigures[]])) as Record<Mode, RunFigures[]>;
try {
  // A short run first, not counted: the first run in a process is slower (cold JIT, caches), and it
  // would always be a proxied one.
  await run(modes[0], Math.min(timeLimitMs, 3000), 1000, 'warm-up');
  for (let round = 0; round < rounds; round++) {
    // The order turns each round, so no mode always runs first (or after the same one).
    const order = modes.map((_, i) => modes[(i + round) % modes.length]);
    for (const mode of order) {
      const result = await run(mode, timeLimitMs, round + 1, `round${round + 1}`);
      figures[mode].push(result);
      process.stderr.write(
        `round ${round + 1} ${mode.padEnd(11)}: ${result.opsPerSecond.toFixed(0)} ops/s, ` +
          `latency p50 ${result.p50Ms.toFixed(2)} ms p99 ${result.p99Ms.toFixed(2)} ms, ` +
          `steady CPU ms/op: harness main ${result.main.toFixed(3)}, other harness threads ${result.otherThreads.toFixed(3)}, nodes ${result.nodes.toFixed(3)}; ` +
          `stolen ${result.stealPercent.toFixed(1)}%; checked ${result.ops} ops in ${result.checkMs.toFixed(0)} ms\n`,
      );
    }
  }
} finally {
  rmSync(store, { recursive: true, force: true });
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const pick = (runs: RunFigures[], key: keyof RunFigures) => median(runs.map((result) => result[key]));
console.log(
  `\nbench:harness — ${nodes} nodes, kv workload, ${concurrency} clients, ${rate === 0 ? 'no rate limit' : `offered ${rate} ops/s`}, no faults, ${timeLimitMs / 1000} s per run, ${rounds} rounds`,
);
for (const mode of modes) {
  const runs = figures[mode];
  console.log(
    `${mode.padEnd(11)} median ${pick(runs, 'opsPerSecond').toFixed(0)} ops/s  [${runs.map((r) => r.opsPerSecond.toFixed(0)).join(', ')}]  ` +
      `latency p50 ${pick(runs, 'p50Ms').toFixed(2)} ms, p99 ${pick(runs, 'p99Ms').toFixed(2)} ms`,
  );
}
for (const mode of modes) {
  const base = BASELINE[mode];
  if (base === undefined || !modes.includes(base)) continue;
  const pairs = figures[mode].map((result, round) => result.opsPerSecond / figures[base][round].opsPerSecond);
  console.log(
    `${mode} / ${base}: ${(pick(figures[mode], 'opsPerSecond') / pick(figures[base], 'opsPerSecond')).toFixed(3)} (ratio of medians; ${GOAL[mode]}); per round ${pairs.map((r) => r.toFixed(2)).join(', ')}, median ${median(pairs).toFixed(3)}`,
  );
}
console.log('steady CPU ms per op (medians)   harness main   other harness threads   nodes    total');
for (const mode of modes) {
  const runs = figures[mode];
  const [main, other, nodeMs] = [pick(runs, 'main'), pick(runs, 'otherThreads'), pick(runs, 'nodes')];
  const label = mode === 'relay' ? 'relay (its CPU is in nodes)' : mode;
  console.log(
    `  ${label.padEnd(31)} ${main.toFixed(3).padEnd(14)} ${other.toFixed(3).padEnd(23)} ${nodeMs.toFixed(3).padEnd(8)} ${(main + other + nodeMs).toFixed(3)}`,
  );
}
const all = modes.flatMap((mode) => figures[mode]);
const steal = all.map((r) => r.stealPercent);
console.log(
  `CPU stolen by the hypervisor per run: median ${median(steal).toFixed(1)}%, max ${Math.max(...steal).toFixed(1)}% (above a few % the rounds are not comparable)`,
);
console.log(`checking a run of ~${pick(figures.direct, 'ops')} ops took median ${median(all.map((r) => r.checkMs)).toFixed(0)} ms`);
