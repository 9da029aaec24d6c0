// The history formats: JSON Lines, Porcupine's etcd logs, Jepsen EDN; pairing; and bad input,
// which must name the file and line and never produce a verdict.

import { describe, expect, it } from 'vitest';
import { EdnReader, Keyword } from '../../checker/format/edn.js';
import { formatJepsenEdn } from '../../checker/format/jepsen-edn.js';
import { parseHistoryText } from '../../checker/format/index.js';
import { HistoryError } from '../../checker/history.js';

function errorOf(fn: () => unknown): HistoryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HistoryError) return error;
    throw error;
  }
  throw new Error('expected a HistoryError');
}

describe('JSON Lines', () => {
  const text = [
    '{"index":0,"time":10,"process":0,"type":"invoke","f":"write","value":1}',
    '{"index":1,"time":15,"process":1,"type":"invoke","f":"read"}',
    '{"index":2,"time":20,"process":0,"type":"ok","f":"write","value":1}',
    '',
    '{"index":3,"time":25,"process":1,"type":"info","f":"read","error":"timeout"}',
    '{"index":4,"time":30,"process":"nemesis","type":"info","f":"start-partition","value":"halves"}',
  ].join('\n');

  it('pairs calls with completions and keeps nemesis events as faults', () => {
    const { format, history } = parseHistoryText(text, 'h.jsonl');
    expect(format).toBe('jsonl');
    expect(history.operations).toHaveLength(2);
    expect(history.operations[0]).toMatchObject({ f: 'write', input: 1, output: 1, status: 'ok', call: 10, ret: 20, line: 1 });
    expect(history.operations[1]).toMatchObject({ f: 'read', status: 'info', ret: Infinity, error: 'timeout' });
    expect(history.faults).toEqual([{ index: 4, time: 30, type: 'info', f: 'start-partition', value: 'halves' }]);
  });

  it.each([
    ['not json', '{"index":0,', /h\.jsonl:1: expected one JSON object per line/],
    [
      'bad type',
      '{"index":0,"process":0,"type":"done","f":"read"}',
      /h\.jsonl:1: field "type" must be one of invoke, ok, fail, info, got "done"/,
    ],
    ['bad process', '{"index":0,"process":[1],"type":"invoke","f":"read"}', /field "process" must be a number or a string/],
    ['unknown field', '{"index":0,"process":0,"type":"invoke","f":"read","vlaue":1}', /unknown field "vlaue"/],
    ['time not a number', '{"index":0,"time":"now","process":0,"type":"invoke","f":"read"}', /field "time" must be a number/],
    [
      'index going back',
      '{"index":3,"process":0,"type":"invoke","f":"read"}\n{"index":2,"process":1,"type":"invoke","f":"read"}',
      /h\.jsonl:2: field "index" must increase/,
    ],
    [
      'unmatched completion',
      '{"index":0,"process":0,"type":"ok","f":"read","value":1}',
      /h\.jsonl:1: ok completion for process 0 has no pending invoke/,
    ],
    [
      'two pending calls',
      '{"index":0,"process":0,"type":"invoke","f":"read"}\n{"index":1,"process":0,"type":"invoke","f":"write","value":1}',
      /h\.jsonl:2: process 0 invokes write while its call/,
    ],
    [
      'completion of another f',
      '{"index":0,"process":0,"type":"invoke","f":"read"}\n{"index":1,"process":0,"type":"ok","f":"write","value":1}',
      /h\.jsonl:2: completion f "write" does not match/,
    ],
  ])('rejects %s with file and line', (_name, bad, message) => {
    expect(errorOf(() => parseHistoryText(bad, 'h.jsonl', 'jsonl')).message).toMatch(message);
  });
});

describe('Porcupine etcd logs', () => {
  it('reads calls, failed cas as a mismatch observation, timed-out ops as indeterminate', () => {
    const text = [
      'INFO  jepsen.util - 0\t:invoke\t:cas\t[1 2]',
      'INFO  jepsen.util - 1\t:invoke\t:write\t3',
      'INFO  jepsen.util - 0\t:fail\t:cas\t[1 2]',
      'INFO  jepsen.util - 1\t:info\t:write\t:timed-out',
      'INFO  jepsen.util - 2 :invoke :read nil',
      'INFO  jepsen.util - 2 :ok :read nil',
    ].join('\n');
    const { format, history } = parseHistoryText(text, 'etcd.log');
    expect(format).toBe('porcupine-etcd');
    expect(history.operations.map((o) => [o.f, o.status, o.error])).toEqual([
      ['cas', 'fail', 'cas_mismatch'],
      ['write', 'info', 'timed-out'],
      ['read', 'ok', undefined],
    ]);
    expect(history.operations[2].output).toBeNull();
  });

  it('names the line of a malformed entry', () => {
    const text = 'INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\tseven';
    expect(errorOf(() => parseHistoryText(text, 'etcd.log')).message).toBe(
      'etcd.log:2: expected nil, an integer, [from to] or :timed-out as the value, got "seven"',
    );
    expect(errorOf(() => parseHistoryText('INFO  jepsen.util - x :invoke :read nil', 'e.log', 'porcupine-etcd')).line).toBe(1);
  });
});

describe('Jepsen EDN', () => {
  it('reads a vector of op maps with Knossos conventions', () => {
    const text = `[{:type :invoke, :f :write, :value 1, :process 0, :time 5, :index 0}
 {:type :ok, :f :write, :value 1, :process 0, :time 9, :index 1}
 {:type :invoke, :f :read, :value nil, :process 1, :time 10}
 {:type :ok, :f :read, :value nil, :process 1, :time 12}
 {:type :info, :f :start, :value [:isolated {"n1" #{"n2"}}], :process :nemesis, :time 13}
 #jepsen.history.Op{:type :invoke, :f :cas, :value [1 2], :process 2, :time 14}
 {:type :fail, :f :cas, :value [1 2], :process 2, :time 15}]`;
    const { format, history } = parseHistoryText(text, 'h.edn');
    expect(format).toBe('jepsen-edn');
    expect(history.operations).toHaveLength(3);
    expect(history.operations[0]).toMatchObject({ f: 'write', input: 1, status: 'ok', call: 5, ret: 9 });
    // A read completing with nil constrains nothing.
    expect(history.operations[1].output).toBeUndefined();
    expect(history.operations[2]).toMatchObject({ f: 'cas', input: [1, 2], status: 'fail', error: undefined });
    expect(history.faults).toHaveLength(1);
  });

  it('reads one map per line (Porcupine kv files)', () => {
    const text = '{:process 0, :type :invoke, :f :get, :key "3", :value nil}\n{:process 0, :type :ok, :f :get, :key "3", :value "x"}\n';
    const { format, history } = parseHistoryText(text, 'kv.txt');
    expect(format).toBe('porcupine-kv');
    expect(history.operations[0]).toMatchObject({ key: '3', output: 'x', status: 'ok' });
  });

  it.each([
    ['an unterminated map', '{:process 0, :type :invoke', /k\.edn:1: EDN syntax: unexpected end of input, expected "}"/],
    ['a bad type', '{:process 0, :type :done, :f :read}', /k\.edn:1: :type must be one of/],
    ['a missing process', '[{:type :invoke, :f :read}\n {:type :ok}]', /k\.edn:1: :process must be/],
    ['an unclosed vector', '[{:process 0, :type :invoke, :f :read}\n', /k\.edn:2: unexpected end of input, expected "]"/],
    ['a non-map', '[1 2]', /k\.edn:1: expected an op map/],
  ])('rejects %s with the line', (_name, bad, message) => {
    expect(errorOf(() => parseHistoryText(bad, 'k.edn', 'jepsen-edn')).message).toMatch(message);
  });

  it('exports to EDN that reads back to the same events', () => {
    const text = [
      '{"index":0,"time":10,"process":0,"type":"invoke","f":"cas","key":"k","value":[1,2]}',
      '{"index":1,"time":20,"process":0,"type":"fail","f":"cas","key":"k","value":[1,2],"error":"cas_mismatch"}',
      '{"index":2,"time":30,"process":"nemesis","type":"info","f":"kill","value":"n1 \\"x\\""}',
    ].join('\n');
    const { events } = parseHistoryText(text, 'h.jsonl');
    const edn = formatJepsenEdn(events);
    expect(edn).toContain(':process :nemesis');
    const back = parseHistoryText(edn, 'h.edn', 'jepsen-edn').events;
    expect(back).toEqual(events);
  });

  it('reads keywords, strings with escapes, sets, comments and discards', () => {
    const reader = new EdnReader('; comment\n#_ :skipped [:a "b\\"c" #{1} (2.5 -3) nil true \\x]');
    const value = reader.read() as unknown[];
    expect(value[0]).toBeInstanceOf(Keyword);
    expect(value.slice(1)).toEqual(['b"c', new Set([1]), [2.5, -3], null, true, 'x']);
  });
});

describe('format detection', () => {
  it('says what it expected when it cannot tell', () => {
    expect(errorOf(() => parseHistoryText('\n\nhello world', 'x.txt')).message).toMatch(/x\.txt:3: cannot tell the format/);
  });
});
