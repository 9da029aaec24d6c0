// The peer wire format: length-prefixed frames, a compact binary layout for every Raft message, the
// dialer's handshake, and a reader that cuts a byte stream into frames. Pure code over bytes, no sockets.
// Decoding untrusted bytes never throws: it returns a value or `{ error }` naming what was wrong.

import { assert } from '../../raft/assert.js';
import { validateMessage, type Message, type MessageLimits, type MessageType } from '../../raft/message.js';
import type { Configuration, Entry, NodeId } from '../../raft/types.js';

/**
 * Frame layout: `u32 big-endian payload length` then the payload. A payload is either a handshake
 * (first frame of a connection only) or one message:
 *
 *   message   = type:u8 from:str to:str term:varint fields...   (fields in the order of FIELD_ORDER below)
 *   handshake = "SKPS" version:u8 from:str to:str
 *   varint    = unsigned LEB128, shortest form, at most 8 bytes, value <= Number.MAX_SAFE_INTEGER
 *   str       = byteLength:varint utf8 bytes (strict UTF-8)
 *   bytes     = length:varint raw bytes
 *   bool      = u8 0 or 1
 *   entries   = count:varint (term:varint index:varint data:bytes)*
 *   config    = count:varint voter:str*
 */
export const FRAME_HEADER_BYTES = 4;

/** Default largest payload a reader accepts: 64 MiB. */
export const FRAME_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;

/** Largest payload the u32 length can express. */
export const FRAME_BYTES_LIMIT = 0xffff_ffff;

/** The first bytes of a handshake; a message's type byte is never 'S' (0x53). */
export const PROTOCOL_MAGIC = Buffer.from('SKPS', 'latin1');

/** Bumped on any incompatible change of the layout above. */
export const PROTOCOL_VERSION = 1;

/** What was wrong with undecodable bytes. */
export interface DecodeError {
  error: string;
}

/** The dialer's first frame: who is talking to whom. */
export interface Handshake {
  from: NodeId;
  to: NodeId;
}

export function isDecodeError(value: object): value is DecodeError {
  return 'error' in value;
}

// Type bytes are part of the wire format: never renumber, only append.
const TYPE_BY_CODE: readonly (MessageType | undefined)[] = [
  undefined,
  'RequestVote',
  'RequestVoteResponse',
  'PreVote',
  'PreVoteResponse',
  'AppendEntries',
  'AppendEntriesResponse',
  'Heartbeat',
  'HeartbeatResponse',
  'InstallSnapshot',
  'InstallSnapshotResponse',
  'TimeoutNow',
];

const CODE_BY_TYPE = new Map<MessageType, number>(TYPE_BY_CODE.flatMap((type, code) => (type ? [[type, code]] : [])));

const ID_BYTES_MAX = 1024;

/** The codec checks shape only; size bounds are the frame's (frameBytesMax) and the core's own. */
const SHAPE_ONLY: MessageLimits = {
  entriesMax: Number.MAX_SAFE_INTEGER,
  entryBytesMax: Number.MAX_SAFE_INTEGER,
  entriesBytesMax: Number.MAX_SAFE_INTEGER,
};

// ---------------------------------------------------------------------------------------------
// Encoding. The size is computed exactly first so that one buffer of the right size is written once.

function varintBytes(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  if (value < 0x8_0000_0000) return 5;
  if (value < 0x400_0000_0000) return 6;
  if (value < 0x2_0000_0000_0000) return 7;
  return 8;
}

function count(value: number, field: string): number {
  assert(Number.isSafeInteger(value) && value >= 0, () => `cannot encode ${field}=${String(value)}: not a non-negative safe integer`);
  return varintBytes(value);
}

/** UTF-8 length; a loop for short ASCII strings (ids, contexts) beats the native call. */
function utf8Bytes(s: string): number {
  if (s.length <= 64) {
    let i = 0;
    while (i < s.length && s.charCodeAt(i) < 0x80) i++;
    if (i === s.length) return i;
  }
  return Buffer.byteLength(s, 'utf8');
}

function stringBytes(s: string, field: string): number {
  assert(typeof s === 'string', () => `cannot encode ${field}: not a string`);
  const n = utf8Bytes(s);
  return varintBytes(n) + n;
}

function dataBytes(data: Uint8Array, field: string): number {
  assert(data instanceof Uint8Array, () => `cannot encode ${field}: not a Uint8Array`);
  return varintBytes(data.length) + data.length;
}

function payloadBytes(m: Message): number {
  let n = 1 + stringBytes(m.from, 'from') + stringBytes(m.to, 'to') + count(m.term, 'term');
  switch (m.type) {
    case 'RequestVote':
      return n + count(m.lastLogIndex, 'lastLogIndex') + count(m.lastLogTerm, 'lastLogTerm') + 1;
    case 'PreVote':
      return n + count(m.lastLogIndex, 'lastLogIndex') + count(m.lastLogTerm, 'lastLogTerm');
    case 'RequestVoteResponse':
    case 'PreVoteResponse':
      return n + 1;
    case 'AppendEntries':
      n += count(m.prevLogIndex, 'prevLogIndex') + count(m.prevLogTerm, 'prevLogTerm') + count(m.commit, 'commit');
      n += varintBytes(m.entries.length);
      for (const e of m.entries) n += count(e.term, 'entry term') + count(e.index, 'entry index') + dataBytes(e.data, 'entry data');
      return n + stringBytes(m.context ?? '', 'context');
    case 'AppendEntriesResponse':
      return (
        n +
        1 +
        count(m.matchIndex, 'matchIndex') +
        count(m.rejectedIndex, 'rejectedIndex') +
        count(m.hintIndex, 'hintIndex') +
        count(m.hintTerm, 'hintTerm') +
        stringBytes(m.context ?? '', 'context')
      );
    case 'Heartbeat':
      return n + count(m.commit, 'commit') + stringBytes(m.context, 'context');
    case 'HeartbeatResponse':
      return n + stringBytes(m.context, 'context');
    case 'InstallSnapshot':
      n += count(m.snapshotIndex, 'snapshotIndex') + count(m.snapshotTerm, 'snapshotTerm');
      n += varintBytes(m.configuration.voters.length);
      for (const voter of m.configuration.voters) n += stringBytes(voter, 'voter');
      return n + count(m.sizeBytes, 'sizeBytes') + count(m.offset, 'offset') + dataBytes(m.data, 'data') + 1;
    case 'InstallSnapshotResponse':
      return n + count(m.snapshotIndex, 'snapshotIndex') + count(m.bytesReceived, 'bytesReceived');
    case 'TimeoutNow':
      return n;
  }
}

class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  u8(value: number): void {
    this.buf[this.pos++] = value;
  }

  u32(value: number): void {
    this.buf.writeUInt32BE(value, this.pos);
    this.pos += 4;
  }

  bool(value: boolean): void {
    this.buf[this.pos++] = value ? 1 : 0;
  }

  varint(value: number): void {
    const buf = this.buf;
    let pos = this.pos;
    while (value >= 0x80) {
      // `& 0x7f` is exact above 2^32 too: ToInt32 keeps the low bits.
      buf[pos++] = (value & 0x7f) | 0x80;
      value = value >= 0x1_0000_0000 ? Math.floor(value / 128) : value >>> 7;
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  str(s: string): void {
    const n = utf8Bytes(s);
    this.varint(n);
    if (n === s.length && n <= 64) {
      for (let i = 0; i < n; i++) this.buf[this.pos + i] = s.charCodeAt(i);
    } else {
      this.buf.write(s, this.pos, n, 'utf8');
    }
    this.pos += n;
  }

  bytes(data: Uint8Array): void {
    this.varint(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }
}

function writePayload(w: Writer, m: Message): void {
  w.u8(CODE_BY_TYPE.get(m.type) ?? 0);
  w.str(m.from);
  w.str(m.to);
  w.varint(m.term);
  switch (m.type) {
    case 'RequestVote':
      w.varint(m.lastLogIndex);
      w.varint(m.lastLogTerm);
      w.bool(m.transfer);
      return;
    case 'PreVote':
      w.varint(m.lastLogIndex);
      w.varint(m.lastLogTerm);
      return;
    case 'RequestVoteResponse':
    case 'PreVoteResponse':
      w.bool(m.granted);
      return;
    case 'AppendEntries':
      w.varint(m.prevLogIndex);
      w.varint(m.prevLogTerm);
      w.varint(m.commit);
      w.varint(m.entries.length);
      for (const e of m.entries) {
        w.varint(e.term);
        w.varint(e.index);
        w.bytes(e.data);
      }
      w.str(m.context ?? '');
      return;
    case 'AppendEntriesResponse':
      w.bool(m.success);
      w.varint(m.matchIndex);
      w.varint(m.rejectedIndex);
      w.varint(m.hintIndex);
      w.varint(m.hintTerm);
      w.str(m.context ?? '');
      return;
    case 'Heartbeat':
      w.varint(m.commit);
      w.str(m.context);
      return;
    case 'HeartbeatResponse':
      w.str(m.context);
      return;
    case 'InstallSnapshot':
      w.varint(m.snapshotIndex);
      w.varint(m.snapshotTerm);
      w.varint(m.configuration.voters.length);
      for (const voter of m.configuration.voters) w.str(voter);
      w.varint(m.sizeBytes);
      w.varint(m.offset);
      w.bytes(m.data);
      w.bool(m.done);
      return;
    case 'InstallSnapshotResponse':
      w.varint(m.snapshotIndex);
      w.varint(m.bytesReceived);
      return;
    case 'TimeoutNow':
      return;
  }
}

/**
 * One message as a whole frame (length header included), ready for a socket. The message is our own
 * (from the core): a field that cannot be encoded is a programmer error and fails an assertion.
 */
export function encodeFrame(m: Message): Buffer {
  assert(CODE_BY_TYPE.has(m.type), () => `cannot encode message type ${JSON.stringify(m.type)}`);
  const size = payloadBytes(m);
  assert(size <= FRAME_BYTES_LIMIT, () => `${m.type} of ${size} bytes does not fit a frame`);
  const w = new Writer(Buffer.allocUnsafe(FRAME_HEADER_BYTES + size));
  w.u32(size);
  writePayload(w, m);
  assert(w.pos === w.buf.length, () => `${m.type}: wrote ${w.pos} bytes, sized ${w.buf.length}`);
  return w.buf;
}

/** The payload of `encodeFrame(m)`, without the length header. */
export function encodeMessage(m: Message): Buffer {
  return encodeFrame(m).subarray(FRAME_HEADER_BYTES);
}

/** The dialer's first frame on every connection. */
export function encodeHandshakeFrame(h: Handshake): Buffer {
  const size = PROTOCOL_MAGIC.length + 1 + stringBytes(h.from, 'from') + stringBytes(h.to, 'to');
  const w = new Writer(Buffer.allocUnsafe(FRAME_HEADER_BYTES + size));
  w.u32(size);
  w.buf.set(PROTOCOL_MAGIC, w.pos);
  w.pos += PROTOCOL_MAGIC.length;
  w.u8(PROTOCOL_VERSION);
  w.str(h.from);
  w.str(h.to);
  assert(w.pos === w.buf.length, () => `handshake: wrote ${w.pos} bytes, sized ${w.buf.length}`);
  return w.buf;
}

// ---------------------------------------------------------------------------------------------
// Decoding. Internal failures throw Malformed; the exported functions turn every throw into a value.

class Malformed extends Error {
  override readonly name = 'Malformed';
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  pos = 0;
  readonly end: number;
  constructor(readonly buf: Uint8Array) {
    this.end = buf.length;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n)
      throw new Malformed(`truncated: ${what} at byte ${this.pos} needs ${n} bytes, ${this.end - this.pos} left`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  bool(what: string): boolean {
    const at = this.pos;
    const value = this.u8(what);
    if (value > 1) throw new Malformed(`${what} at byte ${at} is ${value}, not a boolean (0 or 1)`);
    return value === 1;
  }

  varint(what: string): number {
    const at = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const byte = this.u8(what);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        // One encoding per value, so that accepted bytes re-encode identically.
        if (byte === 0 && i > 0) throw new Malformed(`${what} at byte ${at} is a non-canonical varint`);
        if (value > Number.MAX_SAFE_INTEGER) throw new Malformed(`${what} at byte ${at} exceeds 2^53 - 1`);
        return value;
      }
      scale *= 128;
    }
    throw new Malformed(`${what} at byte ${at} is a varint longer than 8 bytes`);
  }

  /** A length that must fit in what is left, each item taking at least `itemBytesMin` bytes. */
  length(what: string, itemBytesMin: number): number {
    const at = this.pos;
    const n = this.varint(`${what} length`);
    if (n * itemBytesMin > this.end - this.pos)
      throw new Malformed(`truncated: ${what} at byte ${at} claims ${n} items, more than the ${this.end - this.pos} bytes left`);
    return n;
  }

  str(what: string, bytesMax: number): string {
    const at = this.pos;
    const n = this.length(what, 1);
    if (n > bytesMax) throw new Malformed(`${what} at byte ${at} is ${n} bytes long, more than ${bytesMax}`);
    const start = this.pos;
    this.pos += n;
    const buf = this.buf;
    let ascii = true;
    for (let i = start; i < this.pos; i++) {
      if (buf[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      // Ids are short: a loop beats both a spread and a native call here.
      if (n > 32) return Buffer.from(buf.buffer, buf.byteOffset + start, n).toString('latin1');
      let text = '';
      for (let k = start; k < this.pos; k++) text += String.fromCharCode(buf[k]);
      return text;
    }
    try {
      return strictUtf8.decode(buf.subarray(start, this.pos));
    } catch {
      throw new Malformed(`${what} at byte ${at} is not valid UTF-8`);
    }
  }

  /** A copy, so that a decoded message never pins the (possibly large) frame it came in. */
  bytes(what: string): Uint8Array {
    const n = this.length(what, 1);
    const copy = new Uint8Array(n);
    copy.set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return copy;
  }

  done(what: string): void {
    if (this.pos !== this.end) throw new Malformed(`${this.end - this.pos} trailing bytes after ${what}`);
  }
}

function readEntries(r: Reader): Entry[] {
  // Each entry takes at least 3 bytes (term, index, data length), which bounds the array up front.
  const n = r.length('entries', 3);
  const entries: Entry[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const term = r.varint(`entries[${i}].term`);
    const index = r.varint(`entries[${i}].index`);
    entries[i] = { term, index, data: r.bytes(`entries[${i}].data`) };
  }
  return entries;
}

function readConfiguration(r: Reader): Configuration {
  const n = r.length('voters', 1);
  const voters: NodeId[] = new Array(n);
  for (let i = 0; i < n; i++) voters[i] = r.str(`voters[${i}]`, ID_BYTES_MAX);
  return { voters };
}

function readMessage(r: Reader): Message | DecodeError {
  const code = r.u8('type');
  const type = TYPE_BY_CODE[code];
  if (type === undefined) return { error: `unknown message type byte ${code}` };
  const from = r.str('from', ID_BYTES_MAX);
  const to = r.str('to', ID_BYTES_MAX);
  const term = r.varint('term');
  const head = { from, to, term };
  let m: Message;
  switch (type) {
    case 'RequestVote':
      m = { type, ...head, lastLogIndex: r.varint('lastLogIndex'), lastLogTerm: r.varint('lastLogTerm'), transfer: r.bool('transfer') };
      break;
    case 'PreVote':
      m = { type, ...head, lastLogIndex: r.varint('lastLogIndex'), lastLogTerm: r.varint('lastLogTerm') };
      break;
    case 'RequestVoteResponse':
    case 'PreVoteResponse':
      m = { type, ...head, granted: r.bool('granted') };
      break;
    case 'AppendEntries':
      m = {
        type,
        ...head,
        prevLogIndex: r.varint('prevLogIndex'),
        prevLogTerm: r.varint('prevLogTerm'),
        commit: r.varint('commit'),
        entries: readEntries(r),
      };
      withContext(m, r.str('context', 4 * 1024));
      break;
    case 'AppendEntriesResponse':
      m = {
        type,
        ...head,
        success: r.bool('success'),
        matchIndex: r.varint('matchIndex'),
        rejectedIndex: r.varint('rejectedIndex'),
        hintIndex: r.varint('hintIndex'),
        hintTerm: r.varint('hintTerm'),
      };
      withContext(m, r.str('context', 4 * 1024));
      break;
    case 'Heartbeat':
      m = { type, ...head, commit: r.varint('commit'), context: r.str('context', 4 * 1024) };
      break;
    case 'HeartbeatResponse':
      m = { type, ...head, context: r.str('context', 4 * 1024) };
      break;
    case 'InstallSnapshot':
      m = {
        type,
        ...head,
        snapshotIndex: r.varint('snapshotIndex'),
        snapshotTerm: r.varint('snapshotTerm'),
        configuration: readConfiguration(r),
        sizeBytes: r.varint('sizeBytes'),
        offset: r.varint('offset'),
        data: r.bytes('data'),
        done: r.bool('done'),
      };
      break;
    case 'InstallSnapshotResponse':
      m = { type, ...head, snapshotIndex: r.varint('snapshotIndex'), bytesReceived: r.varint('bytesReceived') };
      break;
    case 'TimeoutNow':
      m = { type, ...head };
      break;
  }
  r.done(type);
  // The shape check of the core, addressed to the message's own recipient: whether that recipient is
  // this node (and the sender the connection's peer) is the transport's question, not the codec's.
  const reason = validateMessage(m, to, SHAPE_ONLY);
  if (reason !== undefined) return { error: `invalid ${type}: ${reason}` };
  return m;
}

function describeThrown(e: unknown): string {
  return e instanceof Malformed ? e.message : `undecodable: ${e instanceof Error ? e.message : String(e)}`;
}

/**
 * One message from a frame's payload (without the length header), checked by the core's
 * `validateMessage` against its own `to`. Byte fields are copies: the payload may be discarded.
 * Never throws.
 */
export function decodeMessage(payload: Uint8Array): Message | DecodeError {
  try {
    return readMessage(new Reader(payload));
  } catch (e) {
    return { error: describeThrown(e) };
  }
}

/** The handshake from a connection's first payload. Never throws. */
export function decodeHandshake(payload: Uint8Array): Handshake | DecodeError {
  try {
    const r = new Reader(payload);
    for (let i = 0; i < PROTOCOL_MAGIC.length; i++) {
      if (r.u8('magic') !== PROTOCOL_MAGIC[i]) return { error: 'bad magic: not a skepsis peer handshake' };
    }
    const version = r.u8('version');
    if (version !== PROTOCOL_VERSION) return { error: `unsupported protocol version ${version} (this node speaks ${PROTOCOL_VERSION})` };
    const from = r.str('from', ID_BYTES_MAX);
    const to = r.str('to', ID_BYTES_MAX);
    r.done('handshake');
    if (from.length === 0 || from.length > 256) return { error: `bad sender id ${JSON.stringify(from)}` };
    if (to.length === 0 || to.length > 256) return { error: `bad receiver id ${JSON.stringify(to)}` };
    return { from, to };
  } catch (e) {
    return { error: describeThrown(e) };
  }
}

// ---------------------------------------------------------------------------------------------
// Framing.

export interface FrameReaderOptions {
  /** Largest payload accepted, in bytes (the 4-byte header not included). Default 64 MiB. */
  frameBytesMax?: number;
}

export interface FrameReaderResult {
  /** Complete payloads, in stream order. Views into the pushed chunks: never mutated afterwards. */
  payloads: Buffer[];
  /** Set once the stream is unusable (a bad length); later pushes return it again and no payloads. */
  error: string | undefined;
}

/** Options that make no sense; the message quotes the bad value. */
export class FrameReaderOptionsError extends Error {
  override readonly name = 'FrameReaderOptionsError';
}

/**
 * Cuts a byte stream into payloads. Holds at most one incomplete frame (bounded by frameBytesMax);
 * frames that arrive whole inside one chunk are returned without copying.
 */
export class FrameReader {
  readonly frameBytesMax: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Payload length of the incomplete frame at the head, once its header has arrived; else -1. */
  private expectedBytes = -1;
  private failure: string | undefined;

  constructor(options: FrameReaderOptions = {}) {
    const max = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT;
    if (!Number.isSafeInteger(max) || max < 1 || max > FRAME_BYTES_LIMIT) {
      throw new FrameReaderOptionsError(`frameBytesMax must be an integer in [1, ${FRAME_BYTES_LIMIT}], got ${JSON.stringify(max)}`);
    }
    this.frameBytesMax = max;
  }

  /** Bytes held for a frame that has not fully arrived. */
  bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Adds the next bytes of the stream. The chunk is kept (not copied): do not modify it afterwards. */
  push(chunk: Uint8Array): FrameReaderResult {
    const payloads: Buffer[] = [];
    if (this.failure !== undefined) return { payloads, error: this.failure };
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (buf.length === 0) return { payloads, error: undefined };
    let pos = 0;
    if (this.pendingBytes > 0) {
      this.pending.push(buf);
      this.pendingBytes += buf.length;
      if (this.expectedBytes < 0) {
        if (this.pendingBytes < FRAME_HEADER_BYTES) return { payloads, error: undefined };
        const length = Buffer.concat(this.pending, FRAME_HEADER_BYTES).readUInt32BE(0);
        const error = this.checkLength(length);
        if (error !== undefined) return { payloads, error };
        this.expectedBytes = length;
      }
      const frameBytes = FRAME_HEADER_BYTES + this.expectedBytes;
      if (this.pendingBytes < frameBytes) return { payloads, error: undefined };
      // The head frame is complete: join its pieces (and only them), then go on in this chunk.
      pos = frameBytes - (this.pendingBytes - buf.length);
      this.pending[this.pending.length - 1] = buf.subarray(0, pos);
      payloads.push(Buffer.concat(this.pending, frameBytes).subarray(FRAME_HEADER_BYTES));
      this.pending = [];
      this.pendingBytes = 0;
      this.expectedBytes = -1;
    }
    while (buf.length - pos >= FRAME_HEADER_BYTES) {
      const n = buf.readUInt32BE(pos);
      const error = this.checkLength(n);
      if (error !== undefined) return { payloads, error };
      if (buf.length - pos - FRAME_HEADER_BYTES < n) {
        this.expectedBytes = n;
        break;
      }
      payloads.push(buf.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + n));
      pos += FRAME_HEADER_BYTES + n;
    }
    if (pos < buf.length) {
      const rest = buf.subarray(pos);
      this.pending = [rest];
      this.pendingBytes = rest.length;
    }
    return { payloads, error: undefined };
  }

  private checkLength(n: number): string | undefined {
    if (n === 0) this.failure = 'empty frame (length 0)';
    else if (n > this.frameBytesMax) this.failure = `frame of ${n} bytes exceeds frameBytesMax ${this.frameBytesMax}`;
    if (this.failure !== undefined) {
      this.pending = [];
      this.pendingBytes = 0;
    }
    return this.failure;
  }
}

/** An AppendEntries (or its answer) carries a read context only when there is one: '' means none. */
function withContext(m: Message, context: string): void {
  if (context !== '' && (m.type === 'AppendEntries' || m.type === 'AppendEntriesResponse')) m.context = context;
}
