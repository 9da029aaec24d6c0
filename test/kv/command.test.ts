// Commands: validation names the bad field and the expected type, the binary codec round-trips any
// valid command (any Unicode), and garbage decodes to an error value, never an exception.
// SKEPSIS_SEED and SKEPSIS_PROPERTY_RUNS replay or widen the property tests.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_ID_BYTES_MAX,
  decodeCommand,
  describeCommand,
  describeResult,
  encodeCommand,
  KEY_BYTES_MAX,
  KvAssertionError,
  validateCommand,
  VALUE_BYTES_MAX,
  type KvCommand,
} from '../../src/kv/index.js';
import { commandArbitrary, PROPERTY, RUNS } from './arbitraries.js';

function errorOf(result: KvCommand | { error: string }): string {
  if (!('error' in result)) throw new Error(`expected an error, got the command ${JSON.stringify(result)}`);
  return result.error;
}

describe('validateCommand', () => {
  it('accepts each op and returns a fresh object with only the known fields', () => {
    const inputs: KvCommand[] = [
      { op: 'get', key: 'k' },
      { op: 'put', key: 'k', value: '' },
      { op: 'append', key: 'k', value: 'x', clientId: 'c1', seq: 1 },
      { op: 'cas', key: 'k', from: null, to: 'v' },
      { op: 'cas', key: 'k', from: 'a', to: 'b', clientId: 'c', seq: Number.MAX_SAFE_INTEGER },
      { op: 'delete', key: 'k' },
    ];
    for (const input of inputs) {
      const result = validateCommand(input);
      expect(result).toEqual(input);
      expect(result).not.toBe(input);
    }
  });

  it('names the field and the expected type', () => {
    const cases: [unknown, RegExp][] = [
      [null, /^command: expected an object, got null/],
      [[1], /^command: expected an object/],
      ['put k v', /^command: expected an object, got "put k v"/],
      [{ key: 'k' }, /^op: expected one of "get", "put", "append", "cas", "delete", got nothing/],
      [{ op: 'frob', key: 'k' }, /^op: expected one of .*got "frob"/],
      [{ op: 'get' }, /^key: expected a string, got nothing \(the field is missing\)/],
      [{ op: 'get', key: 5 }, /^key: expected a string, got 5/],
      [{ op: 'get', key: '' }, /^key: expected a non-empty string/],
      [{ op: 'put', key: 'k' }, /^value: expected a string, got nothing/],
      [{ op: 'put', key: 'k', value: 3 }, /^value: expected a string, got 3/],
      [{ op: 'append', key: 'k', value: null }, /^value: expected a string, got null/],
      [{ op: 'cas', key: 'k', to: 'v' }, /^from: expected a string or null/],
      [{ op: 'cas', key: 'k', from: 1, to: 'v' }, /^from: expected a string or null .*got 1/],
      [{ op: 'cas', key: 'k', from: null, to: null }, /^to: expected a string, got null/],
      [{ op: 'get', key: 'k', value: 'v' }, /^value: unexpected field for op "get"/],
      [{ op: 'put', key: 'k', value: 'v', clientID: 'c', seq: 1 }, /^clientID: unexpected field/],
      [{ op: 'put', key: 'k', value: 'v', clientId: 'c' }, /^seq: expected a positive safe integer with clientId/],
      [{ op: 'put', key: 'k', value: 'v', seq: 1 }, /^clientId: expected a non-empty string with seq/],
      [{ op: 'put', key: 'k', value: 'v', clientId: '', seq: 1 }, /^clientId: expected a non-empty string/],
      [{ op: 'put', key: 'k', value: 'v', clientId: 7, seq: 1 }, /^clientId: expected a string, got 7/],
      [{ op: 'put', key: 'k', value: 'v', clientId: 'c', seq: 0 }, /^seq: expected a positive safe integer, got 0/],
      [{ op: 'put', key: 'k', value: 'v', clientId: 'c', seq: 1.5 }, /^seq: expected a positive safe integer, got 1.5/],
      [{ op: 'put', key: 'k', value: 'v', clientId: 'c', seq: '3' }, /^seq: expected a positive safe integer, got "3"/],
      [{ op: 'put', key: 'k', value: 'v', clientId: 'c', seq: 2 ** 53 }, /^seq: expected a positive safe integer, got 9007199254740992/],
      [{ op: 'put', key: 'k\ud800', value: 'v' }, /^key: expected well-formed Unicode text/],
      [{ op: 'put', key: 'k', value: 'a\udc00b' }, /^value: expected well-formed Unicode text/],
    ];
    for (const [input, pattern] of cases) expect(errorOf(validateCommand(input))).toMatch(pattern);
  });

  it('ignores inherited fields: only own properties count', () => {
    const inherited = Object.create({ op: 'get', key: 'k' }) as object;
    expect(errorOf(validateCommand(inherited))).toMatch(/^op: /);
  });

  it('enforces the byte limits in UTF-8 bytes, not UTF-16 units', () => {
    expect(validateCommand({ op: 'get', key: 'k'.repeat(KEY_BYTES_MAX) })).not.toHaveProperty('error');
    expect(errorOf(validateCommand({ op: 'get', key: 'k'.repeat(KEY_BYTES_MAX + 1) }))).toMatch(/^key: expected at most 1024 UTF-8 bytes/);
    // 'é' is one UTF-16 unit but two UTF-8 bytes.
    expect(validateCommand({ op: 'get', key: 'é'.repeat(KEY_BYTES_MAX / 2) })).not.toHaveProperty('error');
    expect(errorOf(validateCommand({ op: 'get', key: 'é'.repeat(KEY_BYTES_MAX / 2 + 1) }))).toBe(
      'key: expected at most 1024 UTF-8 bytes, got 1026',
    );
    // '😀' is two units and four bytes.
    expect(errorOf(validateCommand({ op: 'get', key: '😀'.repeat(257) }))).toBe('key: expected at most 1024 UTF-8 bytes, got 1028');
    expect(validateCommand({ op: 'put', key: 'k', value: 'v'.repeat(VALUE_BYTES_MAX) })).not.toHaveProperty('error');
    expect(errorOf(validateCommand({ op: 'put', key: 'k', value: 'v'.repeat(VALUE_BYTES_MAX + 1) }))).toMatch(
      /^value: expected at most 1048576/,
    );
    expect(errorOf(validateCommand({ op: 'cas', key: 'k', from: 'f'.repeat(VALUE_BYTES_MAX + 1), to: '' }))).toMatch(
      /^from: expected at most/,
    );
    const longClient = 'c'.repeat(CLIENT_ID_BYTES_MAX + 1);
    expect(errorOf(validateCommand({ op: 'delete', key: 'k', clientId: longClient, seq: 1 }))).toMatch(/^clientId: expected at most 256/);
  });

  it('quotes a long bad value only in part', () => {
    const error = errorOf(validateCommand({ op: 'put', key: 'k', value: 'v', clientId: 'c', seq: 'x'.repeat(10_000) }));
    expect(error.length).toBeLessThan(200);
    expect(error).toMatch(/\(10002 characters\)$/);
  });
});

describe('encodeCommand / decodeCommand', () => {
  it('round-trips any valid command, including any Unicode, a leading BOM and empty values', () => {
    fc.assert(
      fc.property(commandArbitrary({ keys: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), clients: 5 }), (command) => {
        expect(validateCommand(command)).toEqual(command);
        const bytes = encodeCommand(command);
        expect(decodeCommand(bytes)).toEqual(command);
        // Decoding then encoding gives the same bytes: one encoding per command.
        expect(encodeCommand(decodeCommand(bytes) as KvCommand)).toEqual(bytes);
      }),
      PROPERTY,
    );
    for (const value of ['\ufeffbom', '', '\u0000', 'a'.repeat(100), '€😀'.repeat(40)]) {
      const command: KvCommand = { op: 'put', key: '\ufeffk', value };
      expect(decodeCommand(encodeCommand(command))).toEqual(command);
    }
  });

  it('is compact: a small put with a session takes a few bytes more than its strings', () => {
    const bytes = encodeCommand({ op: 'put', key: 'x', value: 'y', clientId: 'c1', seq: 300 });
    // version, op, 1+2 for clientId, 2 for seq 300, 1+1 for key, 1+1 for value
    expect(bytes.length).toBe(11);
  });

  it('refuses to encode an invalid command (a programmer error)', () => {
    expect(() => encodeCommand({ op: 'put', key: '', value: 'v' })).toThrow(KvAssertionError);
    expect(() => encodeCommand({ op: 'put', key: 'k', value: 'v', clientId: 'c' } as KvCommand)).toThrow(/seq/);
  });

  it('decodes garbage to an error naming the field, never throwing', () => {
    const good = encodeCommand({ op: 'cas', key: 'key', from: 'old', to: 'new', clientId: 'c', seq: 5 });
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(0), /^version: expected a byte at offset 0/],
      [Uint8Array.of(2, 1), /^version: expected 1, got 2/],
      [Uint8Array.of(1), /^op: expected a byte/],
      [Uint8Array.of(1, 9, 1, 0x6b), /^op: expected a code from 1 to 5, got 9/],
      [Uint8Array.of(1, 0x41, 1, 0x6b), /^op: unknown flags/],
      [Uint8Array.of(1, 0x22, 1, 0x6b, 0), /^op: the from-null flag is only for cas/],
      [Uint8Array.of(1, 1), /^key: expected a varint at offset 2/],
      [Uint8Array.of(1, 1, 0), /^key: expected a non-empty string/],
      [Uint8Array.of(1, 1, 5, 0x6b), /^key: expected 5 bytes of UTF-8 at offset 3, but the input ends at 4/],
      [Uint8Array.of(1, 1, 2, 0xc3, 0x28), /^key: expected valid UTF-8/],
      // An encoded surrogate (U+D800) is not UTF-8.
      [Uint8Array.of(1, 1, 3, 0xed, 0xa0, 0x80), /^key: expected valid UTF-8/],
      [Uint8Array.of(1, 1, 0x81, 0x00, 0x6b), /^key: expected a minimal varint/],
      [Uint8Array.of(1, 1, 0x81, 0x08, 0x6b), /^key: expected at most 1024 UTF-8 bytes, got a length of 1025/],
      [Uint8Array.of(1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), /^key: expected a varint of at most 8 bytes/],
      [Uint8Array.of(1, 1, 1, 0x6b, 0), /^command: expected the command to end at offset 4, got 1 more bytes/],
      [Uint8Array.of(1, 2, 1, 0x6b), /^value: expected a varint/],
      [Uint8Array.of(1, 0x12, 1, 0x63, 0, 1, 0x6b), /^seq: expected a positive safe integer, got 0/],
      [Uint8Array.of(1, 0x12, 0, 1, 1, 0x6b), /^clientId: expected a non-empty string/],
      [good.subarray(0, good.length - 1), /^to: expected 3 bytes of UTF-8/],
    ];
    for (const [bytes, pattern] of cases) expect(errorOf(decodeCommand(bytes))).toMatch(pattern);
    expect(errorOf(decodeCommand('not bytes' as unknown as Uint8Array))).toMatch(/^command: expected a Uint8Array/);
  });

  it('never throws on random bytes, and whatever decodes is valid and re-encodes to the same bytes', () => {
    let decoded = 0;
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 24 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(0, 0x10, 0x20, 0x30),
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 3, max: 0x7f }), fc.uint8Array({ maxLength: 3 })), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 0x7f }),
        (tail, op, flags, chunks, seq) => {
          // Raw bytes; a plausible header then raw bytes; a header then as many length-prefixed
          // chunks as the op needs, which often form whole commands (some with bad UTF-8 or flags).
          const strings = op === 2 || op === 3 ? 2 : op === 4 ? ((flags & 0x20) !== 0 ? 2 : 3) : 1;
          const session = (flags & 0x10) !== 0;
          const used = chunks.slice(0, strings + (session ? 1 : 0));
          const prefixed = used.flatMap((chunk, i) => (session && i === 0 ? [chunk.length, ...chunk, seq] : [chunk.length, ...chunk]));
          for (const bytes of [tail, Uint8Array.of(1, op, ...tail), Uint8Array.of(1, op | flags, ...prefixed)]) {
            const result = decodeCommand(bytes);
            if ('error' in result) {
              expect(result.error).toMatch(/^[a-zA-Z]+: /);
            } else {
              decoded++;
              expect(validateCommand(result)).toEqual(result);
              expect(encodeCommand(result)).toEqual(bytes);
            }
          }
        },
      ),
      PROPERTY,
    );
    // The property must reach successful decodes too, or it checks little.
    expect(decoded).toBeGreaterThan(RUNS / 20);
  });

  it('bit flips in a good command either decode to a valid command or give an error', () => {
    const good = encodeCommand({ op: 'append', key: 'kéy', value: 'välue', clientId: 'client', seq: 1_000_000 });
    for (let i = 0; i < good.length * 8; i++) {
      const bytes = good.slice();
      bytes[i >> 3] ^= 1 << (i & 7);
      const result = decodeCommand(bytes);
      if (!('error' in result)) expect(validateCommand(result)).toEqual(result);
    }
  });
});

describe('describe', () => {
  it('renders commands and results in one short text form', () => {
    expect(describeCommand({ op: 'put', key: 'k', value: 'v', clientId: 'c1', seq: 4 })).toBe('c1#4 put k=v');
    expect(describeCommand({ op: 'append', key: 'k', value: 'v' })).toBe('append k+=v');
    expect(describeCommand({ op: 'cas', key: 'k', from: null, to: 'v' })).toBe('cas k null->v');
    expect(describeCommand({ op: 'get', key: 'k' })).toBe('get k');
    expect(describeCommand({ op: 'delete', key: 'x'.repeat(40) })).toBe(`delete ${'x'.repeat(32)}...(40)`);
    expect(describeResult({ ok: true })).toBe('ok');
    expect(describeResult({ ok: true, value: null })).toBe('ok null');
    expect(describeResult({ ok: false, error: 'cas_mismatch', value: 'v' })).toBe('cas_mismatch v');
    expect(describeResult({ ok: false, error: 'session_expired' })).toBe('session_expired');
  });
});
