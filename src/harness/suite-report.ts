// What a suite leaves behind: JUnit XML for CI (one test case per run), a Markdown summary (for
// $GITHUB_STEP_SUMMARY), and the suite's folder in the store (suite.json and suite.html, listed by
// `skepsis serve`). Each is rendered from the SuiteOutcome alone.

import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { escapeHtml } from '../../checker/view/text.js';
import { suiteCounts, suiteExitCode, suiteLastLine, type SuiteOutcome, type SuiteRunResult, type SuiteTestLeftOut } from './suite.js';

function xml(text: string): string {
  // Characters XML 1.0 cannot carry at all are dropped; the rest are escaped as for HTML.
  // eslint-disable-next-line no-control-regex
  return escapeHtml(text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, ''));
}

function reportPath(run: SuiteRunResult): string | undefined {
  return run.dir === undefined ? undefined : join(run.dir, 'report.html');
}

/** Body text of a failure, error or skip: why, the command that repeats the run, its report. */
function details(run: SuiteRunResult): string {
  const report = reportPath(run);
  return [...run.summary, `repeat: ${run.command}`, ...(report ? [`report: ${report}`] : [])].join('\n');
}

/** JUnit XML: a test case per run; invalid is a failure, unknown or a harness error an error. */
export function suiteJunit(outcome: SuiteOutcome): string {
  const counts = suiteCounts(outcome);
  const cases = outcome.runs.map((run) => {
    const head = `  <testcase classname="${xml(`skepsis.${outcome.name}.${run.test}`)}" name="${xml(`${run.test} seed ${run.seed}`)}" time="${(run.elapsedMs / 1000).toFixed(3)}"`;
    const body = xml(details(run));
    const first = xml(run.summary[0] ?? '');
    switch (run.status) {
      case 'passed':
        return `${head}>\n    <system-out>${body}</system-out>\n  </testcase>`;
      case 'failed':
        return `${head}>\n    <failure message="${first}" type="invalid">${body}</failure>\n  </testcase>`;
      case 'unknown':
        return `${head}>\n    <error message="${first}" type="unknown">${body}</error>\n  </testcase>`;
      case 'error':
        return `${head}>\n    <error message="${first}" type="harness-error">${body}</error>\n  </testcase>`;
      case 'skipped':
        return `${head}>\n    <skipped message="${first}"/>\n  </testcase>`;
    }
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="skepsis" tests="${outcome.runs.length}" failures="${counts.failed}" errors="${counts.unknown + counts.error}" skipped="${counts.skipped}" time="${(outcome.elapsedMs / 1000).toFixed(3)}">`,
    `<testsuite name="${xml(outcome.name)}" tests="${outcome.runs.length}" failures="${counts.failed}" errors="${counts.unknown + counts.error}" skipped="${counts.skipped}" time="${(outcome.elapsedMs / 1000).toFixed(3)}" timestamp="${xml(outcome.startedAt)}">`,
    ...cases,
    '</testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

const STATUS_TEXT = { passed: 'valid', failed: '**INVALID**', unknown: 'unknown', error: 'harness error', skipped: 'skipped' } as const;

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function checkText(value: boolean | 'unknown' | undefined): string {
  return value === true ? 'ok' : value === false ? 'violated' : value === 'unknown' ? 'unknown' : '';
}

/** The Markdown summary: the last line, then a row per run with its verdict, what found it, and how to repeat it. */
export function suiteMarkdown(outcome: SuiteOutcome): string {
  const lines = [
    `## Skepsis suite \`${outcome.name}\`: ${suiteLastLine(outcome)}`,
    '',
    `${outcome.runs.length} runs in ${(outcome.elapsedMs / 1000).toFixed(0)} s (budget ${(outcome.timeBudgetMs / 1000).toFixed(0)} s${outcome.failFast ? ', --fail-fast' : ''}); exit ${suiteExitCode(outcome)}.`,
    '',
    '| test | seed | verdict | history | node logs | took | why | repeat | report |',
    '|---|---|---|---|---|---|---|---|---|',
    ...outcome.runs.map(
      (run) =>
        `| ${cell(run.test)} | ${run.seed} | ${STATUS_TEXT[run.status]} | ${checkText(run.history)} | ${checkText(run.nodeLogs)} | ${run.status === 'skipped' ? '' : `${(run.elapsedMs / 1000).toFixed(1)} s`} | ${cell(run.status === 'passed' ? '' : (run.summary[0] ?? ''))} | \`${cell(run.command)}\` | ${reportPath(run) ? `\`${cell(reportPath(run)!)}\`` : ''} |`,
    ),
    '',
    ...leftOutLines(outcome.runs, outcome.testsLeftOut).map((line) => `- ${cell(line)}`),
  ];
  return lines.join('\n');
}

/**
 * What an adapting suite left out for this store: tests none of whose faults fit, then the faults
 * left out of the tests that ran (each once).
 */
export function leftOutLines(
  runs: readonly { test: string; leftOut?: string[] }[],
  testsLeftOut: readonly SuiteTestLeftOut[] = [],
): string[] {
  const lines = testsLeftOut.map((t) => `${t.test}: not run on this store: ${t.reasons.join('; ')}`);
  const seen = new Set<string>();
  for (const run of runs) {
    if (run.leftOut === undefined || seen.has(run.test)) continue;
    seen.add(run.test);
    lines.push(`${run.test}: left out: ${run.leftOut.join('; ')}`);
  }
  return lines;
}

/** The suite's page in the store: links to each run's report, relative to the page. */
export function suiteHtml(outcome: SuiteOutcome, pageDir: string): string {
  const leftOut = leftOutLines(outcome.runs, outcome.testsLeftOut);
  const rows = outcome.runs.map((run) => {
    const report = reportPath(run);
    const link = report ? `<a href="${escapeHtml(relative(pageDir, report).split('\\').join('/'))}">report</a>` : '';
    const cls = run.status === 'passed' ? 'ok' : run.status === 'failed' ? 'bad' : 'unknown';
    return `<tr><td>${escapeHtml(run.test)}</td><td>${run.seed}</td><td class="${cls}">${escapeHtml(STATUS_TEXT[run.status].replace(/\*/g, ''))}</td><td>${checkText(run.history)}</td><td>${checkText(run.nodeLogs)}</td><td>${run.status === 'skipped' ? '' : `${(run.elapsedMs / 1000).toFixed(1)} s`}</td><td>${escapeHtml(run.summary.join(' / '))}</td><td><code>${escapeHtml(run.command)}</code></td><td>${link}</td></tr>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>Skepsis suite ${escapeHtml(outcome.name)}</title><style>
body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}
.ok{color:#176f2c}.bad{color:#b00020;font-weight:bold}.unknown{color:#8a6d00}code{font-size:12px}</style></head><body>
<h1>Suite ${escapeHtml(outcome.name)}: ${escapeHtml(suiteLastLine(outcome))}</h1>
<p>Started ${escapeHtml(outcome.startedAt)}; ${(outcome.elapsedMs / 1000).toFixed(0)} s of a ${(outcome.timeBudgetMs / 1000).toFixed(0)} s budget${outcome.failFast ? '; --fail-fast' : ''}; exit ${suiteExitCode(outcome)}.</p>
<table><tr><th>test</th><th>seed</th><th>verdict</th><th>history</th><th>node logs</th><th>took</th><th>why</th><th>repeat</th><th></th></tr>
${rows.join('\n')}
</table>${leftOut.length > 0 ? `<ul>${leftOut.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>` : ''}</body></html>
`;
}

/**
 * Writes `<store>/suite-<suite name>/<timestamp>/` with suite.json (the outcome, exit code and last line)
 * and suite.html, and points `<store>/suite-<suite name>/latest` at it. Returns the folder.
 */
export function writeSuiteFolder(outcome: SuiteOutcome, store: string): string {
  const stamp = outcome.startedAt.replace(/[:.]/g, '').replace('T', '-').slice(0, 17) + `-${outcome.startedAt.slice(20, 23)}`;
  const parent = join(resolve(store), `suite-${outcome.name}`);
  const dir = join(parent, stamp);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'suite.json'),
    `${JSON.stringify({ ...outcome, exitCode: suiteExitCode(outcome), lastLine: suiteLastLine(outcome) }, null, 2)}\n`,
  );
  writeFileSync(join(dir, 'suite.html'), suiteHtml(outcome, dir));
  const latest = join(parent, 'latest');
  rmSync(latest, { force: true });
  symlinkSync(stamp, latest);
  return dir;
}
