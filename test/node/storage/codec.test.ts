// Pure codecs: CRC-32, WAL records and the segment scanner's torn-versus-corrupt decision, snapshot files.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Table } from '../../../src/kv/crc32.js';
import { decodeSnapshotFile, encodeSnapshotFile } from '../../../src/node/storage/snapshot-file.js';
import { encodeRecord, scanSegment, type WalRecord } from '../../../src/node/storage/wal-record.js';
import { entries } from './helpers.js';

const SEED = 20240604;

describe('crc32', () => {
  it('matches the standard check value and the native implementation', () => {
    const check = Buffer.from('123456789', 'latin1');
    expect(crc32Table(check)).toBe(0xcbf43926);
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Table(new Uint8Array(0))).toBe(0);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 300 }), (bytes, cut) => {
        const at = Math.min(cut, bytes.length);
        expect(crc32Table(bytes)).toBe(crc32(bytes));
        // Continuing over a split gives the checksum of the whole.
        expect(crc32Table(bytes.subarray(at), crc32Table(bytes.subarray(0, at)))).toBe(crc32(bytes));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});

describe('WAL records', () => {
  const samples: WalRecord[] = [
    { type: 'header', seq: 7, hardState: { term: 3, vote: 'n2', commit: 12 } },
    { type: 'hard-state', hardState: { term: 2 ** 40, vote: '', commit: 0 } },
    { type: 'entries', entries: entries(5, 9, 4) },
    { type: 'entries', entries: [{ index: 1, term: 1, data: new Uint8Array(0) }] },
  ];

  it('round-trips every record type through scanSegment', () => {
    const bytes = Buffer.concat(samples.map((record) => encodeRecord(record)));
    const scan = scanSegment(bytes);
    expect(scan.stop).toEqual({ kind: 'end' });
    expect(scan.records.map((r) => r.record)).toEqual(samples);
    expect(scan.records.map((r) => r.offset)).toEqual([
      0,
      ...samples.slice(0, -1).map((_, i) => scan.records[i].offset + scan.records[i].bytes),
    ]);
  });

  it('refuses to encode what it could not decode', () => {
    expect(() => encodeRecord({ type: 'entries', entries: [] })).toThrow(/at least one/);
    expect(() => encodeRecord({ type: 'entries', entries: [entries(1, 1, 1)[0], entries(3, 3, 1)[0]] })).toThrow(/index 3 follows 1/);
    expect(() => encodeRecord({ type: 'hard-state', hardState: { term: -1, vote: '', commit: 0 } })).toThrow(/48 bits/);
  });

  it('calls a damaged last record torn, and a damaged record with a valid one after it corrupt', () => {
    const records = samples.map((record) => encodeRecord(record));
    const whole = Buffer.concat(records);
    const lastStart = whole.length - records[records.length - 1].length;
    for (let cut = lastStart + 1; cut < whole.length; cut++) {
      const stop = scanSegment(whole.subarray(0, cut)).stop;
      expect(stop).toMatchObject({ kind: 'invalid', offset: lastStart, tornTail: true });
    }
    const middle = records[0].length + 10;
    const flipped = Buffer.from(whole);
    flipped[middle] ^= 0x01;
    const stop = scanSegment(flipped).stop;
    expect(stop).toMatchObject({ kind: 'invalid', offset: records[0].length, tornTail: false });
    if (stop.kind === 'invalid') expect(stop.reason).toMatch(/checksum mismatch; a valid record follows/);
    // Zeros after the last good record (a file extended but never written) are a torn tail.
    const zeros = Buffer.concat([whole, Buffer.alloc(100)]);
    expect(scanSegment(zeros).stop).toMatchObject({ kind: 'invalid', offset: whole.length, tornTail: true });
  });

  it('rejects absurd lengths without reading them', () => {
    const bytes = Buffer.alloc(16);
    bytes.writeUInt32LE(0xffffffff, 0);
    expect(scanSegment(bytes).stop).toMatchObject({ kind: 'invalid', offset: 0, tornTail: true, reason: expect.stringMatching(/length/) });
  });
});

describe('snapshot files', () => {
  it('round-trips and detects any flipped byte', () => {
    const file = {
      snapshot: { metadata: { index: 42, term: 7, configuration: { voters: ['n1', 'n2'] } }, data: Buffer.from('state bytes') },
      walSeqFrom: 3,
    };
    const bytes = encodeSnapshotFile(file);
    const decoded = decodeSnapshotFile(bytes);
    expect(decoded).toEqual({
      ok: true,
      file: { ...file, snapshot: { ...file.snapshot, data: new Uint8Array(Buffer.from('state bytes')) } },
    });
    for (let at = 0; at < bytes.length; at++) {
      const damaged = Buffer.from(bytes);
      damaged[at] ^= 0x40;
      expect(decodeSnapshotFile(damaged).ok, `flip at ${at}`).toBe(false);
    }
    expect(decodeSnapshotFile(bytes.subarray(0, bytes.length - 1)).ok).toBe(false);
  });
});
