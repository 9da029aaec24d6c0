// The swarm command: runs N seeds (S, S+1, ...) of random faults, workloads and checked client
// histories, stops at the first failure with the command that replays it, and prints seeds per
// second. Exit 0 every seed passed, 1 a seed failed, 2 none failed but some histories were undecided.
// Usage: npm run sim -- --seeds N [--seed-start S] [--duration-ms D] [--unsafe-bug B]... [--unsafe-stale-reads]

import { UNSAFE_BUGS, type UnsafeBug } from '../node/kv-service.js';
import { runSwarmSeed } from './swarm-run.js';

interface Arguments {
  seeds: number;
  seedStart: number;
  durationMs: number;
  unsafeBugs: UnsafeBug[];
  unsafeStaleReads: boolean;
}

const USAGE = 'expected --seeds N, --seed-start S, --duration-ms D, --unsafe-bug B, --unsafe-stale-reads';

function parseArguments(argv: string[]): Arguments {
  const values: Record<string, number> = { seeds: 100, 'seed-start': 1, 'duration-ms': 20_000 };
  const unsafeBugs: UnsafeBug[] = [];
  let unsafeStaleReads = false;
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (name === 'unsafe-stale-reads') {
      unsafeStaleReads = true;
      continue;
    }
    if (name === 'unsafe-bug') {
      const bug = argv[++i] as UnsafeBug;
      const simulated = UNSAFE_BUGS.filter((name) => name !== 'lying-fsync');
      if (!(simulated as readonly string[]).includes(bug))
        throw new Error(`--unsafe-bug needs one of ${simulated.join(', ')}, got ${JSON.stringify(bug)}`);
      unsafeBugs.push(bug);
      continue;
    }
    if (!(name in values)) throw new Error(`unknown option ${JSON.stringify(argv[i])}; ${USAGE}`);
    const value = Number(argv[++i]);
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Error(`--${name} needs a non-negative integer, got ${JSON.stringify(argv[i])}`);
    values[name] = value;
  }
  return { seeds: values.seeds, seedStart: values['seed-start'], durationMs: values['duration-ms'], unsafeBugs, unsafeStaleReads };
}

async function main(): Promise<number> {
  const args = parseArguments(process.argv.slice(2));
  const { seeds, seedStart } = args;
  const startedMs = performance.now();
  let events = 0;
  let operations = 0;
  const undecided: number[] = [];
  for (let seed = seedStart; seed < seedStart + seeds; seed++) {
    try {
      const result = await runSwarmSeed({
        seed,
        faultyPhaseMs: args.durationMs,
        unsafeBugs: args.unsafeBugs,
        clients: { unsafeStaleReads: args.unsafeStaleReads },
      });
      events += result.events;
      operations += result.operations.invoked;
      if (result.linearizable !== true) {
        undecided.push(seed);
        console.log(`seed ${seed}: linearizability unknown\n${result.checkText ?? ''}`);
      }
    } catch (error) {
      console.error(`seed ${seed} FAILED\n${(error as Error).message}`);
      return 1;
    }
    if ((seed - seedStart + 1) % 50 === 0) console.log(`${seed - seedStart + 1} seeds...`);
  }
  const seconds = (performance.now() - startedMs) / 1000;
  const rate = `${(seeds / seconds).toFixed(1)} seeds/s, ${Math.round(events / seconds)} events/s, ${operations} client operations checked`;
  if (undecided.length > 0) {
    console.log(
      `${seeds} seeds ran in ${seconds.toFixed(1)} s (${rate}): no failure, but undecided histories at seeds ${undecided.join(', ')}`,
    );
    return 2;
  }
  console.log(`${seeds} seeds passed (${seedStart}..${seedStart + seeds - 1}) in ${seconds.toFixed(1)} s: ${rate}`);
  return 0;
}

process.exitCode = await main();
