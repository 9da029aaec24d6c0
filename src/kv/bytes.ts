// Byte-level helpers shared by the command and snapshot codecs: UTF-8 lengths, LEB128 varints and
// length-prefixed UTF-8 strings. Pure; a reader reports bad input as a ByteFormatError naming the field.

import { assert } from './assert.js';

const encoder = new TextEncoder();
// fatal: invalid UTF-8 (including encoded surrogates and overlong forms) is an error, never U+FFFD.
// ignoreBOM: a value that starts with U+FEFF keeps it.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** ASCII strings at most this long are written unit by unit; others go through TextEncoder (decoding always uses TextDecoder). */
const SHORT_STRING_UNITS = 48;

/** Bytes that do not follow the format; `field` names what was being read. */
export class ByteFormatError extends Error {
  override readonly name = 'ByteFormatError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/**
 * The UTF-8 byte length of `text`, or -1 when it holds a lone surrogate (such a string has no
 * UTF-8 form, so it could not round-trip through any codec here). One pass, no allocation.
 */
export function utf8ByteLength(text: string): number {
  const units = text.length;
  let bytes = units;
  for (let i = 0; i < units; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
    } else if (unit < 0xd800 || unit > 0xdfff) {
      bytes += 2;
    } else if (unit <= 0xdbff && i + 1 < units) {
      const next = text.charCodeAt(i + 1);
      if (next < 0xdc00 || next > 0xdfff) return -1;
      // Two UTF-16 units, four UTF-8 bytes.
      bytes += 2;
      i++;
    } else {
      return -1;
    }
  }
  return bytes;
}

/** Bytes of the LEB128 form of a non-negative safe integer. */
export function varuintByteLength(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    bytes++;
  }
  return bytes;
}

/** Writes into a growing buffer. Strings are a varuint byte length followed by UTF-8. */
export class ByteWriter {
  private buffer: Uint8Array;
  private length = 0;

  /** With the exact final size as capacity, finish() hands over the buffer without a copy. */
  constructor(capacityBytes = 256) {
    this.buffer = new Uint8Array(Math.max(1, capacityBytes));
  }

  get lengthBytes(): number {
    return this.length;
  }

  private reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  u8(value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xff, () => `u8 out of range: ${value}`);
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  u32le(value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffffffff, () => `u32 out of range: ${value}`);
    this.reserve(4);
    const buffer = this.buffer;
    buffer[this.length] = value & 0xff;
    buffer[this.length + 1] = (value >>> 8) & 0xff;
    buffer[this.length + 2] = (value >>> 16) & 0xff;
    buffer[this.length + 3] = value >>> 24;
    this.length += 4;
  }

  varuint(value: number): void {
    assert(Number.isSafeInteger(value) && value >= 0, () => `varuint out of range: ${value}`);
    this.reserve(value < 0x80 ? 1 : varuintByteLength(value));
    const buffer = this.buffer;
    // Division, not bit operations: values reach 2^53.
    while (value >= 0x80) {
      buffer[this.length++] = value % 0x80 | 0x80;
      value = Math.floor(value / 0x80);
    }
    buffer[this.length++] = value;
  }

  /** `byteLength` must be utf8ByteLength(text) (callers usually know it already). */
  string(text: string, byteLength = utf8ByteLength(text)): void {
    assert(byteLength >= 0, 'string with a lone surrogate has no UTF-8 form');
    this.varuint(byteLength);
    this.reserve(byteLength);
    const buffer = this.buffer;
    if (byteLength === text.length && byteLength <= SHORT_STRING_UNITS) {
      // ASCII: one byte per unit.
      for (let i = 0; i < byteLength; i++) buffer[this.length + i] = text.charCodeAt(i);
    } else {
      const { written } = encoder.encodeInto(text, buffer.subarray(this.length, this.length + byteLength));
      assert(written === byteLength, () => `UTF-8 length mismatch: expected ${byteLength} bytes, wrote ${written}`);
    }
    this.length += byteLength;
  }

  /** The bytes written; the writer must not be used afterwards. */
  finish(): Uint8Array {
    // Exact-size buffers are handed over; otherwise copy so that no slack stays referenced.
    return this.length === this.buffer.length ? this.buffer : this.buffer.slice(0, this.length);
  }
}

/** Reads what ByteWriter wrote; every method throws ByteFormatError naming `field` on bad bytes. */
export class ByteReader {
  offset = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly end = bytes.length,
  ) {}

  get remainingBytes(): number {
    return this.end - this.offset;
  }

  u8(field: string): number {
    if (this.offset >= this.end) throw new ByteFormatError(field, `expected a byte at offset ${this.offset}, but the input ends there`);
    return this.bytes[this.offset++];
  }

  u32le(field: string): number {
    if (this.offset + 4 > this.end) {
      throw new ByteFormatError(field, `expected 4 bytes at offset ${this.offset}, but the input ends at ${this.end}`);
    }
    const bytes = this.bytes;
    const value =
      (bytes[this.offset] | (bytes[this.offset + 1] << 8) | (bytes[this.offset + 2] << 16) | (bytes[this.offset + 3] << 24)) >>> 0;
    this.offset += 4;
    return value;
  }

  /** A minimal LEB128 non-negative safe integer (so that decoding then encoding gives the same bytes). */
  varuint(field: string): number {
    const start = this.offset;
    let value = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (this.offset >= this.end) {
        throw new ByteFormatError(field, `expected a varint at offset ${start}, but the input ends at ${this.end}`);
      }
      const byte = this.bytes[this.offset++];
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (byte === 0 && i > 0) throw new ByteFormatError(field, `expected a minimal varint at offset ${start}, got a padded one`);
        break;
      }
      scale *= 0x80;
      if (i >= 7) throw new ByteFormatError(field, `expected a varint of at most 8 bytes at offset ${start}`);
    }
    if (!Number.isSafeInteger(value)) throw new ByteFormatError(field, `expected a safe integer at offset ${start}, got ${value}`);
    return value;
  }

  /** A length-prefixed UTF-8 string of at most `byteLengthMax` bytes; returns the text and its byte length. */
  string(field: string, byteLengthMax: number): { text: string; byteLength: number } {
    const byteLength = this.varuint(field);
    if (byteLength > byteLengthMax) {
      throw new ByteFormatError(field, `expected at most ${byteLengthMax} UTF-8 bytes, got a length of ${byteLength}`);
    }
    const start = this.offset;
    if (byteLength > this.end - start) {
      throw new ByteFormatError(field, `expected ${byteLength} bytes of UTF-8 at offset ${start}, but the input ends at ${this.end}`);
    }
    this.offset = start + byteLength;
    try {
      return { text: decoder.decode(this.bytes.subarray(start, this.offset)), byteLength };
    } catch {
      throw new ByteFormatError(field, `expected valid UTF-8 in the ${byteLength} bytes at offset ${start}`);
    }
  }
}
