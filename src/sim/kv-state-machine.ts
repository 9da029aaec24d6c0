// A tiny key-value state machine for simulated clients (the real one will live in src/kv).
// Commands are text: `put k v`, `get k`, `cas k from to`, `delete k`, optionally prefixed by
// `<client>#<seq> ` for de-duplication; anything else is an opaque command that only counts as applied.

export type KvResult = { ok: true; value: string | null } | { ok: false; error: 'cas_mismatch' } | { ok: true; value: undefined };

interface Session {
  sequence: number;
  result: KvResult;
}

export class KvStateMachine {
  private data = new Map<string, string>();
  private sessions = new Map<string, Session>();
  appliedIndex = 0;

  apply(index: number, command: string): KvResult {
    this.appliedIndex = index;
    const match = /^(\S+)#(\d+) (.*)$/.exec(command);
    if (match === null) return this.execute(command);
    const [, client, sequenceText, body] = match;
    const sequence = Number(sequenceText);
    const session = this.sessions.get(client);
    // A retried command applies once; the retry gets the first answer.
    if (session !== undefined && session.sequence >= sequence) return session.result;
    const result = this.execute(body);
    this.sessions.set(client, { sequence, result });
    return result;
  }

  get(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  private execute(body: string): KvResult {
    const parts = body.split(' ');
    switch (parts[0]) {
      case 'put':
        if (parts.length !== 3) break;
        this.data.set(parts[1], parts[2]);
        return { ok: true, value: parts[2] };
      case 'get':
        if (parts.length !== 2) break;
        return { ok: true, value: this.get(parts[1]) };
      case 'delete':
        if (parts.length !== 2) break;
        this.data.delete(parts[1]);
        return { ok: true, value: null };
      case 'cas': {
        if (parts.length !== 4) break;
        if (this.get(parts[1]) !== parts[2]) return { ok: false, error: 'cas_mismatch' };
        this.data.set(parts[1], parts[3]);
        return { ok: true, value: parts[3] };
      }
    }
    return { ok: true, value: undefined };
  }

  snapshot(): Uint8Array {
    const body = JSON.stringify({ appliedIndex: this.appliedIndex, data: [...this.data], sessions: [...this.sessions] });
    return new TextEncoder().encode(body);
  }

  static restore(bytes: Uint8Array): KvStateMachine {
    const machine = new KvStateMachine();
    if (bytes.length === 0) return machine;
    const body = JSON.parse(new TextDecoder().decode(bytes)) as {
      appliedIndex: number;
      data: [string, string][];
      sessions: [string, Session][];
    };
    machine.appliedIndex = body.appliedIndex;
    machine.data = new Map(body.data);
    machine.sessions = new Map(body.sessions);
    return machine;
  }
}
