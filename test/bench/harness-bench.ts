// `npm run bench:harness`: the same `skepsis test` load (kv workload, no rate limit, no faults) with
// every link through the proxies and with direct links, alternated over several rounds in this one
// process; prints ops/s for each and the ratio (goal: proxied within 10% of direct), and how long
// checking each run took. A benchmark, not a test.

import { mkdtempSync, rmSync } from 'node:fs';
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
const figures = { proxied: [] as number[], direct: [] as number[], checkMs: [] as number[], ops: [] as number[] };
try {
  for (let round = 0; round < rounds; round++) {
    for (const proxies of round % 2 === 0 ? [true, false] : [false, true]) {
      const cpuBefore = process.cpuUsage();
      const wallBefore = performance.now();
      const outcome = await runTest({
        store,
        config: {
          name: proxies ? 'proxied' : 'direct',
          workload: 'kv',
          workloadOptions: parseWorkloadOptions('kv', { 'rate-ops-per-second': '0' }),
          nemesis: 'none',
          nemesisIntervalMs: 10_000,
          nodes,
          concurrency,
          timeLimitMs,
          seed: round + 1,
          unsafeBugs: [],
          nodeArgs: [],
          proxies,
          opTimeoutMs: 5000,
          checkTimeoutMs: 120_000,
          command: 'bench:harness',
        },
      });
      const cpu = process.cpuUsage(cpuBefore);
      const harnessCpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore);
      const { stats } = outcome.results;
      const opsPerSecond = stats.operations / (timeLimitMs / 1000);
      (proxies ? figures.proxied : figures.direct).push(opsPerSecond);
      figures.checkMs.push(outcome.results.checkElapsedMs);
      figures.ops.push(stats.operations);
      process.stderr.write(
        `round ${round + 1} ${proxies ? 'proxied' : 'direct '}: ${opsPerSecond.toFixed(0)} ops/s (${stats.ok} ok, ${stats.fail} fail, ${stats.info} info), verdict ${String(outcome.results.valid)}, checked in ${outcome.results.checkElapsedMs.toFixed(0)} ms; harness process used ${(harnessCpuShare * 100).toFixed(0)}% of a core\n`,
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
console.log(`proxied / direct: ${(median(figures.proxied) / median(figures.direct)).toFixed(3)}`);
console.log(`checking a run of ~${median(figures.ops)} ops took median ${median(figures.checkMs).toFixed(0)} ms`);
