// The wire codec: every message type round-trips, frames are cut correctly however the stream is
// split, and untrusted bytes (garbage, truncated, oversized) give an error value, never a throw.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeHandshake,
  decodeMessage,
  encodeFrame,
  encodeHandshakeFrame,
  encodeMessage,
  FRAME_HEADER_BYTES,
  FrameReader,
  FrameReaderOptionsError,
  isDecodeError,
  PROTOCOL_VERSION,
} from '../../../src/node/transport/codec.js';
import { validateMessage, type Message } from '../../../src/raft/message.js';
import { anyMessage, canonical, messageByType, patternBytes, PROPERTY_RUNS, PROPERTY_SEED } from './arbitraries.js';

const SHAPE_ONLY = {
  entriesMax: Number.MAX_SAFE_INTEGER,
  entryBytesMax: Number.MAX_SAFE_INTEGER,
  entriesBytesMax: Number.MAX_SAFE_INTEGER,
};
const settings = (numRuns = PROPERTY_RUNS) => ({ seed: PROPERTY_SEED, numRuns });

const heartbeat: Message = { type: 'Heartbeat', from: 'n1', to: 'n2', term: 3, commit: 7, context: '' };

function errorOf(result: object): string {
  expect(isDecodeError(result), `expected an error, got ${JSON.stringify(result)}`).toBe(true);
  return (result as { error: string }).error;
}

/** A payload built by hand: type byte, then the given pieces. */
function payload(...parts: (number | number[] | string)[]): Uint8Array {
  const bytes: number[] = [];
  for (const part of parts) {
    if (typeof part === 'number') bytes.push(part);
    else if (typeof part === 'string') bytes.push(part.length, ...Buffer.from(part, 'latin1'));
    else bytes.push(...part);
  }
  return Uint8Array.from(bytes);
}

describe('message codec', () => {
  for (const [type, arbitrary] of Object.entries(messageByType)) {
    it(`round-trips ${type}`, () => {
      fc.assert(
        fc.property(arbitrary, (m) => {
          const frame = encodeFrame(m);
          expect(frame.readUInt32BE(0)).toBe(frame.length - FRAME_HEADER_BYTES);
          const decoded = decodeMessage(frame.subarray(FRAME_HEADER_BYTES));
          expect(canonical(decoded)).toEqual(canonical(m));
          expect(encodeMessage(m).equals(frame.subarray(FRAME_HEADER_BYTES))).toBe(true);
        }),
        settings(type === 'AppendEntries' || type === 'InstallSnapshot' ? PROPERTY_RUNS : 100),
      );
    });
  }

  it('round-trips a large entry and decodes byte fields as copies', () => {
    const big = patternBytes(5 * 1024 * 1024, 7);
    const m: Message = {
      type: 'AppendEntries',
      from: 'n1',
      to: 'n2',
      term: 2,
      prevLogIndex: 9,
      prevLogTerm: 1,
      commit: 9,
      entries: [
        { term: 2, index: 10, data: big },
        { term: 2, index: 11, data: new Uint8Array(0) },
      ],
    };
    const body = encodeMessage(m);
    const decoded = decodeMessage(body);
    expect(canonical(decoded)).toEqual(canonical(m));
    body.fill(0);
    expect(canonical((decoded as typeof m).entries[0].data)).toEqual(canonical(big));
  });

  it('is compact: a small AppendEntries takes a few bytes over its data', () => {
    const m: Message = {
      type: 'AppendEntries',
      from: 'n1',
      to: 'n2',
      term: 5,
      prevLogIndex: 100,
      prevLogTerm: 5,
      commit: 99,
      entries: [{ term: 5, index: 101, data: patternBytes(16) }],
    };
    // Frame length, type, from, to, term, prev index (2), prev term, commit, entry count, entry term,
    // entry index (2), data length, data, and the (empty) read context's length.
    expect(encodeFrame(m).length).toBeLessThanOrEqual(4 + 1 + 3 + 3 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 16 + 1);
  });

  it('names what is wrong in hand-made bad payloads', () => {
    expect(errorOf(decodeMessage(new Uint8Array(0)))).toMatch(/truncated: type/);
    expect(errorOf(decodeMessage(payload(99)))).toBe('unknown message type byte 99');
    expect(errorOf(decodeMessage(payload(0)))).toBe('unknown message type byte 0');
    // RequestVoteResponse n1->n2, term 1, granted = 2.
    expect(errorOf(decodeMessage(payload(2, 'n1', 'n2', 1, 2)))).toMatch(/granted at byte 8 is 2, not a boolean/);
    // A term varint of 9 continuation bytes.
    expect(errorOf(decodeMessage(payload(11, 'n1', 'n2', [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])))).toMatch(
      /longer than 8 bytes/,
    );
    // A term of 2^56 - 1.
    expect(errorOf(decodeMessage(payload(11, 'n1', 'n2', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])))).toMatch(/exceeds 2\^53 - 1/);
    // A term of 0 written in two bytes.
    expect(errorOf(decodeMessage(payload(11, 'n1', 'n2', [0x80, 0x00])))).toMatch(/term at byte 7 is a non-canonical varint/);
    // A from string claiming more bytes than there are.
    expect(errorOf(decodeMessage(payload(11, [50, 0x6e])))).toMatch(/from at byte 1 claims 50 items/);
    // Invalid UTF-8 in an id.
    expect(errorOf(decodeMessage(payload(11, [2, 0xc3, 0x28], 'n2', 1)))).toMatch(/from at byte 1 is not valid UTF-8/);
    // AppendEntries claiming 2^50 entries: rejected before any allocation.
    const hugeCount = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02];
    expect(errorOf(decodeMessage(payload(5, 'n1', 'n2', 1, 0, 0, 0, hugeCount)))).toMatch(/entries at byte \d+ claims \d+ items/);
    // Well-formed bytes, but the core's shape check fails: term 0, from == to, entry index gap.
    expect(errorOf(decodeMessage(payload(11, 'n1', 'n2', 0)))).toBe('invalid TimeoutNow: bad-term');
    expect(errorOf(decodeMessage(payload(11, 'n1', 'n1', 1)))).toBe('invalid TimeoutNow: from-self');
    expect(errorOf(decodeMessage(payload(11, '', 'n1', 1)))).toBe('invalid TimeoutNow: bad-address');
    expect(errorOf(decodeMessage(payload(5, 'n1', 'n2', 3, 4, 2, 4, 1, 3, 9, 0, 0)))).toBe('invalid AppendEntries: bad-entry-index');
    // Trailing bytes after a complete message.
    expect(errorOf(decodeMessage(payload(11, 'n1', 'n2', 1, 0)))).toBe('1 trailing bytes after TimeoutNow');
  });

  it('never throws on random bytes, and anything it accepts is a valid message that re-encodes identically', () => {
    // Raw bytes rarely get past the first field, so most cases are a real header (type, from, to)
    // followed by bytes biased to small values, which reach every field decoder.
    const smallBytes = fc.array(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 })), { maxLength: 40 });
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 96 }),
      fc.tuple(fc.integer({ min: 0, max: 13 }), smallBytes).map(([type, tail]) => payload(type, 'n1', 'n2', tail)),
    );
    let accepted = 0;
    fc.assert(
      fc.property(input, (bytes) => {
        const result = decodeMessage(bytes);
        if (isDecodeError(result)) {
          expect(typeof result.error).toBe('string');
          expect(result.error.length).toBeGreaterThan(0);
        } else {
          accepted++;
          expect(validateMessage(result, result.to, SHAPE_ONLY)).toBeUndefined();
          expect(encodeMessage(result).equals(bytes)).toBe(true);
        }
      }),
      settings(2000),
    );
    // Both branches must run, or the property proves little.
    expect(accepted).toBeGreaterThan(20);
    expect(accepted).toBeLessThan(1000);
  });

  it('rejects every strict prefix and any extension of a valid payload, and survives byte flips', () => {
    fc.assert(
      fc.property(
        anyMessage,
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        (m, cutSeed, flipSeed, xor, extra) => {
          const body = encodeMessage(m);
          const cut = cutSeed % body.length;
          expect(errorOf(decodeMessage(body.subarray(0, cut)))).toMatch(/^truncated: /);
          expect(errorOf(decodeMessage(Buffer.concat([body, extra])))).toMatch(/trailing bytes/);
          const flipped = Buffer.from(body);
          flipped[flipSeed % body.length] ^= xor;
          const result = decodeMessage(flipped);
          if (!isDecodeError(result)) expect(validateMessage(result, result.to, SHAPE_ONLY)).toBeUndefined();
        },
      ),
      settings(),
    );
  });
});

describe('handshake', () => {
  it('round-trips, including unicode ids', () => {
    for (const h of [
      { from: 'n1', to: 'n2' },
      { from: 'nœud-α', to: 'узел' },
    ]) {
      const frame = encodeHandshakeFrame(h);
      expect(frame.readUInt32BE(0)).toBe(frame.length - FRAME_HEADER_BYTES);
      expect(decodeHandshake(frame.subarray(FRAME_HEADER_BYTES))).toEqual(h);
    }
  });

  it('rejects a message, a wrong magic or version, empty ids and trailing bytes', () => {
    const good = encodeHandshakeFrame({ from: 'n1', to: 'n2' }).subarray(FRAME_HEADER_BYTES);
    expect(errorOf(decodeHandshake(encodeMessage(heartbeat)))).toMatch(/bad magic/);
    const version = Buffer.from(good);
    version[4] = PROTOCOL_VERSION + 1;
    expect(errorOf(decodeHandshake(version))).toMatch(`unsupported protocol version ${PROTOCOL_VERSION + 1}`);
    expect(errorOf(decodeHandshake(Buffer.concat([good, Buffer.from([0])])))).toMatch(/trailing/);
    expect(errorOf(decodeHandshake(good.subarray(0, good.length - 1)))).toMatch(/truncated/);
    const empty = Buffer.concat([good.subarray(0, 5), Buffer.from([0, 2]), Buffer.from('n2')]);
    expect(errorOf(decodeHandshake(empty))).toMatch(/bad sender id ""/);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), (bytes, withMagic) => {
        const input = withMagic ? Buffer.concat([Buffer.from('SKPS'), Buffer.from([PROTOCOL_VERSION]), bytes]) : bytes;
        const result = decodeHandshake(input);
        if (!isDecodeError(result)) expect(result.from.length * result.to.length).toBeGreaterThan(0);
      }),
      settings(2000),
    );
  });
});

describe('FrameReader', () => {
  it('yields the same payloads however the stream is split', () => {
    fc.assert(
      fc.property(fc.array(anyMessage, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 12 }), (messages, cutSeeds) => {
        const frames = messages.map(encodeFrame);
        const stream = Buffer.concat(frames);
        const cuts = [...new Set(cutSeeds.map((c) => c % stream.length))].sort((a, b) => a - b);
        const reader = new FrameReader();
        const payloads: Buffer[] = [];
        let start = 0;
        for (const end of [...cuts, stream.length]) {
          const { payloads: got, error } = reader.push(stream.subarray(start, end));
          expect(error).toBeUndefined();
          payloads.push(...got);
          start = end;
        }
        expect(canonical(payloads)).toEqual(canonical(frames.map((f) => f.subarray(FRAME_HEADER_BYTES))));
        expect(reader.bufferedBytes()).toBe(0);
        expect(canonical(payloads.map(decodeMessage))).toEqual(canonical(messages));
      }),
      settings(100),
    );
  });

  it('handles one byte at a time, and a large frame in socket-sized chunks', () => {
    const small = encodeFrame(heartbeat);
    const reader = new FrameReader();
    const got: Buffer[] = [];
    for (const byte of Buffer.concat([small, small])) got.push(...reader.push(Uint8Array.of(byte)).payloads);
    expect(got.map(decodeMessage)).toEqual([heartbeat, heartbeat]);

    const big = Buffer.concat([encodeFrame({ ...heartbeat, context: 'x' }), Buffer.alloc(4), patternBytes(3_000_000)]);
    big.writeUInt32BE(3_000_000, big.length - 3_000_004);
    const payloads: Buffer[] = [];
    for (let i = 0; i < big.length; i += 65536) payloads.push(...reader.push(big.subarray(i, i + 65536)).payloads);
    expect(payloads.length).toBe(2);
    expect(payloads[1].equals(patternBytes(3_000_000))).toBe(true);
    expect(reader.bufferedBytes()).toBe(0);
  });

  it('reports an oversized frame from its header alone, and stays failed', () => {
    const reader = new FrameReader({ frameBytesMax: 1000 });
    const ok = encodeFrame(heartbeat);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1001);
    // A good frame then the oversized header in one chunk: the good one is still delivered.
    const first = reader.push(Buffer.concat([ok, header.subarray(0, 2)]));
    expect(first.payloads.length).toBe(1);
    expect(first.error).toBeUndefined();
    const second = reader.push(header.subarray(2));
    expect(second.error).toBe('frame of 1001 bytes exceeds frameBytesMax 1000');
    expect(reader.push(ok)).toEqual({ payloads: [], error: second.error });
    expect(reader.bufferedBytes()).toBe(0);
  });

  it('reports an empty frame and a 4 GiB length', () => {
    expect(new FrameReader().push(Buffer.alloc(4)).error).toBe('empty frame (length 0)');
    expect(new FrameReader().push(Buffer.from([0xff, 0xff, 0xff, 0xff])).error).toMatch(
      /frame of 4294967295 bytes exceeds frameBytesMax 67108864/,
    );
  });

  it('never throws on random streams, and holds at most one frame', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
        const reader = new FrameReader({ frameBytesMax: 4096 });
        for (const chunk of chunks) {
          const { payloads, error } = reader.push(chunk);
          for (const p of payloads) expect(p.length).toBeLessThanOrEqual(4096);
          if (error) expect(error).toMatch(/empty frame|exceeds frameBytesMax/);
          expect(reader.bufferedBytes()).toBeLessThanOrEqual(4096 + 4);
        }
      }),
      settings(500),
    );
  });

  it('validates its options, quoting the bad value', () => {
    expect(() => new FrameReader({ frameBytesMax: 0 })).toThrow(FrameReaderOptionsError);
    expect(() => new FrameReader({ frameBytesMax: 2 ** 33 })).toThrow(/got 8589934592/);
    expect(() => new FrameReader({ frameBytesMax: 1.5 })).toThrow(/got 1.5/);
  });
});
