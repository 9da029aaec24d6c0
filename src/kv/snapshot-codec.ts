// The KV snapshot format: deterministic bytes (the same state always gives the same bytes), a
// versioned header and a CRC-32 trailer; decoding validates everything and throws KvSnapshotError.
// It knows nothing of files: the node stores and ships the bytes.

import { ByteFormatError, ByteReader, ByteWriter } from './bytes.js';
import { CLIENT_ID_BYTES_MAX, KEY_BYTES_MAX, VALUE_BYTES_MAX } from './command.js';
import { crc32 } from './crc32.js';
import type { ClientSession, KvWriteResult } from './sessions.js';

/** "SKKV": the first four bytes of every KV snapshot. */
export const SNAPSHOT_MAGIC = Uint8Array.of(0x53, 0x4b, 0x4b, 0x56);
/** The fifth byte; a new layout gets a new version. */
export const SNAPSHOT_FORMAT_VERSION = 1;

/** A snapshot that cannot be restored: wrong magic or version, a bad checksum, or invalid contents. */
export class KvSnapshotError extends Error {
  override readonly name = 'KvSnapshotError';
}

/** A stored value with its UTF-8 byte length (kept so that appends check the size limit in O(1)). */
export interface StoredValue {
  value: string;
  valueBytes: number;
}

/** Everything a snapshot holds; sessions come in ascending lastIndex (LRU) order. */
export interface KvSnapshotState {
  sessionsMax: number;
  sessionIdleEntries: number;
  appliedIndex: number;
  sessionsEvicted: number;
  data: ReadonlyMap<string, StoredValue>;
  sessions: Iterable<ClientSession>;
}

export interface DecodedKvSnapshot extends KvSnapshotState {
  data: Map<string, StoredValue>;
  sessions: ClientSession[];
  /** UTF-8 bytes of all keys and values. */
  dataBytes: number;
}

const RESULT_OK = 0;
const RESULT_CAS_MISMATCH_ABSENT = 1;
const RESULT_CAS_MISMATCH_VALUE = 2;
const RESULT_VALUE_TOO_LARGE = 3;

const HEADER_BYTES = SNAPSHOT_MAGIC.length + 1;
const CHECKSUM_BYTES = 4;

/**
 * Layout (version 1; integers are minimal LEB128 varuints, strings a varuint byte length and UTF-8):
 * magic "SKKV", version u8, sessionsMax, sessionIdleEntries, appliedIndex, sessionsEvicted,
 * key count, then (key, value) pairs in ascending key order (UTF-16 code unit order, as JS `<`),
 * session count, then (clientId, seq, lastIndex, result tag u8, [value]) in ascending lastIndex,
 * then CRC-32 of all preceding bytes, u32 little-endian. Keys are sorted so that the bytes depend on
 * the state only, not on the order in which keys were inserted. `dataBytesHint` sizes the buffer.
 */
export function encodeSnapshot(state: KvSnapshotState, dataBytesHint = 0): Uint8Array {
  const writer = new ByteWriter(HEADER_BYTES + 64 + dataBytesHint + state.data.size * 8 + CHECKSUM_BYTES);
  for (const byte of SNAPSHOT_MAGIC) writer.u8(byte);
  writer.u8(SNAPSHOT_FORMAT_VERSION);
  writer.varuint(state.sessionsMax);
  writer.varuint(state.sessionIdleEntries);
  writer.varuint(state.appliedIndex);
  writer.varuint(state.sessionsEvicted);
  const keys = [...state.data.keys()].sort();
  writer.varuint(keys.length);
  for (const key of keys) {
    const stored = state.data.get(key) as StoredValue;
    writer.string(key);
    writer.string(stored.value, stored.valueBytes);
  }
  const sessions = [...state.sessions];
  writer.varuint(sessions.length);
  for (const session of sessions) {
    writer.string(session.clientId);
    writer.varuint(session.seq);
    writer.varuint(session.lastIndex);
    writeResult(writer, session.result);
  }
  const body = writer.lengthBytes;
  // The checksum covers the bytes so far; ByteWriter keeps them in one buffer, so finish() then patch.
  writer.u32le(0);
  const bytes = writer.finish();
  const checksum = crc32(bytes.subarray(0, body));
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(body, checksum, true);
  return bytes;
}

function writeResult(writer: ByteWriter, result: KvWriteResult): void {
  if (result.ok) {
    writer.u8(RESULT_OK);
  } else if (result.error === 'value_too_large') {
    writer.u8(RESULT_VALUE_TOO_LARGE);
  } else if (result.value === null) {
    writer.u8(RESULT_CAS_MISMATCH_ABSENT);
  } else {
    writer.u8(RESULT_CAS_MISMATCH_VALUE);
    writer.string(result.value);
  }
}

/** Reads and validates a snapshot; anything wrong throws KvSnapshotError naming what and where. */
export function decodeSnapshot(bytes: Uint8Array): DecodedKvSnapshot {
  if (!(bytes instanceof Uint8Array)) throw new KvSnapshotError(`snapshot: expected a Uint8Array, got ${typeof bytes}`);
  if (bytes.length < HEADER_BYTES + CHECKSUM_BYTES) {
    throw new KvSnapshotError(`snapshot: expected at least ${HEADER_BYTES + CHECKSUM_BYTES} bytes, got ${bytes.length}`);
  }
  for (let i = 0; i < SNAPSHOT_MAGIC.length; i++) {
    if (bytes[i] !== SNAPSHOT_MAGIC[i])
      throw new KvSnapshotError('snapshot: expected the magic "SKKV" at offset 0; this is not a KV snapshot');
  }
  const version = bytes[SNAPSHOT_MAGIC.length];
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw new KvSnapshotError(`snapshot: expected format version ${SNAPSHOT_FORMAT_VERSION}, got ${version}`);
  }
  const body = bytes.length - CHECKSUM_BYTES;
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(body, true);
  const computed = crc32(bytes.subarray(0, body));
  if (stored !== computed) {
    throw new KvSnapshotError(`snapshot: checksum mismatch (stored 0x${hex(stored)}, computed 0x${hex(computed)} over ${body} bytes)`);
  }
  const reader = new ByteReader(bytes, body);
  reader.offset = HEADER_BYTES;
  try {
    return readBody(reader);
  } catch (error) {
    if (error instanceof ByteFormatError) throw new KvSnapshotError(`snapshot: ${error.message}`);
    throw error;
  }
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}

function fail(field: string, message: string): never {
  throw new ByteFormatError(field, message);
}

function readBody(reader: ByteReader): DecodedKvSnapshot {
  const sessionsMax = reader.varuint('sessionsMax');
  if (sessionsMax < 1) fail('sessionsMax', `expected a positive integer, got ${sessionsMax}`);
  const sessionIdleEntries = reader.varuint('sessionIdleEntries');
  if (sessionIdleEntries < 1) fail('sessionIdleEntries', `expected a positive integer, got ${sessionIdleEntries}`);
  const appliedIndex = reader.varuint('appliedIndex');
  const sessionsEvicted = reader.varuint('sessionsEvicted');

  const keyCount = reader.varuint('keyCount');
  // Each pair takes at least 2 bytes (two length prefixes): a cheap bound before looping.
  if (keyCount * 2 > reader.remainingBytes)
    fail('keyCount', `expected at most ${Math.floor(reader.remainingBytes / 2)} keys, got ${keyCount}`);
  const data = new Map<string, StoredValue>();
  let dataBytes = 0;
  let previousKey: string | undefined;
  for (let i = 0; i < keyCount; i++) {
    const key = reader.string(`data[${i}].key`, KEY_BYTES_MAX);
    if (key.byteLength === 0) fail(`data[${i}].key`, 'expected a non-empty string, got ""');
    if (previousKey !== undefined && !(previousKey < key.text)) fail(`data[${i}].key`, 'expected keys in strictly ascending order');
    previousKey = key.text;
    const value = reader.string(`data[${i}].value`, VALUE_BYTES_MAX);
    data.set(key.text, { value: value.text, valueBytes: value.byteLength });
    dataBytes += key.byteLength + value.byteLength;
  }

  const sessionCount = reader.varuint('sessionCount');
  if (sessionCount > sessionsMax) fail('sessionCount', `expected at most sessionsMax = ${sessionsMax}, got ${sessionCount}`);
  if (sessionCount * 4 > reader.remainingBytes)
    fail('sessionCount', `expected at most ${Math.floor(reader.remainingBytes / 4)} sessions, got ${sessionCount}`);
  const sessions: ClientSession[] = [];
  const seen = new Set<string>();
  let previousIndex = 0;
  for (let i = 0; i < sessionCount; i++) {
    const field = `sessions[${i}]`;
    const clientId = reader.string(`${field}.clientId`, CLIENT_ID_BYTES_MAX).text;
    if (clientId.length === 0) fail(`${field}.clientId`, 'expected a non-empty string, got ""');
    if (seen.has(clientId)) fail(`${field}.clientId`, `expected unique client ids, got ${JSON.stringify(clientId)} twice`);
    seen.add(clientId);
    const seq = reader.varuint(`${field}.seq`);
    if (seq < 1) fail(`${field}.seq`, `expected a positive integer, got ${seq}`);
    const lastIndex = reader.varuint(`${field}.lastIndex`);
    if (lastIndex <= previousIndex) fail(`${field}.lastIndex`, `expected ascending indices above ${previousIndex}, got ${lastIndex}`);
    if (lastIndex > appliedIndex) fail(`${field}.lastIndex`, `expected at most appliedIndex = ${appliedIndex}, got ${lastIndex}`);
    if (appliedIndex - lastIndex >= sessionIdleEntries) {
      fail(
        `${field}.lastIndex`,
        `expected a session idle for fewer than ${sessionIdleEntries} entries, got lastIndex ${lastIndex} at appliedIndex ${appliedIndex}`,
      );
    }
    previousIndex = lastIndex;
    sessions.push({ clientId, seq, lastIndex, result: readResult(reader, `${field}.result`) });
  }
  if (reader.remainingBytes !== 0)
    fail('snapshot', `expected the checksum at offset ${reader.offset}, got ${reader.remainingBytes} more bytes first`);
  return { sessionsMax, sessionIdleEntries, appliedIndex, sessionsEvicted, data, dataBytes, sessions };
}

function readResult(reader: ByteReader, field: string): KvWriteResult {
  const tag = reader.u8(field);
  switch (tag) {
    case RESULT_OK:
      return { ok: true };
    case RESULT_CAS_MISMATCH_ABSENT:
      return { ok: false, error: 'cas_mismatch', value: null };
    case RESULT_CAS_MISMATCH_VALUE:
      return { ok: false, error: 'cas_mismatch', value: reader.string(`${field}.value`, VALUE_BYTES_MAX).text };
    case RESULT_VALUE_TOO_LARGE:
      return { ok: false, error: 'value_too_large' };
    default:
      return fail(field, `expected a result tag from 0 to 3, got ${tag}`);
  }
}
