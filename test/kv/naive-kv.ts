// A deliberately naive reference for the KV state machine: the rules written out as directly as
// possible (arrays, linear scans, no caching), to compare the fast one against in property tests.

import type { KvCommand, KvResult } from '../../src/kv/index.js';

interface NaiveSession {
  clientId: string;
  seq: number;
  result: KvResult;
  lastIndex: number;
}

export class NaiveKv {
  readonly data = new Map<string, string>();
  sessions: NaiveSession[] = [];
  everEvicted = false;

  constructor(
    readonly sessionsMax: number,
    readonly sessionIdleEntries: number,
  ) {}

  apply(index: number, command: KvCommand): KvResult {
    // Sessions idle for sessionIdleEntries positions or more are gone before the entry applies.
    const kept = this.sessions.filter((session) => index - session.lastIndex < this.sessionIdleEntries);
    if (kept.length < this.sessions.length) this.everEvicted = true;
    this.sessions = kept;

    if (command.op === 'get') return { ok: true, value: this.data.get(command.key) ?? null };
    if (command.clientId === undefined || command.seq === undefined) return this.execute(command);
    const session = this.sessions.find((candidate) => candidate.clientId === command.clientId);
    if (session === undefined) {
      if (this.everEvicted && command.seq > 1) return { ok: false, error: 'session_expired' };
      const result = this.execute(command);
      if (this.sessions.length >= this.sessionsMax) {
        const oldest = this.sessions.reduce((a, b) => (a.lastIndex <= b.lastIndex ? a : b));
        this.sessions = this.sessions.filter((candidate) => candidate !== oldest);
        this.everEvicted = true;
      }
      this.sessions.push({ clientId: command.clientId, seq: command.seq, result, lastIndex: index });
      return result;
    }
    if (command.seq === session.seq) {
      session.lastIndex = index;
      return session.result;
    }
    if (command.seq < session.seq) return { ok: false, error: 'session_expired' };
    const result = this.execute(command);
    session.seq = command.seq;
    session.result = result;
    session.lastIndex = index;
    return result;
  }

  private execute(command: KvCommand): KvResult {
    const current = this.data.get(command.key) ?? null;
    switch (command.op) {
      case 'put':
        this.data.set(command.key, command.value);
        return { ok: true };
      case 'append': {
        const next = (current ?? '') + command.value;
        if (new TextEncoder().encode(next).length > 1024 * 1024) return { ok: false, error: 'value_too_large' };
        this.data.set(command.key, next);
        return { ok: true };
      }
      case 'cas':
        if (current !== command.from) return { ok: false, error: 'cas_mismatch', value: current };
        this.data.set(command.key, command.to);
        return { ok: true };
      case 'delete':
        this.data.delete(command.key);
        return { ok: true };
      case 'get':
        return { ok: true, value: current };
    }
  }
}
