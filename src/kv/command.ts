// KV commands and results, their validation (for log entries and for HTTP input alike) and a compact
// binary codec for log entries. Pure: no I/O; bad input is returned as `{ error }`, never thrown.

import { assert } from './assert.js';
import { ByteFormatError, ByteReader, ByteWriter, utf8ByteLength, varuintByteLength } from './bytes.js';

/** One key-value operation. Keys are non-empty; `cas` with `from: null` means "only if the key is absent". */
export type KvOp =
  | { op: 'get'; key: string }
  | { op: 'put'; key: string; value: string }
  | { op: 'append'; key: string; value: string }
  | { op: 'cas'; key: string; from: string | null; to: string }
  | { op: 'delete'; key: string };

/**
 * An operation with an optional client session, for exactly-once writes: `clientId` and `seq` come
 * together or not at all; `seq` is a positive safe integer that grows with each op of that client,
 * and a retry reuses it. Without a session a write applies once per log entry that carries it.
 */
export type KvCommand = KvOp & { clientId?: string; seq?: number };

export type KvOpName = KvOp['op'];

/**
 * What applying a command answered. Every `ok: false` is definite: the command changed nothing.
 * - ok: get carries `value` (null when absent); writes carry no value.
 * - cas_mismatch: the current value (null when absent) was not `from`.
 * - value_too_large: an append would make the value longer than VALUE_BYTES_MAX.
 * - session_expired: the client's session is gone (evicted, expired, or the seq is older than the
 *   session's); the client must take a fresh client id.
 */
export type KvResult =
  | { ok: true; value?: string | null }
  | { ok: false; error: 'cas_mismatch'; value: string | null }
  | { ok: false; error: 'value_too_large' }
  | { ok: false; error: 'session_expired' };

/** A command or result that could not be read; `error` names the field and what was expected. */
export interface KvInvalid {
  error: string;
}

/** Longest key, in UTF-8 bytes. Keys are also non-empty. */
export const KEY_BYTES_MAX = 1024;
/** Longest value (also after an append), in UTF-8 bytes. */
export const VALUE_BYTES_MAX = 1024 * 1024;
/** Longest client id, in UTF-8 bytes. Client ids are also non-empty. */
export const CLIENT_ID_BYTES_MAX = 256;
/** Largest encoded command: the codec never produces more and the decoder refuses more. */
export const COMMAND_BYTES_MAX = 2 + (3 + CLIENT_ID_BYTES_MAX) + 8 + (2 + KEY_BYTES_MAX) + 2 * (3 + VALUE_BYTES_MAX);

export const OP_NAMES: readonly KvOpName[] = ['get', 'put', 'append', 'cas', 'delete'];

/** First byte of every encoded command; a new layout gets a new version. */
export const COMMAND_FORMAT_VERSION = 1;

const OP_CODES: Record<KvOpName, number> = { get: 1, put: 2, append: 3, cas: 4, delete: 5 };
const OP_BY_CODE: (KvOpName | undefined)[] = [undefined, 'get', 'put', 'append', 'cas', 'delete'];
const OP_MASK = 0x0f;
const FLAG_SESSION = 0x10;
const FLAG_FROM_NULL = 0x20;

const FIELDS: Record<KvOpName, readonly string[]> = {
  get: ['op', 'key', 'clientId', 'seq'],
  put: ['op', 'key', 'value', 'clientId', 'seq'],
  append: ['op', 'key', 'value', 'clientId', 'seq'],
  cas: ['op', 'key', 'from', 'to', 'clientId', 'seq'],
  delete: ['op', 'key', 'clientId', 'seq'],
};

/** Whether the op changes state (and so goes through client-session de-duplication). */
export function isWrite(op: KvOpName): boolean {
  return op !== 'get';
}

/** A short rendering of a value for error messages: JSON, cut after 40 characters. */
function quote(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  let text: string;
  try {
    text = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 40 ? `${text.slice(0, 40)}... (${text.length} characters)` : text;
}

function own(record: Record<string, unknown>, field: string): unknown {
  return Object.hasOwn(record, field) ? record[field] : undefined;
}

/** Why `text` is not a valid string field of at most `bytesMax` UTF-8 bytes, or undefined when it is. */
function stringProblem(field: string, text: unknown, bytesMax: number, nonEmpty: boolean): string | undefined {
  if (typeof text !== 'string') return `${field}: expected a string, got ${quote(text)}`;
  if (nonEmpty && text.length === 0) return `${field}: expected a non-empty string, got ""`;
  // UTF-8 never takes fewer bytes than UTF-16 units, so a long string is refused without a scan.
  if (text.length > bytesMax) return `${field}: expected at most ${bytesMax} UTF-8 bytes, got at least ${text.length}`;
  const bytes = utf8ByteLength(text);
  if (bytes < 0) return `${field}: expected well-formed Unicode text, got a string with a lone surrogate`;
  if (bytes > bytesMax) return `${field}: expected at most ${bytesMax} UTF-8 bytes, got ${bytes}`;
  return undefined;
}

/**
 * Why `input` is not a valid KvCommand (naming the field and the expected type), or undefined when
 * it is. Unknown fields are refused: a misspelt `clientID` must not silently turn off de-duplication.
 */
export function commandProblem(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return `command: expected an object, got ${quote(input)}`;
  const record = input as Record<string, unknown>;
  const op = own(record, 'op');
  if (typeof op !== 'string' || !Object.hasOwn(OP_CODES, op)) {
    return `op: expected one of ${OP_NAMES.map((name) => `"${name}"`).join(', ')}, got ${quote(op)}`;
  }
  const fields = FIELDS[op as KvOpName];
  for (const field of Object.keys(record)) {
    if (!fields.includes(field)) return `${field}: unexpected field for op "${op}" (expected only ${fields.join(', ')})`;
  }
  const problem =
    stringProblem('key', own(record, 'key'), KEY_BYTES_MAX, true) ??
    (op === 'put' || op === 'append' ? stringProblem('value', own(record, 'value'), VALUE_BYTES_MAX, false) : undefined) ??
    (op === 'cas' ? casProblem(own(record, 'from'), own(record, 'to')) : undefined);
  if (problem !== undefined) return problem;
  const clientId = own(record, 'clientId');
  const seq = own(record, 'seq');
  if (clientId !== undefined) {
    const clientProblem = stringProblem('clientId', clientId, CLIENT_ID_BYTES_MAX, true);
    if (clientProblem !== undefined) return clientProblem;
    if (seq === undefined) return 'seq: expected a positive safe integer with clientId, got nothing (the field is missing)';
  }
  if (seq !== undefined) {
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return `seq: expected a positive safe integer, got ${quote(seq)}`;
    if (clientId === undefined) return 'clientId: expected a non-empty string with seq, got nothing (the field is missing)';
  }
  return undefined;
}

function casProblem(from: unknown, to: unknown): string | undefined {
  if (from !== null) {
    if (typeof from !== 'string') return `from: expected a string or null (null: the key is absent), got ${quote(from)}`;
    const problem = stringProblem('from', from, VALUE_BYTES_MAX, false);
    if (problem !== undefined) return problem;
  }
  return stringProblem('to', to, VALUE_BYTES_MAX, false);
}

/**
 * Checks untrusted input (a decoded HTTP body, a test's literal) and returns a fresh command holding
 * only the known fields, or `{ error }` naming the first bad field and the expected type.
 */
export function validateCommand(input: unknown): KvCommand | KvInvalid {
  const problem = commandProblem(input);
  if (problem !== undefined) return { error: problem };
  const record = input as KvCommand;
  // Fresh literals, not spreads: spreads are slow and would copy unknown fields.
  switch (record.op) {
    case 'get':
    case 'delete':
      return makeCommand(record.op, record.key, undefined, undefined, record.clientId, record.seq);
    case 'put':
    case 'append':
      return makeCommand(record.op, record.key, record.value, undefined, record.clientId, record.seq);
    case 'cas':
      return makeCommand('cas', record.key, record.from, record.to, record.clientId, record.seq);
  }
}

/**
 * Builds a command from already checked parts (`first` is value or cas from, `second` cas to),
 * always with the same field order so that all commands of one shape share a hidden class.
 */
function makeCommand(
  op: KvOpName,
  key: string,
  first: string | null | undefined,
  second: string | undefined,
  clientId: string | undefined,
  seq: number | undefined,
): KvCommand {
  switch (op) {
    case 'get':
    case 'delete':
      return clientId === undefined ? { op, key } : { op, key, clientId, seq };
    case 'put':
    case 'append':
      return clientId === undefined ? { op, key, value: first as string } : { op, key, value: first as string, clientId, seq };
    case 'cas':
      return clientId === undefined
        ? { op, key, from: first as string | null, to: second as string }
        : { op, key, from: first as string | null, to: second as string, clientId, seq };
  }
}

/**
 * Layout (version 1): [version=1][op code | 0x10 session | 0x20 cas-from-null]
 * [clientId string, seq varuint]? [key string] then put/append: [value string],
 * cas: [from string unless null][to string]. Strings are a varuint byte length and UTF-8.
 * The command must be valid (see validateCommand); an invalid one is a programmer error.
 */
export function encodeCommand(command: KvCommand): Uint8Array {
  const problem = commandProblem(command);
  assert(problem === undefined, () => `encodeCommand: invalid command (validate it first): ${problem}`);
  const strings: string[] = [];
  let flags = OP_CODES[command.op];
  if (command.clientId !== undefined) {
    flags |= FLAG_SESSION;
    strings.push(command.clientId);
  }
  strings.push(command.key);
  if (command.op === 'put' || command.op === 'append') strings.push(command.value);
  if (command.op === 'cas') {
    if (command.from === null) flags |= FLAG_FROM_NULL;
    else strings.push(command.from);
    strings.push(command.to);
  }
  // Exact size first, so that the entry owns a buffer with no slack.
  const lengths = strings.map(utf8ByteLength);
  let total = 2 + (command.seq === undefined ? 0 : varuintByteLength(command.seq));
  for (const length of lengths) total += varuintByteLength(length) + length;
  const writer = new ByteWriter(total);
  writer.u8(COMMAND_FORMAT_VERSION);
  writer.u8(flags);
  let next = 0;
  if (command.clientId !== undefined) {
    writer.string(strings[next], lengths[next++]);
    writer.varuint(command.seq as number);
  }
  for (; next < strings.length; next++) writer.string(strings[next], lengths[next]);
  assert(writer.lengthBytes === total, () => `encodeCommand: wrote ${writer.lengthBytes} bytes, expected ${total}`);
  return writer.finish();
}

/**
 * Reads an encoded command. Bad bytes (wrong version, unknown op, truncation, invalid UTF-8, limits
 * exceeded, trailing bytes) give `{ error }` naming the field; it never throws.
 */
export function decodeCommand(bytes: Uint8Array): KvCommand | KvInvalid {
  if (!(bytes instanceof Uint8Array)) return { error: `command: expected a Uint8Array, got ${quote(bytes)}` };
  if (bytes.length > COMMAND_BYTES_MAX) return { error: `command: expected at most ${COMMAND_BYTES_MAX} bytes, got ${bytes.length}` };
  try {
    return readCommand(new ByteReader(bytes));
  } catch (error) {
    if (error instanceof ByteFormatError) return { error: error.message };
    return { error: `command: could not be decoded: ${String(error)}` };
  }
}

function readCommand(reader: ByteReader): KvCommand | KvInvalid {
  const version = reader.u8('version');
  if (version !== COMMAND_FORMAT_VERSION) return { error: `version: expected ${COMMAND_FORMAT_VERSION}, got ${version}` };
  const flags = reader.u8('op');
  const op = OP_BY_CODE[flags & OP_MASK];
  if (op === undefined) return { error: `op: expected a code from 1 to 5, got ${flags & OP_MASK}` };
  if ((flags & ~(OP_MASK | FLAG_SESSION | FLAG_FROM_NULL)) !== 0) return { error: `op: unknown flags in byte 0x${flags.toString(16)}` };
  const fromNull = (flags & FLAG_FROM_NULL) !== 0;
  if (fromNull && op !== 'cas') return { error: `op: the from-null flag is only for cas, got it on ${op}` };
  let clientId: string | undefined;
  let seq: number | undefined;
  if ((flags & FLAG_SESSION) !== 0) {
    clientId = reader.string('clientId', CLIENT_ID_BYTES_MAX).text;
    if (clientId.length === 0) return { error: 'clientId: expected a non-empty string, got ""' };
    seq = reader.varuint('seq');
    if (seq < 1) return { error: `seq: expected a positive safe integer, got ${seq}` };
  }
  const key = reader.string('key', KEY_BYTES_MAX).text;
  if (key.length === 0) return { error: 'key: expected a non-empty string, got ""' };
  let first: string | null | undefined;
  let second: string | undefined;
  if (op === 'put' || op === 'append') first = reader.string('value', VALUE_BYTES_MAX).text;
  if (op === 'cas') {
    first = fromNull ? null : reader.string('from', VALUE_BYTES_MAX).text;
    second = reader.string('to', VALUE_BYTES_MAX).text;
  }
  if (reader.remainingBytes !== 0) {
    return { error: `command: expected the command to end at offset ${reader.offset}, got ${reader.remainingBytes} more bytes` };
  }
  return makeCommand(op, key, first, second, clientId, seq);
}

const DESCRIBE_CHARS_MAX = 32;

function short(text: string): string {
  return text.length > DESCRIBE_CHARS_MAX ? `${text.slice(0, DESCRIBE_CHARS_MAX)}...(${text.length})` : text;
}

/** The one text form of a command, e.g. `c1#4 put k=v`, `cas k null->v`, `append k+=v`. */
export function describeCommand(command: KvCommand): string {
  const session = command.clientId === undefined ? '' : `${command.clientId}#${command.seq} `;
  switch (command.op) {
    case 'get':
      return `${session}get ${short(command.key)}`;
    case 'delete':
      return `${session}delete ${short(command.key)}`;
    case 'put':
      return `${session}put ${short(command.key)}=${short(command.value)}`;
    case 'append':
      return `${session}append ${short(command.key)}+=${short(command.value)}`;
    case 'cas':
      return `${session}cas ${short(command.key)} ${command.from === null ? 'null' : short(command.from)}->${short(command.to)}`;
  }
}

/** The one text form of a result, e.g. `ok`, `ok v`, `ok null`, `cas_mismatch null`, `session_expired`. */
export function describeResult(result: KvResult): string {
  if (result.ok) return result.value === undefined ? 'ok' : `ok ${result.value === null ? 'null' : short(result.value)}`;
  if (result.error === 'cas_mismatch') return `cas_mismatch ${result.value === null ? 'null' : short(result.value)}`;
  return result.error;
}
