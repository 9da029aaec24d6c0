// The HTML view of a check result: one self-contained page (inline CSS and a few lines of JS, no
// external resources) with a summary, and per part (key) a timeline of the operations, a row per
// process, numbered in linearization (or longest-prefix) order, with the model state after each op
// on hover, fault windows shaded, and for a failing part the ops that could not come next and why.
// Pages stay small: past `maxOps` operations only the failing (or first) parts are drawn, and a big
// part only as a window around the failure. It does no I/O and never re-runs the search.

import { faultEdge, faultWindows } from './fault-windows.js';
import { niceStep, tickValues } from './view/axis.js';
import { clip, escapeHtml, groupDigits, htmlDocument } from './view/text.js';
import { describeOperation, formatValue, type FaultEvent, type History, type Operation } from './history.js';
import type { CheckResult, PartResult } from './check.js';
import type { Model } from './model.js';
import type { StuckOp } from './search.js';

export interface HtmlInput {
  history: History;
  result: CheckResult;
  /** The model the result was checked with (for descriptions and replaying states). */
  model: Model<any>;
  title?: string;
  /** Above this many operations in the history, only part of it is drawn. Default 2000. */
  maxOps?: number;
}

const DEFAULT_MAX_OPS = 2000;
/** Ops of the longest prefix kept before the failure when a part is drawn as a window. */
const PREFIX_TAIL = 300;
/** The last steps of a prefix or linearization listed in text. */
const LAST_STEPS = 8;
/** Longest user-supplied text (values, states) put on the page, in characters. */
const TEXT_MAX = 240;
const FAULT_MARKS_MAX = 400;
const UNDECIDED_LISTED = 20;
/** Pixels per op in the busiest row, and the widest timeline (it scrolls sideways). */
const BAR_WIDTH_MIN = 20;
const TIMELINE_WIDTH_MAX = 24000;
/** Room left at each end of a time axis, as a fraction of the span drawn. */
const AXIS_PAD = 0.015;

type TimeUnit = 'ns' | 'index';

/** One op's place in a linearization or prefix: its 1-based position and the state after it. */
interface Placement {
  n: number;
  op: Operation;
  state: string;
}

/** A part ready to draw. */
interface PartView {
  result: PartResult;
  /** How many ops the part has. */
  total: number;
  /** The ops drawn, in call order. */
  shown: Operation[];
  /** Which ops were drawn when not all of them were. */
  window?: 'the first ones' | 'around the end of the longest prefix';
  /** The linearization (ok) or the longest prefix (illegal, unknown), as op ids. */
  order: number[];
  placed: Map<number, Placement>;
  lastSteps: Placement[];
  stuck: Map<number, StuckOp>;
  /** The time window drawn; ops that start before `start` are clipped. */
  start: number;
  end: number;
}

interface FaultSpan {
  from: number;
  /** Infinity while the fault is still on at the end of the history. */
  to: number;
  label: string;
}

interface Faults {
  spans: FaultSpan[];
  marks: FaultEvent[];
}

/** Renders the whole page. */
export function renderHtml(input: HtmlInput): string {
  const { history, result, model } = input;
  const maxOps = input.maxOps ?? DEFAULT_MAX_OPS;
  const title = input.title ?? `Skepsis: ${history.source}`;
  const byId: Operation[] = [];
  for (const op of history.operations) byId[op.id] = op;
  const partsByKey = new Map<string | undefined, Operation[]>();
  for (const part of model.partition(history.operations)) if (part.length > 0) partsByKey.set(part[0].key, part);
  const plan = planParts(orderResults(result.results), history.operations.length, maxOps, result.valid === false);
  const views = plan.map(({ part, limit }) => buildView(model, part, partsByKey.get(part.key) ?? [], byId, limit));
  const unit: TimeUnit = history.operations.every((op) => op.call === op.callIndex) ? 'index' : 'ns';
  const faults = faultSpans(history.faults);
  return htmlDocument(
    title,
    STYLE,
    [
      renderSummary(title, result, model, history, views),
      renderPartPicker(views),
      ...views.map((view, index) => renderPart(view, index, model, faults, unit)),
      LEGEND,
    ],
    SCRIPT,
  );
}

/** Failing parts first, then undecided ones, then linearizable ones (stable otherwise). */
function orderResults(results: PartResult[]): PartResult[] {
  const rank = { illegal: 0, unknown: 1, ok: 2 } as const;
  return [...results].sort((a, b) => rank[a.verdict] - rank[b.verdict]);
}

/**
 * Which parts to draw, and at most how many ops of each. Within the budget everything is drawn;
 * past it, only the failing parts when there are any, else the first parts that fit (the first
 * one at least, as a window).
 */
function planParts(results: PartResult[], totalOps: number, maxOps: number, invalid: boolean): { part: PartResult; limit: number }[] {
  if (totalOps <= maxOps) return results.map((part) => ({ part, limit: Infinity }));
  if (invalid) {
    const failing = results.filter((r) => r.verdict === 'illegal');
    const limit = Math.max(1, Math.floor(maxOps / failing.length));
    return failing.map((part) => ({ part, limit }));
  }
  const plan: { part: PartResult; limit: number }[] = [];
  let budget = maxOps;
  for (const part of results) {
    if (part.ops > budget && plan.length > 0) break;
    plan.push({ part, limit: budget });
    budget -= Math.min(part.ops, budget);
    if (budget <= 0) break;
  }
  return plan;
}

function buildView(model: Model<any>, result: PartResult, part: Operation[], byId: Operation[], limit: number): PartView {
  const order = result.linearization ?? result.longestPrefix ?? [];
  const stuck = new Map((result.stuck ?? []).map((s) => [s.opId, s]));
  const windowed = part.length > limit;
  const focus = windowed && result.linearization === undefined ? focusOps(order, stuck, byId, limit) : [];
  const window = !windowed ? undefined : focus.length === 0 ? 'the first ones' : 'around the end of the longest prefix';
  const shown = window === undefined ? part : window === 'the first ones' ? part.slice(0, limit) : windowAround(part, focus, limit);
  const { placed, lastSteps } = replay(model, order, byId, new Set(shown.map((op) => op.id)));
  const { start, end } = timeRange(shown, focus);
  return { result, total: part.length, shown, window, order, placed, lastSteps, stuck, start, end };
}

/** What a window around a failure must show: the tail of the longest prefix and the stuck ops. */
function focusOps(order: number[], stuck: Map<number, StuckOp>, byId: Operation[], limit: number): Operation[] {
  const stuckOps = [...stuck.keys()].map((id) => byId[id]).filter((op) => op !== undefined);
  const tail = Math.max(0, Math.min(PREFIX_TAIL, limit - stuckOps.length));
  const prefixTail = order
    .slice(order.length - tail)
    .map((id) => byId[id])
    .filter((op) => op !== undefined);
  return [...new Set([...prefixTail, ...stuckOps])];
}

/** The focus ops and the ops overlapping them in time, up to `limit` (the latest first). */
function windowAround(part: Operation[], focus: Operation[], limit: number): Operation[] {
  const { start, end } = timeRange(focus, focus);
  const chosen = new Set(focus);
  const overlapping = part.filter((op) => !chosen.has(op) && op.call <= end && op.ret >= start);
  const room = Math.max(0, limit - chosen.size);
  for (const op of overlapping.slice(Math.max(0, overlapping.length - room))) chosen.add(op);
  return part.filter((op) => chosen.has(op));
}

/**
 * The time window to draw: from the first call (of the focus ops that completed, when there is a
 * focus, so one early indeterminate op does not squash the view) to the last completion or call.
 */
function timeRange(ops: Operation[], focus: Operation[]): { start: number; end: number } {
  const completed = focus.filter((op) => Number.isFinite(op.ret));
  const from = focus.length === 0 ? ops : completed.length > 0 ? completed : focus;
  let start = Infinity;
  for (const op of from) start = Math.min(start, op.call);
  let end = -Infinity;
  for (const op of ops) end = Math.max(end, Number.isFinite(op.ret) ? op.ret : op.call);
  if (!Number.isFinite(start)) start = 0;
  if (!(end > start)) end = start + 1;
  return { start, end };
}

/**
 * Replays the model along `order` (always legal: it is a linearization or a linearizable prefix),
 * describing the state after the ops in `wanted` and after the last few.
 */
function replay(
  model: Model<any>,
  order: number[],
  byId: Operation[],
  wanted: Set<number>,
): { placed: Map<number, Placement>; lastSteps: Placement[] } {
  const placed = new Map<number, Placement>();
  const lastSteps: Placement[] = [];
  let state: unknown = model.init();
  for (let i = 0; i < order.length; i++) {
    const op = byId[order[i]];
    if (op === undefined) continue;
    const after = model.step(state, op);
    // Not legal after all: the result does not belong to this model or history; stop numbering.
    if (after === undefined) break;
    state = after;
    const last = i >= order.length - LAST_STEPS;
    if (!wanted.has(op.id) && !last) continue;
    const placement = { n: i + 1, op, state: model.describeState(state) };
    if (wanted.has(op.id)) placed.set(op.id, placement);
    if (last) lastSteps.push(placement);
  }
  return { placed, lastSteps };
}

/** Nemesis events as shaded windows (paired by checker/fault-windows.ts) and marks (every other record). */
function faultSpans(events: FaultEvent[]): Faults {
  const spans = faultWindows(events).map((w) => ({
    from: w.start,
    to: w.stop ?? Infinity,
    label: w.value === undefined ? w.f : `${w.f} ${formatValue(w.value)}`,
  }));
  return { spans, marks: events.filter((event) => faultEdge(event.f) === undefined) };
}

function renderSummary(title: string, result: CheckResult, model: Model<any>, history: History, views: PartView[]): string {
  const verdict =
    result.valid === true ? ['ok', 'linearizable'] : result.valid === false ? ['bad', 'NOT linearizable'] : ['unknown', 'unknown'];
  const facts: [string, string][] = [
    ['model', `${result.model}: ${model.summary}`],
    ['ops', groupDigits(result.ops)],
    ['parts', groupDigits(result.parts)],
    ['elapsed', `${result.elapsedMs.toFixed(1)} ms`],
    ['source', history.source],
  ];
  if (result.valid === 'unknown') facts.push(['undecided', listNames(result.undecided)]);
  const drawnOps = views.reduce((sum, view) => sum + view.shown.length, 0);
  const left = history.operations.length - drawnOps;
  const note =
    left > 0
      ? `<p class="note">Drawn: ${groupDigits(drawnOps)} of ${groupDigits(history.operations.length)} operations in ${views.length} of ${groupDigits(result.parts)} parts; ${groupDigits(left)} operations left out to keep this page small.</p>`
      : '';
  return [
    '<header>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="verdict ${verdict[0]}">${verdict[1]}</p>`,
    `<dl>${facts.map(([k, v]) => `<dt>${k}</dt><dd>${escapeHtml(clip(v, TEXT_MAX))}</dd>`).join('')}</dl>`,
    note,
    '</header>',
  ].join('\n');
}

function listNames(names: string[]): string {
  const listed = names.slice(0, UNDECIDED_LISTED).join(', ');
  return names.length > UNDECIDED_LISTED ? `${listed} and ${names.length - UNDECIDED_LISTED} more` : listed || 'none';
}

function renderPartPicker(views: PartView[]): string {
  if (views.length === 0) return '<p class="note">No parts to show.</p>';
  const options = views.map(
    (view, i) => `<option value="${i}"${i === 0 ? ' selected' : ''}>${escapeHtml(clip(partLabel(view), TEXT_MAX))}</option>`,
  );
  return `<nav><label>Part <select id="part-picker">${options.join('')}</select></label></nav>`;
}

function partName(result: PartResult): string {
  return result.key === undefined ? 'whole history' : `key ${formatValue(result.key)}`;
}

function partLabel(view: PartView): string {
  return `${partName(view.result)}: ${verdictText(view.result)} (${groupDigits(view.total)} ops)`;
}

function verdictText(result: PartResult): string {
  if (result.verdict === 'ok') return 'linearizable';
  if (result.verdict === 'illegal') return 'NOT linearizable';
  return `unknown (${result.reason ?? 'undecided'})`;
}

function renderPart(view: PartView, index: number, model: Model<any>, faults: Faults, unit: TimeUnit): string {
  const { result } = view;
  const cls = result.verdict === 'ok' ? 'ok' : result.verdict === 'illegal' ? 'bad' : 'unknown';
  return [
    `<section class="part" id="part-${index}"${index === 0 ? '' : ' hidden'}>`,
    `<h2>${escapeHtml(clip(partName(result), TEXT_MAX))}: <span class="verdict ${cls}">${verdictText(result)}</span></h2>`,
    `<p class="facts">${groupDigits(view.total)} ops, ${groupDigits(result.opsChecked)} checked (the rest constrain nothing), ${groupDigits(result.steps)} search steps, ${result.elapsedMs.toFixed(1)} ms</p>`,
    renderExplanation(view, model),
    view.window === undefined
      ? ''
      : `<p class="note">Showing ${groupDigits(view.shown.length)} of ${groupDigits(view.total)} operations (${view.window}); ${groupDigits(view.total - view.shown.length)} left out.</p>`,
    renderTimeline(view, model, faults, unit, result.linearization === undefined),
    '</section>',
  ].join('\n');
}

/** The text part of a part's result: what was found, the stuck ops and why, the last steps. */
function renderExplanation(view: PartView, model: Model<any>): string {
  const { result } = view;
  const lines: string[] = [];
  if (result.linearization !== undefined) {
    const final = view.lastSteps.at(-1)?.state ?? model.describeState(model.init());
    lines.push(
      `<p>Linearization found: ${groupDigits(view.order.length)} ops placed (numbered on the bars in order); final state ${code(final)}.</p>`,
    );
  } else {
    lines.push(
      `<p>Longest linearizable prefix: ${groupDigits(view.order.length)} ops (numbered on the bars); model state after it: ${code(result.stateAfterPrefix ?? '?')}.</p>`,
    );
  }
  if (view.stuck.size > 0) {
    lines.push('<p>No operation can come next:</p><ul class="stuck">');
    for (const stuck of view.stuck.values()) lines.push(`<li>${stuckLine(stuck, view, model)}</li>`);
    lines.push('</ul>');
  }
  if (view.lastSteps.length > 0) {
    const label = result.linearization !== undefined ? 'Last steps of the linearization' : 'Last steps of the prefix';
    const steps = view.lastSteps.map((p) => `<li value="${p.n}">${opText(p.op, model)} → state ${code(p.state)}</li>`);
    const open = result.linearization === undefined ? ' open' : '';
    lines.push(`<details${open}><summary>${label}</summary><ol class="steps">${steps.join('')}</ol></details>`);
  }
  return `<div class="explain">${lines.join('\n')}</div>`;
}

function stuckLine(stuck: StuckOp, view: PartView, model: Model<any>): string {
  const op = view.shown.find((o) => o.id === stuck.opId);
  const what = op === undefined ? `op ${stuck.opId}` : `${opText(op, model)} <span class="where">(op ${op.id}, line ${op.line})</span>`;
  return `<span class="opref">${what}</span>: ${escapeHtml(reasonText(stuck, view.result))}`;
}

function reasonText(stuck: StuckOp, result: PartResult): string {
  if (stuck.reason === 'illegal') return `illegal in state ${clip(result.stateAfterPrefix ?? '?', TEXT_MAX)} (the state after the prefix)`;
  return `dead-end: legal, leading to state ${clip(stuck.stateAfter ?? '?', TEXT_MAX)}, but nothing completes after it`;
}

function opText(op: Operation, model: Model<any>): string {
  return escapeHtml(clip(describeOperation(op, { body: (o) => model.describeOp(o) }), TEXT_MAX));
}

function code(text: string): string {
  return `<code>${escapeHtml(clip(text, TEXT_MAX))}</code>`;
}

/** The horizontal scale of a timeline: positions in percent and tick labels. */
interface Axis {
  start: number;
  end: number;
  step: number;
  /** Position of time `t` in percent of the track, clamped to the track. */
  x(t: number): number;
  /** Time `t` as text, to the tick spacing's precision (two more digits when `fine`). */
  label(t: number, fine?: boolean): string;
}

const NS_UNITS: [number, string][] = [
  [1e9, 's'],
  [1e6, 'ms'],
  [1e3, 'µs'],
  [1, 'ns'],
];

function makeAxis(start: number, end: number, unit: TimeUnit): Axis {
  const step = tickStep(end - start);
  // A little room at both ends, so ops at the edges stay visible.
  const pad = (end - start) * AXIS_PAD;
  // Nanoseconds: the largest unit no coarser than ten ticks, with the decimals a tick needs.
  const [size, name] = NS_UNITS.find(([s]) => s <= step * 10) ?? NS_UNITS[NS_UNITS.length - 1];
  const decimals = Math.max(0, Math.ceil(-Math.log10(step / size)));
  return {
    start,
    end,
    step,
    x: (t) => Math.min(100, Math.max(0, ((t - start + pad) / (end - start + 2 * pad)) * 100)),
    label(t, fine = false) {
      if (!Number.isFinite(t)) return 'never';
      if (unit === 'index') return `event ${Math.round(t)}`;
      // Never finer than a nanosecond.
      return `${(t / size).toFixed(Math.min(Math.log10(size), decimals + (fine ? 2 : 0)))} ${name}`;
    },
  };
}

/** A round tick spacing (1, 2 or 5 times a power of ten, at least 1) giving about eight ticks. */
function tickStep(span: number): number {
  return Math.max(1, niceStep(span / 8));
}

/**
 * The timeline: an axis, a nemesis row when faults fall in the window, then a row per process
 * with a bar per op, with fault windows shaded behind all rows. Wide enough for the busiest row;
 * scrolled to its end on display when `showEnd` (where a search got stuck).
 */
function renderTimeline(view: PartView, model: Model<any>, faults: Faults, unit: TimeUnit, showEnd: boolean): string {
  if (view.shown.length === 0) return '<p class="note">No operations in this part.</p>';
  const byProcess = new Map<number | string, Operation[]>();
  for (const op of view.shown) {
    const ops = byProcess.get(op.process) ?? [];
    ops.push(op);
    byProcess.set(op.process, ops);
  }
  const axis = makeAxis(view.start, view.end, unit);
  const busiest = Math.max(...[...byProcess.values()].map((ops) => ops.length));
  const width = Math.min(TIMELINE_WIDTH_MAX, busiest * BAR_WIDTH_MIN);
  const rows = [...byProcess.keys()].sort(compareProcesses).map((p) => {
    const bars = byProcess.get(p)!.map((op) => renderBar(op, view, model, axis));
    return row(escapeHtml(clip(`p${String(p)}`, 24)), bars.join(''));
  });
  const inWindow = {
    spans: faults.spans.filter((s) => s.from <= view.end && s.to >= view.start).slice(0, FAULT_MARKS_MAX),
    marks: faults.marks.filter((m) => m.time >= view.start && m.time <= view.end).slice(0, FAULT_MARKS_MAX),
  };
  const hasFaults = inWindow.spans.length + inWindow.marks.length > 0;
  return [
    `<div class="timeline${showEnd ? ' show-end' : ''}"><div class="canvas" style="min-width:${width}px">`,
    renderAxis(axis),
    '<div class="rows">',
    hasFaults ? `<div class="shade">${inWindow.spans.map((s) => faultBox(s, axis, '')).join('')}</div>` : '',
    hasFaults ? row('nemesis', renderFaults(inWindow, axis)) : '',
    ...rows,
    '</div></div></div>',
  ].join('\n');
}

function row(label: string, content: string): string {
  return `<div class="row"><span class="proc">${label}</span><div class="track">${content}</div></div>`;
}

function compareProcesses(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One op: from call to return (to the right edge when indeterminate), its order number on it. */
function renderBar(op: Operation, view: PartView, model: Model<any>, axis: Axis): string {
  const placement = view.placed.get(op.id);
  const stuck = view.stuck.get(op.id);
  const classes = ['op', op.status];
  if (placement !== undefined) classes.push('placed');
  if (stuck !== undefined) classes.push('stuck');
  if (op.call < view.start) classes.push('clipped');
  const description = clip(describeOperation(op, { body: (o) => model.describeOp(o) }), TEXT_MAX);
  const tip = [
    placement !== undefined ? `#${placement.n}  ${description}` : description,
    statusText(op),
    placement !== undefined ? `state after: ${clip(placement.state, TEXT_MAX)}` : 'not placed',
    stuck !== undefined ? `could not come next: ${reasonText(stuck, view.result)}` : '',
    `call ${axis.label(op.call, true)}, return ${axis.label(op.ret, true)}`,
  ].filter((line) => line !== '');
  const label = placement !== undefined ? `${placement.n} ${model.describeOp(op)}` : model.describeOp(op);
  return box(classes.join(' '), axis.x(op.call), axis.x(op.ret), tip.join('\n'), escapeHtml(clip(label, 60)));
}

/** An absolutely placed div from `left` to `right` percent of its track. */
function box(classes: string, left: number, right: number, tip: string, content = ''): string {
  const title = tip === '' ? '' : ` title="${escapeHtml(tip)}"`;
  return `<div class="${classes}" style="left:${left.toFixed(3)}%;width:${(right - left).toFixed(3)}%"${title}>${content}</div>`;
}

function statusText(op: Operation): string {
  if (op.status === 'ok') return 'ok';
  if (op.status === 'fail') return `failed${op.error ? ` (${clip(op.error, TEXT_MAX)})` : ''}: did not take effect`;
  return `indeterminate${op.error ? ` (${clip(op.error, TEXT_MAX)})` : ''}: may take effect any time after its call`;
}

function renderAxis(axis: Axis): string {
  const ticks = tickValues(axis.start, axis.end, axis.step).map(
    (t) => `<span class="tick" style="left:${axis.x(t).toFixed(3)}%">${escapeHtml(axis.label(t))}</span>`,
  );
  return `<div class="axis"><span class="proc"></span><div class="ticks">${ticks.join('')}</div></div>`;
}

function faultBox(span: FaultSpan, axis: Axis, tip: string): string {
  return box('fault', axis.x(span.from), Number.isFinite(span.to) ? axis.x(span.to) : 100, tip);
}

/** The nemesis row: fault windows and other nemesis events, described on hover. */
function renderFaults(faults: Faults, axis: Axis): string {
  const spans = faults.spans.map((s) =>
    faultBox(
      s,
      axis,
      `fault: ${clip(s.label, TEXT_MAX)}\nfrom ${axis.label(s.from, true)} to ${Number.isFinite(s.to) ? axis.label(s.to, true) : 'the end'}`,
    ),
  );
  const marks = faults.marks.map((m) => {
    const value = m.value === undefined ? '' : ` ${clip(formatValue(m.value), TEXT_MAX)}`;
    const tip = `nemesis ${m.type} ${clip(m.f, TEXT_MAX)}${value} at ${axis.label(m.time, true)}`;
    return `<div class="mark" style="left:${axis.x(m.time).toFixed(3)}%" title="${escapeHtml(tip)}"></div>`;
  });
  return spans.join('') + marks.join('');
}

const LEGEND = `<footer class="legend">
<span class="op ok placed sample">3</span> ok, with its place in the order
<span class="op ok sample"></span> ok, not placed
<span class="op fail sample"></span> failed (no effect)
<span class="op info sample"></span> indeterminate (open-ended)
<span class="op ok stuck sample"></span> could not come next
<span class="fault sample"></span> fault window
<span class="hint">Hover a bar for the operation and the model state after it.</span>
</footer>`;

const STYLE = `
:root { --label: 80px; font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; }
body { margin: 16px 20px; color: #222; font-size: 14px; }
h1 { font-size: 17px; margin: 0 0 4px; font-weight: 600; }
h2 { font-size: 16px; margin: 14px 0 2px; }
.verdict { font-weight: 700; }
header .verdict { font-size: 24px; margin: 2px 0 6px; }
.verdict.ok { color: #1a7f37; } .verdict.bad { color: #c62828; } .verdict.unknown { color: #a86400; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0; }
dt { color: #777; } dd { margin: 0; }
.note { background: #fff8e1; border-left: 3px solid #f0a030; padding: 4px 8px; margin: 6px 0; }
nav { margin: 12px 0 4px; } select { font: inherit; max-width: 100%; }
.facts { color: #777; margin: 0 0 6px; font-size: 13px; }
.explain p { margin: 4px 0; }
code { background: #f2f2f2; padding: 0 4px; border-radius: 3px; font-size: 13px; }
ul.stuck { margin: 4px 0; }
ul.stuck .opref { font-weight: 600; color: #c62828; }
.where { color: #888; font-weight: 400; }
ol.steps { margin: 4px 0; font-size: 13px; }
details { margin: 4px 0; } summary { cursor: pointer; color: #555; }
.timeline { border: 1px solid #ddd; border-radius: 4px; margin: 8px 0; overflow-x: auto; }
.canvas { position: relative; padding: 0 40px 6px 0; }
.axis { display: flex; height: 24px; border-bottom: 1px solid #ccc; }
.ticks, .track { position: relative; flex: 1; }
.tick { position: absolute; bottom: 4px; transform: translateX(-50%); font-size: 11px; color: #555; white-space: nowrap; }
.tick::after { content: ''; position: absolute; left: 50%; bottom: -5px; height: 4px; border-left: 1px solid #999; }
.rows { position: relative; }
.shade { position: absolute; left: var(--label); right: 0; top: 0; bottom: 0; }
.row { display: flex; height: 22px; border-bottom: 1px solid #f2f2f2; }
.proc { width: var(--label); flex: none; padding-left: 8px; box-sizing: border-box; font: 12px/22px ui-monospace, Menlo, monospace; color: #444; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; position: sticky; left: 0; background: #fff; z-index: 5; }
.op { position: absolute; top: 3px; height: 16px; min-width: 3px; box-sizing: border-box; border-radius: 3px; padding: 0 3px; font: 11px/16px ui-monospace, Menlo, monospace; white-space: nowrap; overflow: hidden; text-overflow: clip; z-index: 2; cursor: default; }
.op.ok { background: #a8c3e8; color: #123; border: 1px solid #7fa3d4; }
.op.ok.placed { background: #2f6fbf; color: #fff; border-color: #1f4f8f; }
.op.fail { background: repeating-linear-gradient(45deg, #dedede 0 4px, #f3f3f3 4px 8px); color: #666; border: 1px solid #aaa; }
.op.info { background: linear-gradient(to right, #f0a030, rgba(240, 160, 48, 0.12)); color: #4a3000; border: 1px dashed #c07800; border-right: none; border-radius: 3px 0 0 3px; z-index: 1; }
.op.info.placed { font-weight: 600; }
.op.stuck { background: #e53935; color: #fff; border: 2px solid #8e0000; z-index: 3; }
.op.info.stuck { background: linear-gradient(to right, #e53935, rgba(229, 57, 53, 0.2)); color: #fff; border: 2px dashed #8e0000; border-right: none; }
.op.clipped { border-left: 2px dotted #000; border-radius: 0 3px 3px 0; }
.op:hover { filter: brightness(1.12); z-index: 4; }
.fault { position: absolute; top: 0; bottom: 0; background: rgba(198, 40, 40, 0.09); border-left: 1px solid rgba(198, 40, 40, 0.45); border-right: 1px solid rgba(198, 40, 40, 0.45); }
.track .fault { top: 3px; bottom: 3px; background: rgba(198, 40, 40, 0.35); }
.mark { position: absolute; top: 2px; bottom: 2px; width: 0; border-left: 2px solid #c62828; }
.legend { margin-top: 12px; color: #555; font-size: 12px; display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; }
.legend .sample { position: relative; display: inline-block; top: 0; width: 34px; height: 14px; vertical-align: middle; margin-right: 4px; text-align: center; line-height: 12px; }
.legend .fault.sample { border: 1px solid rgba(198, 40, 40, 0.45); background: rgba(198, 40, 40, 0.2); }
.hint { color: #888; }
`;

const SCRIPT = `
(function () {
  var picker = document.getElementById('part-picker');
  function show() {
    var sections = document.querySelectorAll('section.part');
    for (var i = 0; i < sections.length; i++) sections[i].hidden = sections[i].id !== 'part-' + picker.value;
    var timelines = document.querySelectorAll('section.part:not([hidden]) .timeline.show-end');
    for (var j = 0; j < timelines.length; j++) timelines[j].scrollLeft = timelines[j].scrollWidth;
  }
  show();
  if (picker) picker.addEventListener('change', show);
})();
`;
