// Runs a suite: the runs of a matrix of tests, one after another through runTest (one run's logic
// exists once), within a time budget. A run that would not fit, or that follows an invalid one under
// --fail-fast, or follows Ctrl-C, is reported as skipped with the reason, never dropped. The
// outcome feeds the suite's outputs (src/harness/suite-report.ts).

import type { Validity } from '../../checker/check.js';
import { combineValidity } from './results.js';
import { RunSetupError, runTest, type RunTestOptions } from './run-test.js';

/** One run of the suite, ready to go: its test's name, seed and full configuration. */
export interface SuiteRunPlan {
  test: string;
  seed: number;
  config: RunTestOptions['config'];
  /** Faults of the test left out because the store under test cannot take them (adapting suites). */
  leftOut?: string[];
}

/** A test an adapting suite did not run at all: none of its faults fit the store under test. */
export interface SuiteTestLeftOut {
  test: string;
  reasons: string[];
}

export type SuiteRunStatus = 'passed' | 'failed' | 'unknown' | 'error' | 'skipped';

export interface SuiteRunResult {
  test: string;
  seed: number;
  status: SuiteRunStatus;
  /** The command that repeats this run. */
  command: string;
  /** The run's store folder (absent when skipped or when it could not start). */
  dir?: string;
  elapsedMs: number;
  /** The run's summary lines, or why it was skipped or failed to run. */
  summary: string[];
  /** Faults of its test left out for this store, with the reasons. */
  leftOut?: string[];
  /** What the history alone said (linearizability and the workload's check), and the node-log check. */
  history?: Validity;
  nodeLogs?: boolean;
}

export interface SuiteOutcome {
  name: string;
  startedAt: string;
  elapsedMs: number;
  timeBudgetMs: number;
  failFast: boolean;
  runs: SuiteRunResult[];
  /** Tests not run because none of their faults fit the store under test. */
  testsLeftOut?: SuiteTestLeftOut[];
}

export interface RunSuiteOptions {
  name: string;
  plans: SuiteRunPlan[];
  testsLeftOut?: SuiteTestLeftOut[];
  store: string;
  timeBudgetMs: number;
  failFast: boolean;
  progress?: (line: string) => void;
  signal?: AbortSignal;
  /** Runs one test (tests pass a fake; default runTest). */
  run?: typeof runTest;
  now?: () => number;
}

/**
 * Time a run takes beyond its time limit (start, heal, final reads, check) until one has been
 * measured; afterwards the median of those measured so far is used (the upper one of an even
 * count). Not the largest: one slow check would make every later run look too long, and skip the
 * rest of the suite; a run may overrun its estimate by its own excess, bounded by --check-timeout.
 */
export const RUN_OVERHEAD_ESTIMATE_MS = 15_000;

export async function runSuite(options: RunSuiteOptions): Promise<SuiteOutcome> {
  const run = options.run ?? runTest;
  const now = options.now ?? (() => performance.now());
  const progress = options.progress ?? (() => {});
  const startedAt = new Date().toISOString();
  const start = now();
  /** Overheads measured so far, sorted (see RUN_OVERHEAD_ESTIMATE_MS). */
  const overheadsMs: number[] = [];
  let stopReason: string | undefined;
  const runs: SuiteRunResult[] = [];
  for (const [index, plan] of options.plans.entries()) {
    const base = {
      test: plan.test,
      seed: plan.seed,
      command: plan.config.command,
      ...(plan.leftOut !== undefined && plan.leftOut.length > 0 ? { leftOut: plan.leftOut } : {}),
    };
    const label = `[${index + 1}/${options.plans.length}] ${plan.test} seed ${plan.seed}`;
    if (options.signal?.aborted) stopReason ??= 'the suite was interrupted';
    const elapsed = now() - start;
    const overheadMs = overheadsMs.length === 0 ? RUN_OVERHEAD_ESTIMATE_MS : overheadsMs[overheadsMs.length >> 1];
    const estimateMs = plan.config.timeLimitMs + overheadMs;
    const skipReason =
      stopReason ??
      (elapsed + estimateMs > options.timeBudgetMs
        ? `would not fit in the time budget (${(elapsed / 1000).toFixed(0)} s used of ${(options.timeBudgetMs / 1000).toFixed(0)} s; this run needs about ${(estimateMs / 1000).toFixed(0)} s)`
        : undefined);
    if (skipReason !== undefined) {
      progress(`skepsis suite: ${label}: skipped: ${skipReason}`);
      runs.push({ ...base, status: 'skipped', elapsedMs: 0, summary: [`skipped: ${skipReason}`] });
      continue;
    }
    progress(`skepsis suite: ${label}: ${plan.config.command}`);
    const runStart = now();
    try {
      const outcome = await run({ config: plan.config, store: options.store, progress: options.progress, signal: options.signal });
      const { results } = outcome;
      const elapsedMs = now() - runStart;
      const measured = Math.max(0, elapsedMs - plan.config.timeLimitMs);
      overheadsMs.push(measured);
      overheadsMs.sort((x, y) => x - y);
      const historyVerdicts = [results.linearizability?.valid, results.workloadCheck?.valid].filter((v): v is Validity => v !== undefined);
      const status: SuiteRunStatus = results.valid === true ? 'passed' : results.valid === false ? 'failed' : 'unknown';
      runs.push({
        ...base,
        status,
        dir: outcome.dir,
        elapsedMs,
        summary: results.summary,
        history: historyVerdicts.length > 0 ? combineValidity(historyVerdicts) : 'unknown',
        nodeLogs: results.nodeLogs.skipped !== undefined ? undefined : results.nodeLogs.valid,
      });
      progress(`skepsis suite: ${label}: ${status} in ${(elapsedMs / 1000).toFixed(1)} s (${outcome.dir})`);
      if (status === 'failed' && options.failFast) stopReason = `--fail-fast: ${plan.test} seed ${plan.seed} was invalid`;
    } catch (error) {
      // The run could not start or the harness failed: no verdict. Its processes are gone (runTest
      // stops everything on every path); the suite goes on with the next run.
      const message = error instanceof RunSetupError ? `the cluster could not start: ${error.message}` : `harness error: ${String(error)}`;
      progress(`skepsis suite: ${label}: error: ${message}`);
      runs.push({ ...base, status: 'error', elapsedMs: now() - runStart, summary: [message] });
    }
  }
  return {
    name: options.name,
    startedAt,
    elapsedMs: now() - start,
    timeBudgetMs: options.timeBudgetMs,
    failFast: options.failFast,
    runs,
    ...(options.testsLeftOut !== undefined && options.testsLeftOut.length > 0 ? { testsLeftOut: options.testsLeftOut } : {}),
  };
}

/** Counts by status. */
export function suiteCounts(outcome: SuiteOutcome): Record<SuiteRunStatus, number> {
  const counts: Record<SuiteRunStatus, number> = { passed: 0, failed: 0, unknown: 0, error: 0, skipped: 0 };
  for (const run of outcome.runs) counts[run.status]++;
  return counts;
}

/**
 * The suite's exit code: 1 if any run was invalid; else 3 if the harness failed on some run (no
 * verdict); else 2 if some run was unknown or skipped (not everything was shown valid); else 0.
 */
export function suiteExitCode(outcome: SuiteOutcome): number {
  const counts = suiteCounts(outcome);
  if (counts.failed > 0) return 1;
  if (counts.error > 0) return 3;
  if (counts.unknown > 0 || counts.skipped > 0) return 2;
  return 0;
}

/** The last line: `N passed, N failed`, then the other counts that are not zero. */
export function suiteLastLine(outcome: SuiteOutcome): string {
  const counts = suiteCounts(outcome);
  const rest = (['unknown', 'error', 'skipped'] as const).filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  return [`${counts.passed} passed`, `${counts.failed} failed`, ...rest].join(', ');
}
