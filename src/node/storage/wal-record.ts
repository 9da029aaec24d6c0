// The WAL record codec and segment scanner: pure functions over bytes, no file access. A record is
// `u32 bodyBytes | u32 crc32(bodyBytes field + body) | body`, body = `u8 type | payload`, all little-endian.
//
// Record types and payloads (integers marked u48 are index/term/sequence numbers, < 2^48):
//   1 header      u32 magic "SKWL" | u16 version | u48 segment seq | hard state   (first record of every segment)
//   2 hard-state  u48 term | u48 commit | u16 voteBytes | vote (utf-8)
//   3 entries     u32 count | count x (u48 index | u48 term | u32 dataBytes | data), consecutive indices
// An entries record is replayed like MemoryStorage.append: it replaces any suffix at or after its
// first index, so conflicting appends replay to the same log.

import type { Entry, HardState } from '../../raft/types.js';
import { crc32 } from '../../kv/crc32.js';

/** Bytes before a record's body: length and checksum. */
export const RECORD_HEADER_BYTES = 8;
/** A length field above this is corruption, never an allocation request. */
export const RECORD_BYTES_MAX = 256 * 1024 * 1024;
const SEGMENT_MAGIC = 0x4c574b53; // "SKWL" little-endian
const SEGMENT_VERSION = 1;
const U48_MAX = 2 ** 48 - 1;
const VOTE_BYTES_MAX = 1024;

const TYPE_HEADER = 1;
const TYPE_HARD_STATE = 2;
const TYPE_ENTRIES = 3;
const KNOWN_TYPES = new Set([TYPE_HEADER, TYPE_HARD_STATE, TYPE_ENTRIES]);

export type WalRecord =
  | { type: 'header'; seq: number; hardState: HardState }
  | { type: 'hard-state'; hardState: HardState }
  | { type: 'entries'; entries: Entry[] };

/** Payload bytes of one entry inside an entries record. */
export function entryRecordBytes(entry: Entry): number {
  return 16 + entry.data.length;
}

/** Encodes one record, frame included. */
export function encodeRecord(record: WalRecord): Buffer {
  let payloadBytes: number;
  let vote: Buffer | undefined;
  switch (record.type) {
    case 'header':
      vote = voteBytes(record.hardState);
      payloadBytes = 4 + 2 + 6 + 12 + 2 + vote.length;
      break;
    case 'hard-state':
      vote = voteBytes(record.hardState);
      payloadBytes = 12 + 2 + vote.length;
      break;
    case 'entries':
      if (record.entries.length === 0) throw new RangeError('an entries record needs at least one entry');
      payloadBytes = 4;
      for (const entry of record.entries) payloadBytes += entryRecordBytes(entry);
      break;
  }
  const bodyBytes = 1 + payloadBytes;
  if (bodyBytes > RECORD_BYTES_MAX) throw new RangeError(`record body of ${bodyBytes} bytes exceeds ${RECORD_BYTES_MAX}`);
  const buffer = Buffer.allocUnsafe(RECORD_HEADER_BYTES + bodyBytes);
  buffer.writeUInt32LE(bodyBytes, 0);
  let at = RECORD_HEADER_BYTES;
  switch (record.type) {
    case 'header':
      buffer[at++] = TYPE_HEADER;
      buffer.writeUInt32LE(SEGMENT_MAGIC, at);
      buffer.writeUInt16LE(SEGMENT_VERSION, at + 4);
      at = writeU48(buffer, at + 6, record.seq);
      at = writeHardState(buffer, at, record.hardState, vote!);
      break;
    case 'hard-state':
      buffer[at++] = TYPE_HARD_STATE;
      at = writeHardState(buffer, at, record.hardState, vote!);
      break;
    case 'entries': {
      buffer[at++] = TYPE_ENTRIES;
      buffer.writeUInt32LE(record.entries.length, at);
      at += 4;
      let expected = record.entries[0].index;
      for (const entry of record.entries) {
        if (entry.index !== expected) throw new RangeError(`entries record: index ${entry.index} follows ${expected - 1}`);
        expected++;
        at = writeU48(buffer, at, entry.index);
        at = writeU48(buffer, at, entry.term);
        buffer.writeUInt32LE(entry.data.length, at);
        buffer.set(entry.data, at + 4);
        at += 4 + entry.data.length;
      }
      break;
    }
  }
  if (at !== buffer.length) throw new Error(`record encoder wrote ${at} of ${buffer.length} bytes`);
  buffer.writeUInt32LE(frameChecksum(buffer, 0, bodyBytes), 4);
  return buffer;
}

function frameChecksum(bytes: Uint8Array, offset: number, bodyBytes: number): number {
  const lengthField = bytes.subarray(offset, offset + 4);
  const body = bytes.subarray(offset + RECORD_HEADER_BYTES, offset + RECORD_HEADER_BYTES + bodyBytes);
  return crc32(body, crc32(lengthField));
}

function voteBytes(hardState: HardState): Buffer {
  const vote = Buffer.from(hardState.vote, 'utf8');
  if (vote.length > VOTE_BYTES_MAX) throw new RangeError(`vote ${JSON.stringify(hardState.vote)} is longer than ${VOTE_BYTES_MAX} bytes`);
  return vote;
}

function writeHardState(buffer: Buffer, at: number, hardState: HardState, vote: Buffer): number {
  at = writeU48(buffer, at, hardState.term);
  at = writeU48(buffer, at, hardState.commit);
  buffer.writeUInt16LE(vote.length, at);
  buffer.set(vote, at + 2);
  return at + 2 + vote.length;
}

function writeU48(buffer: Buffer, at: number, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > U48_MAX) throw new RangeError(`${value} does not fit in 48 bits`);
  buffer.writeUIntLE(value, at, 6);
  return at + 6;
}

/** A record's payload passed its checksum but does not parse: a format error, never a torn write. */
class DecodeError extends Error {}

class Reader {
  at: number;
  constructor(
    private readonly bytes: Buffer,
    start: number,
    private readonly end: number,
  ) {
    this.at = start;
  }
  need(count: number): void {
    if (this.at + count > this.end) throw new DecodeError(`payload ends ${this.at + count - this.end} bytes early`);
  }
  u16(): number {
    this.need(2);
    const value = this.bytes.readUInt16LE(this.at);
    this.at += 2;
    return value;
  }
  u32(): number {
    this.need(4);
    const value = this.bytes.readUInt32LE(this.at);
    this.at += 4;
    return value;
  }
  u48(): number {
    this.need(6);
    const value = this.bytes.readUIntLE(this.at, 6);
    this.at += 6;
    return value;
  }
  take(count: number): Uint8Array {
    this.need(count);
    // A copy: the caller may keep entries long after the segment buffer is gone.
    const value = new Uint8Array(this.bytes.subarray(this.at, this.at + count));
    this.at += count;
    return value;
  }
  hardState(): HardState {
    const term = this.u48();
    const commit = this.u48();
    const voteBytes = this.u16();
    if (voteBytes > VOTE_BYTES_MAX) throw new DecodeError(`vote of ${voteBytes} bytes`);
    const vote = Buffer.from(this.take(voteBytes)).toString('utf8');
    return { term, vote, commit };
  }
}

function decodeBody(bytes: Buffer, start: number, end: number): WalRecord {
  const reader = new Reader(bytes, start + 1, end);
  let record: WalRecord;
  switch (bytes[start]) {
    case TYPE_HEADER: {
      const magic = reader.u32();
      if (magic !== SEGMENT_MAGIC) throw new DecodeError(`bad segment magic 0x${magic.toString(16)}`);
      const version = reader.u16();
      if (version !== SEGMENT_VERSION) throw new DecodeError(`unsupported segment version ${version}`);
      const seq = reader.u48();
      record = { type: 'header', seq, hardState: reader.hardState() };
      break;
    }
    case TYPE_HARD_STATE:
      record = { type: 'hard-state', hardState: reader.hardState() };
      break;
    case TYPE_ENTRIES: {
      const count = reader.u32();
      if (count === 0) throw new DecodeError('entries record with no entries');
      const entries: Entry[] = [];
      for (let i = 0; i < count; i++) {
        const index = reader.u48();
        const term = reader.u48();
        const data = reader.take(reader.u32());
        if (i > 0 && index !== entries[i - 1].index + 1) throw new DecodeError(`entry ${index} follows ${entries[i - 1].index}`);
        entries.push({ index, term, data });
      }
      record = { type: 'entries', entries };
      break;
    }
    default:
      throw new DecodeError(`unknown record type ${bytes[start]}`);
  }
  if (reader.at !== end) throw new DecodeError(`${end - reader.at} bytes after the payload`);
  return record;
}

/** Why a frame at some offset is not a valid record. */
type FrameProblem = { torn: true; reason: string } | { torn: false; reason: string };

/** Checks the frame at `offset`: returns its body length, or why it is invalid. */
function checkFrame(bytes: Buffer, offset: number): number | FrameProblem {
  const remaining = bytes.length - offset;
  if (remaining < RECORD_HEADER_BYTES) return { torn: true, reason: `short header: ${remaining} of ${RECORD_HEADER_BYTES} bytes` };
  const bodyBytes = bytes.readUInt32LE(offset);
  if (bodyBytes === 0 || bodyBytes > RECORD_BYTES_MAX) return { torn: true, reason: `record length ${bodyBytes} out of range` };
  if (RECORD_HEADER_BYTES + bodyBytes > remaining) {
    return { torn: true, reason: `short record: needs ${RECORD_HEADER_BYTES + bodyBytes} bytes, ${remaining} remain` };
  }
  if (frameChecksum(bytes, offset, bodyBytes) !== bytes.readUInt32LE(offset + 4)) return { torn: true, reason: 'checksum mismatch' };
  return bodyBytes;
}

/** Offset of the first frame at or after `from` whose length and checksum are valid, if any. */
export function findValidFrame(bytes: Buffer, from: number): number | undefined {
  for (let offset = from; offset + RECORD_HEADER_BYTES < bytes.length; offset++) {
    const bodyBytes = bytes.readUInt32LE(offset);
    // Cheap rejections first: most misaligned offsets read an impossible length or type.
    if (bodyBytes === 0 || bodyBytes > bytes.length - offset - RECORD_HEADER_BYTES) continue;
    if (!KNOWN_TYPES.has(bytes[offset + RECORD_HEADER_BYTES])) continue;
    if (frameChecksum(bytes, offset, bodyBytes) === bytes.readUInt32LE(offset + 4)) return offset;
  }
  return undefined;
}

export interface ScannedRecord {
  offset: number;
  /** Frame bytes (header + body). */
  bytes: number;
  record: WalRecord;
}

export type ScanStop =
  | { kind: 'end' }
  /**
   * The record at `offset` is invalid. `tornTail` is true when it is damaged the way an interrupted
   * write damages a file (short, bad length or bad checksum) and no valid record follows it.
   */
  | { kind: 'invalid'; offset: number; reason: string; tornTail: boolean };

/** Parses a segment's bytes up to the first invalid record. */
export function scanSegment(bytes: Buffer): { records: ScannedRecord[]; stop: ScanStop } {
  const records: ScannedRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const frame = checkFrame(bytes, offset);
    if (typeof frame !== 'number') {
      let tornTail = frame.torn;
      let reason = frame.reason;
      if (tornTail) {
        const next = findValidFrame(bytes, offset + 1);
        if (next !== undefined) {
          tornTail = false;
          reason += `; a valid record follows at byte offset ${next}`;
        }
      }
      return { records, stop: { kind: 'invalid', offset, reason, tornTail } };
    }
    const end = offset + RECORD_HEADER_BYTES + frame;
    try {
      records.push({ offset, bytes: end - offset, record: decodeBody(bytes, offset + RECORD_HEADER_BYTES, end) });
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      return { records, stop: { kind: 'invalid', offset, reason: `checksum valid but ${error.message}`, tornTail: false } };
    }
    offset = end;
  }
  return { records, stop: { kind: 'end' } };
}
