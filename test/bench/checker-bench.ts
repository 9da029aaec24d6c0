// `npm run bench:checker`: checks every Porcupine history in test/fixtures/porcupine on one thread
// and prints the median check time per file (parsing excluded), the totals, and the ratio to
// Porcupine's own figures from test/fixtures/porcupine/porcupine-figures.json, with the worst file;
// then `skepsis check` of a small file as a whole process beside bare `node -e 0`, and seeded
// single-key histories of 200,000 ops (time and peak memory, each in a process of its own).
// Usage: [--runs N] (default 5) [--starts N] (default 15) [--long-ops N] (default 200000).
// Internal: --long KIND COUNT checks one long history and prints its figures as JSON.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { longSingleKeyHistory } from '../checker/long-history.js';
import { checkHistory } from '../../checker/check.js';
import { readHistoryFile } from '../../checker/format/index.js';
import { etcdFiles, kvFiles, PORCUPINE_DIR } from '../checker/porcupine-histories.js';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}
const RUNS = flag('--runs', 5);
/** A file's runs go on until they took this long in all (tiny files: a few hundred runs). */
const MIN_TOTAL_MS = flag('--min-total-ms', 100);
const RUNS_MAX = 500;
const STARTS = flag('--starts', 15);
const LONG_OPS = flag('--long-ops', 200_000);
const LONG_TIMEOUT_MS = 60_000;

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
  // At least RUNS runs and MIN_TOTAL_MS in all (at most RUNS_MAX): one GC pause or a neighbour's
  // burst on a shared machine moves the median of five 0.1 ms checks, not of a few hundred.
  let spent = 0;
  for (let run = 0; run < RUNS || (spent < MIN_TOTAL_MS && run < RUNS_MAX); run++) {
    const started = performance.now();
    const result = await checkHistory(operations, { model, workers: 0, modelOptions: { whole } });
    times.push(performance.now() - started);
    spent += times[times.length - 1];
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

  console.log(
    `Skepsis checker vs Porcupine v1.3.0 (one thread, median of at least ${RUNS} runs and ${MIN_TOTAL_MS} ms per file, parsing excluded)\n`,
  );
  console.log('file            verdict   skepsis ms  porcupine ms  speedup  steps (porcupine)');
  const speedups: { file: string; speedup: number }[] = [];
  let total = 0;
  let porcupineTotal = 0;
  let wrong = 0;
  for (const f of etcd) {
    const { ms, steps, valid } = await timeCheck(f.ops, 'cas-register');
    if (valid !== f.expected) wrong++;
    total += ms;
    const theirs = porcupine.get(f.file);
    porcupineTotal += theirs?.ms ?? 0;
    if (theirs) speedups.push({ file: f.file, speedup: theirs.ms / ms });
    const ratio = theirs ? `${(theirs.ms / ms).toFixed(2)}x` : '-';
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
    if (theirs) speedups.push({ file: f.file, speedup: theirs.ms / split.ms });
    console.log(
      `${f.file.padEnd(11)} ${String(split.valid).padEnd(8)} ${split.ms.toFixed(3).padStart(8)} ${String(theirs?.ms ?? '-').padStart(10)} ${theirs ? `${(theirs.ms / split.ms).toFixed(2)}x`.padStart(7) : '-'} | ${whole.ms.toFixed(1).padStart(8)} ${String(theirs?.wholeMs ?? '-').padStart(10)} ${theirs?.wholeMs ? `${(theirs.wholeMs / whole.ms).toFixed(1)}x`.padStart(7) : '-'}`,
    );
  }
  speedups.sort((a, b) => a.speedup - b.speedup);
  const slower = speedups.filter((s) => s.speedup < 1);
  console.log(
    `\nspeedup over Porcupine per file (its ms / ours; above 1 is faster): worst ${speedups[0].file} ${speedups[0].speedup.toFixed(2)}x, median ${median(speedups.map((s) => s.speedup)).toFixed(2)}x; slower than Porcupine on ${slower.length} of ${speedups.length} files${slower.length > 0 ? `: ${slower.map((s) => `${s.file} ${s.speedup.toFixed(2)}x`).join(', ')}` : ''}`,
  );
  startup();
  long();
  if (wrong > 0) {
    console.log(`\n${wrong} wrong verdicts`);
    process.exitCode = 1;
  }
}

/** `skepsis check` of a small file as a whole process, beside bare Node, interleaved. */
function startup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const bin = join(root, 'bin', 'skepsis.js');
  const file = join(root, 'checker', 'examples', 'stale-read.jsonl');
  const time = (args: string[]): number => {
    const started = performance.now();
    try {
      execFileSync(process.execPath, args, { stdio: 'ignore' });
    } catch {
      // skepsis check exits 1 on this (not linearizable) history.
    }
    return performance.now() - started;
  };
  const bare: number[] = [];
  const check: number[] = [];
  for (let i = 0; i < STARTS + 1; i++) {
    const b = time(['-e', '0']);
    const c = time([bin, 'check', file]);
    // The first pair warms the file cache.
    if (i === 0) continue;
    bare.push(b);
    check.push(c);
  }
  console.log(
    `\nskepsis check ${join('checker', 'examples', 'stale-read.jsonl')} as a process: median ${median(check).toFixed(0)} ms; bare node -e 0: ${median(bare).toFixed(0)} ms (${STARTS} interleaved starts each, after one warm-up)`,
  );
}

/** Seeded single-key histories of LONG_OPS ops, each checked in a process of its own (peak memory). */
function long(): void {
  console.log(
    `\nsingle-key histories of ${LONG_OPS} ops (seed 1, one thread, timeout ${LONG_TIMEOUT_MS / 1000} s, default 2 GiB ceiling):`,
  );
  for (const kind of ['register', 'kv']) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--long', kind, String(LONG_OPS)], { encoding: 'utf8' });
    const r = JSON.parse(out) as { valid: unknown; reason?: string; ms: number; steps: number; peakMiB: number };
    console.log(
      `  ${kind.padEnd(9)} ${String(r.valid).padEnd(8)}${r.reason ? ` (${r.reason})` : ''} ${(r.ms / 1000).toFixed(1)} s, ${r.steps} steps, peak RSS ${r.peakMiB} MiB`,
    );
  }
}

async function longOne(kind: 'register' | 'kv', count: number): Promise<void> {
  const operations = longSingleKeyHistory({ count, seed: 1, kind });
  const started = performance.now();
  const result = await checkHistory(operations, { model: kind === 'kv' ? 'kv' : 'cas-register', workers: 0, timeoutMs: LONG_TIMEOUT_MS });
  const ms = performance.now() - started;
  const peakMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(JSON.stringify({ valid: result.valid, reason: result.results[0]?.reason, ms, steps: result.steps, peakMiB }));
}

const longAt = process.argv.indexOf('--long');
if (longAt === -1) await main();
else await longOne(process.argv[longAt + 1] as 'register' | 'kv', Number(process.argv[longAt + 2]));
