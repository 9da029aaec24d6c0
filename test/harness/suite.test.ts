// The suite runner and its outputs, with a fake run in place of runTest (the real runs are in
// test/cli/suite.test.ts): the time budget skips what would not fit and says so, --fail-fast stops
// at the first invalid run, exit codes and the last line follow the verdicts, JUnit and Markdown
// carry the command that repeats a run and its report, the store folder is listed by serve, and
// the suite file's shape is validated field by field.

import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Validity } from '../../checker/check.js';
import { startStoreServer } from '../../src/harness/serve.js';
import { parseSuiteText, SuiteFileError, validateSuite } from '../../src/harness/suite-file.js';
import { SUITE_PRESETS } from '../../src/harness/suite-presets.js';
import { suiteJunit, suiteMarkdown, writeSuiteFolder } from '../../src/harness/suite-report.js';
import { planSuite } from '../../src/cli/suite.js';
import { runSuite, suiteExitCode, suiteLastLine, type SuiteRunPlan } from '../../src/harness/suite.js';
import { RunSetupError, type runTest } from '../../src/harness/run-test.js';

const store = mkdtempSync(join(tmpdir(), 'skepsis-suite-unit-'));
afterAll(() => rmSync(store, { recursive: true, force: true }));

function plan(test: string, seed: number, timeLimitMs = 10_000): SuiteRunPlan {
  return {
    test,
    seed,
    config: { timeLimitMs, command: `npx skepsis test --name ${test} --seed ${seed}` } as SuiteRunPlan['config'],
  };
}

/**
 * A fake runTest: each call takes `runMs` of the fake clock (or the next of a list) and answers the
 * next verdict (or throws).
 */
function fakeRuns(verdicts: (Validity | Error)[], clock: { ms: number }, runMs: number | number[]) {
  let call = 0;
  const run = async () => {
    clock.ms += Array.isArray(runMs) ? runMs[call] : runMs;
    const verdict = verdicts[call++];
    if (verdict instanceof Error) throw verdict;
    return {
      dir: join(store, `run-${call}`),
      results: {
        valid: verdict,
        summary: [verdict === false ? 'NOT linearizable <b> & "quoted"' : `verdict ${String(verdict)}`],
        linearizability: { valid: verdict === false ? true : verdict, elapsedMs: 1 },
        workloadCheck: null,
        nodeLogs: { valid: verdict !== false, pattern: 'SAFETY VIOLATION', count: verdict === false ? 1 : 0, matches: [] },
      },
    };
  };
  return { run: run as unknown as typeof runTest, calls: () => call };
}

describe('runSuite', () => {
  it('runs every plan in order and reports each verdict; exit 0 only when all are valid', async () => {
    const clock = { ms: 0 };
    const fake = fakeRuns([true, true], clock, 12_000);
    const outcome = await runSuite({
      name: 's',
      plans: [plan('a', 1), plan('b', 2)],
      store,
      timeBudgetMs: 100_000,
      failFast: false,
      run: fake.run,
      now: () => clock.ms,
    });
    expect(outcome.runs.map((r) => [r.test, r.seed, r.status])).toEqual([
      ['a', 1, 'passed'],
      ['b', 2, 'passed'],
    ]);
    expect(suiteExitCode(outcome)).toBe(0);
    expect(suiteLastLine(outcome)).toBe('2 passed, 0 failed');
  });

  it('skips, with the reason, the runs that would not fit in the time budget (estimated from the runs measured)', async () => {
    const clock = { ms: 0 };
    // Each run takes 30 s for a 10 s time limit: 20 s of overhead, measured after the first.
    const fake = fakeRuns([true, true, true], clock, 30_000);
    const outcome = await runSuite({
      name: 's',
      plans: [plan('a', 1), plan('b', 2), plan('c', 3)],
      store,
      timeBudgetMs: 65_000,
      failFast: false,
      run: fake.run,
      now: () => clock.ms,
    });
    // After two runs (60 s used), a third needs about 30 s: it does not fit in 65 s.
    expect(outcome.runs.map((r) => r.status)).toEqual(['passed', 'passed', 'skipped']);
    expect(outcome.runs[2].summary[0]).toMatch(/would not fit in the time budget \(60 s used of 65 s; this run needs about 30 s\)/);
    expect(fake.calls()).toBe(2);
    expect(suiteExitCode(outcome)).toBe(2);
    expect(suiteLastLine(outcome)).toBe('2 passed, 0 failed, 1 skipped');
  });

  it('estimates from the median overhead, so one slow check does not skip the rest of the suite', async () => {
    const clock = { ms: 0 };
    // 10 s time limits; overheads of 5, 5 and then 100 s (one slow check), then 5 s each.
    const fake = fakeRuns([true, true, true, true, true, true], clock, [15_000, 15_000, 110_000, 15_000, 15_000, 15_000]);
    const outcome = await runSuite({
      name: 's',
      plans: [1, 2, 3, 4, 5, 6].map((seed) => plan('a', seed)),
      store,
      timeBudgetMs: 175_000,
      failFast: false,
      run: fake.run,
      now: () => clock.ms,
    });
    // After the slow one (140 s used) the estimate is 10 + 5 s: the fourth and fifth fit (155, 170 s);
    // the sixth (170 + 15 > 175) does not. With the largest overhead (100 s) none after it would.
    expect(outcome.runs.map((r) => r.status)).toEqual(['passed', 'passed', 'passed', 'passed', 'passed', 'skipped']);
    expect(outcome.runs[5].summary[0]).toMatch(/\(170 s used of 175 s; this run needs about 15 s\)/);
    expect(fake.calls()).toBe(5);
  });

  it('with --fail-fast stops at the first invalid run and reports the rest skipped; exit 1', async () => {
    const clock = { ms: 0 };
    const fake = fakeRuns([true, false, true], clock, 1000);
    const outcome = await runSuite({
      name: 's',
      plans: [plan('a', 1), plan('b', 2), plan('c', 3)],
      store,
      timeBudgetMs: 1e9,
      failFast: true,
      run: fake.run,
      now: () => clock.ms,
    });
    expect(outcome.runs.map((r) => r.status)).toEqual(['passed', 'failed', 'skipped']);
    expect(outcome.runs[2].summary[0]).toMatch(/--fail-fast: b seed 2 was invalid/);
    expect(fake.calls()).toBe(2);
    expect(suiteExitCode(outcome)).toBe(1);
  });

  it('exit 2 for an unknown run (none invalid), 3 for a harness error, 1 when any run is invalid', async () => {
    const outcomeOf = async (verdicts: (Validity | Error)[]) => {
      const clock = { ms: 0 };
      const fake = fakeRuns(verdicts, clock, 1000);
      const plans = verdicts.map((_, i) => plan(`t${i}`, i));
      return runSuite({ name: 's', plans, store, timeBudgetMs: 1e9, failFast: false, run: fake.run, now: () => clock.ms });
    };
    const unknown = await outcomeOf([true, 'unknown']);
    expect(suiteExitCode(unknown)).toBe(2);
    expect(suiteLastLine(unknown)).toBe('1 passed, 0 failed, 1 unknown');
    const error = await outcomeOf([new RunSetupError('n1 exited: bad flag'), 'unknown']);
    expect(error.runs[0]).toMatchObject({ status: 'error', summary: ['the cluster could not start: n1 exited: bad flag'] });
    expect(suiteExitCode(error)).toBe(3);
    const invalid = await outcomeOf([new Error('boom'), 'unknown', false]);
    expect(invalid.runs[0].summary[0]).toMatch(/harness error: Error: boom/);
    expect(suiteExitCode(invalid)).toBe(1);
    expect(suiteLastLine(invalid)).toBe('0 passed, 1 failed, 1 unknown, 1 error');
  });

  it('a run after an interrupt is skipped, not run', async () => {
    const clock = { ms: 0 };
    const controller = new AbortController();
    const fake = fakeRuns([true, true], clock, 1000);
    const run = (async (options: Parameters<typeof runTest>[0]) => {
      controller.abort();
      return fake.run(options);
    }) as typeof runTest;
    const outcome = await runSuite({
      name: 's',
      plans: [plan('a', 1), plan('b', 2)],
      store,
      timeBudgetMs: 1e9,
      failFast: false,
      run,
      now: () => clock.ms,
      signal: controller.signal,
    });
    expect(outcome.runs.map((r) => r.status)).toEqual(['passed', 'skipped']);
    expect(outcome.runs[1].summary[0]).toMatch(/interrupted/);
  });
});

describe('suite outputs', () => {
  async function mixedOutcome() {
    const clock = { ms: 0 };
    const fake = fakeRuns([true, false, 'unknown'], clock, 2000);
    return runSuite({
      name: 'mixed',
      plans: [plan('a', 1), plan('b', 2), plan('c', 3), plan('d', 4, 1e9)],
      store,
      timeBudgetMs: 100_000,
      failFast: false,
      run: fake.run,
      now: () => clock.ms,
    });
  }

  it('JUnit: a test case per run; invalid a failure, unknown an error, with the repeat command and the report path', async () => {
    const xml = suiteJunit(await mixedOutcome());
    expect(xml).toMatch(/<testsuite name="mixed" tests="4" failures="1" errors="1" skipped="1"/);
    expect(xml.match(/<testcase /g)).toHaveLength(4);
    expect(xml).toMatch(/<failure message="NOT linearizable &lt;b&gt; &amp; &quot;quoted&quot;" type="invalid">/);
    expect(xml).toContain(`repeat: npx skepsis test --name b --seed 2\nreport: ${join(store, 'run-2', 'report.html')}</failure>`);
    expect(xml).toMatch(/<error message="verdict unknown" type="unknown">/);
    expect(xml).toMatch(/<skipped message="skipped: would not fit in the time budget/);
  });

  it('Markdown: the last line as its title and a row per run with what found it', async () => {
    const markdown = suiteMarkdown(await mixedOutcome());
    expect(markdown).toMatch(/^## Skepsis suite `mixed`: 1 passed, 1 failed, 1 unknown, 1 skipped/);
    // The invalid run: the history check passed here, the node-log check did not.
    expect(markdown).toMatch(
      /\| b \| 2 \| \*\*INVALID\*\* \| ok \| violated \| 2\.0 s \| NOT linearizable <b> & "quoted" \| `npx skepsis test --name b --seed 2` \|/,
    );
    expect(markdown).toMatch(/exit 1/);
  });

  it('the store folder (suite.json, suite.html, latest) is listed by skepsis serve', async () => {
    const outcome = await mixedOutcome();
    const dir = writeSuiteFolder(outcome, store);
    const saved = JSON.parse(readFileSync(join(dir, 'suite.json'), 'utf8'));
    expect(saved).toMatchObject({ name: 'mixed', exitCode: 1, lastLine: '1 passed, 1 failed, 1 unknown, 1 skipped' });
    expect(readlinkSync(join(store, 'suite-mixed', 'latest'))).toBe(dir.split('/').pop());
    expect(readFileSync(join(dir, 'suite.html'), 'utf8')).toContain('href="../../run-2/report.html"');
    const server = await startStoreServer({ store, port: 0 });
    try {
      const index = await (await fetch(server.url)).text();
      expect(index).toContain('suite-mixed');
      expect(index).toContain('1 passed, 1 failed, 1 unknown, 1 skipped');
      expect(index).toMatch(/suite\.html/);
      const page = await fetch(`${server.url}suite-mixed/latest/suite.html`);
      expect(page.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('the suite file', () => {
  const bad = (value: unknown) => {
    try {
      validateSuite(value, 'suite.json');
    } catch (error) {
      expect(error).toBeInstanceOf(SuiteFileError);
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('names the file, the field and the expected type or the allowed fields', () => {
    expect(bad([])).toBe('suite.json: (top level): expected an object {"name", "tests": [...]}, got an array');
    expect(bad({ name: 'x', tests: [] })).toBe('suite.json: tests: expected a non-empty array of tests, got an array');
    expect(bad({ name: 'x y', tests: [{ name: 'a' }] })).toMatch(/^suite\.json: name: expected a string of 1 to 60 letters/);
    expect(bad({ name: 'x', tests: [{ name: 'a', nodes: 2.5 }] })).toBe('suite.json: tests[0].nodes: expected an integer, got number 2.5');
    expect(bad({ name: 'x', tests: [{ name: 'a', 'time-limit': '20' }] })).toBe(
      'suite.json: tests[0].time-limit: expected a number, got string "20"',
    );
    expect(bad({ name: 'x', tests: [{ name: 'a', 'node-arg': '--x' }] })).toBe(
      'suite.json: tests[0].node-arg: expected an array of strings, got string "--x"',
    );
    expect(bad({ name: 'x', tests: [{ name: 'a', 'workload-opt': { rate: [1] } }] })).toMatch(
      /tests\[0\]\.workload-opt: expected an object of name: value/,
    );
    expect(bad({ name: 'x', tests: [{ name: 'a', timeLimit: 3 }] })).toMatch(
      /^suite\.json: tests\[0\]\.timeLimit: unknown field; the allowed fields are name, seeds, runs, nodes/,
    );
    expect(bad({ name: 'x', tests: [{ name: 'a' }, { name: 'a' }] })).toMatch(/tests\[1\]\.name: "a" is the name of an earlier test too/);
    expect(bad({ name: 'x', tests: [{ name: 'a', seeds: [1], runs: 2 }] })).toBe(
      'suite.json: tests[0]: give either "seeds" or "runs", not both',
    );
    expect(bad({ name: 'x', tests: [{ name: 'a', runs: 0 }] })).toMatch(/tests\[0\]\.runs: expected an integer from 1 to 1000, got 0/);
    expect(bad({ name: 'x', extra: 1, tests: [{ name: 'a' }] })).toMatch(/^suite\.json: extra: unknown field/);
  });

  it('turns option values into strings and refuses text that is not JSON, naming the file', () => {
    const suite = parseSuiteText('{"name":"x","tests":[{"name":"a","workload-opt":{"get-weight":5,"x":true}}]}', 'f.json');
    expect(suite.tests[0]['workload-opt']).toEqual({ 'get-weight': '5', x: 'true' });
    expect(() => parseSuiteText('{"name":', 'f.json')).toThrow(/^f\.json.*: not valid JSON/);
  });

  it('carries db-spec to each run of --db command, whose config records the spec', () => {
    const spec = fileURLToPath(new URL('../../examples/skepsis-node.spec.json', import.meta.url));
    const suite = validateSuite(
      { name: 's', tests: [{ name: 'own', db: 'command', 'db-spec': spec, nemesis: 'kill', seeds: [1] }] },
      'f.json',
    );
    expect(() => validateSuite({ name: 's', tests: [{ name: 'own', 'db-spec': 3 }] }, 'f.json')).toThrow(
      'f.json: tests[0].db-spec: expected a string, got number 3',
    );
    const {
      plans: [plan],
    } = planSuite(suite, 'f.json', { failFast: false, workloadOpt: [], unsafeBug: [], nodeArg: [], dbOpt: [], binArg: [] }, 1);
    expect(plan.config.db).toBe('command');
    expect(plan.config.dbSpec?.file).toBe(spec);
    expect(plan.config.command).toContain(`--db-spec ${spec}`);
  });

  it('every preset is a valid suite', () => {
    for (const [name, preset] of Object.entries(SUITE_PRESETS)) expect(validateSuite(preset, name)).toEqual(preset);
  });
});
