// The run report (report.html): one self-contained page (inline CSS, SVG and a few lines of JS; no
// external resources) with the verdict, the test's options, stats, availability, the operations per
// process on a timeline, latency and throughput over time with every fault window shaded, and, when
// the caller passes it, the checker's counterexample view. It does no I/O and never re-checks.
//
// Size is bounded whatever the history: past `REPORT_LIMITS.timelineOpsMax` operations the timeline
// is drawn as per-row cells (majority outcome, at most `timelineBarsMax` rectangles), latency is
// drawn as per-bucket p50/p99 lines instead of a point per op, and charts use at most
// `bucketsMax` buckets. Every string that comes from the history or the options is clipped and escaped.
//
// This module lays out the page and writes its text parts (header, checks, options, stats, links,
// messages, faults, files); the parts beside it: data.ts (the history in columns, the time frame,
// latency), timeline.ts, charts.ts (latency, throughput), time-chart.ts (what the charts share),
// format.ts, assets.ts (CSS, SVG definitions, script). Escaping, clipping, axes and the page shell
// come from checker/view, shared with checker.html. The report imports no process layer.

import type { HistoryEvent } from '../../../checker/history.js';
import { clip, escapeHtml, htmlDocument } from '../../../checker/view/text.js';
import { nodeIds, type TestConfig, type TestResults } from '../results.js';
import { SCRIPT, STYLE, SVG_DEFS } from './assets.js';
import { renderLatency, renderThroughput } from './charts.js';
import { extractOps, latencyStats, REPORT_LIMITS, TEXT_MAX, timeFrame, type LatencyRow, type Ops, type TimeFrame } from './data.js';
import { formatDurationNs, formatLatency, formatMs, formatSeconds, safeJson } from './format.js';
import { FAULT_COLOR_OTHER, FAULT_COLORS } from './time-chart.js';
import { LEGEND_OUTCOMES, renderTimeline } from './timeline.js';

/** The report's size bounds (data.ts), for callers and tests. */
export { REPORT_LIMITS };

export interface ReportInput {
  config: TestConfig;
  results: TestResults;
  /** The history as recorded (history.jsonl), nemesis records included; times in ns since the run's start. */
  events: HistoryEvent[];
  /**
   * The checker's page (checker/html.ts `renderHtml`), passed when the verdict is invalid (or
   * whenever the caller wants it shown). It is embedded in a sandboxed `<iframe srcdoc>` (scripts
   * allowed, no access to this page), so report.html stays one file. Above
   * `REPORT_LIMITS.checkerHtmlBytesMax` it is left out with a note.
   */
  checkerHtml?: string;
}

/** Renders report.html. */
export function renderReport(input: ReportInput): string {
  const { config, results, events } = input;
  const ops = extractOps(events);
  const frame = timeFrame(ops, results.faults);
  const latency = latencyStats(ops);
  const title = `Skepsis ${config.name}: ${verdictWord(results.valid)}`;
  return htmlDocument(
    title,
    STYLE,
    [
      SVG_DEFS,
      renderHeader(config, results),
      '<div class="columns">',
      renderConfig(config),
      renderStats(results, latency),
      '</div>',
      renderCharts(ops, frame, events, latency),
      renderFaultTable(frame),
      renderCheckerView(input.checkerHtml, results),
      renderFiles(config, results, ops),
      '<div id="cursor-readout" hidden></div>',
    ],
    SCRIPT,
  );
}

// ---------------------------------------------------------------------------------------------
// The text parts

function verdictWord(valid: unknown): string {
  return valid === true ? 'valid' : valid === false ? 'INVALID' : 'unknown';
}

function verdictClass(valid: unknown): string {
  return valid === true ? 'ok' : valid === false ? 'bad' : 'unknown';
}

function renderHeader(config: TestConfig, results: TestResults): string {
  const lines = (results.summary ?? []).map((line) => `<li>${escapeHtml(clip(String(line), 400))}</li>`);
  const problems = results.problems ?? [];
  const unsafe = (config.unsafeBugs ?? []).length > 0;
  return [
    `<header class="top ${verdictClass(results.valid)}">`,
    `<div class="verdict">${verdictWord(results.valid)}</div>`,
    '<div class="what">',
    `<h1>${escapeHtml(clip(config.name, TEXT_MAX))}</h1>`,
    `<div class="sub">${escapeHtml(clip(config.workload, TEXT_MAX))} workload · nemesis ${escapeHtml(clip(config.nemesis, TEXT_MAX))} · ${config.nodes} nodes · seed ${escapeHtml(String(config.seed))} · started ${escapeHtml(clip(config.startedAt, TEXT_MAX))}${unsafe ? ` · <span class="unsafe">unsafe bugs: ${escapeHtml(clip(config.unsafeBugs.join(', '), TEXT_MAX))}</span>` : ''}</div>`,
    '</div></header>',
    results.interrupted ? '<p class="note">The run was interrupted: the history ends early.</p>' : '',
    lines.length > 0 ? `<ul class="summary">${lines.join('')}</ul>` : '',
    renderChecks(results),
    problems.length > 0
      ? `<div class="problems"><h2>Problems</h2><ul>${problems
          .slice(0, 50)
          .map((p) => `<li>${escapeHtml(clip(String(p), 600))}</li>`)
          .join('')}${problems.length > 50 ? `<li>… and ${problems.length - 50} more (results.json)</li>` : ''}</ul></div>`
      : '',
  ].join('\n');
}

/** The linearizability check's line and the workload's own check (e.g. set: lost elements). */
function renderChecks(results: TestResults): string {
  const rows: string[] = [];
  const lin = results.linearizability;
  if (lin) {
    const facts: string[] = [];
    if (lin.model !== undefined) facts.push(`model ${String(lin.model)}`);
    if (typeof lin.ops === 'number') facts.push(`${lin.ops} ops`);
    if (typeof lin.parts === 'number') facts.push(`${lin.parts} part${lin.parts === 1 ? '' : 's'}`);
    if (typeof lin.elapsedMs === 'number') facts.push(`checked in ${formatMs(lin.elapsedMs)}`);
    const reasons =
      Array.isArray(lin.unknownReasons) && lin.unknownReasons.length > 0 ? `; undecided: ${lin.unknownReasons.join(', ')}` : '';
    rows.push(checkRow('linearizability', lin.valid, `${facts.join(', ')}${reasons}`));
  } else {
    rows.push('<tr><th>linearizability</th><td class="dim">not checked (the workload has no model)</td><td></td></tr>');
  }
  if (results.workloadCheck) rows.push(checkRow('workload', results.workloadCheck.valid, String(results.workloadCheck.summary)));
  // Older results.json files have no node-log check.
  const logs = results.nodeLogs as TestResults['nodeLogs'] | undefined;
  if (logs?.skipped !== undefined) {
    rows.push(`<tr><th>node logs</th><td class="dim">not scanned</td><td>${escapeHtml(clip(logs.skipped, 600))}</td></tr>`);
  } else if (logs !== undefined) {
    const detail =
      logs.count === 0
        ? `no node reported a broken Raft invariant ("${logs.pattern}")`
        : `${logs.count} line(s) report a broken Raft invariant: ${logs.matches.map((m) => `${m.node}: ${m.line}`).join(' | ')}`;
    rows.push(checkRow('node logs', logs.valid, detail));
  }
  const checkMs = typeof results.checkElapsedMs === 'number' ? `all checks took ${formatMs(results.checkElapsedMs)}` : '';
  const runMs = typeof results.elapsedMs === 'number' ? `the run took ${formatMs(results.elapsedMs)}` : '';
  return `<div class="checks"><table>${rows.join('')}</table><p class="dim">${[runMs, checkMs].filter(Boolean).join('; ')}</p></div>`;
}

function checkRow(name: string, valid: unknown, detail: string): string {
  return `<tr><th>${name}</th><td><span class="verdict-word ${verdictClass(valid)}">${verdictWord(valid)}</span></td><td>${escapeHtml(clip(detail, 600))}</td></tr>`;
}

function renderConfig(config: TestConfig): string {
  const workloadOptions = Object.keys(config.workloadOptions ?? {}).length > 0 ? safeJson(config.workloadOptions) : 'defaults';
  const facts: [string, string][] = [
    ['workload', `${config.workload} (${workloadOptions})`],
    ['nemesis', `${config.nemesis}, every ${formatMs(config.nemesisIntervalMs)}`],
    ['nodes', String(config.nodes)],
    ['concurrency', String(config.concurrency)],
    ['time limit', formatMs(config.timeLimitMs)],
    ['seed', String(config.seed)],
    ['unsafe bugs', (config.unsafeBugs ?? []).length > 0 ? config.unsafeBugs.join(', ') : 'none'],
    ['node flags', (config.nodeArgs ?? []).length > 0 ? config.nodeArgs.join(' ') : 'none'],
    ['target', `${config.db ?? 'skepsis'}${config.dbVersion ? ` ${config.dbVersion}` : ''}`],
    ['network', config.net ?? (config.proxies === false ? 'direct' : 'proxy')],
    ['op timeout', formatMs(config.opTimeoutMs)],
    ['check budget', formatMs(config.checkTimeoutMs)],
    ['git commit', config.gitCommit ?? 'unknown'],
    ['skepsis', String(config.skepsisVersion)],
  ];
  return [
    '<section class="box"><h2>Test</h2><dl>',
    ...facts.map(([k, v]) => `<dt>${k}</dt><dd>${escapeHtml(clip(String(v), 300))}</dd>`),
    '</dl>',
    `<div class="repeat">repeat it with:<code>${escapeHtml(clip(String(config.command), 1000))}</code></div>`,
    '</section>',
  ].join('\n');
}

function renderStats(results: TestResults, latency: LatencyRow[]): string {
  const stats = results.stats;
  const byF = stats?.byF ?? {};
  const latencyOf = new Map(latency.map((row) => [row.f, row]));
  const names = [...new Set([...Object.keys(byF), ...latency.map((row) => row.f)])].slice(0, 50);
  const rows = names.map((f) => {
    const counts = byF[f];
    const lat = latencyOf.get(f);
    return `<tr><th>${escapeHtml(clip(f, 40))}</th>${counts ? countCells(counts) : '<td></td><td></td><td></td>'}<td>${lat ? formatLatency(lat.p50Ms) : ''}</td><td>${lat ? formatLatency(lat.p99Ms) : ''}</td><td>${lat ? formatLatency(lat.maxMs) : ''}</td></tr>`;
  });
  const total = stats
    ? `<tr class="total"><th>all</th>${countCells(stats)}<td colspan="3">${stats.operations} ops, ${stats.opsPerSecond.toFixed(1)} ops/s</td></tr>`
    : '';
  const a = results.availability;
  const share = (x: number | null | undefined) =>
    x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(1)}%`;
  return [
    '<section class="box"><h2>Operations</h2>',
    '<table class="stats"><tr><th>f</th><th class="ok">ok</th><th class="fail">fail</th><th class="info">info</th><th>p50</th><th>p99</th><th>max</th></tr>',
    ...rows,
    total,
    '</table>',
    '<h2>Availability</h2>',
    a
      ? `<p class="avail">ops that ended ok: <b>${share(a.overall)}</b> overall, <b>${share(a.duringFaults)}</b> while a fault was active, <b>${share(a.outsideFaults)}</b> outside faults</p>`
      : '<p class="dim">not measured</p>',
    renderLinks(results.links),
    renderMessages(results.messages),
    '</section>',
  ].join('\n');
}

/** What the proxies did: faults act here, so a run whose faults never bit shows it. */
function renderLinks(links: TestResults['links'] | undefined): string {
  if (links === undefined || links === null) return '<h2>Links</h2><p class="dim">not proxied, or no counters recorded</p>';
  const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
  const { peer, client } = links;
  return [
    '<h2>Links</h2>',
    `<p class="links">peer (${count(peer?.links)} links): <b>${count(peer?.frames)}</b> frames, ${count(peer?.framesCut)} cut, ${count(peer?.framesDropped)} dropped, ${count(peer?.framesOverflow)} over the buffer bound; ` +
      `client (${count(client?.links)} links): <b>${count(client?.connectionsAccepted)}</b> connections, ${count(client?.connectionsBroken)} broken by the proxy</p>`,
  ].join('\n');
}

/** A routed network's message counts (--db maelstrom): totals, messages per operation, bad traffic, per link. */
function renderMessages(messages: TestResults['messages']): string {
  if (messages === undefined || messages === null) return '';
  const row = (name: string, c: { sent: number; delivered: number; cut: number; dropped: number; undeliverable: number }) =>
    `<tr><th>${escapeHtml(name)}</th><td>${c.sent}</td><td>${c.delivered}</td><td>${c.cut}</td><td>${c.dropped}</td><td>${c.undeliverable}</td></tr>`;
  const per = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));
  return [
    '<h2>Messages</h2>',
    `<p class="links">per operation: <b>${per(messages.perOperation.nodes)}</b> between nodes (and services), ${per(messages.perOperation.all)} in all; ` +
      `${messages.malformed} malformed, ${messages.unknownDest} to unknown nodes, ${messages.repliesToNothing} replies to nothing</p>`,
    '<table class="stats"><tr><th>link</th><th>sent</th><th>delivered</th><th>cut</th><th>dropped</th><th>undeliverable</th></tr>',
    row('between nodes', messages.totals.nodes),
    row('clients', messages.totals.clients),
    row('services', messages.totals.services),
    ...Object.entries(messages.links).map(([link, counts]) => row(link, counts)),
    '</table>',
  ].join('\n');
}

function countCells(counts: { ok: number; fail: number; info: number }): string {
  return `<td class="ok">${counts.ok}</td><td class="fail">${counts.fail}</td><td class="info">${counts.info}</td>`;
}

function renderFaultTable(frame: TimeFrame): string {
  if (frame.faults.length === 0) return '<section><h2>Faults</h2><p class="dim">No fault was injected.</p></section>';
  const rows = frame.faults.map((fault) => {
    const [r, g, b] = FAULT_COLORS[fault.kind] ?? FAULT_COLOR_OTHER;
    const stop = fault.open ? 'end (final heal)' : formatSeconds(fault.stopNs - frame.startNs);
    return `<tr><td><span class="swatch" style="background:rgba(${r},${g},${b},0.55)"></span>${escapeHtml(clip(fault.kind, 40))}</td><td>${formatSeconds(fault.startNs - frame.startNs)}</td><td>${stop}</td><td>${formatDurationNs(fault.stopNs - fault.startNs)}</td><td>${escapeHtml(fault.label)}<details><summary>record</summary><code>${escapeHtml(fault.detail)}</code></details></td></tr>`;
  });
  const more =
    frame.faultsLeftOut > 0
      ? `<p class="dim">${frame.faultsLeftOut} more fault windows are left out (results.json lists them all).</p>`
      : '';
  return `<section><h2>Faults</h2><table class="faults"><tr><th>kind</th><th>start</th><th>stop</th><th>length</th><th>what</th></tr>${rows.join('')}</table>${more}</section>`;
}

function renderCheckerView(checkerHtml: string | undefined, results: TestResults): string {
  if (checkerHtml === undefined) {
    if (results.valid !== false || !results.linearizability || results.linearizability.valid !== false) return '';
    return '<section><h2>Counterexample</h2><p class="dim">The checker\'s view was not passed to the report; re-run <code>skepsis analyze</code> on this folder.</p></section>';
  }
  const heading = results.linearizability?.valid === false ? 'Counterexample' : "The checker's view";
  if (Buffer.byteLength(checkerHtml) > REPORT_LIMITS.checkerHtmlBytesMax) {
    return `<section><h2>${heading}</h2><p class="note">The checker's page is too big to embed (${(Buffer.byteLength(checkerHtml) / 1048576).toFixed(1)} MiB); re-run <code>skepsis check history.jsonl --html checker.html</code> in this folder.</p></section>`;
  }
  return [
    `<section id="checker"><h2>${heading}</h2>`,
    '<p class="dim">The linearizability checker\'s view of the failing part: the longest linearizable prefix, numbered, and the operations that could not come next.</p>',
    `<iframe class="checker" sandbox="allow-scripts" title="${heading}" srcdoc="${escapeHtml(checkerHtml)}"></iframe>`,
    '</section>',
  ].join('\n');
}

function renderFiles(config: TestConfig, results: TestResults, ops: Ops): string {
  const exits = results.nodeExits ?? {};
  const ids = [...new Set([...nodeIds(Math.max(0, Math.min(Number(config.nodes) || 0, 100))), ...Object.keys(exits)])];
  const nodeRows = ids.map((id) => {
    const ended = (exits[id] ?? []).map(String);
    const how = ended.length > 0 ? escapeHtml(clip(ended.join('; '), 400)) : '<span class="dim">no exit recorded</span>';
    return `<li><a href="nodes/${encodeURIComponent(id)}.log">nodes/${escapeHtml(id)}.log</a> <span class="dim">— incarnations ended:</span> ${how}</li>`;
  });
  const unpaired = ops.unpaired > 0 ? `<p class="note">${ops.unpaired} completions had no pending call and were skipped.</p>` : '';
  return [
    '<section><h2>Files</h2><ul class="files">',
    '<li><a href="history.jsonl">history.jsonl</a> <span class="dim">— every event, one JSON object a line (the checker\'s format)</span></li>',
    '<li><a href="results.json">results.json</a> · <a href="test.json">test.json</a></li>',
    ...nodeRows,
    '</ul>',
    unpaired,
    '</section>',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The charts

function renderCharts(ops: Ops, frame: TimeFrame, events: HistoryEvent[], latency: LatencyRow[]): string {
  return [
    '<section class="charts">',
    `<h2>Operations per process <span class="dim">${ops.count} ops, ${ops.processes.length} processes</span></h2>`,
    renderTimeline(ops, frame, events),
    LEGEND_OUTCOMES,
    '<h2>Latency</h2>',
    renderLatency(ops, frame, events, latency),
    '<h2>Throughput</h2>',
    renderThroughput(ops, frame),
    '</section>',
  ].join('\n');
}
