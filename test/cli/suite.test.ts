// `skepsis suite` end to end through the real binary: a suite of short runs of the correct node
// passes (exit 0, JUnit, Markdown in $GITHUB_STEP_SUMMARY, the suite's folder); the same file with
// --unsafe-bug no-dedup on the command line fails (exit 1) with the failing run's repeat command;
// a bad suite file or flag exits 254 naming the field and starts nothing.

import { execa } from 'execa';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skepsisBin } from '../../src/harness/launcher.js';

const dir = mkdtempSync(join(tmpdir(), 'skepsis-suite-cli-'));
const store = join(dir, 'store');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function skepsis(args: string[], env: Record<string, string> = {}, timeoutMs = 240_000) {
  return execa(process.execPath, [skepsisBin(), ...args], {
    reject: false,
    timeout: timeoutMs,
    env: { ...process.env, FORCE_COLOR: '0', ...env },
  });
}

async function nodesAlive(): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid,args'], { reject: false });
  return stdout.split('\n').filter((line) => line.includes(' node ') && line.includes(store));
}

/** Client connections broken on requests and replies: retried writes must apply once. */
const SUITE = {
  name: 'e2e',
  'time-budget': 200,
  tests: [
    { name: 'broken-clients', nodes: 3, workload: 'set', nemesis: 'flaky:clients', 'nemesis-interval': 2, 'time-limit': 8, seeds: [1, 2] },
  ],
};

describe('skepsis suite', () => {
  const file = join(dir, 'suite.json');
  writeFileSync(file, JSON.stringify(SUITE));

  it('passes the correct node: exit 0, the last line, JUnit, the step summary and the suite folder', { timeout: 300_000 }, async () => {
    const junit = join(dir, 'pass.xml');
    const stepSummary = join(dir, 'step-summary.md');
    const result = await skepsis(['suite', file, '--store', store, '--junit', junit, '--quiet'], { GITHUB_STEP_SUMMARY: stepSummary });
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout.trim().split('\n').pop()).toBe('2 passed, 0 failed');
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="e2e" tests="2" failures="0" errors="0" skipped="0"/);
    expect(xml).toContain('repeat: npx skepsis test --nodes 3 --workload set --nemesis flaky:clients');
    expect(readFileSync(stepSummary, 'utf8')).toMatch(/^## Skepsis suite `e2e`: 2 passed, 0 failed/);
    const suiteDir = join(store, 'suite-e2e', readlinkSync(join(store, 'suite-e2e', 'latest')));
    const saved = JSON.parse(readFileSync(join(suiteDir, 'suite.json'), 'utf8'));
    expect(saved.runs.map((r: { seed: number; status: string }) => [r.seed, r.status])).toEqual([
      [1, 'passed'],
      [2, 'passed'],
    ]);
    // Each run is an ordinary stored run of `skepsis test`.
    const run = JSON.parse(readFileSync(join(saved.runs[0].dir, 'test.json'), 'utf8'));
    expect(run).toMatchObject({ name: 'e2e-broken-clients', seed: 1, nodes: 3, workload: 'set', unsafeBugs: [] });
    expect(await nodesAlive()).toEqual([]);
  });

  it(
    'fails a node with a bug given on the command line: exit 1, with the command that repeats the failing run',
    { timeout: 300_000 },
    async () => {
      const junit = join(dir, 'fail.xml');
      const summary = join(dir, 'fail.md');
      const result = await skepsis([
        'suite',
        file,
        '--store',
        store,
        '--unsafe-bug',
        'no-dedup',
        '--fail-fast',
        '--junit',
        junit,
        '--summary',
        summary,
        '--quiet',
      ]);
      expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(1);
      expect(result.stdout).toMatch(/failed  broken-clients seed 1: .*duplicated/);
      expect(result.stdout).toContain(
        'repeat: npx skepsis test --nodes 3 --workload set --nemesis flaky:clients --nemesis-interval 2 --time-limit 8 --concurrency 6 --seed 1 --unsafe-bug no-dedup',
      );
      // --fail-fast: the second seed is reported, as skipped.
      expect(result.stdout.trim().split('\n').pop()).toBe('0 passed, 1 failed, 1 skipped');
      expect(readFileSync(junit, 'utf8')).toMatch(/<failure message="[^"]*duplicated[^"]*" type="invalid">/);
      expect(readFileSync(summary, 'utf8')).toMatch(/\| broken-clients \| 1 \| \*\*INVALID\*\* \| violated \|/);
      expect(await nodesAlive()).toEqual([]);
    },
  );

  it('refuses a bad suite or flag with exit 254, naming the file and field, and starts nothing', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'b', tests: [{ name: 'a', nodes: 3, nemesis: 'kill:some' }] }));
    const nemesis = await skepsis(['suite', bad, '--store', store]);
    expect(nemesis.exitCode).toBe(254);
    expect(nemesis.stderr).toContain(`${bad}: tests[0] ("a"): --nemesis:`);
    writeFileSync(bad, JSON.stringify({ name: 'b', tests: [{ name: 'a', 'time-limit': 'long' }] }));
    const type = await skepsis(['suite', bad, '--store', store]);
    expect(type.exitCode).toBe(254);
    expect(type.stderr).toContain(`${bad}: tests[0].time-limit: expected a number, got string "long"`);
    const flag = await skepsis(['suite', '--preset', 'standard', '--unsafe-bug', 'eat-data', '--store', store]);
    expect(flag.exitCode).toBe(254);
    expect(flag.stderr).toMatch(/unsafe-bug/);
    const maelstrom = await skepsis(['suite', '--preset', 'smoke', '--db', 'maelstrom', '--bin', 'x', '--store', store]);
    expect(maelstrom.exitCode).toBe(254);
    expect(maelstrom.stderr).toMatch(
      /--preset smoke tests key-value stores .* --db maelstrom runs Maelstrom's own workloads: write a suite FILE/,
    );
    const neither = await skepsis(['suite', '--store', store]);
    expect(neither.exitCode).toBe(254);
    expect(neither.stderr).toMatch(/name a suite FILE or a --preset \(smoke, standard, soak\)/);
    const missing = await skepsis(['suite', join(dir, 'nope.json')]);
    expect(missing.exitCode).toBe(254);
    expect(missing.stderr).toMatch(/cannot read the suite file .*nope\.json: ENOENT/);
    expect(await nodesAlive()).toEqual([]);
  });
});
