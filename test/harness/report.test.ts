// The run report: a realistic fake run (a register history from a seeded simulation with two fault
// windows and a stale read) rendered to one page: verdict, escaping, no external URLs, fault windows
// on every chart, one bar per op, bounded size for a 1M-event history, and a headless Chromium screenshot.
// Set SKEPSIS_KEEP_REPORT=DIR to keep the rendered pages and the screenshot there.

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkHistory } from '../../checker/check.js';
import { pairHistory, type EventType, type HistoryEvent } from '../../checker/history.js';
import { renderHtml } from '../../checker/html.js';
import { createModel } from '../../checker/models/index.js';
import { resultJson } from '../../checker/report.js';
import { REPORT_LIMITS, renderReport, type ReportInput } from '../../src/harness/report/page.js';
import type { FaultWindow, OutcomeCounts, TestConfig, TestResults } from '../../src/harness/results.js';
import { testConfig } from './config-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const XSS_VALUE = '<script>alert(1)</script>';
const XSS_FAULT = '<img src=x onerror=alert(2)>';

/** mulberry32: a small seeded generator, so the fixture is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimOp {
  process: number;
  f: 'read' | 'write' | 'cas';
  input?: unknown;
  output?: unknown;
  status: 'ok' | 'fail' | 'info';
  error?: string;
  callNs: number;
  doneNs: number;
  /** When it took effect (ok, and some info ops). */
  atNs: number;
}

const MS = 1_000_000;
const PARTITION = { startNs: 2000 * MS, stopNs: 4500 * MS };
const KILL = { startNs: 5200 * MS, stopNs: 6600 * MS };
const RUN_NS = 8000 * MS;

const inFault = (t: number) => (t >= PARTITION.startNs && t < PARTITION.stopNs) || (t >= KILL.startNs && t < KILL.stopNs);

/**
 * A register run: 5 threads, each a sequence of read/write/cas; during faults some ops fail or
 * time out (info: the thread continues as a new process). Effects are applied at a point inside
 * each op's interval, so the history is linearizable, except one stale read when `stale`.
 */
function simulateRegister(seed: number, stale: boolean): { events: HistoryEvent[]; ops: SimOp[] } {
  const random = seeded(seed);
  const ops: SimOp[] = [];
  let nextProcess = 5;
  for (let thread = 0; thread < 5; thread++) {
    let process = thread;
    let t = Math.floor(random() * 40 * MS);
    while (t < RUN_NS - 300 * MS) {
      const r = random();
      const f = r < 0.45 ? 'read' : r < 0.8 ? 'write' : 'cas';
      const faulty = inFault(t);
      const outcome = random();
      let status: SimOp['status'] = 'ok';
      let latencyNs = (2 + random() * 18) * MS;
      if (faulty && outcome < 0.18) {
        status = 'info';
        latencyNs = 500 * MS;
      } else if (faulty && outcome < 0.4) {
        status = 'fail';
        latencyNs = (1 + random() * 4) * MS;
      } else if (faulty) latencyNs *= 4;
      const value = Math.floor(random() * 5);
      const input = f === 'read' ? undefined : f === 'write' ? (ops.length === 40 ? XSS_VALUE : value) : [value, (value + 1) % 5];
      ops.push({
        process,
        f,
        input,
        status,
        error: status === 'fail' ? 'not_leader' : status === 'info' ? 'timeout' : undefined,
        callNs: t,
        doneNs: t + latencyNs,
        atNs: t + random() * latencyNs,
      });
      t += latencyNs + (5 + random() * 60) * MS;
      if (status === 'info') process = nextProcess++;
    }
  }
  // Apply effects in the order of their points.
  let state: unknown = null;
  for (const op of [...ops].sort((a, b) => a.atNs - b.atNs)) {
    if (op.status === 'fail') continue;
    if (op.status === 'info' && op.atNs % 2 < 1) continue;
    if (op.f === 'read') op.output = state;
    else if (op.f === 'write') state = op.input;
    else {
      const [from, to] = op.input as [number, number];
      if (state === from) state = to;
      else if (op.status === 'ok') {
        op.status = 'fail';
        op.error = 'cas_mismatch';
      }
    }
  }
  if (stale) {
    // A read before the faults returns a value no one wrote (an uncommitted entry, say): not
    // linearizable, and quick to find (no indeterminate op is pending yet).
    const read = ops.find((op) => op.f === 'read' && op.status === 'ok' && op.callNs > 1500 * MS)!;
    read.output = 99;
  }
  const events: Omit<HistoryEvent, 'index'>[] = [];
  const push = (time: number, process: number | string, type: EventType, f: string, value?: unknown, error?: string) =>
    events.push(error === undefined ? { time, process, type, f, value } : { time, process, type, f, value, error });
  for (const op of ops) {
    push(op.callNs, op.process, 'invoke', op.f, op.input);
    push(op.doneNs, op.process, op.status, op.f, op.status === 'ok' ? (op.f === 'read' ? op.output : op.input) : op.input, op.error);
  }
  push(PARTITION.startNs, 'nemesis', 'info', 'start-partition', {
    shape: 'halves',
    cuts: [['n1', 'n3']],
    description: `halves: {n1 n2} | {n3 n4 n5} ${XSS_FAULT}`,
  });
  push(PARTITION.stopNs, 'nemesis', 'info', 'stop-partition', { shape: 'halves', cutsLifted: 12 });
  push(KILL.startNs, 'nemesis', 'info', 'start-kill', { target: 'leader', nodes: ['n2'] });
  push(KILL.stopNs, 'nemesis', 'info', 'stop-kill', { nodes: ['n2'] });
  push(RUN_NS, 'nemesis', 'info', 'heal-all', { problems: [], net: 'healthy' });
  events.sort((a, b) => a.time - b.time);
  return { events: events.map((e, index) => ({ index, ...e })), ops };
}

function config(overrides: Partial<TestConfig> = {}): TestConfig {
  return testConfig(overrides);
}

function faultWindows(): FaultWindow[] {
  return [
    {
      kind: 'partition',
      startNs: PARTITION.startNs,
      stopNs: PARTITION.stopNs,
      value: { shape: 'halves', description: `halves: {n1 n2} | {n3 n4 n5} ${XSS_FAULT}` },
    },
    { kind: 'kill', startNs: KILL.startNs, stopNs: KILL.stopNs, value: { target: 'leader', nodes: ['n2'] } },
  ];
}

function countsOf(ops: SimOp[]): OutcomeCounts {
  return {
    ok: ops.filter((o) => o.status === 'ok').length,
    fail: ops.filter((o) => o.status === 'fail').length,
    info: ops.filter((o) => o.status === 'info').length,
  };
}

const runs = new Map<string, Promise<ReportInput & { ops: SimOp[] }>>();

/** A whole fake run: config, results (with a real check of the history) and the checker's page. Made once per seed. */
function fakeRun(seed: number, stale: boolean): Promise<ReportInput & { ops: SimOp[] }> {
  const key = `${seed}/${stale}`;
  if (!runs.has(key)) runs.set(key, makeRun(seed, stale));
  return runs.get(key)!;
}

async function makeRun(seed: number, stale: boolean): Promise<ReportInput & { ops: SimOp[] }> {
  const { events, ops } = simulateRegister(seed, stale);
  const history = pairHistory(events, 'history.jsonl');
  const model = createModel('cas-register');
  const result = await checkHistory(history.operations, { model: 'cas-register', workers: 0 });
  const cfg = config();
  const byF: Record<string, OutcomeCounts> = {};
  for (const f of ['read', 'write', 'cas']) byF[f] = countsOf(ops.filter((o) => o.f === f));
  const during = ops.filter((o) => inFault(o.callNs));
  const outside = ops.filter((o) => !inFault(o.callNs));
  const share = (list: SimOp[]) => list.filter((o) => o.status === 'ok').length / list.length;
  const results: TestResults = {
    valid: result.valid,
    summary: [
      `linearizability (cas-register): ${result.valid === false ? 'NOT linearizable' : 'linearizable'}`,
      `${ops.length} operations, 2 faults, availability ${(share(ops) * 100).toFixed(1)}%`,
    ],
    test: cfg,
    elapsedMs: 9100,
    interrupted: false,
    linearizability: resultJson(history, result, model) as TestResults['linearizability'],
    workloadCheck: null,
    nodeLogs: { valid: true, pattern: 'SAFETY VIOLATION', count: 0, matches: [] },
    stats: { ...countsOf(ops), byF, operations: ops.length, opsPerSecond: ops.length / 8 },
    availability: { overall: share(ops), duringFaults: share(during), outsideFaults: share(outside) },
    faults: faultWindows(),
    problems: [],
    nodeExits: {
      n1: ['stopped (SIGTERM)'],
      n2: ['killed (SIGKILL)', 'stopped (SIGTERM)'],
      n3: ['stopped (SIGTERM)'],
      n4: ['stopped (SIGTERM)'],
      n5: ['stopped (SIGTERM)'],
    },
    links: {
      peer: {
        links: 20,
        connectionsAccepted: 24,
        connectionsBroken: 1,
        frames: 51234,
        framesCut: 812,
        framesDropped: 0,
        framesOverflow: 0,
        bytesDiscarded: 90210,
      },
      client: {
        links: 5,
        connectionsAccepted: 37,
        connectionsBroken: 6,
        frames: 0,
        framesCut: 0,
        framesDropped: 0,
        framesOverflow: 0,
        bytesDiscarded: 1200,
      },
    },
    checkElapsedMs: result.elapsedMs,
  };
  const checkerHtml = result.valid === false ? renderHtml({ history, result, model, title: `${cfg.name}: counterexample` }) : undefined;
  return { config: cfg, results, events, checkerHtml, ops };
}

function decode(html: string): string {
  return html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Every attribute of every tag (names lower-cased; values as written, still escaped). */
function attributes(html: string): { tag: string; name: string; value: string }[] {
  const found: { tag: string; name: string; value: string }[] = [];
  for (const tag of html.matchAll(/<([a-zA-Z][\w:-]*)((?:\s+[^\s=>\/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/g)) {
    for (const attr of tag[2].matchAll(/([^\s=>\/]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?/g)) {
      found.push({ tag: tag[1].toLowerCase(), name: attr[1].toLowerCase(), value: (attr[2] ?? '').replace(/^["']|["']$/g, '') });
    }
  }
  return found;
}

/** The inline SVG charts, by kind. */
function chart(html: string, kind: string): string {
  const match = new RegExp(`<svg class="chart ${kind}"[\\s\\S]*?</svg></div>`).exec(html);
  expect(match, `the ${kind} chart`).not.toBeNull();
  return match![0];
}

let dir: string;
const keepDir = process.env.SKEPSIS_KEEP_REPORT;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'skepsis-report-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function keep(name: string, path: string): void {
  if (!keepDir) return;
  mkdirSync(keepDir, { recursive: true });
  copyFileSync(path, join(keepDir, name));
}

describe('renderReport', () => {
  it('shows the verdict, summary, test options, stats, checks and links of an invalid run', async () => {
    const run = await fakeRun(7, true);
    expect(run.results.valid).toBe(false);
    const html = renderReport(run);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<header class="top bad">');
    expect(html).toContain('<div class="verdict">INVALID</div>');
    expect(html).toContain('NOT linearizable');
    expect(html).toContain(run.results.summary[1]);
    for (const fact of ['partition,kill', '>42<', 'stale-read', '--time-limit 8 --seed 42', '0123456789abcdef'])
      expect(html).toContain(fact);
    // Stats per f, from results.json.
    const read = run.results.stats.byF.read;
    expect(html).toContain(
      `<tr><th>read</th><td class="ok">${read.ok}</td><td class="fail">${read.fail}</td><td class="info">${read.info}</td>`,
    );
    expect(html).toContain(`${(run.results.availability.duringFaults! * 100).toFixed(1)}%`);
    // What the proxies did to the traffic.
    expect(html).toContain('peer (20 links): <b>51234</b> frames, 812 cut, 0 dropped, 0 over the buffer bound');
    expect(html).toContain('client (5 links): <b>37</b> connections, 6 broken by the proxy');
    // Links to the files of the run folder, relative.
    for (const id of ['n1', 'n2', 'n3', 'n4', 'n5']) expect(html).toContain(`<a href="nodes/${id}.log">`);
    expect(html).toContain('<a href="history.jsonl">');
    expect(html).toContain('killed (SIGKILL)');
    expect(html).toMatch(/all checks took [\d.]+ (ms|s)/);
  });

  it('embeds the checker page in a sandboxed iframe, escaped so it decodes back exactly', async () => {
    const run = await fakeRun(7, true);
    const html = renderReport(run);
    const match = /<iframe class="checker" sandbox="allow-scripts" title="Counterexample" srcdoc="([^"]*)"><\/iframe>/.exec(html);
    expect(match).not.toBeNull();
    expect(decode(match![1])).toBe(run.checkerHtml);
    expect(run.checkerHtml).toContain('NOT linearizable');
  });

  it('escapes every value from the history and the fault records', async () => {
    const run = await fakeRun(7, true);
    expect(run.events.some((e) => e.value === XSS_VALUE)).toBe(true);
    const html = renderReport(run);
    expect(html).not.toContain(XSS_VALUE);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(html).toContain('&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;');
    // Exactly one script element: the page's own.
    expect(html.match(/<script/gi)).toHaveLength(1);
    // The options are untrusted too.
    const hostile = renderReport({ ...run, config: config({ name: '</title><script>x()</script>', command: '"><b>' }) });
    expect(hostile).not.toContain('<script>x()');
    expect(hostile).not.toContain('"><b>');
    expect(hostile.match(/<script/gi)).toHaveLength(1);
  });

  it('needs nothing from the network: no external URLs, no src attributes, no imports', async () => {
    const html = renderReport(await fakeRun(7, true));
    expect(html).not.toMatch(/https?:\/\//i);
    const srcdoc = /srcdoc="([^"]*)"/.exec(html);
    expect(srcdoc).not.toBeNull();
    const checkerPage = decode(srcdoc![1]);
    for (const page of [html, checkerPage]) {
      const attrs = attributes(page);
      expect(attrs.length).toBeGreaterThan(100);
      expect(attrs.filter((a) => a.name === 'src' || a.name === 'xlink:href' || a.name === 'action')).toEqual([]);
      expect(attrs.filter((a) => a.tag === 'link' || a.tag === 'img' || a.tag === 'object' || a.tag === 'embed')).toEqual([]);
      expect(page).not.toMatch(/@import|url\(\s*['"]?(?!#)/i);
    }
    const hrefs = attributes(html).filter((a) => a.name === 'href');
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href.value).toMatch(/^(nodes\/n\d\.log|history\.jsonl|results\.json|test\.json)$/);
  });

  it('shades and labels both fault windows on every time chart, at their times', async () => {
    const run = await fakeRun(7, true);
    const html = renderReport(run);
    // The time axis spans the run (0 .. 8 s) over 1160 px from x = 78.
    const xOf = (ns: number) => String(Math.round((78 + (ns / RUN_NS) * 1160) * 10) / 10);
    for (const kind of ['timeline', 'latency', 'throughput']) {
      const svg = chart(html, kind);
      expect(svg).toContain('>partition: halves: {n1 n2} | {n3 n4 n5} &lt;img src=x onerror=alert(2)&gt;</text>');
      expect(svg).toContain('>kill: leader n2</text>');
      expect(svg).toContain(`<rect x="${xOf(PARTITION.startNs)}" y="`);
      expect(svg).toContain(`<rect x="${xOf(KILL.startNs)}" y="`);
      // The heal-all record is a mark.
      expect(svg).toMatch(/<line [^>]*class="mark"><title>heal-all: /);
    }
    expect(html).toContain('<table class="faults">');
  });

  it('draws one bar per operation, colored by outcome, with info bars fading to the end', async () => {
    const run = await fakeRun(3, false);
    const timeline = chart(renderReport(run), 'timeline');
    const count = (cls: string) => timeline.split(`rx="2" class="${cls}"/>`).length - 1;
    const ops = run.ops;
    expect(count('ok')).toBe(ops.filter((o) => o.status === 'ok').length);
    expect(count('fail')).toBe(ops.filter((o) => o.status === 'fail').length);
    expect(count('info')).toBe(ops.filter((o) => o.status === 'info').length);
    expect(count('info')).toBeGreaterThan(0);
    expect(timeline.split('fill="url(#info-tail)"').length - 1).toBe(count('info'));
    // One row per process: info ops moved their thread to new processes.
    const processes = new Set(ops.map((o) => o.process));
    expect(processes.size).toBeGreaterThan(5);
    expect(timeline.match(/class="rowlabel"/g)).toHaveLength(processes.size);
    // Hover text describes the operation the one way.
    expect(timeline).toMatch(/<title>p\d+ cas \[\d,\d\]: (ok|fail)/);
  });

  it('colors the header by verdict and embeds no checker view for valid and unknown runs', async () => {
    const run = await fakeRun(3, false);
    expect(run.results.valid).toBe(true);
    const valid = renderReport(run);
    expect(valid).toContain('<header class="top ok">');
    expect(valid).toContain('<div class="verdict">valid</div>');
    expect(valid).not.toContain('<iframe');
    const unknown = renderReport({ ...run, results: { ...run.results, valid: 'unknown' } });
    expect(unknown).toContain('<header class="top unknown">');
    expect(unknown).toContain('<div class="verdict">unknown</div>');
  });

  it('finds fault windows in the nemesis records when results.json has none, and marks an open one', async () => {
    const run = await fakeRun(3, false);
    const events = run.events.filter((e) => !(e.process === 'nemesis' && e.f === 'stop-kill'));
    const html = renderReport({ ...run, events, results: { ...run.results, faults: [] } });
    expect(chart(html, 'throughput')).toContain('>kill: leader n2</text>');
    // heal-all ended the kill: its window stops there.
    expect(html).toContain('<td>5.200 s</td><td>8.000 s</td>');
    const open = renderReport({
      ...run,
      results: { ...run.results, faults: [{ kind: 'pause', startNs: 1000 * MS, value: { target: 'one', nodes: ['n4'] } }] },
    });
    expect(open).toContain('>pause: one n4</text>');
    expect(open).toContain('end (final heal)');
  });

  it('renders a run that recorded nothing', () => {
    const html = renderReport({
      config: config(),
      results: { ...emptyResults(), valid: 'unknown', interrupted: true, problems: ['n3 refused to restart'] },
      events: [],
    });
    expect(html).toContain('<div class="verdict">unknown</div>');
    expect(html).toContain('No client operation was recorded.');
    expect(html).toContain('The run was interrupted');
    expect(html).toContain('<li>n3 refused to restart</li>');
    expect(html).toContain('No fault was injected.');
    expect(html).toContain('not proxied, or no counters recorded');
  });

  it('puts processes that never overlap on shared rows when there are many', () => {
    const events: HistoryEvent[] = [];
    // 300 processes, each one op, 3 at a time.
    for (let p = 0; p < 300; p++) {
      const t = Math.floor(p / 3) * 10 * MS;
      events.push({ index: 0, time: t, process: p, type: 'invoke', f: 'write', value: p });
      events.push({ index: 0, time: t + 5 * MS, process: p, type: p % 10 === 0 ? 'info' : 'ok', f: 'write', value: p });
    }
    events.sort((a, b) => a.time - b.time).forEach((e, i) => (e.index = i));
    const run = { config: config(), results: { ...emptyResults(), faults: [] }, events };
    const timeline = chart(renderReport(run), 'timeline');
    const rows = timeline.match(/class="rowlabel"/g) ?? [];
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.length).toBeLessThanOrEqual(REPORT_LIMITS.processRowsMax);
    expect(timeline).toContain('>p0 +');
  });

  it('keeps a 1M-event history to a page of a few MB, rendered in seconds', () => {
    // Each op's call and completion are pushed together: per process the order is right, which is
    // all the report needs (it does not sort), and making the history stays cheap.
    const random = seeded(99);
    const events: HistoryEvent[] = [];
    const ops = 500_000;
    const processes = 20;
    /** Mean time per op of one process, so that the run lasts about 600 s. */
    const stepNs = (600 * 1e9) / (ops / processes);
    const clock = new Array<number>(processes).fill(0);
    const value = 'v'.repeat(40);
    for (let k = 0; k < ops; k++) {
      const p = k % processes;
      const call = Math.round(clock[p] + random() * stepNs * 0.6);
      const done = Math.round(call + random() * stepNs * 1.4);
      clock[p] = done + 1;
      const r = random();
      const type: EventType = r < 0.9 ? 'ok' : r < 0.97 ? 'fail' : 'info';
      const f = r < 0.5 ? 'read' : 'write';
      events.push({ index: 2 * k, time: call, process: p, type: 'invoke', f, value: f === 'read' ? undefined : value });
      events.push({ index: 2 * k + 1, time: done, process: p, type, f, value });
    }
    const faults: FaultWindow[] = [];
    for (let t = 10; t < 600; t += 20)
      faults.push({
        kind: t % 40 === 10 ? 'partition' : 'kill',
        startNs: t * 1e9,
        stopNs: (t + 8) * 1e9,
        value: { description: `fault at ${t}` },
      });
    const started = performance.now();
    const html = renderReport({ config: config(), results: { ...emptyResults(), faults }, events });
    const elapsedMs = performance.now() - started;
    expect(events.length).toBe(1_000_000);
    expect(Buffer.byteLength(html)).toBeLessThan(4 * 1024 * 1024);
    expect(elapsedMs).toBeLessThan(20_000);
    const timeline = chart(html, 'timeline');
    expect(timeline.split('<rect').length).toBeLessThan(REPORT_LIMITS.timelineBarsMax + 200);
    expect(timeline.match(/class="rowlabel"/g)).toHaveLength(processes);
    expect(html).toContain('too many to draw one by one');
    // Latency as quantile lines; throughput in at most bucketsMax buckets (3 outcomes each).
    expect(chart(html, 'latency')).toContain('p99</title></path>');
    expect(chart(html, 'throughput').split('<rect').length).toBeLessThan(3 * REPORT_LIMITS.bucketsMax + 100);
    expect(chart(html, 'throughput')).toContain('>partition: fault at 570</text>');
    keepText('large-report.html', html);
  });

  it.skipIf(!existsSync(CHROMIUM))('renders in headless Chromium (skipped when /usr/bin/chromium is absent)', async () => {
    const run = await fakeRun(7, true);
    const page = join(dir, 'report.html');
    writeFileSync(page, renderReport(run));
    const shot = join(dir, 'report.png');
    const profile = mkdtempSync(join(tmpdir(), 'skepsis-chromium-'));
    try {
      const child = execa(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-dev-shm-usage',
          `--user-data-dir=${profile}`,
          `--screenshot=${shot}`,
          '--window-size=1400,1000',
          `file://${page}`,
        ],
        { timeout: 30_000, killSignal: 'SIGKILL', reject: false, stdin: 'ignore', forceKillAfterDelay: 1000, cleanup: true },
      );
      try {
        const result = await child;
        expect(result.timedOut, 'chromium timed out').toBe(false);
      } finally {
        if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
      }
      expect(existsSync(shot)).toBe(true);
      expect(statSync(shot).size).toBeGreaterThan(40 * 1024);
      keep('report.png', shot);
      keep('report.html', page);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  });
});

function keepText(name: string, text: string): void {
  if (!keepDir) return;
  mkdirSync(keepDir, { recursive: true });
  writeFileSync(join(keepDir, name), text);
}

function emptyResults(): TestResults {
  return {
    valid: true,
    summary: ['synthetic'],
    test: config(),
    elapsedMs: 1,
    interrupted: false,
    linearizability: null,
    workloadCheck: { valid: true, summary: 'set: valid: 0 lost, 0 duplicated' },
    nodeLogs: { valid: true, pattern: 'SAFETY VIOLATION', count: 0, matches: [] },
    stats: { ok: 0, fail: 0, info: 0, byF: {}, operations: 0, opsPerSecond: 0 },
    availability: { overall: 1, duringFaults: null, outsideFaults: null },
    faults: [],
    problems: [],
    nodeExits: {},
    links: null,
    checkElapsedMs: 1,
  };
}
