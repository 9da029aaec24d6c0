// The history toolkit every writer and view shares: the event constructor, the nemesis process and
// the text form of an operation (checker/history.ts).

import { describe, expect, it } from 'vitest';
import { formatJsonlEvent, parseJsonl } from '../../checker/format/jsonl.js';
import {
  describeOperation,
  historyEvent,
  isNemesisProcess,
  NEMESIS_PROCESS,
  pairHistory,
  type OperationFields,
} from '../../checker/history.js';
import { createModel } from '../../checker/models/index.js';
import { Recorder } from '../../src/harness/recorder.js';
import { simulatedHistory, simulateGenerator } from '../../workloads/simulate.js';
import { getWorkload } from '../../workloads/index.js';

describe('historyEvent', () => {
  it('leaves out optional fields that are undefined, and keeps null values', () => {
    const call = historyEvent({ index: 0, time: 5, process: 1, type: 'invoke', f: 'read', key: 'r', value: undefined, error: undefined });
    expect(call).toEqual({ index: 0, time: 5, process: 1, type: 'invoke', f: 'read', key: 'r' });
    expect(Object.keys(call)).toEqual(['index', 'time', 'process', 'type', 'f', 'key']);
    const read = historyEvent({ index: 1, time: 6, process: 1, type: 'ok', f: 'read', key: 'r', value: null });
    expect('value' in read).toBe(true);
    expect(read.value).toBeNull();
    const failed = historyEvent({ index: 2, time: 7, process: 2, type: 'fail', f: 'cas', value: [1, 2], error: 'cas_mismatch' });
    expect(failed).toEqual({ index: 2, time: 7, process: 2, type: 'fail', f: 'cas', value: [1, 2], error: 'cas_mismatch' });
  });

  it('builds events that survive a JSON Lines round trip unchanged', () => {
    const events = [
      historyEvent({ index: 0, time: 10, process: 0, type: 'invoke', f: 'write', key: 'k', value: 'v' }),
      historyEvent({ index: 1, time: 20, process: NEMESIS_PROCESS, type: 'info', f: 'start-kill', value: { nodes: ['n1'] } }),
      historyEvent({ index: 2, time: 30, process: 0, type: 'info', f: 'write', key: 'k', value: 'v', error: 'timeout' }),
    ];
    const text = events.map(formatJsonlEvent).join('\n');
    expect(parseJsonl(text, 'x.jsonl').events).toEqual(events);
  });

  it('is what the recorder and the workload simulator write', () => {
    let now = 0;
    const recorder = new Recorder({ clockNs: () => (now += 1000) });
    recorder.invoke(0, { f: 'write', key: 'r', value: 1 });
    recorder.fault('start-partition', { shape: 'halves' });
    recorder.complete(0, { f: 'write', key: 'r', value: 1 }, { type: 'ok', value: 1 });
    expect(recorder.events).toEqual([
      historyEvent({ index: 0, time: 1000, process: 0, type: 'invoke', f: 'write', key: 'r', value: 1 }),
      historyEvent({ index: 1, time: 2000, process: NEMESIS_PROCESS, type: 'info', f: 'start-partition', value: { shape: 'halves' } }),
      historyEvent({ index: 2, time: 3000, process: 0, type: 'ok', f: 'write', key: 'r', value: 1 }),
    ]);
    const workload = getWorkload('register');
    const { ops } = simulateGenerator(workload.generator({}), { threads: 2, seed: 7, timeLimitMs: 50 });
    const events = simulatedHistory(ops);
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(event).toEqual(historyEvent(event));
  });
});

describe('the nemesis process', () => {
  it('is one name, and Jepsen spelling is recognised too', () => {
    expect(NEMESIS_PROCESS).toBe('nemesis');
    expect(isNemesisProcess(NEMESIS_PROCESS)).toBe(true);
    expect(isNemesisProcess(':nemesis')).toBe(true);
    expect(isNemesisProcess(0)).toBe(false);
    expect(isNemesisProcess('nemesis2')).toBe(false);
  });
});

describe('describeOperation', () => {
  const op = (fields: Partial<OperationFields>): OperationFields => ({
    process: 3,
    f: 'read',
    key: undefined,
    input: undefined,
    output: undefined,
    status: 'ok',
    ...fields,
  });

  it('renders the generic form: process, f, key, input, a differing result, status and error', () => {
    expect(describeOperation(op({ key: 'r', output: 5 }))).toBe('p3 read r → 5: ok');
    expect(describeOperation(op({ f: 'write', key: 'r', input: 5, output: 5 }))).toBe('p3 write r 5: ok');
    expect(describeOperation(op({ f: 'cas', input: [1, 2], status: 'fail', error: 'cas_mismatch' }))).toBe(
      'p3 cas [1,2]: fail (cas_mismatch)',
    );
    expect(describeOperation(op({ process: 'c1', f: 'put', key: 'k', input: 'v', status: 'info', error: 'timeout' }))).toBe(
      'pc1 put k "v": info (timeout)',
    );
    expect(describeOperation(op({ f: 'read', input: null, output: null }))).toBe('p3 read nil: ok');
  });

  it('clips long values to valueChars', () => {
    const text = describeOperation(op({ f: 'write', input: 'x'.repeat(500) }), { valueChars: 20 });
    expect(text).toBe(`p3 write "${'x'.repeat(17)}…: ok`);
    expect(text.length).toBeLessThan(40);
  });

  it("uses a model's body when given one (the checker's views)", () => {
    const history = pairHistory(
      [
        historyEvent({ index: 0, time: 0, process: 1, type: 'invoke', f: 'cas', key: 'r', value: [1, 2] }),
        historyEvent({ index: 1, time: 1, process: 1, type: 'fail', f: 'cas', key: 'r', value: [1, 2], error: 'cas_mismatch' }),
      ],
      'test',
    );
    const model = createModel('cas-register');
    expect(describeOperation(history.operations[0], { body: (o) => model.describeOp(o) })).toBe('p1 cas r 1->2 -> mismatch');
  });
});
