// Each model's step, roles, validation and descriptions.

import { describe, expect, it } from 'vitest';
import { createModel, MODEL_NAMES } from '../../checker/models/index.js';
import { ops } from './ops.js';

describe('register and cas-register', () => {
  const cas = createModel('cas-register');
  const [write, read, readAbsent, casOk, casMismatch, casInfo] = ops(
    { f: 'write', input: 3, call: 0 },
    { f: 'read', output: 3, call: 0 },
    { f: 'read', output: null, call: 0 },
    { f: 'cas', input: [3, 4], call: 0 },
    { f: 'cas', input: [3, 4], status: 'fail', error: 'cas_mismatch', call: 0 },
    { f: 'cas', input: [3, 4], status: 'info', call: 0 },
  );

  it('starts absent and steps', () => {
    expect(cas.init()).toBeNull();
    expect(cas.step(null, write)).toBe(3);
    expect(cas.step(3, read)).toBe(3);
    expect(cas.step(2, read)).toBeUndefined();
    expect(cas.step(null, readAbsent)).toBeNull();
    expect(cas.step(3, casOk)).toBe(4);
    expect(cas.step(2, casOk)).toBeUndefined();
    // A mismatch observes state != from.
    expect(cas.step(2, casMismatch)).toBe(2);
    expect(cas.step(3, casMismatch)).toBeUndefined();
    expect(cas.step(3, casInfo)).toBe(4);
  });

  it('gives roles: ok required, indeterminate optional, unknown reads skipped', () => {
    expect(cas.role(write)).toBe('required');
    expect(cas.role(casMismatch)).toBe('required');
    expect(cas.role(casInfo)).toBe('optional');
    expect(cas.role({ ...read, status: 'info', output: undefined })).toBe('skip');
    expect(cas.role({ ...read, output: undefined })).toBe('skip');
    expect(cas.role({ ...casMismatch, error: undefined })).toBe('skip');
    expect(cas.readOnly(read)).toBe(true);
    expect(cas.readOnly(casMismatch)).toBe(true);
    expect(cas.readOnly(write)).toBe(false);
  });

  it('takes an initial value', () => {
    expect(createModel('register', { initial: 0 }).init()).toBe(0);
  });

  it('validates operations and describes them', () => {
    expect(createModel('register').validate(casOk)).toMatch(
      /operation "cas" is not one model register understands \(expected one of: read, write\)/,
    );
    expect(cas.validate({ ...casOk, input: 5 })).toMatch(/cas needs a \[from, to\] pair as its value, got 5/);
    expect(cas.describeOp(casMismatch)).toBe('cas 3->4 -> mismatch');
    expect(cas.describeOp(read)).toBe('read -> 3');
    expect(cas.describeState(null)).toBe('nil');
  });

  it('hashes equal states equally', () => {
    expect(cas.hash(3)).toBe(cas.hash(3));
    expect(cas.equal([1, 2], [1, 2])).toBe(true);
    expect(cas.hash('3')).not.toBe(cas.hash(3));
  });
});

describe('kv (6.824) and kv-cas', () => {
  const kv = createModel('kv');
  const full = createModel('kv-cas');
  const [put, append, get, getAbsent, del, casOk] = ops(
    { f: 'put', key: 'a', input: 'x', call: 0 },
    { f: 'append', key: 'a', input: 'y', call: 0 },
    { f: 'get', key: 'a', output: 'xy', call: 0 },
    { f: 'get', key: 'a', output: null, call: 0 },
    { f: 'delete', key: 'a', call: 0 },
    { f: 'cas', key: 'a', input: ['xy', 'z'], call: 0 },
  );

  it('kv starts at "" and appends', () => {
    expect(kv.init()).toBe('');
    expect(kv.step(kv.step('', put), append)).toBe('xy');
    expect(kv.step('xy', get)).toBe('xy');
    expect(kv.step('', { ...get, output: '' })).toBe('');
  });

  it('kv-cas starts absent, deletes and compares', () => {
    expect(full.init()).toBeNull();
    expect(full.step(null, getAbsent)).toBeNull();
    expect(full.step(null, append)).toBe('y');
    expect(full.step('xy', del)).toBeNull();
    expect(full.step('xy', casOk)).toBe('z');
    expect(full.step('q', casOk)).toBeUndefined();
    expect(kv.validate(del)).toMatch(/operation "delete" is not one model kv understands/);
    expect(full.validate({ ...put, key: undefined })).toBe('put needs a key');
  });

  it('splits by key', () => {
    const history = ops(
      { f: 'put', key: 'a', input: '1', call: 0 },
      { f: 'put', key: 'b', input: '2', call: 1 },
      { f: 'get', key: 'a', output: '1', call: 2 },
    );
    expect(kv.partition(history).map((part) => part.map((op) => op.id))).toEqual([[0, 2], [1]]);
  });

  it('checked whole, the state holds every key', () => {
    const whole = createModel('kv', { whole: true });
    const history = ops({ f: 'put', key: 'a', input: '1', call: 0 }, { f: 'put', key: 'b', input: '2', call: 1 });
    const state = whole.step(whole.step(whole.init(), history[0])!, history[1])!;
    expect(whole.describeState(state)).toBe('{"a": "1", "b": "2"}');
    expect(whole.equal(state, { b: '2', a: '1' })).toBe(true);
    expect(whole.hash(state)).toBe(whole.hash({ b: '2', a: '1' }));
    expect(whole.partition(history)).toHaveLength(1);
  });

  it('lists every model', () => {
    expect(MODEL_NAMES).toEqual(['register', 'cas-register', 'kv', 'kv-cas']);
    expect(() => createModel('queue')).toThrow(/unknown model "queue" \(expected one of: register, cas-register, kv, kv-cas\)/);
  });
});
