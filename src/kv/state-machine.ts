// The replicated key-value state: committed commands applied in log order, client sessions for
// exactly-once writes, and snapshots. Pure and deterministic: no clock, no I/O, no randomness, so
// every replica that applies the same entries holds the same state and produces the same bytes.

import { fail } from './assert.js';
import { utf8ByteLength } from './bytes.js';
import { CLIENT_ID_BYTES_MAX, KEY_BYTES_MAX, OP_NAMES, VALUE_BYTES_MAX, type KvCommand, type KvResult } from './command.js';
import { copyResult, SessionTable, type ClientSession, type KvWriteResult } from './sessions.js';
import { decodeSnapshot, encodeSnapshot, type StoredValue } from './snapshot-codec.js';

export interface KvStateMachineOptions {
  /**
   * Client sessions kept. A new client beyond it evicts the least recently used session (by the
   * log index of its last write). Default 100 000.
   */
  sessionsMax?: number;
  /**
   * A session whose last write is this many log positions behind the entry being applied expires.
   * Default 1 000 000.
   */
  sessionIdleEntries?: number;
}

export const SESSIONS_MAX_DEFAULT = 100_000;
export const SESSION_IDLE_ENTRIES_DEFAULT = 1_000_000;

/** Options that make no sense; the message quotes the bad value. */
export class KvOptionsError extends Error {
  override readonly name = 'KvOptionsError';
}

export interface KvStateMachineSize {
  keys: number;
  /** UTF-8 bytes of all keys and values (not counting sessions or encoding overhead). */
  bytes: number;
  sessions: number;
  /** Sessions ever evicted or expired. */
  sessionsEvicted: number;
}

function resolveOptions(options: KvStateMachineOptions): Required<KvStateMachineOptions> {
  if (typeof options !== 'object' || options === null)
    throw new KvOptionsError(`options must be an object, got ${JSON.stringify(options)}`);
  const resolved = {
    sessionsMax: options.sessionsMax ?? SESSIONS_MAX_DEFAULT,
    sessionIdleEntries: options.sessionIdleEntries ?? SESSION_IDLE_ENTRIES_DEFAULT,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new KvOptionsError(`${name} must be a positive safe integer, got ${JSON.stringify(value) ?? String(value)}`);
    }
  }
  return resolved;
}

/** UTF-8 bytes of a string field of an applied command, asserting the limits validateCommand enforces. */
function checkedBytes(field: string, text: unknown, bytesMax: number, nonEmpty: boolean): number {
  // `if` before assert: this runs for every entry, and a message closure would be allocated each time.
  const bytes = typeof text === 'string' ? utf8ByteLength(text) : -1;
  if (bytes < (nonEmpty ? 1 : 0) || bytes > bytesMax) {
    fail(`apply: ${field} is not a string, or is empty, ill-formed or too long (validate commands first)`);
  }
  return bytes;
}

/**
 * The state machine the node's apply loop drives. Options must be the same on every replica (they
 * decide which sessions are evicted); a snapshot carries them, and restore() adopts them.
 */
export class KvStateMachine {
  private data: Map<string, StoredValue>;
  private dataBytes: number;
  private sessions: SessionTable;
  private applied: number;

  constructor(options: KvStateMachineOptions = {}) {
    const { sessionsMax, sessionIdleEntries } = resolveOptions(options);
    this.data = new Map();
    this.dataBytes = 0;
    this.sessions = new SessionTable(sessionsMax, sessionIdleEntries);
    this.applied = 0;
  }

  /** The index of the last entry applied (or advanced past); 0 before any. */
  get appliedIndex(): number {
    return this.applied;
  }

  get options(): Required<KvStateMachineOptions> {
    return { sessionsMax: this.sessions.sessionsMax, sessionIdleEntries: this.sessions.sessionIdleEntries };
  }

  /**
   * Applies the committed entry at `index` (indices must increase; gaps are fine). Writes with a
   * session apply at most once per (clientId, seq); see SessionVerdict for retries, stale copies
   * and expired sessions. Reads never touch the session table. O(1) apart from the command's size.
   * The command must be valid (decodeCommand and validateCommand make sure); otherwise it asserts.
   */
  apply(index: number, command: KvCommand): KvResult {
    if (typeof command !== 'object' || command === null || !OP_NAMES.includes(command.op)) {
      fail(`apply: unknown op in ${String(command?.op)} (validate commands first)`);
    }
    const keyBytes = checkedBytes('key', command.key, KEY_BYTES_MAX, true);
    let valueBytes = 0;
    if (command.op === 'put' || command.op === 'append') valueBytes = checkedBytes('value', command.value, VALUE_BYTES_MAX, false);
    if (command.op === 'cas') {
      if (command.from !== null && typeof command.from !== 'string') fail('apply: cas from is neither a string nor null');
      valueBytes = checkedBytes('to', command.to, VALUE_BYTES_MAX, false);
    }
    if (command.clientId !== undefined || command.seq !== undefined) {
      checkedBytes('clientId', command.clientId, CLIENT_ID_BYTES_MAX, true);
      if (!Number.isSafeInteger(command.seq) || (command.seq as number) < 1)
        fail(`apply: seq ${command.seq} is not a positive safe integer`);
    }
    this.moveTo(index);

    if (command.op === 'get') return { ok: true, value: this.get(command.key) };
    if (command.clientId === undefined) return this.write(command, keyBytes, valueBytes);
    const seq = command.seq as number;
    const verdict = this.sessions.check(command.clientId, seq, index);
    switch (verdict.kind) {
      case 'apply': {
        const result = this.write(command, keyBytes, valueBytes);
        this.sessions.record(command.clientId, seq, result, index);
        return result;
      }
      case 'duplicate':
        return copyResult(verdict.result);
      case 'stale':
      case 'expired':
        return { ok: false, error: 'session_expired' };
    }
  }

  /**
   * Moves past an entry that carries no KV command (the leader's empty entry, a configuration
   * change) so that appliedIndex follows the log. Idle sessions expire by position here too.
   * Optional: skipping it only delays expiry to the next apply, identically on every replica.
   */
  advance(index: number): void {
    this.moveTo(index);
  }

  private moveTo(index: number): void {
    if (!Number.isSafeInteger(index) || index <= this.applied) fail(`apply: index ${index} does not follow applied index ${this.applied}`);
    this.applied = index;
    this.sessions.expireIdle(index);
  }

  private write(command: KvCommand, keyBytes: number, valueBytes: number): KvWriteResult {
    const stored = this.data.get(command.key);
    switch (command.op) {
      case 'put':
        this.set(command.key, stored, command.value, keyBytes, valueBytes);
        return { ok: true };
      case 'append': {
        // An absent key appends to "".
        if (stored === undefined) {
          this.set(command.key, stored, command.value, keyBytes, valueBytes);
          return { ok: true };
        }
        if (stored.valueBytes + valueBytes > VALUE_BYTES_MAX) return { ok: false, error: 'value_too_large' };
        stored.value += command.value;
        stored.valueBytes += valueBytes;
        this.dataBytes += valueBytes;
        return { ok: true };
      }
      case 'cas': {
        // from null means "the key is absent".
        const current = stored === undefined ? null : stored.value;
        if (current !== command.from) return { ok: false, error: 'cas_mismatch', value: current };
        this.set(command.key, stored, command.to, keyBytes, valueBytes);
        return { ok: true };
      }
      case 'delete':
        // Deleting an absent key is fine.
        if (stored !== undefined) {
          this.data.delete(command.key);
          this.dataBytes -= keyBytes + stored.valueBytes;
        }
        return { ok: true };
      case 'get':
        fail('write: get is not a write');
    }
  }

  private set(key: string, stored: StoredValue | undefined, value: string, keyBytes: number, valueBytes: number): void {
    if (stored === undefined) {
      this.data.set(key, { value, valueBytes });
      this.dataBytes += keyBytes + valueBytes;
    } else {
      this.dataBytes += valueBytes - stored.valueBytes;
      stored.value = value;
      stored.valueBytes = valueBytes;
    }
  }

  /** The value at `key`, or null when absent. Local state: the node must confirm leadership (ReadIndex) before serving it. */
  get(key: string): string | null {
    const stored = this.data.get(key);
    return stored === undefined ? null : stored.value;
  }

  /** The client's session, or undefined when it has none (never had, evicted or expired). */
  session(clientId: string): ClientSession | undefined {
    const session = this.sessions.get(clientId);
    return session === undefined
      ? undefined
      : { clientId: session.clientId, seq: session.seq, result: session.result, lastIndex: session.lastIndex };
  }

  size(): KvStateMachineSize {
    return { keys: this.data.size, bytes: this.dataBytes, sessions: this.sessions.size, sessionsEvicted: this.sessions.evicted };
  }

  /** The whole state as deterministic bytes (see encodeSnapshot): the same state gives the same bytes. */
  snapshot(): Uint8Array {
    return encodeSnapshot(
      {
        sessionsMax: this.sessions.sessionsMax,
        sessionIdleEntries: this.sessions.sessionIdleEntries,
        appliedIndex: this.applied,
        sessionsEvicted: this.sessions.evicted,
        data: this.data,
        sessions: this.sessions.values(),
      },
      this.dataBytes,
    );
  }

  /** A state machine from snapshot() bytes, with the snapshot's options. Throws KvSnapshotError on anything invalid. */
  static restore(bytes: Uint8Array): KvStateMachine {
    const decoded = decodeSnapshot(bytes);
    const machine = new KvStateMachine({ sessionsMax: decoded.sessionsMax, sessionIdleEntries: decoded.sessionIdleEntries });
    machine.data = decoded.data;
    machine.dataBytes = decoded.dataBytes;
    machine.sessions = SessionTable.fromSnapshot(
      decoded.sessionsMax,
      decoded.sessionIdleEntries,
      decoded.sessionsEvicted,
      decoded.sessions,
    );
    machine.applied = decoded.appliedIndex;
    return machine;
  }
}
