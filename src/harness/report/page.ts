// The run report (report.html): one self-contained page (inline CSS, SVG and a few lines of JS; no
// external resources) with the verdict, the test's options, stats, availability, the operations per
// process on a timeline, latency and throughput over time with every fault window shaded, and, when
// the caller passes it, the checker's counterexample view. It does no I/O and never re-checks.
//
// Size is bounded whatever the history: past `REPORT_LIMITS.timelineOpsMax` operations the timeline
// is drawn as per-row cells (majority outcome, at most `timelineBarsMax` rectangles), latency is
// drawn as per-bucket p50/p99 lines instead of a point per op, and charts use at most
// `bucketsMax` buckets. Every string that comes from the history or the options is clipped and escaped.

import type { HistoryEvent } from '../../../checker/history.js';
import { escapeHtml, clip } from '../../../checker/view/text.js';
import { nodeIds, type TestConfig, type TestResults } from '../results.js';
import { renderLatency, renderThroughput } from './charts.js';
import { extractOps, latencyStats, REPORT_LIMITS, TEXT_MAX, timeFrame, type LatencyRow, type Ops, type TimeFrame } from './data.js';
import { formatDurationNs, formatLatency, formatMs, formatSeconds, safeJson } from './format.js';
import { FAULT_COLOR_OTHER, FAULT_COLORS, GUTTER_PX } from './time-chart.js';
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
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style></head><body>`,
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
    `<script>${SCRIPT}</script>`,
    '</body></html>',
  ].join('\n');
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

// ---------------------------------------------------------------------------------------------
// Small helpers

// ---------------------------------------------------------------------------------------------
// Page furniture

const SVG_DEFS = `<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>
<linearGradient id="info-tail" x1="0" x2="1" y1="0" y2="0"><stop offset="0" stop-color="#f0a030" stop-opacity="0.5"/><stop offset="1" stop-color="#f0a030" stop-opacity="0.05"/></linearGradient>
<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ececec"/><rect width="3" height="6" fill="#cfcfcf"/></pattern>
</defs></svg>`;

const STYLE = `
:root { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; color: #222; }
body { margin: 0 0 40px; font-size: 14px; background: #fafafa; }
body > *:not(header) { margin-left: 24px; margin-right: 24px; }
header.top { display: flex; align-items: center; gap: 22px; padding: 14px 24px; color: #fff; }
header.top.ok { background: #1a7f37; } header.top.bad { background: #c62828; } header.top.unknown { background: #a86400; }
header.top .verdict { font-size: 34px; font-weight: 800; letter-spacing: 0.5px; }
header.top h1 { margin: 0; font-size: 20px; font-weight: 600; }
header.top .sub { opacity: 0.92; margin-top: 2px; }
.unsafe { background: #fff; color: #c62828; padding: 0 6px; border-radius: 3px; font-weight: 700; }
h2 { font-size: 16px; margin: 18px 0 6px; }
h2 .dim { font-weight: 400; font-size: 13px; margin-left: 6px; }
.dim { color: #777; }
.note { background: #fff8e1; border-left: 3px solid #f0a030; padding: 6px 10px; }
ul.summary { margin: 12px 24px 4px; padding-left: 18px; font-size: 15px; }
.checks table { border-collapse: collapse; margin: 8px 0 0; }
.checks th { text-align: left; padding: 2px 12px 2px 0; font-weight: 600; }
.checks td { padding: 2px 12px 2px 0; }
.checks p { margin: 4px 0 12px; }
.verdict-word { font-weight: 700; } .verdict-word.ok { color: #1a7f37; } .verdict-word.bad { color: #c62828; } .verdict-word.unknown { color: #a86400; }
.problems { background: #fdecea; border-left: 3px solid #c62828; padding: 2px 12px 6px; margin-top: 10px; }
.problems h2 { margin-top: 8px; color: #c62828; }
.columns { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.box { background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; padding: 2px 16px 12px; flex: 1 1 520px; min-width: 420px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 6px 0; }
dt { color: #777; } dd { margin: 0; overflow-wrap: anywhere; }
.repeat { margin-top: 8px; color: #555; }
.repeat code { display: block; margin-top: 4px; padding: 6px 8px; background: #f2f2f2; border-radius: 4px; font: 12.5px ui-monospace, Menlo, monospace; overflow-wrap: anywhere; }
code { font: 12.5px ui-monospace, Menlo, monospace; }
table.stats { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.stats th, table.stats td { padding: 3px 10px; text-align: right; border-bottom: 1px solid #eee; }
table.stats th:first-child { text-align: left; }
table.stats tr.total th, table.stats tr.total td { border-top: 2px solid #ccc; font-weight: 600; }
table.stats td.ok { color: #1f5fa8; } table.stats td.fail { color: #666; } table.stats td.info { color: #a86400; }
.avail { margin: 4px 0; }
.charts { background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; padding: 2px 16px 12px; margin-top: 16px; }
.chart-wrap { overflow-x: auto; }
svg.chart { display: block; font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; }
svg.chart .plot { fill: #fff; stroke: #ddd; }
svg.chart .zebra { fill: #f6f7f9; }
svg .ok { fill: #7ea9e1; stroke: #3f73b8; stroke-width: 0.6; }
svg .fail { fill: url(#hatch); stroke: #999; stroke-width: 0.6; }
svg .info { fill: #f0a030; stroke: #b86e00; stroke-width: 0.6; }
svg.throughput .ok { fill: #7ea9e1; stroke: none; } svg.throughput .fail { fill: #b5b5b5; stroke: none; } svg.throughput .info { fill: #f0a030; stroke: none; }
svg .barlabel { font: 9.5px ui-monospace, Menlo, monospace; fill: #123; stroke: none; pointer-events: none; }
svg .barlabel.fail { fill: #555; } svg .barlabel.info { fill: #4a3000; }
svg .rowlabel { font: 11px ui-monospace, Menlo, monospace; fill: #444; }
svg .flabel { font-size: 10.5px; font-weight: 600; }
svg .tick { font-size: 11px; fill: #555; }
svg .ytitle { font-size: 11px; fill: #777; }
svg .axis { stroke: #999; }
svg .grid { stroke: #e6e6e6; } svg .grid.minor { stroke: #f3f3f3; }
svg .mark { stroke: #c62828; stroke-width: 1.5; stroke-dasharray: 3 2; }
svg .cursor { stroke: #333; stroke-width: 0.8; stroke-dasharray: 2 2; pointer-events: none; }
svg g > g:hover rect, svg circle:hover { filter: brightness(0.85); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: center; color: #555; font-size: 12px; margin: 4px 0 8px ${GUTTER_PX}px; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
table.faults { border-collapse: collapse; font-size: 13px; }
table.faults th, table.faults td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid #eee; vertical-align: top; }
table.faults td:nth-child(2), table.faults td:nth-child(3), table.faults td:nth-child(4) { white-space: nowrap; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
details { margin: 2px 0; } summary { cursor: pointer; color: #777; font-size: 12px; }
details code { display: block; white-space: pre-wrap; overflow-wrap: anywhere; color: #444; }
iframe.checker { width: 100%; height: 80vh; min-height: 480px; border: 1px solid #ddd; border-radius: 6px; background: #fff; }
ul.files li { margin: 3px 0; }
a { color: #1f5fa8; }
#cursor-readout { position: fixed; right: 12px; bottom: 12px; margin: 0; background: #333; color: #fff; font-size: 12px; padding: 3px 8px; border-radius: 3px; pointer-events: none; }
`;

/** A shared cursor: hovering any time chart draws the same instant on all of them and shows it. */
const SCRIPT = `
(function () {
  var charts = document.querySelectorAll('svg.chart');
  var readout = document.getElementById('cursor-readout');
  function place(t) {
    for (var i = 0; i < charts.length; i++) {
      var c = charts[i], line = c.querySelector('line.cursor');
      var x = t === null ? -10 : +c.dataset.x0 + ((t - c.dataset.t0) / c.dataset.span) * c.dataset.w;
      line.setAttribute('x1', x); line.setAttribute('x2', x);
    }
    readout.hidden = t === null;
    if (t !== null) readout.textContent = 't = ' + t.toFixed(3) + ' s';
  }
  for (var i = 0; i < charts.length; i++) {
    charts[i].addEventListener('mousemove', function (e) {
      var c = e.currentTarget, box = c.getBoundingClientRect();
      var x = (e.clientX - box.left) * (c.viewBox.baseVal.width / box.width);
      var f = (x - c.dataset.x0) / c.dataset.w;
      place(f < 0 || f > 1 ? null : +c.dataset.t0 + f * c.dataset.span);
    });
    charts[i].addEventListener('mouseleave', function () { place(null); });
  }
})();
`;
