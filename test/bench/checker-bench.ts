// `npm run bench:checker`: checks every Porcupine history in test/fixtures/porcupine on one thread
// and prints the median check time per file (parsing excluded), beside Porcupine v1.3.0 itself run
// on the same files in the same minutes (test/bench/porcupine, built with `go` when it is on the
// PATH; otherwise the stored figures of porcupine-figures.json, and the output says so), with the
// ratio per file, the worst file and the totals; then `skepsis check` of a small file as a whole
// process beside bare `node -e 0`, and seeded single-key histories of 200,000 ops (time and peak
// memory, each in a process of its own).
// Usage: [--rounds N] (default 3) [--runs N] (default 5) [--min-total-ms N] (default 100)
//        [--starts N] (default 15) [--long-ops N] (default 200000) [--stored] (skip Go, use the stored figures).
// Internal: --long KIND COUNT checks one long history and prints its figures as JSON.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
const ROUNDS = flag('--rounds', 3);
const RUNS = flag('--runs', 5);
/** A file's runs go on until they took this long in all (tiny files: a few hundred runs). */
const MIN_TOTAL_MS = flag('--min-total-ms', 100);
const RUNS_MAX = 500;
/** Untimed runs of each file first (at least one), on both sides: the timed runs are warm. */
const WARM_MS = 50;
const STARTS = flag('--starts', 15);
const LONG_OPS = flag('--long-ops', 200_000);
const LONG_TIMEOUT_MS = 60_000;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Porcupine's stored figures (see the fixtures' README.md for how they were measured). */
interface PorcupineFigures {
  etcd: Record<string, { ms: number; steps: number; cache: number }>;
  kv: Record<string, { splitMs: number; wholeMs: number }>;
}

/** One file checked one way: an etcd log, or a kv file split by key or whole. */
type Mode = 'etcd' | 'split' | 'whole';
const keyOf = (file: string, mode: Mode): string => `${file} ${mode}`;

/** Porcupine's stored milliseconds per file and mode, and its model steps per etcd log. */
function storedFigures(): { ms: Map<string, number>; steps: Map<string, number> } {
  const figures: PorcupineFigures = JSON.parse(readFileSync(join(PORCUPINE_DIR, 'porcupine-figures.json'), 'utf8'));
  const ms = new Map<string, number>();
  const steps = new Map<string, number>();
  for (const [file, f] of Object.entries(figures.etcd)) {
    ms.set(keyOf(file, 'etcd'), f.ms);
    steps.set(file, f.steps);
  }
  for (const [file, f] of Object.entries(figures.kv)) {
    ms.set(keyOf(file, 'split'), f.splitMs);
    ms.set(keyOf(file, 'whole'), f.wholeMs);
  }
  return { ms, steps };
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
  const check = () => checkHistory(operations, { model, workers: 0, modelOptions: { whole } });
  for (let spent = 0; spent < WARM_MS || spent === 0; ) {
    const started = performance.now();
    await check();
    spent += performance.now() - started;
  }
  const times: number[] = [];
  let steps = 0;
  let valid: unknown;
  // At least RUNS runs and MIN_TOTAL_MS in all (at most RUNS_MAX): one GC pause or a neighbour's
  // burst on a shared machine moves the median of five 0.1 ms checks, not of a few hundred.
  let spent = 0;
  for (let run = 0; run < RUNS || (spent < MIN_TOTAL_MS && run < RUNS_MAX); run++) {
    const started = performance.now();
    const result = await check();
    times.push(performance.now() - started);
    spent += times[times.length - 1];
    steps = result.steps;
    valid = result.valid;
  }
  return { ms: median(times), steps, valid };
}

interface Measured {
  ms: number;
  valid: unknown;
  steps?: number;
}

/** Every file, each way, timed here. */
async function measureOurs(files: BenchFile[]): Promise<Map<string, Measured>> {
  const out = new Map<string, Measured>();
  for (const f of files) {
    if (f.mode === 'etcd') out.set(keyOf(f.file, 'etcd'), await timeCheck(f.ops, 'cas-register'));
    else out.set(keyOf(f.file, f.mode), await timeCheck(f.ops, 'kv', f.mode === 'whole'));
  }
  return out;
}

/**
 * Builds Porcupine's bench (test/bench/porcupine) with `go`, or says why not. The binary goes in a
 * temporary folder removed when the bench ends.
 */
function buildPorcupine(): { binary: string; version: string; cleanUp: () => void } | { why: string } {
  if (process.argv.includes('--stored')) return { why: '--stored' };
  let version: string;
  try {
    version = execFileSync('go', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    return { why: 'no `go` on the PATH (Debian: apt-get install golang-go)' };
  }
  const dir = mkdtempSync(join(tmpdir(), 'skepsis-porcupine-bench-'));
  const cleanUp = (): void => rmSync(dir, { recursive: true, force: true });
  const binary = join(dir, 'porcupine-bench');
  try {
    execFileSync('go', ['build', '-o', binary, '.'], {
      cwd: join(ROOT, 'test', 'bench', 'porcupine'),
      env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'on' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    cleanUp();
    return { why: `go build failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}` };
  }
  return { binary, version, cleanUp };
}

/** Every file, each way, timed by Porcupine in one process on one core (GOMAXPROCS=1). */
function measurePorcupine(binary: string, paths: string[]): Map<string, Measured> {
  const args = ['-min-runs', String(RUNS), '-min-ms', String(MIN_TOTAL_MS), '-warm-ms', String(WARM_MS), '-max-runs', String(RUNS_MAX)];
  const text = execFileSync(binary, [...args, ...paths], {
    encoding: 'utf8',
    env: { ...process.env, GOMAXPROCS: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
  const out = new Map<string, Measured>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = JSON.parse(line) as { file: string; mode: Mode; ms: number; valid: boolean };
    out.set(keyOf(f.file, f.mode), { ms: f.ms, valid: f.valid });
  }
  return out;
}

interface BenchFile {
  file: string;
  path: string;
  mode: Mode;
  expected: boolean;
  ops: Parameters<typeof checkHistory>[0];
}

async function main(): Promise<void> {
  const stored = storedFigures();
  const files: BenchFile[] = [];
  for (const f of etcdFiles()) files.push({ ...f, mode: 'etcd', ops: readHistoryFile(f.path).history.operations });
  for (const f of kvFiles()) {
    const ops = readHistoryFile(f.path).history.operations;
    files.push({ ...f, mode: 'split', ops }, { ...f, mode: 'whole', ops });
  }
  const porcupine = buildPorcupine();
  const sideBySide = 'binary' in porcupine;
  const ours: Map<string, Measured>[] = [];
  const theirs: Map<string, Measured>[] = [];
  try {
    const paths = [...new Set(files.map((f) => f.path))];
    for (let round = 0; round < (sideBySide ? ROUNDS : 1); round++) {
      // Each side goes first in turn, so neither always runs on the machine the other just warmed.
      if (sideBySide && round % 2 === 0) theirs.push(measurePorcupine(porcupine.binary, paths));
      ours.push(await measureOurs(files));
      if (sideBySide && round % 2 === 1) theirs.push(measurePorcupine(porcupine.binary, paths));
      process.stderr.write(`round ${round + 1} done\n`);
    }
  } finally {
    if (sideBySide) porcupine.cleanUp();
  }
  const oursMs = (key: string): number => median(ours.map((r) => r.get(key)!.ms));
  const theirMs = (key: string): number | undefined => (sideBySide ? median(theirs.map((r) => r.get(key)!.ms)) : stored.ms.get(key));

  console.log(
    sideBySide
      ? `Skepsis checker vs Porcupine v1.3.0 (${porcupine.version}, GOMAXPROCS=1), side by side: ${ROUNDS} rounds, each side first in turn; per round each file's median of at least ${RUNS} runs and ${MIN_TOTAL_MS} ms after ${WARM_MS} ms of warm-up, one thread, parsing excluded; below, the median over the rounds\n`
      : `Skepsis checker vs Porcupine's STORED figures (porcupine-figures.json: another machine state, not side by side), because ${porcupine.why}; median of at least ${RUNS} runs and ${MIN_TOTAL_MS} ms per file after ${WARM_MS} ms of warm-up, one thread, parsing excluded\n`,
  );
  let wrong = 0;
  let theirWrong = 0;
  for (const f of files) {
    const key = keyOf(f.file, f.mode);
    for (const r of ours) if (r.get(key)!.valid !== f.expected) wrong++;
    for (const r of theirs) if (r.get(key)!.valid !== f.expected) theirWrong++;
  }
  console.log('file            verdict   skepsis ms  porcupine ms  speedup  steps (porcupine)');
  const speedups: { file: string; speedup: number }[] = [];
  let total = 0;
  let porcupineTotal = 0;
  for (const f of files.filter((x) => x.mode === 'etcd')) {
    const key = keyOf(f.file, 'etcd');
    const ms = oursMs(key);
    const their = theirMs(key);
    total += ms;
    porcupineTotal += their ?? 0;
    if (their !== undefined) speedups.push({ file: f.file, speedup: their / ms });
    const last = ours[ours.length - 1].get(key)!;
    console.log(
      `${f.file.padEnd(15)} ${String(last.valid).padEnd(9)} ${ms.toFixed(3).padStart(10)} ${(their?.toFixed(3) ?? '-').padStart(13)} ${(their !== undefined ? `${(their / ms).toFixed(2)}x` : '-').padStart(7)} ${String(last.steps).padStart(8)} (${stored.steps.get(f.file) ?? '-'})`,
    );
  }
  console.log(
    `\netcd total: ${total.toFixed(1)} ms vs Porcupine ${porcupineTotal.toFixed(1)} ms: ${(porcupineTotal / total).toFixed(1)}x faster`,
  );

  console.log('\nkv file     verdict  split ms  porcupine   ratio | whole ms  porcupine   ratio');
  for (const f of files.filter((x) => x.mode === 'split')) {
    const split = oursMs(keyOf(f.file, 'split'));
    const whole = oursMs(keyOf(f.file, 'whole'));
    const theirSplit = theirMs(keyOf(f.file, 'split'));
    const theirWhole = theirMs(keyOf(f.file, 'whole'));
    if (theirSplit !== undefined) speedups.push({ file: f.file, speedup: theirSplit / split });
    const ratio = (t: number | undefined, o: number, digits: number) => (t !== undefined ? `${(t / o).toFixed(digits)}x` : '-').padStart(7);
    console.log(
      `${f.file.padEnd(11)} ${String(ours[ours.length - 1].get(keyOf(f.file, 'split'))!.valid).padEnd(8)} ${split.toFixed(3).padStart(8)} ${(theirSplit?.toFixed(3) ?? '-').padStart(10)} ${ratio(theirSplit, split, 2)} | ${whole.toFixed(1).padStart(8)} ${(theirWhole?.toFixed(1) ?? '-').padStart(10)} ${ratio(theirWhole, whole, 1)}`,
    );
  }
  speedups.sort((a, b) => a.speedup - b.speedup);
  const slower = speedups.filter((s) => s.speedup < 1);
  console.log(
    `\nspeedup over Porcupine per file (its ms / ours; above 1 is faster): worst ${speedups[0].file} ${speedups[0].speedup.toFixed(2)}x, median ${median(speedups.map((s) => s.speedup)).toFixed(2)}x; slower than Porcupine on ${slower.length} of ${speedups.length} files${slower.length > 0 ? `: ${slower.map((s) => `${s.file} ${s.speedup.toFixed(2)}x`).join(', ')}` : ''}`,
  );
  console.log(`wrong verdicts: Skepsis ${wrong}${sideBySide ? `, Porcupine ${theirWrong}` : ''} (every file, every round)`);
  startup();
  long();
  if (wrong > 0 || theirWrong > 0) process.exitCode = 1;
}

/**
 * `skepsis check` of a small file as a whole process, beside bare Node, interleaved: from the check
 * bundle (what bin/skepsis.cjs runs) and from the ES modules (SKEPSIS_NO_CHECK_BUNDLE=1).
 */
function startup(): void {
  const bin = join(ROOT, 'bin', 'skepsis.cjs');
  const file = join(ROOT, 'checker', 'examples', 'stale-read.jsonl');
  const time = (args: string[], env: NodeJS.ProcessEnv = process.env): number => {
    const started = performance.now();
    try {
      execFileSync(process.execPath, args, { stdio: 'ignore', env });
    } catch {
      // skepsis check exits 1 on this (not linearizable) history.
    }
    return performance.now() - started;
  };
  const noBundle = { ...process.env, SKEPSIS_NO_CHECK_BUNDLE: '1' };
  const bare: number[] = [];
  const check: number[] = [];
  const modules: number[] = [];
  for (let i = 0; i < STARTS + 1; i++) {
    const b = time(['-e', '0']);
    const c = time([bin, 'check', file]);
    const m = time([bin, 'check', file], noBundle);
    // The first round warms the file cache.
    if (i === 0) continue;
    bare.push(b);
    check.push(c);
    modules.push(m);
  }
  console.log(
    `\nskepsis check ${join('checker', 'examples', 'stale-read.jsonl')} as a process: median ${median(check).toFixed(0)} ms (from the ES modules: ${median(modules).toFixed(0)} ms); bare node -e 0: ${median(bare).toFixed(0)} ms (${STARTS} interleaved starts each, after one warm-up)`,
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
