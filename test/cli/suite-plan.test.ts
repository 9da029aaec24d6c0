// How a suite becomes runs: an adapting suite (the presets) leaves out, with the reason, the faults
// the store under test cannot take, and the tests none of whose faults remain; a strict suite
// refuses them (exit 254 through the CLI). Our node's --db-opt tuning is checked and passed on.

import { describe, expect, it } from 'vitest';
import { planSuite } from '../../src/cli/suite.js';
import { UsageError } from '../../src/cli/exit.js';
import { validateSuite } from '../../src/harness/suite-file.js';
import { leftOutLines } from '../../src/harness/suite-report.js';
import { SUITE_PRESETS } from '../../src/harness/suite-presets.js';
import { skepsisTarget } from '../../src/targets/skepsis/target.js';

const cliArgs = (extra: Record<string, unknown> = {}) =>
  ({ failFast: false, workloadOpt: [], unsafeBug: [], nodeArg: [], dbOpt: [], binArg: [], ...extra }) as Parameters<typeof planSuite>[2];

const suite = (adapt: boolean) =>
  validateSuite(
    {
      name: 'fit',
      adapt,
      tests: [
        { name: 'mixed', nemesis: 'kill:all,partition:isolate-leader', 'time-limit': 5, runs: 2 },
        { name: 'cuts-only', nemesis: 'partition,flaky:clients', 'time-limit': 5 },
      ],
    },
    'fit.json',
  );

describe('planSuite', () => {
  it('an adapting suite leaves out what --net direct cannot cut, saying why, and the tests with nothing left', () => {
    const { plans, testsLeftOut } = planSuite(suite(true), 'fit.json', cliArgs({ net: 'direct' }), 7);
    expect(plans.map((p) => [p.test, p.seed, p.config.nemesis])).toEqual([
      ['mixed', 7, 'kill:all'],
      ['mixed', 8, 'kill:all'],
    ]);
    expect(plans[0].leftOut).toEqual([expect.stringMatching(/^partition:isolate-leader needs cuts .* --net direct cannot do/)]);
    expect(plans[0].config.command).toContain('--nemesis kill:all ');
    expect(testsLeftOut).toEqual([
      { test: 'cuts-only', reasons: [expect.stringMatching(/^partition:random needs/), expect.stringMatching(/^flaky:clients needs/)] },
    ]);
    // What the suite says before it runs (stderr) and after (Markdown, page): each test once.
    expect(leftOutLines(plans, testsLeftOut)).toEqual([
      expect.stringMatching(/^cuts-only: not run on this store: partition:random needs .*; flaky:clients needs/),
      expect.stringMatching(/^mixed: left out: partition:isolate-leader needs/),
    ]);
  });

  it('on a store that takes every fault, an adapting suite runs everything as written', () => {
    const { plans, testsLeftOut } = planSuite(suite(true), 'fit.json', cliArgs(), 7);
    expect(plans.map((p) => p.config.nemesis)).toEqual([
      'kill:all,partition:isolate-leader',
      'kill:all,partition:isolate-leader',
      'partition,flaky:clients',
    ]);
    expect(plans.every((p) => p.leftOut === undefined)).toBe(true);
    expect(testsLeftOut).toEqual([]);
  });

  it('a strict suite refuses a fault the store cannot take, naming the test', () => {
    expect(() => planSuite(suite(false), 'fit.json', cliArgs({ net: 'direct' }), 7)).toThrow(UsageError);
    expect(() => planSuite(suite(false), 'fit.json', cliArgs({ net: 'direct' }), 7)).toThrow(
      /^fit\.json: tests\[0\] \("mixed"\): --nemesis: partition:isolate-leader needs/,
    );
  });

  it('refuses a suite none of whose tests can run on the store', () => {
    const only = validateSuite({ name: 'x', adapt: true, tests: [{ name: 'cuts', nemesis: 'partition' }] }, 'x.json');
    expect(() => planSuite(only, 'x.json', cliArgs({ net: 'direct' }), 1)).toThrow(
      /^x\.json: no test of the suite can run on --db skepsis: partition:random needs/,
    );
  });

  it('the presets tune elections with a --db-opt both our node and etcd take, not a --node-arg', () => {
    for (const preset of Object.values(SUITE_PRESETS)) {
      expect(preset.adapt).toBe(true);
      for (const test of preset.tests) expect(test['node-arg']).toBeUndefined();
    }
    const { plans } = planSuite(validateSuite(SUITE_PRESETS.smoke, 'smoke'), 'preset smoke', cliArgs(), 1);
    expect(plans.find((p) => p.test === 'leader-faults')!.config.dbOptions).toEqual({
      'heartbeat-interval-ms': '10',
      'snapshot-count': '100',
    });
  });

  it("on a store that takes no --db-opt (a command target), a preset leaves its tuning out, saying so; the user's own --db-opt is still refused", () => {
    const args = { db: 'command', dbSpec: 'examples/skepsis-node.spec.json' };
    const { plans } = planSuite(validateSuite(SUITE_PRESETS.smoke, 'smoke'), 'preset smoke', cliArgs(args), 1);
    const leader = plans.find((p) => p.test === 'leader-faults')!;
    expect(leader.config.dbOptions).toEqual({});
    expect(leader.config.command).not.toContain('--db-opt');
    expect(leader.leftOut).toEqual([
      '--db-opt heartbeat-interval-ms=10: target command has no such option',
      '--db-opt snapshot-count=100: target command has no such option',
    ]);
    expect(plans.map((p) => p.test)).toEqual(['isolated-leader', 'leader-faults', 'chase', 'crashes-and-retries']);
    expect(() => planSuite(validateSuite(SUITE_PRESETS.smoke, 'smoke'), 'preset smoke', cliArgs({ ...args, dbOpt: ['x=1'] }), 1)).toThrow(
      /--db-opt x: target command takes no options/,
    );
  });
});

describe("our node's --db-opt", () => {
  const validate =
    (options: Record<string, string>, nodeArgs: string[] = []) =>
    () =>
      skepsisTarget.validate(options, { unsafeBugs: [], nodeArgs });
  it('takes positive integers, heartbeats below the election timeout, and refuses a flag set twice', () => {
    expect(validate({ 'heartbeat-interval-ms': '10', 'snapshot-count': '500' })()).toEqual({ version: 'this build' });
    expect(validate({ 'snapshot-count': '0' })).toThrow(/--db-opt snapshot-count for target skepsis must be a positive integer, got "0"/);
    expect(validate({ 'heartbeat-interval-ms': '300' })).toThrow(/heartbeat-interval-ms \(300\) must be below election-timeout-ms \(200\)/);
    expect(validate({ 'heartbeat-interval-ms': '10' }, ['--heartbeat-interval-ms=20'])).toThrow(/set the same node flag; give one/);
  });
});
