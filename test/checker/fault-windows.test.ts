// The one fault-window pairing rule (checker/fault-windows.ts), and the three views that use it:
// results.json (and the report's charts), report.html's fault table and checker.html's shading.

import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../checker/check.js';
import { faultEdge, FaultWindowPairer, faultWindows, type FaultRecordEvent } from '../../checker/fault-windows.js';
import { historyEvent, NEMESIS_PROCESS, pairHistory, type EventType, type HistoryEvent } from '../../checker/history.js';
import { renderHtml } from '../../checker/html.js';
import { createModel } from '../../checker/models/index.js';
import { renderReport } from '../../src/harness/report/page.js';
import { faultWindows as resultsFaultWindows, type TestResults } from '../../src/harness/results.js';
import { testConfig } from '../harness/config-fixture.js';

const nemesis = (time: number, f: string, value?: unknown, type: EventType = 'info'): FaultRecordEvent => ({
  process: NEMESIS_PROCESS,
  time,
  type,
  f,
  value,
});

describe('faultEdge', () => {
  it('reads start and stop records and their kind; anything else is a mark', () => {
    expect(faultEdge('start-partition')).toEqual({ edge: 'start', kind: 'partition' });
    expect(faultEdge('stop-disk-synced')).toEqual({ edge: 'stop', kind: 'disk-synced' });
    expect(faultEdge('start')).toEqual({ edge: 'start', kind: '' });
    expect(faultEdge(':stop')).toEqual({ edge: 'stop', kind: '' });
    expect(faultEdge('heal-all')).toBeUndefined();
    expect(faultEdge('kill')).toBeUndefined();
    expect(faultEdge('started')).toBeUndefined();
  });
});

describe('faultWindows', () => {
  it('pairs a start with the stop of its kind', () => {
    expect(faultWindows([nemesis(10, 'start-partition', 'halves'), nemesis(20, 'stop-partition')])).toEqual([
      { kind: 'partition', f: 'start-partition', start: 10, stop: 20, value: 'halves' },
    ]);
  });

  it('keeps overlapping windows of one kind apart: a stop closes the oldest open one', () => {
    const windows = faultWindows([
      nemesis(10, 'start-kill', 'n1'),
      nemesis(15, 'start-partition'),
      nemesis(20, 'start-kill', 'n2'),
      nemesis(30, 'stop-kill'),
      nemesis(35, 'stop-partition'),
      nemesis(40, 'stop-kill'),
    ]);
    expect(windows.map((w) => [w.kind, w.value, w.start, w.stop])).toEqual([
      ['kill', 'n1', 10, 30],
      ['partition', undefined, 15, 35],
      ['kill', 'n2', 20, 40],
    ]);
  });

  it('runs unmatched starts to the end, ignores stops with nothing open, and closes everything on heal-all', () => {
    expect(faultWindows([nemesis(5, 'stop-kill'), nemesis(10, 'start-pause')])).toEqual([{ kind: 'pause', f: 'start-pause', start: 10 }]);
    const healed = faultWindows([
      nemesis(10, 'start-pause'),
      nemesis(12, 'start-pause'),
      nemesis(20, 'heal-all'),
      nemesis(30, 'stop-pause'),
    ]);
    expect(healed.map((w) => w.stop)).toEqual([20, 20]);
  });

  it("treats a Jepsen nemesis call and its completion as one edge: from the start's call to the stop's completion", () => {
    const windows = faultWindows([
      nemesis(5, 'start', undefined, 'invoke'),
      nemesis(6, 'start', 'partition [n1] [n2 n3]'),
      nemesis(12, 'kill', 'n2'),
      nemesis(20, 'stop', undefined, 'invoke'),
      nemesis(21, 'stop'),
    ]);
    expect(windows).toEqual([{ kind: '', f: 'start', start: 5, stop: 21, value: 'partition [n1] [n2 n3]' }]);
  });

  it('skips the records of other processes, so a whole history may be passed', () => {
    const events: FaultRecordEvent[] = [
      { process: 0, time: 1, type: 'invoke', f: 'start-kill' },
      nemesis(2, 'start-kill'),
      { process: 0, time: 3, type: 'ok', f: 'start-kill' },
    ];
    expect(faultWindows(events)).toEqual([{ kind: 'kill', f: 'start-kill', start: 2 }]);
  });

  it('pairs incrementally: active() lists the windows open so far', () => {
    const pairer = new FaultWindowPairer();
    pairer.add(nemesis(1, 'start-kill'));
    pairer.add(nemesis(2, 'start-kill'));
    pairer.add(nemesis(3, 'start-partition'));
    expect(pairer.active().map((w) => w.kind)).toEqual(['kill', 'kill', 'partition']);
    pairer.add(nemesis(4, 'stop-kill'));
    expect(pairer.active().map((w) => [w.kind, w.start])).toEqual([
      ['kill', 2],
      ['partition', 3],
    ]);
    pairer.add(nemesis(5, 'heal-all'));
    expect(pairer.active()).toEqual([]);
  });
});

describe('every view shades the same windows', () => {
  // Two overlapping kill windows (the second stop-kill closes the second kill) and a partition the
  // final heal ends: the three pairers this rule replaced disagreed on exactly this.
  const S = 1e9;
  const records: [number, string, unknown][] = [
    [1 * S, 'start-kill', { nodes: ['n1'] }],
    [2 * S, 'start-kill', { nodes: ['n2'] }],
    [3 * S, 'stop-kill', { nodes: ['n1'] }],
    [4 * S, 'start-partition', { shape: 'halves' }],
    [5 * S, 'stop-kill', { nodes: ['n2'] }],
    [7 * S, 'heal-all', { problems: [] }],
  ];
  const events: HistoryEvent[] = [];
  const push = (time: number, process: number | string, type: EventType, f: string, value?: unknown) =>
    events.push(historyEvent({ index: events.length, time, process, type, f, value }));
  push(0.5 * S, 0, 'invoke', 'write', 1);
  push(0.6 * S, 0, 'ok', 'write', 1);
  for (const [time, f, value] of records) {
    push(time - 0.2 * S, 0, 'invoke', 'read');
    push(time - 0.1 * S, 0, 'ok', 'read', 1);
    push(time, NEMESIS_PROCESS, 'info', f, value);
  }
  const expected = [
    { kind: 'kill', startNs: 1 * S, stopNs: 3 * S },
    { kind: 'kill', startNs: 2 * S, stopNs: 5 * S },
    { kind: 'partition', startNs: 4 * S, stopNs: 7 * S },
  ];

  it('results.json', () => {
    expect(resultsFaultWindows(events).map(({ kind, startNs, stopNs }) => ({ kind, startNs, stopNs }))).toEqual(expected);
  });

  it("report.html's fault table, with and without results.json's windows", () => {
    for (const faults of [resultsFaultWindows(events), undefined]) {
      const html = renderReport({ config: CONFIG, results: { ...RESULTS, faults } as TestResults, events });
      const rows = [...html.matchAll(/<tr><td><span class="swatch"[^>]*><\/span>(\w+)<\/td><td>([\d.]+) s<\/td><td>([\d.]+) s<\/td>/g)];
      // Times on the page are seconds since the run's start (time 0).
      expect(rows.map((r) => ({ kind: r[1], startNs: Math.round(Number(r[2]) * S), stopNs: Math.round(Number(r[3]) * S) }))).toEqual(
        expected,
      );
    }
  });

  it("checker.html's shading", async () => {
    const history = pairHistory(events, 'history.jsonl');
    const result = await checkHistory(history.operations, { model: 'cas-register', workers: 0 });
    const html = renderHtml({ history, result, model: createModel('cas-register') });
    const spans = [...html.matchAll(/fault: (start-\w+)[^\n]*\nfrom ([\d.]+) s to ([\d.]+) s/g)];
    expect(spans.map((m) => ({ kind: m[1].slice('start-'.length), startNs: Number(m[2]) * S, stopNs: Number(m[3]) * S }))).toEqual(
      expected,
    );
  });
});

const CONFIG = testConfig({ name: 'windows', nemesis: 'kill,partition', nodes: 3, unsafeBugs: [] });

const RESULTS = {
  valid: true,
  summary: [],
  test: CONFIG,
  problems: [],
} as unknown as TestResults;
