// An in-harness Maelstrom client (`c1`, `c2` ... as Maelstrom names them) offering the KvStore the
// key-value workloads use, over Maelstrom's lin-kv messages: read / write / cas. Its messages go
// through the router, so client links can be cut too. One request per operation, no retries: a
// timeout or an indefinite error is `info`; a definite error is `fail`.

import { CAS_MISMATCH, errorText, type KvReply, type KvStore } from '../../../workloads/kv-command.js';
import type { Client, Completion, MessageCodec } from '../../../workloads/types.js';
import { DEFINITE_ERROR_CODES, ERROR_KEY_DOES_NOT_EXIST, ERROR_PRECONDITION_FAILED, type MaelstromBody } from './protocol.js';
import type { Router } from './router.js';

/** Our workloads' values are decimal text; Maelstrom's lin-kv values are numbers. */
function toWire(value: string | null): unknown {
  return value !== null && /^-?\d{1,15}$/.test(value) ? Number(value) : value;
}

/**
 * Maelstrom's lin-kv keys are integers: the lin-kv workload's registers r0, r1 ... (one prefix per
 * run, so the mapping is one to one) go on the wire as 0, 1 ...; other keys stay text.
 */
export function keyToWire(key: string): unknown {
  const digits = /^[A-Za-z_.-]*(\d{1,15})$/.exec(key);
  return digits === null ? key : Number(digits[1]);
}

function fromWire(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Completes one request-reply exchange through the router; rejects on timeout or abort. */
export class MaelstromRpcClient {
  private nextMsgId = 1;
  private readonly pending = new Map<number, (body: MaelstromBody) => void>();

  constructor(
    private readonly router: Router,
    readonly id: string,
    private readonly timeoutMs: number,
  ) {
    router.attachClient(id, {
      expects: (inReplyTo) => this.pending.has(inReplyTo),
      deliver: (message) => {
        const inReplyTo = message.body.in_reply_to;
        const resolve = inReplyTo === undefined ? undefined : this.pending.get(inReplyTo);
        if (resolve === undefined) return false;
        this.pending.delete(inReplyTo!);
        resolve(message.body);
        return true;
      },
    });
  }

  request(dest: string, body: Omit<MaelstromBody, 'msg_id'>, signal?: AbortSignal): Promise<MaelstromBody> {
    const msgId = this.nextMsgId++;
    return new Promise((resolve, reject) => {
      const done = (error?: Error, reply?: MaelstromBody) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(msgId);
        if (error) reject(error);
        else resolve(reply!);
      };
      const onAbort = () => done(new Error('aborted'));
      const timer = setTimeout(() => done(new Error(`no reply from ${dest} within ${this.timeoutMs} ms`)), this.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(msgId, (reply) => done(undefined, reply));
      this.router.send({ src: this.id, dest, body: { ...body, msg_id: msgId } as MaelstromBody });
    });
  }

  close(): void {
    this.router.detachClient(this.id);
  }
}

/** A definite or indefinite answer for an error body, or undefined when it is no error. */
export function errorReply(body: MaelstromBody): KvReply | undefined {
  if (body.type !== 'error') return undefined;
  const code = Number(body.code);
  const text = `error ${body.code}${typeof body.text === 'string' ? `: ${body.text}` : ''}`;
  return DEFINITE_ERROR_CODES.has(code) ? { type: 'fail', error: text } : { type: 'info', error: text };
}

export function maelstromKvStore(rpc: MaelstromRpcClient, home: string): KvStore {
  const expect = (body: MaelstromBody, type: string): KvReply =>
    body.type === type ? { type: 'ok' } : (errorReply(body) ?? { type: 'info', error: `unexpected reply ${body.type}` });
  return {
    async get(key, signal) {
      const body = await rpc.request(home, { type: 'read', key: keyToWire(key) }, signal);
      if (body.type === 'read_ok') return { type: 'ok', value: fromWire(body.value) };
      if (body.type === 'error' && body.code === ERROR_KEY_DOES_NOT_EXIST) return { type: 'ok', value: null };
      return expect(body, 'read_ok');
    },
    async put(key, value, signal) {
      return expect(await rpc.request(home, { type: 'write', key: keyToWire(key), value: toWire(value) }, signal), 'write_ok');
    },
    async append() {
      return { type: 'fail', error: 'Maelstrom lin-kv has no append' };
    },
    async cas(key, from, to, signal) {
      // From the absent value: Maelstrom's create_if_not_exists, so an absent key takes `to` as our model says.
      const create = from === null ? { create_if_not_exists: true } : {};
      const body = await rpc.request(home, { type: 'cas', key: keyToWire(key), from: toWire(from), to: toWire(to), ...create }, signal);
      if (body.type === 'error' && (body.code === ERROR_PRECONDITION_FAILED || body.code === ERROR_KEY_DOES_NOT_EXIST))
        return { type: 'fail', error: CAS_MISMATCH };
      return expect(body, 'cas_ok');
    },
    close: () => rpc.close(),
  };
}

/** A Client for a message workload: the codec's request, Maelstrom's error semantics, the codec's reading of the reply. */
export function maelstromMessageClient(codec: MessageCodec, rpc: MaelstromRpcClient, home: string): Client {
  return {
    async invoke(op, signal): Promise<Completion> {
      let body: MaelstromBody;
      try {
        body = await rpc.request(home, codec.request(op), signal);
      } catch (error) {
        return { type: 'info', error: errorText(error) };
      }
      const failed = errorReply(body);
      if (failed !== undefined)
        return failed.type === 'fail'
          ? { type: 'fail', error: failed.error }
          : { type: 'info', error: failed.type === 'info' ? failed.error : 'error' };
      return codec.response(op, body);
    },
    async close() {
      rpc.close();
    },
  };
}
