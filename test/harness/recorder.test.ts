// The recorder: each event reaches the file as soon as it is recorded, in the checker's format;
// the events bound holds with room for pending completions; misuse that would break the history throws.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseHistoryText } from '../../checker/format/index.js';
import { HistoryLimitError, Recorder, RecorderError } from '../../src/harness/recorder.js';

let dir: string;
let recorders: Recorder[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'skepsis-recorder-'));
  recorders = [];
});

afterEach(async () => {
  for (const recorder of recorders) await recorder.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(options: ConstructorParameters<typeof Recorder>[0] = {}): Recorder {
  const recorder = new Recorder(options);
  recorders.push(recorder);
  return recorder;
}

function lines(path: string): unknown[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

describe('Recorder', () => {
  it('writes every event to the file before returning, line by line', () => {
    const path = join(dir, 'history.jsonl');
    let clock = 0;
    const recorder = open({ path, clockNs: () => (clock += 1000) });
    recorder.invoke(0, { f: 'write', key: 'r', value: 1 });
    expect(lines(path)).toEqual([{ index: 0, time: 1000, process: 0, type: 'invoke', f: 'write', key: 'r', value: 1 }]);
    recorder.invoke(1, { f: 'read', key: 'r' });
    recorder.fault('start-partition', { n1: ['n2', 'n3'] });
    recorder.complete(0, { f: 'write', key: 'r', value: 1 }, { type: 'ok', value: 1 });
    recorder.complete(1, { f: 'read', key: 'r' }, { type: 'info', error: 'timeout' });
    expect(lines(path)).toEqual([
      { index: 0, time: 1000, process: 0, type: 'invoke', f: 'write', key: 'r', value: 1 },
      { index: 1, time: 2000, process: 1, type: 'invoke', f: 'read', key: 'r' },
      { index: 2, time: 3000, process: 'nemesis', type: 'info', f: 'start-partition', value: { n1: ['n2', 'n3'] } },
      { index: 3, time: 4000, process: 0, type: 'ok', f: 'write', key: 'r', value: 1 },
      { index: 4, time: 5000, process: 1, type: 'info', f: 'read', key: 'r', error: 'timeout' },
    ]);
    expect(recorder.events).toHaveLength(5);
    expect(recorder.nextProcess).toBe(2);
  });

  it('produces a file the checker parses and pairs, with the fault as an annotation', async () => {
    const path = join(dir, 'history.jsonl');
    const recorder = open({ path });
    recorder.invoke(0, { f: 'cas', key: 'r', value: [1, 2] });
    recorder.fault('kill', 'n2');
    recorder.complete(0, { f: 'cas', key: 'r', value: [1, 2] }, { type: 'fail', error: 'cas_mismatch' });
    recorder.invoke(0, { f: 'read', key: 'r' });
    recorder.complete(0, { f: 'read', key: 'r' }, { type: 'ok', value: null });
    await recorder.close();
    const { format, history } = parseHistoryText(readFileSync(path, 'utf8'), path);
    expect(format).toBe('jsonl');
    expect(history.operations.map((op) => [op.f, op.status, op.error, op.output])).toEqual([
      ['cas', 'fail', 'cas_mismatch', undefined],
      ['read', 'ok', undefined, null],
    ]);
    expect(history.faults.map((fault) => fault.f)).toEqual(['kill']);
    // Real clock: times are monotonic nanoseconds.
    const times = recorder.events.map((event) => event.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.every(Number.isInteger)).toBe(true);
    expect(recorder.history().operations).toHaveLength(2);
  });

  it('refuses invokes beyond the bound, keeping room for pending completions', () => {
    const path = join(dir, 'history.jsonl');
    const recorder = open({ path, eventsMax: 6 });
    recorder.invoke(0, { f: 'read' });
    recorder.invoke(1, { f: 'read' });
    // A third call fits exactly: 3 invokes + 3 completions = 6. A fourth would need 8.
    recorder.invoke(2, { f: 'read' });
    expect(() => recorder.invoke(3, { f: 'read' })).toThrow(HistoryLimitError);
    expect(() => recorder.fault('kill')).toThrow(/bound of 6 events/);
    for (const process of [0, 1, 2]) recorder.complete(process, { f: 'read' }, { type: 'ok', value: null });
    expect(recorder.events).toHaveLength(6);
    expect(() => recorder.invoke(0, { f: 'read' })).toThrow(HistoryLimitError);
    expect(lines(path)).toHaveLength(6);
    expect(parseHistoryText(readFileSync(path, 'utf8'), path).history.operations).toHaveLength(3);
  });

  it('throws on misuse that would break the history', () => {
    const recorder = open();
    recorder.invoke(0, { f: 'read' });
    expect(() => recorder.invoke(0, { f: 'write', value: 1 })).toThrow(/process 0 invokes write while its read is still pending/);
    expect(() => recorder.complete(1, { f: 'read' }, { type: 'ok' })).toThrow(/without a pending call/);
    expect(() => recorder.complete(0, { f: 'write' }, { type: 'ok' })).toThrow(/its pending call is read/);
    expect(() => recorder.complete(0, { f: 'read' }, { type: 'done' as 'ok' })).toThrow(/got "done"/);
    expect(() => recorder.invoke(-1, { f: 'read' })).toThrow(RecorderError);
  });

  it('never writes over an existing history, and rejects a clock that goes back', () => {
    const path = join(dir, 'history.jsonl');
    writeFileSync(path, 'earlier run\n');
    expect(() => open({ path })).toThrow(/cannot create the history file .*: EEXIST/);
    expect(readFileSync(path, 'utf8')).toBe('earlier run\n');
    let clock = 10;
    const recorder = open({ clockNs: () => (clock -= 1) });
    recorder.invoke(0, { f: 'read' });
    expect(() => recorder.fault('kill')).toThrow(/must be monotonic/);
  });

  it('closes once; recording afterwards throws', async () => {
    const path = join(dir, 'history.jsonl');
    const recorder = open({ path });
    recorder.fault('start');
    await recorder.close();
    await recorder.close();
    expect(() => recorder.fault('stop')).toThrow(/recorder is closed/);
    expect(lines(path)).toHaveLength(1);
  });

  it('validates its options', () => {
    expect(() => new Recorder({ eventsMax: 1 })).toThrow('eventsMax must be an integer >= 2, got 1');
  });
});
