// A KvStore over etcd's v3 JSON gateway (HTTP/JSON, no gRPC dependency), bound to one member like a
// Jepsen client bound to one node (etcd forwards to its leader itself). get is a range (linearizable
// unless serializableReads), put a put, cas one txn, append a read-modify-write loop of txns guarded
// by the key's mod revision (etcd has no append). Quirks of the gateway, measured against 3.4.23:
// keys and values are base64; int64 fields come back as strings; absent fields mean false, empty or
// zero (a failed txn omits `succeeded`, a range of a missing key omits `kvs`). etcd does not
// de-duplicate retried requests, so a write is never retried once it may have reached the member:
// a timeout or a broken connection ends it `info`; only a refused connection (nothing was sent) and a
// failed compare are definite `fail`s.

import { Agent, request as httpRequest } from 'node:http';
import { CAS_MISMATCH, type KvReply, type KvStore } from '../../../workloads/kv-command.js';

export interface EtcdKvStoreOptions {
  /** The member this client talks to, e.g. `http://198.18.3.2:2379`. */
  url: string;
  /** One HTTP request gives up after this long. Default 2000. */
  attemptTimeoutMs?: number;
  /** One operation (for append, all its rounds) gives up after this long. Default 5000. */
  deadlineMs?: number;
  /** Serializable reads: served by the member from its own state, possibly stale. Default false. */
  serializableReads?: boolean;
  /** Source address of this client's connections (the harness's clients under --net hosts). */
  localAddress?: string;
  /** Bodies beyond this are a broken answer. Default 4 MiB. */
  responseBytesMax?: number;
  /** Read-modify-write rounds of one append before it gives up (definitely, nothing written). Default 50. */
  appendAttemptsMax?: number;
}

/** Why an attempt ended without a usable answer; `sent` is false when nothing reached the member. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly sent: boolean,
  ) {
    super(message);
  }
}

interface KeyValue {
  value: string;
  modRevision: string;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: unknown) => (typeof text === 'string' ? Buffer.from(text, 'base64').toString('utf8') : '');

/** The first key-value of a range answer, or null when the key is absent (the gateway omits `kvs`). */
function firstKv(range: Record<string, unknown> | undefined): KeyValue | null {
  const kvs = range?.kvs;
  if (!Array.isArray(kvs) || kvs.length === 0) return null;
  const kv = kvs[0] as Record<string, unknown>;
  return { value: unb64(kv.value), modRevision: String(kv.mod_revision ?? '0') };
}

/** A txn's failure-branch range answer (the current value when the compare failed). */
function failureRange(answer: Record<string, unknown>): Record<string, unknown> | undefined {
  const responses = answer.responses;
  if (!Array.isArray(responses) || responses.length === 0) return undefined;
  return (responses[0] as Record<string, unknown>).response_range as Record<string, unknown> | undefined;
}

/** A compare that the key is absent (create revision 0) or holds `value` / has `modRevision`. */
function compareFor(key: string, current: { value: string } | { modRevision: string } | null): Record<string, unknown> {
  if (current === null) return { key, target: 'CREATE', result: 'EQUAL', create_revision: '0' };
  if ('value' in current) return { key, target: 'VALUE', result: 'EQUAL', value: b64(current.value) };
  return { key, target: 'MOD', result: 'EQUAL', mod_revision: current.modRevision };
}

export class EtcdKvStore implements KvStore {
  private readonly url: URL;
  private readonly attemptTimeoutMs: number;
  private readonly deadlineMs: number;
  private readonly serializable: boolean;
  private readonly responseBytesMax: number;
  private readonly appendAttemptsMax: number;
  private readonly agent: Agent;

  constructor(options: EtcdKvStoreOptions) {
    this.url = new URL(options.url);
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 2000;
    this.deadlineMs = options.deadlineMs ?? 5000;
    this.serializable = options.serializableReads ?? false;
    this.responseBytesMax = options.responseBytesMax ?? 4 * 1024 * 1024;
    this.appendAttemptsMax = options.appendAttemptsMax ?? 50;
    this.agent = new Agent({ keepAlive: true, maxSockets: 2, localAddress: options.localAddress });
  }

  async get(key: string, signal?: AbortSignal): Promise<KvReply> {
    return this.once(signal, async (deadline) => {
      const answer = await this.post(
        '/v3/kv/range',
        { key: b64(key), ...(this.serializable ? { serializable: true } : {}) },
        deadline,
        signal,
      );
      const kv = firstKv(answer);
      return { type: 'ok', value: kv === null ? null : kv.value };
    });
  }

  async put(key: string, value: string, signal?: AbortSignal): Promise<KvReply> {
    return this.once(signal, async (deadline) => {
      await this.post('/v3/kv/put', { key: b64(key), value: b64(value) }, deadline, signal);
      return { type: 'ok' };
    });
  }

  async cas(key: string, from: string | null, to: string, signal?: AbortSignal): Promise<KvReply> {
    return this.once(signal, async (deadline) => {
      const k = b64(key);
      const answer = await this.post(
        '/v3/kv/txn',
        {
          compare: [compareFor(k, from === null ? null : { value: from })],
          success: [{ request_put: { key: k, value: b64(to) } }],
          failure: [{ request_range: { key: k } }],
        },
        deadline,
        signal,
      );
      if (answer.succeeded === true) return { type: 'ok' };
      const current = firstKv(failureRange(answer));
      return { type: 'fail', error: CAS_MISMATCH, value: current === null ? null : current.value };
    });
  }

  async append(key: string, suffix: string, signal?: AbortSignal): Promise<KvReply> {
    return this.once(signal, async (deadline) => {
      const k = b64(key);
      // The first round reads; every later one learns the fresh value from the failed txn itself.
      let current = firstKv(await this.post('/v3/kv/range', { key: k }, deadline, signal));
      for (let attempt = 1; attempt <= this.appendAttemptsMax; attempt++) {
        const answer = await this.post(
          '/v3/kv/txn',
          {
            compare: [compareFor(k, current === null ? null : { modRevision: current.modRevision })],
            success: [{ request_put: { key: k, value: b64((current?.value ?? '') + suffix) } }],
            failure: [{ request_range: { key: k } }],
          },
          deadline,
          signal,
        );
        if (answer.succeeded === true) return { type: 'ok' };
        current = firstKv(failureRange(answer));
      }
      return { type: 'fail', error: `append_contention: the key changed under each of ${this.appendAttemptsMax} rounds` };
    });
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * Runs one operation within the deadline. A request that never reached the member is a definite
   * fail; any other failure is info, since a write may have taken effect. A range is not a write,
   * but it is reported the same way (an info read constrains nothing).
   */
  private async once(signal: AbortSignal | undefined, body: (deadline: number) => Promise<KvReply>): Promise<KvReply> {
    const deadline = Date.now() + this.deadlineMs;
    try {
      return await body(deadline);
    } catch (error) {
      if (error instanceof DefiniteError) return { type: 'fail', error: error.message };
      if (error instanceof AttemptError && !error.sent) return { type: 'fail', error: `unavailable: ${error.message}` };
      return { type: 'info', error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** POSTs JSON; resolves with a 200 answer's body; throws AttemptError, DefiniteError or an indeterminate Error. */
  private post(path: string, body: unknown, deadline: number, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
    const timeoutMs = Math.min(this.attemptTimeoutMs, deadline - Date.now());
    if (timeoutMs <= 0) return Promise.reject(new Error('timeout: the operation deadline passed'));
    if (signal?.aborted) return Promise.reject(new Error('aborted'));
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      let sent = false;
      let settled = false;
      const finish = (error: Error | undefined, value?: Record<string, unknown>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(value!);
      };
      const request = httpRequest(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname,
          port: this.url.port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': payload.length },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          response.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > this.responseBytesMax) {
              response.destroy();
              finish(new Error(`broken answer: body over ${this.responseBytesMax} bytes`));
            } else chunks.push(chunk);
          });
          response.on('error', (error) => finish(new Error(`broken answer: ${error.message}`)));
          response.on('end', () => {
            let parsed: Record<string, unknown>;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
            } catch {
              return finish(new Error(`broken answer: HTTP ${response.statusCode} with a body that is not JSON`));
            }
            if (response.statusCode === 200 && parsed !== null && typeof parsed === 'object') return finish(undefined, parsed);
            finish(gatewayError(response.statusCode ?? 0, parsed));
          });
        },
      );
      const onAbort = () => {
        request.destroy();
        finish(new Error('aborted'));
      };
      const timer = setTimeout(() => {
        request.destroy();
        finish(new AttemptError(`timeout after ${timeoutMs} ms`, sent));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('socket', (socket) => {
        // A kept-alive socket is already connected; a new one is once it connects.
        if (!socket.connecting) sent = true;
        else socket.once('connect', () => (sent = true));
      });
      request.on('error', (error: NodeJS.ErrnoException) => {
        const refused = !sent && (error.code === 'ECONNREFUSED' || error.code === 'EHOSTUNREACH' || error.code === 'ENETUNREACH');
        finish(new AttemptError(error.code ?? error.message, !refused));
      });
      request.end(payload);
    });
  }
}

/** An answer that says the request did nothing (a malformed request: gRPC InvalidArgument). */
class DefiniteError extends Error {}

/** gRPC codes the gateway puts in error bodies: `{"error", "code", "message"}`. */
const GRPC_INVALID_ARGUMENT = 3;

function gatewayError(status: number, body: Record<string, unknown>): Error {
  const text = typeof body?.message === 'string' ? body.message : typeof body?.error === 'string' ? body.error : `HTTP ${status}`;
  // Invalid arguments are refused before anything is proposed. Every other error (no leader, request
  // timed out, leader changed, too many requests) may come after the proposal was made: indefinite.
  if (body?.code === GRPC_INVALID_ARGUMENT) return new DefiniteError(`invalid_argument: ${text}`);
  return new Error(`etcd: ${text} (HTTP ${status}, code ${String(body?.code)})`);
}
