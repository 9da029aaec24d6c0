// The swarm command: runs N seeds (S, S+1, ...) of random faults and workloads, stops at the first
// failure with the command that replays it, and prints seeds per second. Exit 0 pass, 1 failure.
// Usage: npm run sim -- --seeds N [--seed-start S] [--duration-ms D]

import { runSwarmSeed } from './swarm-run.js';

function parseArguments(argv: string[]): { seeds: number; seedStart: number; durationMs: number } {
  const values: Record<string, number> = { seeds: 100, 'seed-start': 1, 'duration-ms': 20_000 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in values)) throw new Error(`unknown option ${JSON.stringify(argv[i])}; expected --seeds, --seed-start, --duration-ms`);
    const value = Number(argv[++i]);
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Error(`--${name} needs a non-negative integer, got ${JSON.stringify(argv[i])}`);
    values[name] = value;
  }
  return { seeds: values.seeds, seedStart: values['seed-start'], durationMs: values['duration-ms'] };
}

function main(): number {
  const { seeds, seedStart, durationMs } = parseArguments(process.argv.slice(2));
  const startedMs = performance.now();
  let events = 0;
  for (let seed = seedStart; seed < seedStart + seeds; seed++) {
    try {
      events += runSwarmSeed({ seed, faultyPhaseMs: durationMs }).events;
    } catch (error) {
      console.error(`seed ${seed} FAILED\n${(error as Error).message}`);
      return 1;
    }
    if ((seed - seedStart + 1) % 50 === 0) console.log(`${seed - seedStart + 1} seeds...`);
  }
  const seconds = (performance.now() - startedMs) / 1000;
  console.log(
    `${seeds} seeds passed (${seedStart}..${seedStart + seeds - 1}) in ${seconds.toFixed(1)} s: ${(seeds / seconds).toFixed(1)} seeds/s, ${Math.round(events / seconds)} events/s`,
  );
  return 0;
}

process.exitCode = main();
