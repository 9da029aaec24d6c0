// `npm run bench:harness`: the same `skepsis test` load (kv workload, no rate limit, no faults) with
// every link through the proxies and with direct links, alternated over several rounds in this one
// process; prints ops/s for each and the ratio (goal: proxied within 10% of direct), and how long
// checking each run took. A benchmark, not a test.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseWorkloadOptions } from '../../workloads/index.js';
import { runTest } from '../../src/harness/run-test.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'time-limit': { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '16' },
    nodes: { type: 'string', default: '3' },
  },
});
const rounds = Number(values.rounds);
const timeLimitMs = Number(values['time-limit']) * 1000;
const concurrency = Number(values.concurrency);
const nodes = Number(values.nodes);

const store = mkdtempSync(join(tmpdir(), 'skepsis-bench-harness-'));
const figures = {
  proxied: [] as number[],
  direct: [] as number[],
  checkMs: [] as number[],
  ops: [] as number[],
  cpuPerOp: { proxied: [] as number[], direct: [] as number[] },
};

/** CPU ms used so far by this process (every thread) and by its reaped children (the nodes). */
function cpuWithChildrenMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // utime, stime, cutime, cstime are fields 14-17 of stat(5); here counted from field 3.
  return ((Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}
/** One `skepsis test` run of the bench's load, with or without proxies. */
function run(proxies: boolean, limitMs: number, seed: number) {
  return runTest({
    store,
    config: {
      name: proxies ? 'proxied' : 'direct',
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
}

try {
  // A short run first, not counted: the first run in a process is slower (cold JIT, caches), and it
  // would always be a proxied one.
  await run(true, Math.min(timeLimitMs, 3000), 1000);
  for (let round = 0; round < rounds; round++) {
    for (const proxies of round % 2 === 0 ? [true, false] : [false, true]) {
      const cpuBefore = process.cpuUsage();
      const allCpuBefore = cpuWithChildrenMs();
      const wallBefore = performance.now();
      const outcome = await run(proxies, timeLimitMs, round + 1);
      const cpu = process.cpuUsage(cpuBefore);
      const allCpuMs = cpuWithChildrenMs() - allCpuBefore;
      const harnessCpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore);
      const { stats } = outcome.results;
      const opsPerSecond = stats.operations / (timeLimitMs / 1000);
      (proxies ? figures.proxied : figures.direct).push(opsPerSecond);
      figures.cpuPerOp[proxies ? 'proxied' : 'direct'].push(allCpuMs / Math.max(1, stats.operations));
      figures.checkMs.push(outcome.results.checkElapsedMs);
      figures.ops.push(stats.operations);
      process.stderr.write(
        `round ${round + 1} ${proxies ? 'proxied' : 'direct '}: ${opsPerSecond.toFixed(0)} ops/s (${stats.ok} ok, ${stats.fail} fail, ${stats.info} info), verdict ${String(outcome.results.valid)}, checked in ${outcome.results.checkElapsedMs.toFixed(0)} ms; harness process used ${(harnessCpuShare * 100).toFixed(0)}% of a core; ${(allCpuMs / Math.max(1, stats.operations)).toFixed(2)} CPU ms per op (harness and nodes, whole run; harness ${((cpu.user + cpu.system) / 1000 / Math.max(1, stats.operations)).toFixed(2)})\n`,
      );
    }
  }
} finally {
  rmSync(store, { recursive: true, force: true });
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(
  `\nbench:harness — ${nodes} nodes, kv workload, ${concurrency} clients, no rate limit, no faults, ${timeLimitMs / 1000} s per run, ${rounds} rounds`,
);
console.log(`direct   median ${median(figures.direct).toFixed(0)} ops/s  [${figures.direct.map((v) => v.toFixed(0)).join(', ')}]`);
console.log(`proxied  median ${median(figures.proxied).toFixed(0)} ops/s  [${figures.proxied.map((v) => v.toFixed(0)).join(', ')}]`);
const pairs = figures.proxied.map((proxied, round) => proxied / figures.direct[round]);
console.log(
  `proxied / direct: ${(median(figures.proxied) / median(figures.direct)).toFixed(3)} (ratio of medians); per round ${pairs.map((r) => r.toFixed(2)).join(', ')}, median ${median(pairs).toFixed(3)}`,
);
const cpu = { proxied: median(figures.cpuPerOp.proxied), direct: median(figures.cpuPerOp.direct) };
console.log(
  `CPU per op (harness and nodes, whole run incl. start and check): direct ${cpu.direct.toFixed(3)} ms, proxied ${cpu.proxied.toFixed(3)} ms (+${(((cpu.proxied - cpu.direct) / cpu.direct) * 100).toFixed(1)}%)`,
);
console.log(`checking a run of ~${median(figures.ops)} ops took median ${median(figures.checkMs).toFixed(0)} ms`);
