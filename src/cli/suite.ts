// `skepsis suite FILE | --preset NAME`: runs a matrix of tests one after another within a time
// budget, as a CI gate. Every `skepsis test` flag given on the command line applies to every run
// (a repeatable flag adds to the file's values). Writes JUnit XML (--junit), a Markdown summary
// ($GITHUB_STEP_SUMMARY, else --summary), the suite's page in the store, and ends with the line
// `N passed, N failed`. Exit 0 all valid, 1 any invalid, 2 any unknown or skipped (none invalid),
// 3 a harness error, 254 bad usage (nothing started).

import { randomInt } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { type SuiteSpec, type SuiteTestSpec, parseSuiteText, SuiteFileError, validateSuite } from '../harness/suite-file.js';
import { SUITE_PRESET_NAMES, SUITE_PRESETS } from '../harness/suite-presets.js';
import { leftOutLines, suiteJunit, suiteMarkdown, writeSuiteFolder } from '../harness/suite-report.js';
import { runSuite, suiteExitCode, suiteLastLine, type SuiteRunPlan, type SuiteTestLeftOut } from '../harness/suite.js';
import { UsageError } from './exit.js';
import type { Command } from './main.js';
import {
  addTestOptions,
  buildTestConfig,
  fitNemesis,
  listenForInterrupts,
  resolveTargetAndNet,
  TEST_DEFAULTS,
  type TestArgs,
} from './test.js';

interface SuiteArgs extends Partial<TestArgs> {
  file?: string;
  preset?: string;
  timeBudget?: number;
  junit?: string;
  summary?: string;
  failFast: boolean;
  workloadOpt: string[];
  unsafeBug: string[];
  nodeArg: string[];
  dbOpt: string[];
  binArg: string[];
}

const DEFAULT_TIME_BUDGET_SEC = 3600;

function loadSuite(args: SuiteArgs): { suite: SuiteSpec; source: string } {
  if (args.file !== undefined && args.preset !== undefined) throw new UsageError('give a suite FILE or --preset, not both');
  if (args.preset !== undefined) {
    const preset = SUITE_PRESETS[args.preset];
    if (preset === undefined)
      throw new UsageError(`--preset must be one of ${SUITE_PRESET_NAMES.join(', ')}, got ${JSON.stringify(args.preset)}`);
    if (args.db === 'maelstrom')
      throw new UsageError(
        `--preset ${args.preset} tests key-value stores (register, set and kv workloads); --db maelstrom runs Maelstrom's own workloads: write a suite FILE with them (see the README)`,
      );
    return { suite: validateSuite(preset, `preset ${args.preset}`), source: `preset ${args.preset}` };
  }
  if (args.file === undefined) throw new UsageError(`name a suite FILE or a --preset (${SUITE_PRESET_NAMES.join(', ')})`);
  let text: string;
  try {
    text = readFileSync(args.file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the suite file ${args.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return { suite: parseSuiteText(text, args.file), source: args.file };
  } catch (error) {
    if (error instanceof SuiteFileError) throw new UsageError(error.message);
    throw error;
  }
}

const optionList = (options: Record<string, string> | undefined) => Object.entries(options ?? {}).map(([k, v]) => `${k}=${v}`);

/** One run's `skepsis test` arguments: the command line beats the suite file beats the test defaults. */
function runArgs(test: SuiteTestSpec, args: SuiteArgs, suiteName: string, seed: number): TestArgs {
  return {
    nodes: args.nodes ?? test.nodes ?? TEST_DEFAULTS.nodes,
    workload: args.workload ?? test.workload ?? TEST_DEFAULTS.workload,
    workloadOpt: [...optionList(test['workload-opt']), ...args.workloadOpt],
    nemesis: args.nemesis ?? test.nemesis ?? TEST_DEFAULTS.nemesis,
    nemesisInterval: args.nemesisInterval ?? test['nemesis-interval'] ?? TEST_DEFAULTS.nemesisInterval,
    timeLimit: args.timeLimit ?? test['time-limit'] ?? TEST_DEFAULTS.timeLimit,
    concurrency: args.concurrency ?? test.concurrency,
    seed,
    store: args.store ?? TEST_DEFAULTS.store,
    name: `${suiteName}-${test.name}`,
    unsafeBug: [...(test['unsafe-bug'] ?? []), ...args.unsafeBug],
    nodeArg: [...(test['node-arg'] ?? []), ...args.nodeArg],
    proxy: args.proxy ?? TEST_DEFAULTS.proxy,
    db: args.db ?? test.db ?? TEST_DEFAULTS.db,
    dbOpt: [...optionList(test['db-opt']), ...args.dbOpt],
    dbSpec: args.dbSpec ?? test['db-spec'],
    net: args.net ?? test.net,
    bin: args.bin ?? test.bin,
    binArg: [...(test['bin-arg'] ?? []), ...args.binArg],
    opTimeoutMs: args.opTimeoutMs ?? test['op-timeout-ms'] ?? TEST_DEFAULTS.opTimeoutMs,
    checkTimeout: args.checkTimeout ?? test['check-timeout'] ?? TEST_DEFAULTS.checkTimeout,
    quiet: args.quiet ?? TEST_DEFAULTS.quiet,
  };
}

/**
 * An adapting suite's `db-opt` tuning that the store under test does not take (a command target
 * takes none) is left out with its reason; options given on the command line are never dropped.
 */
function fitDbOptions(test: SuiteTestSpec, args: SuiteArgs): { test: SuiteTestSpec; leftOut: string[] } {
  const given = test['db-opt'];
  if (given === undefined) return { test, leftOut: [] };
  const { target } = resolveTargetAndNet(runArgs(test, args, '', 0));
  const known = new Set(target.options.map((o) => o.name));
  const kept = Object.fromEntries(Object.entries(given).filter(([name]) => known.has(name)));
  const leftOut = Object.entries(given)
    .filter(([name]) => !known.has(name))
    .map(([name, value]) => `--db-opt ${name}=${value}: target ${target.name} has no such option`);
  return { test: { ...test, 'db-opt': kept }, leftOut };
}

/**
 * Every run of the suite with its full configuration, validated before anything starts. A test
 * with `runs: N` takes seeds base, base+1, ... (base: --seed, else random and printed).
 */
export function planSuite(
  suite: SuiteSpec,
  source: string,
  args: SuiteArgs,
  baseSeed: number,
): { plans: SuiteRunPlan[]; testsLeftOut: SuiteTestLeftOut[] } {
  const plans: SuiteRunPlan[] = [];
  const testsLeftOut: SuiteTestLeftOut[] = [];
  for (let [index, test] of suite.tests.entries()) {
    const seeds = test.seeds ?? Array.from({ length: test.runs ?? 1 }, (_, i) => (baseSeed + i) % 2 ** 32);
    try {
      let leftOut: string[] = [];
      let nemesis: string | undefined;
      if (suite.adapt === true) {
        const tuning = fitDbOptions(test, args);
        test = tuning.test;
        const fitted = fitNemesis(runArgs(test, args, suite.name, baseSeed));
        leftOut = [...tuning.leftOut, ...fitted.leftOut];
        if (fitted.nemesis === 'none' && fitted.leftOut.length > 0) {
          testsLeftOut.push({ test: test.name, reasons: leftOut });
          continue;
        }
        nemesis = fitted.nemesis;
      }
      for (const seed of seeds) {
        const testArgs = runArgs(test, args, suite.name, seed);
        plans.push({
          test: test.name,
          seed,
          config: buildTestConfig(nemesis === undefined ? testArgs : { ...testArgs, nemesis }),
          ...(leftOut.length > 0 ? { leftOut } : {}),
        });
      }
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`${source}: tests[${index}] ("${test.name}"): ${error.message}`);
      throw error;
    }
  }
  if (plans.length === 0)
    throw new UsageError(
      `${source}: no test of the suite can run on --db ${args.db ?? TEST_DEFAULTS.db}: ${testsLeftOut.flatMap((t) => t.reasons).join('; ')}`,
    );
  return { plans, testsLeftOut };
}

async function handle(args: SuiteArgs): Promise<number> {
  const { suite, source } = loadSuite(args);
  if (args.name !== undefined) {
    if (!/^[A-Za-z0-9_.-]{1,60}$/.test(args.name))
      throw new UsageError(`--name may only use letters, digits, "_", "." and "-", got "${args.name}"`);
    suite.name = args.name;
  }
  const budgetSec = args.timeBudget ?? suite['time-budget'] ?? DEFAULT_TIME_BUDGET_SEC;
  if (!Number.isFinite(budgetSec) || budgetSec <= 0 || budgetSec > 7 * 24 * 3600)
    throw new UsageError(`--time-budget must be a number of seconds from 1 to 604800, got ${String(budgetSec)}`);
  const baseSeed = args.seed ?? randomInt(1, 2 ** 31);
  if (!Number.isInteger(baseSeed) || baseSeed < 0 || baseSeed > 2 ** 32 - 1)
    throw new UsageError(`--seed must be an integer from 0 to ${2 ** 32 - 1}, got ${String(baseSeed)}`);
  const { plans, testsLeftOut } = planSuite(suite, source, args, baseSeed);
  const store = args.store ?? TEST_DEFAULTS.store;
  const quiet = args.quiet ?? false;
  const say = (line: string) => process.stderr.write(`${line}\n`);
  say(`skepsis suite: ${suite.name} (${source}): ${plans.length} runs, time budget ${budgetSec} s, seed ${baseSeed}`);
  for (const line of leftOutLines(plans, testsLeftOut)) say(`skepsis suite: ${line}`);
  const interrupt = listenForInterrupts('skepsis suite');
  let outcome;
  try {
    outcome = await runSuite({
      name: suite.name,
      plans,
      testsLeftOut,
      store,
      timeBudgetMs: budgetSec * 1000,
      failFast: args.failFast,
      progress: (line) => (!quiet || line.startsWith('skepsis suite:') ? say(line) : undefined),
      signal: interrupt.signal,
    });
  } finally {
    interrupt.dispose();
  }
  const dir = writeSuiteFolder(outcome, store);
  if (args.junit !== undefined) writeFileSync(args.junit, suiteJunit(outcome));
  const markdown = suiteMarkdown(outcome);
  const stepSummary = process.env.GITHUB_STEP_SUMMARY;
  if (stepSummary) appendFileSync(stepSummary, `${markdown}\n`);
  if (args.summary !== undefined) writeFileSync(args.summary, markdown);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  for (const run of outcome.runs) {
    out(`${run.status.padEnd(7)} ${run.test} seed ${run.seed}${run.status === 'passed' ? '' : `: ${run.summary[0] ?? ''}`}`);
    if (run.status === 'failed' || run.status === 'unknown' || run.status === 'error') {
      out(`        repeat: ${run.command}`);
      if (run.dir) out(`        report: ${run.dir}/report.html`);
    }
  }
  out(`suite: ${dir}/suite.html`);
  out(suiteLastLine(outcome));
  return suiteExitCode(outcome);
}

export const suiteCommand: Command = {
  register(parser: Argv, setExit) {
    parser.command(
      'suite [file]',
      'run a matrix of tests (a JSON suite file or a preset) as a CI gate: JUnit, Markdown summary, exit 0/1/2',
      (command) =>
        addTestOptions(command, false)
          .positional('file', { type: 'string', describe: 'the suite file (JSON: {"name", "time-budget"?, "tests": [...]})' })
          .option('preset', { type: 'string', describe: `a built-in suite: ${SUITE_PRESET_NAMES.join(', ')}` })
          .option('time-budget', {
            type: 'number',
            describe: `seconds the whole suite may take (default: the suite's, else ${DEFAULT_TIME_BUDGET_SEC})`,
          })
          .option('fail-fast', {
            type: 'boolean',
            default: false,
            describe: 'stop at the first invalid run (the rest are reported skipped)',
          })
          .option('junit', { type: 'string', describe: 'write JUnit XML here (a test case per run)' })
          .option('summary', {
            type: 'string',
            describe: 'write the Markdown summary here (also appended to $GITHUB_STEP_SUMMARY when set)',
          }),
      async (args) => setExit(await handle(args as unknown as SuiteArgs)),
    );
  },
};
