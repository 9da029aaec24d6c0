// A KvStore over etcd's v3 JSON gateway (HTTP/JSON, no gRPC dependency), bound to one member as a
// Jepsen client is bound to one node: etcd forwards to its leader itself, so there is nothing to
// follow and nothing is retried. It does not start, stop or find members; that is the Db's job.
//
// What the gateway looks like (measured against etcd 3.4.23): every call is a POST of JSON; keys and
// values are base64; int64 fields are JSON strings ("mod_revision":"3"); fields equal to their zero
// value are left out, so a range of a missing key has no `kvs`, a key holding "" has no `value`, and
// a txn whose compare failed has no `succeeded`. Errors are gRPC statuses as JSON,
// {"error","code","message"}, e.g. HTTP 400 code 3 "etcdserver: request is too large", HTTP 503
// code 14 "etcdserver: request timed out", HTTP 500 code 2 "context deadline exceeded".
//
// etcd does not de-duplicate a retried request, so an operation ends `info` once a write may have
// reached the member; `fail` only when it certainly did not happen: the connection never opened, the
// member refused the request as malformed, or a compare failed.

import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { CAS_MISMATCH, type KvReply, type KvStore } from '../../../workloads/kv-command.js';

export interface EtcdKvStoreOptions {
  /** The client URL of the one member this store talks to, e.g. `http://198.18.3.2:2379` (http only). */
  url: string;
  /** One HTTP request gives up after this long. Default 2000. etcd itself gives up on a proposal
   * after 5 s + 2 election timeouts (7 s with its defaults), so a smaller bound ends first. */
  attemptTimeoutMs?: number;
  /** One operation gives up after this long; only append makes more than one request. Default 5000. */
  deadlineMs?: number;
  /** get reads serializably: the member answers from its own state without asking the leader, so the
   * value may be stale, and a member cut off from the leader still answers. Default false
   * (linearizable). */
  serializableReads?: boolean;
  /** Source IP of this store's connections, so that the harness can cut client links at the IP level.
   * Default: chosen by the kernel. */
  localAddress?: string;
  /** A response body larger than this is a broken answer (`info`). Default 4 MiB. */
  responseBytesMax?: number;
  /** Rounds of append's read-modify-write before it gives up with `append_contention`. Default 50. */
  appendAttemptsMax?: number;
  /** A keep-alive agent shared with other stores; close() leaves it open. Default: one of our own
   * (keep-alive, 4 sockets), destroyed by close(). */
  agent?: Agent;
}

/** Options that make no sense; the message quotes the bad value. */
export class EtcdKvStoreOptionsError extends Error {
  override readonly name = 'EtcdKvStoreOptionsError';
}

/** Error of an append whose every compare failed: the key kept changing, nothing was written. */
export const APPEND_CONTENTION = 'append_contention';

/**
 * How one request ended. `definite` errors mean the member did nothing (the connection never opened,
 * or it refused the request before proposing it); `indefinite` ones mean it may have.
 */
type Answer = { kind: 'ok'; body: Record<string, unknown> } | { kind: 'definite'; error: string } | { kind: 'indefinite'; error: string };

/** The one key-value a range of one key answers with; null when the key is absent. */
interface KeyValue {
  value: string;
  /** A decimal int64, kept as the string etcd sent (it may not fit a double). */
  modRevision: string;
}

/** gRPC status codes by number, as the gateway puts them in error bodies. */
const GRPC_CODE_NAMES = [
  'ok',
  'canceled',
  'unknown',
  'invalid_argument',
  'deadline_exceeded',
  'not_found',
  'already_exists',
  'permission_denied',
  'resource_exhausted',
  'failed_precondition',
  'aborted',
  'out_of_range',
  'unimplemented',
  'internal',
  'unavailable',
  'data_loss',
  'unauthenticated',
];

/**
 * gRPC codes that prove the request did nothing:
 * - InvalidArgument (3): a malformed request (bad JSON or base64, no key, over --max-request-bytes,
 *   1.5 MiB by default), checked before anything is proposed.
 * - ResourceExhausted (8): the gRPC server refusing a message over --max-request-bytes + 512 KiB
 *   before any handler runs ("grpc: received message larger than max", HTTP 429, measured), or
 *   etcd's "too many requests" (the apply loop 5000 entries behind) and "database space exceeded"
 *   (the quota), both checked before proposing; a put that meets the space alarm at apply is
 *   rejected there, whole.
 * Every other code is indefinite: Unavailable (14) "request timed out" comes after the proposal went
 * into the leader's log, and Unknown (2) "context deadline exceeded" is etcd's propose timing out,
 * which in a narrow race can follow the proposal's hand-over to Raft.
 */
const DEFINITE_GRPC_CODES = new Set([3, 8]);

const ERROR_BODY_CHARS_MAX = 200;

export class EtcdKvStore implements KvStore {
  private readonly url: URL;
  private readonly attemptTimeoutMs: number;
  private readonly deadlineMs: number;
  private readonly serializableReads: boolean;
  private readonly localAddress: string | undefined;
  private readonly responseBytesMax: number;
  private readonly appendAttemptsMax: number;
  private readonly agent: Agent;
  private readonly ownAgent: boolean;
  private closed = false;

  constructor(options: EtcdKvStoreOptions) {
    const fail = (message: string): never => {
      throw new EtcdKvStoreOptionsError(message);
    };
    let url: URL | undefined;
    try {
      url = new URL(options.url);
    } catch {
      fail(`url must be an http URL such as http://127.0.0.1:2379, got ${JSON.stringify(options.url)}`);
    }
    if (url!.protocol !== 'http:') fail(`url must be an http URL (the gateway without TLS), got ${JSON.stringify(options.url)}`);
    this.url = url!;
    this.attemptTimeoutMs = positiveInteger('attemptTimeoutMs', options.attemptTimeoutMs, 2000);
    this.deadlineMs = positiveInteger('deadlineMs', options.deadlineMs, 5000);
    this.responseBytesMax = positiveInteger('responseBytesMax', options.responseBytesMax, 4 * 1024 * 1024);
    this.appendAttemptsMax = positiveInteger('appendAttemptsMax', options.appendAttemptsMax, 50);
    this.serializableReads = options.serializableReads ?? false;
    if (typeof this.serializableReads !== 'boolean')
      fail(`serializableReads must be a boolean, got ${JSON.stringify(options.serializableReads)}`);
    if (options.localAddress !== undefined && isIP(options.localAddress) === 0)
      fail(`localAddress must be an IP address, got ${JSON.stringify(options.localAddress)}`);
    this.localAddress = options.localAddress;
    if (options.agent !== undefined && !(options.agent instanceof Agent)) fail('agent must be an http.Agent');
    this.ownAgent = options.agent === undefined;
    this.agent = options.agent ?? new Agent({ keepAlive: true, maxSockets: 4 });
  }

  async get(key: string, signal?: AbortSignal): Promise<KvReply> {
    const deadline = Date.now() + this.deadlineMs;
    const answer = await this.post('/v3/kv/range', rangeRequest(key, this.serializableReads), deadline, signal);
    if (answer.kind !== 'ok') return reply(answer);
    const kv = keyValueOf(answer.body);
    if (kv === undefined) return malformed(answer.body);
    return { type: 'ok', value: kv === null ? null : kv.value };
  }

  async put(key: string, value: string, signal?: AbortSignal): Promise<KvReply> {
    const deadline = Date.now() + this.deadlineMs;
    const answer = await this.post('/v3/kv/put', { key: base64(key), value: base64(value) }, deadline, signal);
    return answer.kind === 'ok' ? { type: 'ok' } : reply(answer);
  }

  /** One txn: compare the value (or, for `from: null`, that the key is absent), put on success, read on failure. */
  async cas(key: string, from: string | null, to: string, signal?: AbortSignal): Promise<KvReply> {
    const deadline = Date.now() + this.deadlineMs;
    const compare = from === null ? absent(key) : { key: base64(key), target: 'VALUE', result: 'EQUAL', value: base64(from) };
    const answer = await this.post('/v3/kv/txn', txnRequest(key, compare, to), deadline, signal);
    if (answer.kind !== 'ok') return reply(answer);
    const outcome = txnOutcome(answer.body);
    if (outcome === undefined) return malformed(answer.body);
    if (outcome.succeeded) return { type: 'ok' };
    return { type: 'fail', error: CAS_MISMATCH, value: outcome.current === null ? null : outcome.current.value };
  }

  /**
   * Read-modify-write, since etcd has no append: a range learns the value and its mod revision, then
   * a txn puts value + suffix if the mod revision is unchanged (or, for an absent key, if it is still
   * absent). A failed compare's own range gives the fresh value, so a retry needs no second range.
   * Only the txns write, and each one whose outcome is unknown ends the operation `info`; while every
   * txn so far definitely failed, nothing is written and any error is a definite `fail`.
   */
  async append(key: string, suffix: string, signal?: AbortSignal): Promise<KvReply> {
    const deadline = Date.now() + this.deadlineMs;
    // A linearizable range even with serializableReads: under a partition it fails (definitely,
    // nothing was written) instead of returning a stale revision whose txn would end `info`.
    const read = await this.post('/v3/kv/range', rangeRequest(key, false), deadline, signal);
    if (read.kind !== 'ok') return signal?.aborted ? reply(read) : { type: 'fail', error: `append_read_failed: ${read.error}` };
    const first = keyValueOf(read.body);
    if (first === undefined) return { type: 'fail', error: `append_read_failed: ${malformed(read.body).error}` };
    let current = first;
    for (let attempt = 1; attempt <= this.appendAttemptsMax; attempt++) {
      if (Date.now() >= deadline) break;
      const compare =
        current === null ? absent(key) : { key: base64(key), target: 'MOD', result: 'EQUAL', mod_revision: current.modRevision };
      const answer = await this.post('/v3/kv/txn', txnRequest(key, compare, (current?.value ?? '') + suffix), deadline, signal);
      if (answer.kind !== 'ok') return reply(answer);
      const outcome = txnOutcome(answer.body);
      if (outcome === undefined) return malformed(answer.body);
      if (outcome.succeeded) return { type: 'ok' };
      current = outcome.current;
    }
    return {
      type: 'fail',
      error: `${APPEND_CONTENTION}: the key changed under every read-modify-write round (${this.appendAttemptsMax} at most, ${this.deadlineMs} ms)`,
    };
  }

  close(): void {
    this.closed = true;
    if (this.ownAgent) this.agent.destroy();
  }

  /** POSTs one JSON request; every way it can end is an Answer, bounded by the attempt timeout and the deadline. */
  private post(path: string, request: Record<string, unknown>, deadline: number, signal: AbortSignal | undefined): Promise<Answer> {
    if (this.closed) return Promise.resolve({ kind: 'definite', error: 'closed' });
    if (signal?.aborted) return Promise.resolve({ kind: 'indefinite', error: 'aborted' });
    const timeoutMs = Math.min(this.attemptTimeoutMs, deadline - Date.now());
    if (timeoutMs <= 0) return Promise.resolve({ kind: 'definite', error: 'timeout: the deadline passed before sending' });
    const payload = Buffer.from(JSON.stringify(request), 'utf8');
    return new Promise((resolve) => {
      /** Whether the connection is open: before that, no byte of the request can have left. */
      let connected = false;
      let settled = false;
      const finish = (answer: Answer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(answer);
      };
      const req = httpRequest(
        {
          // URL keeps an IPv6 literal's brackets; the socket wants the bare address.
          host: this.url.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: this.url.port || 80,
          path,
          method: 'POST',
          agent: this.agent,
          localAddress: this.localAddress,
          headers: { 'content-type': 'application/json', 'content-length': payload.length },
        },
        (response) => this.readAnswer(response, finish),
      );
      const timer = setTimeout(() => {
        req.destroy();
        finish(
          connected
            ? { kind: 'indefinite', error: `timeout: no answer within ${timeoutMs} ms` }
            : { kind: 'definite', error: `unavailable: no connection within ${timeoutMs} ms` },
        );
      }, timeoutMs);
      const onAbort = (): void => {
        req.destroy();
        finish({ kind: 'indefinite', error: 'aborted' });
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('socket', (socket) => {
        // A kept-alive socket is open already; a new one once it connects.
        if (socket.connecting) socket.once('connect', () => (connected = true));
        else connected = true;
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (!connected) finish({ kind: 'definite', error: `unavailable: ${connectErrorText(error)}` });
        else finish({ kind: 'indefinite', error: `connection_broken: ${error.code ?? error.message}` });
      });
      req.end(payload);
    });
  }

  /** Reads a response body within responseBytesMax and classifies it. */
  private readAnswer(response: IncomingMessage, finish: (answer: Answer) => void): void {
    const status = response.statusCode ?? 0;
    const declaredBytes = Number(response.headers['content-length']);
    if (declaredBytes > this.responseBytesMax) {
      response.destroy();
      finish({
        kind: 'indefinite',
        error: `response_too_large: HTTP ${status} declares ${declaredBytes} bytes, over ${this.responseBytesMax}`,
      });
      return;
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    response.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > this.responseBytesMax) {
        response.destroy();
        finish({ kind: 'indefinite', error: `response_too_large: HTTP ${status} body over ${this.responseBytesMax} bytes` });
        return;
      }
      chunks.push(chunk);
    });
    response.on('error', (error) =>
      finish({ kind: 'indefinite', error: `connection_broken: ${errorCode(error)} while reading the answer` }),
    );
    response.on('close', () => {
      if (!response.complete) finish({ kind: 'indefinite', error: 'connection_broken: the answer was cut short' });
    });
    response.on('end', () => finish(classify(status, Buffer.concat(chunks).toString('utf8'))));
  }
}

/** What an answer's status and body mean. */
function classify(status: number, text: string): Answer {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { kind: 'indefinite', error: `malformed_response: HTTP ${status} with a body that is not JSON: ${excerpt(text)}` };
  }
  if (!isObject(body)) return { kind: 'indefinite', error: `malformed_response: HTTP ${status} with ${excerpt(text)}` };
  if (status === 200) return { kind: 'ok', body };
  if (typeof body.code === 'number') {
    const code = body.code;
    const message = typeof body.message === 'string' ? body.message : typeof body.error === 'string' ? body.error : '';
    const error = `etcd_${GRPC_CODE_NAMES[code] ?? `code_${code}`}: ${message} (HTTP ${status})`;
    return DEFINITE_GRPC_CODES.has(code) ? { kind: 'definite', error } : { kind: 'indefinite', error };
  }
  return { kind: 'indefinite', error: `http_${status}: ${excerpt(text)}` };
}

function reply(answer: Answer & { kind: 'definite' | 'indefinite' }): KvReply {
  return answer.kind === 'definite' ? { type: 'fail', error: answer.error } : { type: 'info', error: answer.error };
}

/** A 200 answer without the shape etcd gives it: something else answered, or it was mangled. */
function malformed(body: Record<string, unknown>): KvReply & { type: 'info' } {
  return { type: 'info', error: `malformed_response: ${excerpt(JSON.stringify(body))}` };
}

function rangeRequest(key: string, serializable: boolean): Record<string, unknown> {
  return serializable ? { key: base64(key), serializable: true } : { key: base64(key) };
}

/** The compare "the key does not exist": its create revision is 0. */
function absent(key: string): Record<string, unknown> {
  return { key: base64(key), target: 'CREATE', result: 'EQUAL', create_revision: '0' };
}

function txnRequest(key: string, compare: Record<string, unknown>, value: string): Record<string, unknown> {
  return {
    compare: [compare],
    success: [{ request_put: { key: base64(key), value: base64(value) } }],
    failure: [{ request_range: { key: base64(key) } }],
  };
}

/**
 * A range answer's key-value: null when the key is absent (no `kvs`), undefined when the answer is
 * not shaped like etcd's (no `header`, or `kvs` of the wrong kind).
 */
function keyValueOf(range: Record<string, unknown>): KeyValue | null | undefined {
  if (!isObject(range.header)) return undefined;
  if (range.kvs === undefined) return null;
  if (!Array.isArray(range.kvs)) return undefined;
  if (range.kvs.length === 0) return null;
  const kv: unknown = range.kvs[0];
  if (!isObject(kv)) return undefined;
  // A key holding "" comes without `value`, and a revision of 0 without `mod_revision`.
  const value = kv.value ?? '';
  const modRevision = kv.mod_revision ?? '0';
  if (typeof value !== 'string' || typeof modRevision !== 'string' || !/^\d+$/.test(modRevision)) return undefined;
  return { value: Buffer.from(value, 'base64').toString('utf8'), modRevision };
}

/**
 * A txn answer: succeeded, or the key-value its failure branch read. `succeeded` is left out when
 * false; undefined when the answer is not shaped like etcd's.
 */
function txnOutcome(body: Record<string, unknown>): { succeeded: true } | { succeeded: false; current: KeyValue | null } | undefined {
  if (!isObject(body.header)) return undefined;
  if (body.succeeded === true) return { succeeded: true };
  if (body.succeeded !== undefined && body.succeeded !== false) return undefined;
  const first: unknown = Array.isArray(body.responses) ? body.responses[0] : undefined;
  if (!isObject(first) || !isObject(first.response_range)) return undefined;
  // The inner range's header has only a revision, so check the shape of kvs alone.
  const current = keyValueOf({ header: {}, ...first.response_range });
  return current === undefined ? undefined : { succeeded: false, current };
}

function connectErrorText(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `no address for the host (${error.code})`;
    case 'EADDRNOTAVAIL':
      return 'the local address is not available (EADDRNOTAVAIL)';
    default:
      return error.code ?? error.message;
  }
}

function errorCode(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function excerpt(text: string): string {
  return text.length <= ERROR_BODY_CHARS_MAX ? text : `${text.slice(0, ERROR_BODY_CHARS_MAX)}...`;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new EtcdKvStoreOptionsError(`${name} must be an integer >= 1, got ${JSON.stringify(value)}`);
  return value;
}
