// Client sessions for exactly-once writes: per client id, the last applied write's seq and result.
// Bounded by count (least recently used by log index goes first) and by idle age in log positions;
// never by wall clock, so every replica evicts the same sessions at the same entry. Reads never enter.

import { assert, fail } from './assert.js';
import type { KvResult } from './command.js';

/** A result a session keeps: the outcome of an applied write (never session_expired: that did not apply). */
export type KvWriteResult = Exclude<KvResult, { error: 'session_expired' }>;

export interface ClientSession {
  readonly clientId: string;
  /** The seq of the last write of this client that went through the table. */
  readonly seq: number;
  /** What that write answered; a retry with the same seq gets it again. Frozen. */
  readonly result: KvWriteResult;
  /** The log index of the last write (or retry) of this client: the LRU and idle clock. */
  readonly lastIndex: number;
}

/**
 * What to do with a write from `clientId` with `seq`:
 * - apply: a new seq (or a new client): apply it, then record().
 * - duplicate: seq equals the session's: answer `result` again without applying (a retry).
 * - stale: seq is below the session's. With one outstanding op per client id, the client already
 *   moved past this op, so this is a delayed copy. It is not applied and answers session_expired
 *   (definite for this entry). Not `ok`: the op may have been a cas that mismatched, or may never
 *   have applied at all (its client gave up on it and moved on), so `ok` could be a lie, while "this
 *   entry did not apply" is always true. Nobody should be waiting for it; a client that really sent
 *   it reused an id wrongly, and a fresh id is what it needs.
 * - expired: an unknown client with seq > 1 after some session was evicted: its session may have
 *   been evicted, so applying could apply a retried op twice. Not applied; the client takes a fresh id.
 */
export type SessionVerdict =
  | { kind: 'apply' }
  | { kind: 'duplicate'; result: KvWriteResult }
  | { kind: 'stale'; sessionSeq: number }
  | { kind: 'expired' };

interface MutableSession {
  clientId: string;
  seq: number;
  result: KvWriteResult;
  lastIndex: number;
}

const STORED_OK: KvWriteResult = Object.freeze({ ok: true });

/** A frozen copy of a write result (field by field: faster than a spread, and no stray fields). */
export function frozenCopy(result: KvWriteResult): KvWriteResult {
  if (result.ok) return STORED_OK;
  if (result.error === 'cas_mismatch') return Object.freeze({ ok: false, error: 'cas_mismatch', value: result.value });
  return Object.freeze({ ok: false, error: result.error });
}

/** A plain (unfrozen) copy of a write result, for handing to a caller. */
export function copyResult(result: KvWriteResult): KvWriteResult {
  if (result.ok) return { ok: true };
  if (result.error === 'cas_mismatch') return { ok: false, error: 'cas_mismatch', value: result.value };
  return { ok: false, error: result.error };
}

const APPLY: SessionVerdict = Object.freeze({ kind: 'apply' });
const EXPIRED: SessionVerdict = Object.freeze({ kind: 'expired' });

export class SessionTable {
  // Insertion order is LRU order: a touched session is deleted and re-inserted at the end, and log
  // indices grow, so the map is sorted by lastIndex and the first entry is the least recently used.
  private readonly sessions = new Map<string, MutableSession>();
  private evictedCount = 0;
  // A lower bound on the smallest lastIndex held (Infinity when empty). Sessions only move to
  // larger indices and new ones take the newest index, so the bound stays valid until recomputed.
  private oldestIndexFloor = Infinity;

  constructor(
    readonly sessionsMax: number,
    readonly sessionIdleEntries: number,
  ) {
    assert(Number.isSafeInteger(sessionsMax) && sessionsMax >= 1, () => `sessionsMax: ${sessionsMax}`);
    assert(Number.isSafeInteger(sessionIdleEntries) && sessionIdleEntries >= 1, () => `sessionIdleEntries: ${sessionIdleEntries}`);
  }

  /** Sessions held now. */
  get size(): number {
    return this.sessions.size;
  }

  /** Sessions ever evicted (by count or idleness). Once non-zero, unknown clients need seq 1. */
  get evicted(): number {
    return this.evictedCount;
  }

  get(clientId: string): ClientSession | undefined {
    return this.sessions.get(clientId);
  }

  /** Drops sessions idle for sessionIdleEntries log positions as of `index`. Amortized O(1). */
  expireIdle(index: number): void {
    const horizon = index - this.sessionIdleEntries;
    // Fast path without an iterator: nothing can have expired yet.
    if (horizon < this.oldestIndexFloor) return;
    for (const session of this.sessions.values()) {
      if (session.lastIndex > horizon) {
        this.oldestIndexFloor = session.lastIndex;
        return;
      }
      this.sessions.delete(session.clientId);
      this.evictedCount++;
    }
    this.oldestIndexFloor = Infinity;
  }

  /** Decides a write's fate; a duplicate also counts as activity at `index` (it refreshes the session). */
  check(clientId: string, seq: number, index: number): SessionVerdict {
    const session = this.sessions.get(clientId);
    if (session === undefined) return this.evictedCount > 0 && seq > 1 ? EXPIRED : APPLY;
    if (seq > session.seq) return APPLY;
    if (seq < session.seq) return { kind: 'stale', sessionSeq: session.seq };
    this.touch(session, index);
    return { kind: 'duplicate', result: session.result };
  }

  /** Records an applied write; a new client beyond sessionsMax evicts the least recently used one. */
  record(clientId: string, seq: number, result: KvWriteResult, index: number): void {
    const session = this.sessions.get(clientId);
    // A frozen copy: the caller keeps (and may change) the object it was given.
    result = frozenCopy(result);
    if (session !== undefined) {
      if (!(seq > session.seq)) fail(`session ${clientId}: recording seq ${seq} after ${session.seq}`);
      session.seq = seq;
      session.result = result;
      this.touch(session, index);
      return;
    }
    if (this.sessions.size >= this.sessionsMax) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
      this.evictedCount++;
    }
    if (this.sessions.size === 0) this.oldestIndexFloor = index;
    this.sessions.set(clientId, { clientId, seq, result, lastIndex: index });
  }

  private touch(session: MutableSession, index: number): void {
    if (!(index > session.lastIndex)) fail(`session ${session.clientId}: index ${index} after ${session.lastIndex}`);
    session.lastIndex = index;
    this.sessions.delete(session.clientId);
    this.sessions.set(session.clientId, session);
  }

  /** Sessions from least to most recently used (ascending lastIndex): the snapshot order. */
  values(): IterableIterator<ClientSession> {
    return this.sessions.values();
  }

  /** Rebuilds a table from a snapshot; sessions must come in ascending lastIndex order. */
  static fromSnapshot(sessionsMax: number, sessionIdleEntries: number, evicted: number, sessions: readonly ClientSession[]): SessionTable {
    const table = new SessionTable(sessionsMax, sessionIdleEntries);
    assert(Number.isSafeInteger(evicted) && evicted >= 0, () => `evicted: ${evicted}`);
    assert(sessions.length <= sessionsMax, () => `${sessions.length} sessions exceed sessionsMax ${sessionsMax}`);
    table.evictedCount = evicted;
    let previousIndex = 0;
    for (const { clientId, seq, result, lastIndex } of sessions) {
      assert(lastIndex > previousIndex, () => `session ${clientId}: lastIndex ${lastIndex} not above ${previousIndex}`);
      assert(!table.sessions.has(clientId), () => `session ${clientId} appears twice`);
      previousIndex = lastIndex;
      table.sessions.set(clientId, { clientId, seq, result: frozenCopy(result), lastIndex });
    }
    table.oldestIndexFloor = sessions.length === 0 ? Infinity : sessions[0].lastIndex;
    return table;
  }
}
