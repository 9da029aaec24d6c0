// Storage micro benchmark (not a test): append + sync() ops/s and p50/p99 latency of DiskStorage for 1
// and 64 concurrent writers, fsync on and off, in a temporary directory on the same disk as os.tmpdir().
// Usage: npx tsx test/bench/storage-bench.ts [--seconds N] (default 2 per case) [--dir DIR]

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskStorage } from '../../src/node/storage/disk-storage.js';

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

const SECONDS = Number(flag('--seconds', '2'));
const BASE_DIR = flag('--dir', tmpdir());
const VALUE = new TextEncoder().encode('v'.repeat(100));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function run(writers: number, fsync: boolean): Promise<void> {
  const dir = await mkdtemp(join(BASE_DIR, 'skepsis-storage-bench-'));
  const storage = await DiskStorage.open({ dir, configuration: { voters: ['n1'] }, fsync });
  const latenciesMs: number[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  const writer = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const start = performance.now();
      storage.append([{ index: storage.lastIndex() + 1, term: 1, data: VALUE }]);
      await storage.sync();
      latenciesMs.push(performance.now() - start);
    }
  };
  const start = performance.now();
  try {
    await Promise.all(Array.from({ length: writers }, writer));
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
  const elapsedS = (performance.now() - start) / 1000;
  latenciesMs.sort((a, b) => a - b);
  const { syncCalls, walFsyncs } = storage.counters;
  console.log(
    `writers=${String(writers).padStart(2)} fsync=${fsync ? 'on ' : 'off'}  ${Math.round(latenciesMs.length / elapsedS)
      .toString()
      .padStart(7)} ops/s  p50 ${percentile(latenciesMs, 0.5).toFixed(3)} ms  p99 ${percentile(latenciesMs, 0.99).toFixed(3)} ms  ` +
      `(${syncCalls} sync calls, ${walFsyncs} fdatasyncs)`,
  );
}

for (const fsync of [true, false]) for (const writers of [1, 64]) await run(writers, fsync);
