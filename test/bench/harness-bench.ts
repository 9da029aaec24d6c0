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

import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseWorkloadOptions } from '../../workloads/index.js';
import { runTest } from '../../src/harness/run-test.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'time-limit': { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    nodes: { type: 'string', default: '3' },
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

/** Counts completed operations in a run's history.jsonl as it grows (reads only the new bytes). */
function historyCounter(runRoot: string): () => number {
  let path: string | undefined;
  let offset = 0;
  let completions = 0;
  const buffer = Buffer.alloc(1 << 20);
  return () => {
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
          const event = JSON.parse(line) as { process?: unknown; type?: unknown };
          if (typeof event.process === 'number' && event.type !== 'invoke') completions++;
        }
        offset += end + 1;
      }
    } finally {
      closeSync(fd);
    }
    return completions;
  };
}

interface RunFigures {
  opsPerSecond: number;
  /** CPU ms per operation in the steady window, by component. */
  main: number;
  otherThreads: number;
  nodes: number;
  stealPercent: number;
  checkMs: number;
  ops: number;
}

/** One `skepsis test` run of the bench's load, with or without proxies. */
async function run(proxies: boolean, limitMs: number, seed: number, label: string): Promise<RunFigures> {
  const name = `${label}-${proxies ? 'proxied' : 'direct'}`;
  const count = historyCounter(join(store, name));
  const samples: CpuSample[] = [];
  const sampler = setInterval(() => samples.push({ atMs: performance.now(), ...cpuNow(), ops: count() }), 250);
  const stealBefore = stealNow();
  try {
    const outcome = await runTest({
      store,
      config: {
        name,
        workload: 'kv',
        workloadOptions: parseWorkloadOptions('kv', { 'rate-ops-per-second': '0' }),
        nemesis: 'none',
        nemesisIntervalMs: 10_000,
        nodes,
        concurrency,
        timeLimitMs: limitMs,
        seed,
        unsafeBugs: [],
        nodeArgs: [],
        proxies,
        opTimeoutMs: 5000,
        checkTimeoutMs: 120_000,
        command: 'bench:harness',
      },
    });
    const stealAfter = stealNow();
    const { stats } = outcome.results;
    const total = samples.at(-1)?.ops ?? 0;
    const steady = samples.filter((sample) => sample.ops >= total * 0.15 && sample.ops <= total * 0.85);
    const first = steady[0];
    const last = steady.at(-1);
    const windowOps = first && last ? last.ops - first.ops : 0;
    const perOp = (key: 'main' | 'otherThreads' | 'nodes') => (windowOps > 0 ? (last![key] - first![key]) / windowOps : NaN);
    return {
      opsPerSecond: stats.operations / (limitMs / 1000),
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

const figures = { proxied: [] as RunFigures[], direct: [] as RunFigures[] };
try {
  // A short run first, not counted: the first run in a process is slower (cold JIT, caches), and it
  // would always be a proxied one.
  await run(true, Math.min(timeLimitMs, 3000), 1000, 'warm-up');
  for (let round = 0; round < rounds; round++) {
    for (const proxies of round % 2 === 0 ? [true, false] : [false, true]) {
      const result = await run(proxies, timeLimitMs, round + 1, `round${round + 1}`);
      (proxies ? figures.proxied : figures.direct).push(result);
      process.stderr.write(
        `round ${round + 1} ${proxies ? 'proxied' : 'direct '}: ${result.opsPerSecond.toFixed(0)} ops/s, ` +
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
  `\nbench:harness — ${nodes} nodes, kv workload, ${concurrency} clients, no rate limit, no faults, ${timeLimitMs / 1000} s per run, ${rounds} rounds`,
);
for (const mode of ['direct', 'proxied'] as const) {
  const runs = figures[mode];
  console.log(`${mode.padEnd(8)} median ${pick(runs, 'opsPerSecond').toFixed(0)} ops/s  [${runs.map((r) => r.opsPerSecond.toFixed(0)).join(', ')}]`);
}
const pairs = figures.proxied.map((proxied, round) => proxied.opsPerSecond / figures.direct[round].opsPerSecond);
console.log(
  `proxied / direct: ${(pick(figures.proxied, 'opsPerSecond') / pick(figures.direct, 'opsPerSecond')).toFixed(3)} (ratio of medians; goal >= 0.9); per round ${pairs.map((r) => r.toFixed(2)).join(', ')}, median ${median(pairs).toFixed(3)}`,
);
console.log('steady CPU ms per op (medians)   harness main   other harness threads   nodes    total');
for (const mode of ['direct', 'proxied'] as const) {
  const runs = figures[mode];
  const [main, other, nodeMs] = [pick(runs, 'main'), pick(runs, 'otherThreads'), pick(runs, 'nodes')];
  console.log(`  ${mode.padEnd(31)} ${main.toFixed(3).padEnd(14)} ${other.toFixed(3).padEnd(23)} ${nodeMs.toFixed(3).padEnd(8)} ${(main + other + nodeMs).toFixed(3)}`);
}
const steal = [...figures.direct, ...figures.proxied].map((r) => r.stealPercent);
console.log(`CPU stolen by the hypervisor per run: median ${median(steal).toFixed(1)}%, max ${Math.max(...steal).toFixed(1)}% (above a few % the rounds are not comparable)`);
console.log(`checking a run of ~${pick(figures.direct, 'ops')} ops took median ${median([...figures.direct, ...figures.proxied].map((r) => r.checkMs)).toFixed(0)} ms`);
