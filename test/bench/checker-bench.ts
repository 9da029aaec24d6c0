// `npm run bench:checker`: checks every Porcupine history in test/fixtures/porcupine on one thread
// and prints the median check time per file (parsing excluded), the totals, and the ratio to
// Porcupine's own figures from test/fixtures/porcupine/porcupine-figures.json. Usage: [--runs N] (default 5).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHistory } from '../../checker/check.js';
import { readHistoryFile } from '../../checker/format/index.js';
import { etcdFiles, kvFiles, PORCUPINE_DIR } from '../checker/porcupine-histories.js';

const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag === -1 ? 5 : Number(process.argv[runsFlag + 1]);

/** Porcupine's per-file figures (see the fixtures' README.md for how they were measured). */
interface PorcupineFigures {
  etcd: Record<string, { ms: number; steps: number; cache: number }>;
  kv: Record<string, { splitMs: number; wholeMs: number }>;
}

/** Porcupine's per-file milliseconds (and steps for the etcd logs), keyed by file name. */
function porcupineFigures(): Map<string, { ms: number; wholeMs?: number; steps?: number }> {
  const figures: PorcupineFigures = JSON.parse(readFileSync(join(PORCUPINE_DIR, 'porcupine-figures.json'), 'utf8'));
  const byFile = new Map<string, { ms: number; wholeMs?: number; steps?: number }>();
  for (const [file, { ms, steps }] of Object.entries(figures.etcd)) byFile.set(file, { ms, steps });
  for (const [file, { splitMs, wholeMs }] of Object.entries(figures.kv)) byFile.set(file, { ms: splitMs, wholeMs });
  return byFile;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timeCheck(
  operations: Parameters<typeof checkHistory>[0],
  model: string,
  whole = false,
): Promise<{ ms: number; steps: number; valid: unknown }> {
  const times: number[] = [];
  let steps = 0;
  let valid: unknown;
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const result = await checkHistory(operations, { model, workers: 0, modelOptions: { whole } });
    times.push(performance.now() - started);
    steps = result.steps;
    valid = result.valid;
  }
  return { ms: median(times), steps, valid };
}

async function main(): Promise<void> {
  const porcupine = porcupineFigures();
  const etcd = etcdFiles().map((f) => ({ ...f, ops: readHistoryFile(f.path).history.operations }));
  // Warm the JIT on the whole set once, as a long-running checker would be.
  for (const f of etcd) await checkHistory(f.ops, { model: 'cas-register', workers: 0 });

  console.log(`Skepsis checker vs Porcupine v1.3.0 (one thread, median of ${RUNS} runs, parsing excluded)\n`);
  console.log('file            verdict   skepsis ms  porcupine ms   ratio    steps (porcupine)');
  let total = 0;
  let porcupineTotal = 0;
  let wrong = 0;
  for (const f of etcd) {
    const { ms, steps, valid } = await timeCheck(f.ops, 'cas-register');
    if (valid !== f.expected) wrong++;
    total += ms;
    const theirs = porcupine.get(f.file);
    porcupineTotal += theirs?.ms ?? 0;
    const ratio = theirs ? `${(theirs.ms / ms).toFixed(1)}x` : '-';
    console.log(
      `${f.file.padEnd(15)} ${String(valid).padEnd(9)} ${ms.toFixed(3).padStart(10)} ${(theirs?.ms.toFixed(3) ?? '-').padStart(13)} ${ratio.padStart(7)} ${String(steps).padStart(8)} (${theirs?.steps ?? '-'})`,
    );
  }
  console.log(
    `\netcd total: ${total.toFixed(1)} ms vs Porcupine ${porcupineTotal.toFixed(1)} ms: ${(porcupineTotal / total).toFixed(1)}x faster; wrong verdicts: ${wrong}`,
  );

  console.log('\nkv file     verdict  split ms  porcupine   ratio | whole ms  porcupine   ratio');
  for (const f of kvFiles()) {
    const { history } = readHistoryFile(f.path);
    for (let i = 0; i < 3; i++) await checkHistory(history.operations, { model: 'kv', workers: 0 });
    const split = await timeCheck(history.operations, 'kv');
    const whole = await timeCheck(history.operations, 'kv', true);
    if (split.valid !== f.expected || whole.valid !== f.expected) wrong++;
    const theirs = porcupine.get(f.file);
    console.log(
      `${f.file.padEnd(11)} ${String(split.valid).padEnd(8)} ${split.ms.toFixed(3).padStart(8)} ${String(theirs?.ms ?? '-').padStart(10)} ${theirs ? `${(theirs.ms / split.ms).toFixed(2)}x`.padStart(7) : '-'} | ${whole.ms.toFixed(1).padStart(8)} ${String(theirs?.wholeMs ?? '-').padStart(10)} ${theirs?.wholeMs ? `${(theirs.wholeMs / whole.ms).toFixed(1)}x`.padStart(7) : '-'}`,
    );
  }
  if (wrong > 0) {
    console.log(`\n${wrong} wrong verdicts`);
    process.exitCode = 1;
  }
}

await main();
