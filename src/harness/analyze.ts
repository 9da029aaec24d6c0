// Judges a stored run: reads test.json and history.jsonl, checks linearizability with the
// workload's model (within a budget), runs the workload's own check, computes stats, availability
// and fault windows, and writes results.json and report.html. `skepsis test` calls it after a run;
// `skepsis analyze DIR` calls it on an old one. A checker that crashes gives no verdict: the results
// say so, and analyzeRun throws CheckerCrashError once they are written.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHistory, type CheckResult, type Validity } from '../../checker/check.js';
import { readHistoryFile } from '../../checker/format/index.js';
import { isNemesisProcess, type HistoryEvent } from '../../checker/history.js';
import { renderHtml } from '../../checker/html.js';
import { createModel } from '../../checker/models/index.js';
import { formatResultText, resultJson } from '../../checker/report.js';
import { getWorkload } from '../../workloads/index.js';
import { resolveTarget } from '../targets/index.js';
import { checkNodeLogs, type NodeLogCheck } from './node-logs.js';
import { renderReport } from './report/page.js';
import {
  combineValidity,
  faultWindows,
  type FaultWindow,
  type LinkTraffic,
  type MessageStats,
  type OutcomeCounts,
  type TestConfig,
  type TestResults,
} from './results.js';

/**
 * What only the run itself knew (its problems, whether it was interrupted, how long it took, how the
 * nodes exited, the proxies' counters). `skepsis test` passes them; `skepsis analyze` leaves them
 * out and they are carried over from the folder's results.json, so a re-check loses none of them.
 */
export interface AnalyzeExtras {
  problems?: string[];
  interrupted?: boolean;
  elapsedMs?: number;
  nodeExits?: Record<string, string[]>;
  links?: LinkTraffic | null;
  messages?: MessageStats | null;
  /** Overrides the check budget in test.json. */
  checkTimeoutMs?: number;
  progress?: (line: string) => void;
}

export interface AnalyzeOutcome {
  results: TestResults;
  /** Human-readable verdict with the counterexample, for the terminal. */
  text: string;
}

/** A run folder that cannot be analyzed; the message names the file and what is wrong. */
export class RunFolderError extends Error {
  override readonly name = 'RunFolderError';
}

/** The linearizability checker crashed (an internal error, not a verdict); the run folder's results say so. */
export class CheckerCrashError extends Error {
  override readonly name = 'CheckerCrashError';
  constructor(dir: string, cause: unknown) {
    super(`the linearizability check crashed, so there is no verdict; ${join(dir, 'results.json')} and report.html record it`, {
      cause,
    });
  }
}

function readConfig(dir: string): TestConfig {
  const file = join(dir, 'test.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RunFolderError(
      `${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); is ${dir} a run folder?`,
    );
  }
  try {
    return JSON.parse(text) as TestConfig;
  } catch (error) {
    throw new RunFolderError(`${file}: not valid JSON: ${(error as Error).message}`);
  }
}

function counts(): OutcomeCounts {
  return { ok: 0, fail: 0, info: 0 };
}

export function runStats(events: readonly HistoryEvent[], windows: FaultWindow[]) {
  const total = counts();
  const byF: Record<string, OutcomeCounts> = {};
  const during = counts();
  const outside = counts();
  let first = Infinity;
  let last = 0;
  const inFault = (time: number) => windows.some((w) => time >= w.startNs && time <= (w.stopNs ?? Infinity));
  for (const event of events) {
    if (isNemesisProcess(event.process) || event.type === 'invoke') continue;
    const type = event.type as keyof OutcomeCounts;
    total[type]++;
    (byF[event.f] ??= counts())[type]++;
    (inFault(event.time) ? during : outside)[type]++;
    first = Math.min(first, event.time);
    last = Math.max(last, event.time);
  }
  const share = (c: OutcomeCounts) => {
    const n = c.ok + c.fail + c.info;
    return n === 0 ? null : c.ok / n;
  };
  const operations = total.ok + total.fail + total.info;
  const spanSec = last > first ? (last - first) / 1e9 : 0;
  return {
    stats: { ...total, byF, operations, opsPerSecond: spanSec > 0 ? operations / spanSec : 0 },
    availability: { overall: share(total) ?? 0, duringFaults: share(during), outsideFaults: share(outside) },
  };
}

/** The run facts of an earlier results.json, when there is a readable one. */
function previousRunFacts(dir: string): AnalyzeExtras {
  let previous: Partial<TestResults>;
  try {
    previous = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Partial<TestResults>;
  } catch {
    return {};
  }
  if (typeof previous !== 'object' || previous === null) return {};
  const isRecord = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  return {
    problems: Array.isArray(previous.problems) ? previous.problems.filter((p): p is string => typeof p === 'string') : undefined,
    interrupted: typeof previous.interrupted === 'boolean' ? previous.interrupted : undefined,
    elapsedMs: typeof previous.elapsedMs === 'number' ? previous.elapsedMs : undefined,
    nodeExits: isRecord(previous.nodeExits) ? (previous.nodeExits as Record<string, string[]>) : undefined,
    links: isRecord(previous.links) ? (previous.links as unknown as LinkTraffic) : undefined,
    messages: isRecord(previous.messages) ? (previous.messages as unknown as MessageStats) : undefined,
  };
}

export async function analyzeRun(dir: string, given: AnalyzeExtras = {}): Promise<AnalyzeOutcome> {
  const progress = given.progress ?? (() => {});
  const config = readConfig(dir);
  // Facts the caller did not give come from the folder's earlier results (a re-check).
  const extras: AnalyzeExtras = {
    ...previousRunFacts(dir),
    ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
  };
  const historyFile = join(dir, 'history.jsonl');
  const parsed = readHistoryFile(historyFile, 'jsonl');
  const workload = getWorkload(config.workload);
  const checkStarted = performance.now();
  const windows = faultWindows(parsed.events);
  const { stats, availability } = runStats(parsed.events, windows);
  const summary: string[] = [];
  const verdicts: Validity[] = [];
  let linearizability: TestResults['linearizability'] = null;
  let text = '';
  let checkerHtml: string | undefined;
  let checkerCrash: unknown;
  if (workload.model !== null) {
    const model = createModel(workload.model);
    let lastProgressMs = 0;
    const checkStartedMs = performance.now();
    let result: CheckResult | undefined;
    try {
      result = await checkHistory(parsed.history.operations, {
        model: workload.model,
        timeoutMs: extras.checkTimeoutMs ?? config.checkTimeoutMs,
        onProgress: (p) => {
          // At most one line a second.
          if (p.elapsedMs - lastProgressMs < 1000) return;
          lastProgressMs = p.elapsedMs;
          progress(`  checking: ${p.partsDone}/${p.parts} parts, ${(p.elapsedMs / 1000).toFixed(0)} s`);
        },
      });
    } catch (error) {
      checkerCrash = error;
    }
    if (result === undefined) {
      // No verdict: the results say the check crashed, and why, rather than pass or fail the run.
      const error = checkerCrash instanceof Error ? `${checkerCrash.name}: ${checkerCrash.message}` : String(checkerCrash);
      const stack = checkerCrash instanceof Error ? checkerCrash.stack : undefined;
      linearizability = { valid: 'unknown', model: workload.model, error, stack, elapsedMs: performance.now() - checkStartedMs };
      verdicts.push('unknown');
      summary.push(`linearizability check CRASHED (${workload.model}), an internal error and no verdict: ${error}`);
    } else {
      linearizability = {
        ...resultJson(parsed.history, result, model),
        valid: result.valid,
        elapsedMs: result.elapsedMs,
      } as TestResults['linearizability'];
      verdicts.push(result.valid);
      const verdictLine =
        result.valid === true
          ? `linearizable (${workload.model}): ${result.ops} ops in ${result.parts} part(s), checked in ${result.elapsedMs.toFixed(0)} ms`
          : result.valid === false
            ? `NOT linearizable (${workload.model}): see the counterexample`
            : `unknown (${workload.model}): the check ran out of budget; undecided: ${result.undecided.slice(0, 5).join(', ')}`;
      summary.push(verdictLine);
      text = formatResultText(parsed.history, result, model);
      if (result.valid === false)
        checkerHtml = renderHtml({ history: parsed.history, result, model, title: `${config.name}: counterexample` });
    }
  }
  let workloadCheck: TestResults['workloadCheck'] = null;
  if (workload.check) {
    workloadCheck = workload.check(parsed.history);
    verdicts.push(workloadCheck.valid);
    // A workload check's summary starts with its own name ("set: valid: ...").
    summary.push(workloadCheck.summary);
    text += `${text ? '\n' : ''}workload check: ${workloadCheck.summary}`;
  }
  const target = resolveTarget(config.db ?? 'skepsis', config.dbSpec);
  const nodeLogs: NodeLogCheck = target.nodeLogCheck
    ? await checkNodeLogs(dir)
    : {
        valid: true,
        pattern: '',
        count: 0,
        matches: [],
        skipped: `target ${target.name} writes no SAFETY VIOLATION lines; the history is all there is`,
      };
  verdicts.push(nodeLogs.valid);
  if (!nodeLogs.valid) {
    const first = nodeLogs.matches[0];
    summary.push(`node logs: ${nodeLogs.count} line(s) report a broken Raft invariant, first ${first.node}: ${first.line}`);
    text += `${text ? '\n' : ''}node logs: ${nodeLogs.count} safety violation line(s):\n${nodeLogs.matches.map((m) => `  ${m.node}: ${m.line}`).join('\n')}`;
  }
  // disk-synced damaged durable data: a node that started on it, instead of refusing, fails the run.
  const startedOnDamage = parsed.events.filter(
    (e) => isNemesisProcess(e.process) && e.f === 'stop-disk-synced' && (e.value as { outcome?: unknown } | null)?.outcome === 'recovered',
  );
  if (startedOnDamage.length > 0) {
    verdicts.push(false);
    const nodes = startedOnDamage.map((e) => (e.value as { node?: string }).node).join(', ');
    summary.push(`disk-synced: ${nodes} started on a log whose synced data was damaged, where it must refuse loudly`);
  }
  const problems = extras.problems ?? [];
  if (problems.length > 0) summary.push(`problems: ${problems.join('; ')}`);
  if (extras.interrupted) summary.push('interrupted before the time limit');
  const checkElapsedMs = performance.now() - checkStarted;
  const results: TestResults = {
    valid: verdicts.length === 0 ? 'unknown' : combineValidity(verdicts),
    summary,
    test: config,
    elapsedMs: extras.elapsedMs ?? 0,
    interrupted: extras.interrupted ?? false,
    linearizability,
    workloadCheck,
    nodeLogs,
    stats,
    availability,
    faults: windows,
    problems,
    nodeExits: extras.nodeExits ?? {},
    links: extras.links ?? null,
    ...(extras.messages ? { messages: extras.messages } : {}),
    checkElapsedMs,
  };
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (checkerHtml !== undefined) writeFileSync(join(dir, 'checker.html'), checkerHtml);
  writeFileSync(join(dir, 'report.html'), renderReport({ config, results, events: parsed.events, checkerHtml }));
  if (checkerCrash !== undefined) throw new CheckerCrashError(dir, checkerCrash);
  return { results, text };
}
