// `npm run soak`: proof that `skepsis test` finds bugs. Runs the documented command for each unsafe
// bug class over several seeds (detection rate), and the correct node under every nemesis over the
// same seeds (false-alarm rate). Prints a table; exits 1 if a bug is never found or the correct node
// is ever judged invalid. Flags: --seeds N (default 5), --time-limit S (default 30), --only NAME.

import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { skepsisBin } from '../../src/harness/launcher.js';
import { BUG_HUNTS, CORRECT_NODE_RUNS, type HuntSpec } from './hunts.js';

const { values } = parseArgs({
  options: { seeds: { type: 'string', default: '5' }, 'time-limit': { type: 'string', default: '30' }, only: { type: 'string' } },
});
const seeds = Number(values.seeds);
const timeLimit = Number(values['time-limit']);

async function runOne(spec: HuntSpec, seed: number, store: string): Promise<{ exitCode: number; summary: string }> {
  const args = ['test', ...spec.args, '--time-limit', String(timeLimit), '--seed', String(seed), '--store', store, '--quiet'];
  const result = await execa(process.execPath, [skepsisBin(), ...args], { reject: false, timeout: (timeLimit + 240) * 1000 });
  const summary = result.stdout
    .split('\n')
    .filter((line) => /^(verdict|NOT|linearizable|unknown|set:)/.test(line))
    .join(' | ');
  return { exitCode: result.exitCode ?? -1, summary };
}

const store = mkdtempSync(join(tmpdir(), 'skepsis-soak-'));
let failed = false;
try {
  const rows: string[] = [];
  const hunts = BUG_HUNTS.filter((hunt) => values.only === undefined || hunt.name === values.only);
  for (const hunt of hunts) {
    let found = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const { exitCode, summary } = await runOne(hunt, seed, store);
      if (exitCode === 1) found++;
      process.stderr.write(`${hunt.name} seed ${seed}: exit ${exitCode} ${summary}\n`);
    }
    rows.push(
      `${hunt.name.padEnd(20)} found in ${found}/${seeds} seeds   npx skepsis test ${hunt.args.join(' ')} --time-limit ${timeLimit}`,
    );
    if (found === 0) failed = true;
  }
  const correct = CORRECT_NODE_RUNS.filter((run) => values.only === undefined || run.name === values.only);
  for (const run of correct) {
    let alarms = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const { exitCode, summary } = await runOne(run, seed, store);
      if (exitCode === 1) alarms++;
      process.stderr.write(`${run.name} seed ${seed}: exit ${exitCode} ${summary}\n`);
    }
    rows.push(`${run.name.padEnd(20)} false alarms ${alarms}/${seeds}   npx skepsis test ${run.args.join(' ')} --time-limit ${timeLimit}`);
    if (alarms > 0) failed = true;
  }
  console.log(`\nbug hunt: ${seeds} seeds each, ${timeLimit} s per run`);
  for (const row of rows) console.log(row);
} finally {
  rmSync(store, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
