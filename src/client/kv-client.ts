// A client for the KV HTTP API (ours, or any compatible endpoint): finds the leader, follows
// not-leader hints, retries with the same client id and sequence number so the store applies a
// write exactly once, and reports an outcome it cannot know as `info` (indeterminate), never as a
// failure. One operation at a time per client, as the de-duplication table expects.

import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';

export type KvOutcome =
  | { type: 'ok'; value?: string | null }
  /** Definitely did not happen (e.g. cas_mismatch, bad_request). */
  | { type: 'fail'; error: string; value?: string | null; detail?: string }
  /** May or may not have happened. */
  | { type: 'info'; error: string };

export interface KvClientOptions {
  /** Client URL of each node by id (e.g. through the harness's proxies), or a plain list. */
  nodes: Map<string, string> | string[];
  /** Identifies this client's session for de-duplication. Default: a random UUID. */
  clientId?: string;
  /** One HTTP attempt gives up after this long. Default 2000. */
  attemptTimeoutMs?: number;
  /** An operation (all its attempts) gives up after this long. Default 10 000. */
  deadlineMs?: number;
  /** Attempts per operation (the deadline usually ends them first). Default 1000. */
  attemptsMax?: number;
  /** Pause between attempts when no leader is known: doubles from min to max. Defaults 10 and 200. */
  retryDelayMinMs?: number;
  retryDelayMaxMs?: number;
  /** Start every operation at this node (by id) instead of the last known leader, as a Jepsen client
   * bound to one node does; redirects are still followed within the operation. */
  home?: string;
  /** Shared keep-alive agent; by default one per client. */
  agent?: Agent;
  /** Source address of this client's own agent's connections (the harness's clients under --net hosts). */
  localAddress?: string;
  /** Response bodies beyond this are treated as a broken response. Default 4 MiB. */
  responseBytesMax?: number;
}

interface HttpReply {
  status: number;
  body: Record<string, unknown>;
}

/** How an attempt ended before any reply: refused connections never reached the node. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly reachedNode: boolean,
  ) {
    super(message);
  }
}

type Request = { method: string; path: string; body?: Record<string, unknown>; write: boolean };

export class KvClient {
  private readonly urls: string[];
  private readonly ids: (string | undefined)[];
  private readonly options: Required<Omit<KvClientOptions, 'nodes' | 'clientId' | 'agent' | 'home' | 'localAddress'>>;
  private readonly home: number | undefined;
  private readonly agent: Agent;
  private readonly ownAgent: boolean;
  private clientId: string;
  private seq = 0;
  /** Index into urls of the node we believe leads. */
  private target = 0;
  private busy = false;

  constructor(options: KvClientOptions) {
    const entries = options.nodes instanceof Map ? [...options.nodes] : options.nodes.map((url) => [undefined, url] as const);
    if (entries.length === 0) throw new Error('KvClient needs at least one node URL');
    this.urls = entries.map(([, url]) => url.replace(/\/$/, ''));
    this.ids = entries.map(([id]) => id);
    this.clientId = options.clientId ?? randomUUID();
    this.options = {
      attemptTimeoutMs: options.attemptTimeoutMs ?? 2000,
      deadlineMs: options.deadlineMs ?? 10_000,
      attemptsMax: options.attemptsMax ?? 1000,
      retryDelayMinMs: options.retryDelayMinMs ?? 10,
      retryDelayMaxMs: options.retryDelayMaxMs ?? 200,
      responseBytesMax: options.responseBytesMax ?? 4 * 1024 * 1024,
    };
    if (options.home !== undefined) {
      this.home = this.ids.indexOf(options.home);
      if (this.home < 0) throw new Error(`KvClient: home node "${options.home}" is not among ${this.ids.join(', ')}`);
      this.target = this.home;
    }
    this.ownAgent = options.agent === undefined;
    this.agent = options.agent ?? new Agent({ keepAlive: true, maxSockets: 4, localAddress: options.localAddress });
  }

  get session(): { clientId: string; seq: number } {
    return { clientId: this.clientId, seq: this.seq };
  }

  get(key: string, signal?: AbortSignal): Promise<KvOutcome> {
    return this.run({ method: 'GET', path: keyPath(key), write: false }, signal);
  }

  put(key: string, value: string, signal?: AbortSignal): Promise<KvOutcome> {
    return this.run({ method: 'PUT', path: keyPath(key), body: { value }, write: true }, signal);
  }

  append(key: string, value: string, signal?: AbortSignal): Promise<KvOutcome> {
    return this.run({ method: 'POST', path: `${keyPath(key)}/append`, body: { value }, write: true }, signal);
  }

  cas(key: string, from: string | null, to: string, signal?: AbortSignal): Promise<KvOutcome> {
    return this.run({ method: 'POST', path: `${keyPath(key)}/cas`, body: { from, to }, write: true }, signal);
  }

  delete(key: string, signal?: AbortSignal): Promise<KvOutcome> {
    return this.run({ method: 'DELETE', path: keyPath(key), body: {}, write: true }, signal);
  }

  close(): void {
    if (this.ownAgent) this.agent.destroy();
  }

  private async run(request: Request, signal: AbortSignal | undefined): Promise<KvOutcome> {
    if (this.busy) throw new Error('KvClient runs one operation at a time (its session allows one outstanding request)');
    this.busy = true;
    try {
      return await this.attempts(request, signal);
    } finally {
      this.busy = false;
    }
  }

  private async attempts(request: Request, signal: AbortSignal | undefined): Promise<KvOutcome> {
    if (request.write) {
      this.seq++;
      request.body = { ...request.body, clientId: this.clientId, seq: this.seq };
    }
    if (this.home !== undefined) this.target = this.home;
    const deadline = Date.now() + this.options.deadlineMs;
    /** Whether some attempt may have reached a node that proposed it. */
    let maybeApplied = false;
    let lastError = 'unavailable';
    let delayMs = this.options.retryDelayMinMs;
    for (let attempt = 0; attempt < this.options.attemptsMax; attempt++) {
      if (signal?.aborted || Date.now() >= deadline) break;
      let reply: HttpReply;
      try {
        reply = await this.send(request, Math.min(this.options.attemptTimeoutMs, deadline - Date.now()), signal);
      } catch (error) {
        const attemptError = error as AttemptError;
        if (attemptError.reachedNode) maybeApplied = true;
        lastError = attemptError.message;
        this.target = (this.target + 1) % this.urls.length;
        await sleep(Math.min(delayMs, Math.max(0, deadline - Date.now())), signal);
        delayMs = Math.min(delayMs * 2, this.options.retryDelayMaxMs);
        continue;
      }
      const code = typeof reply.body.error === 'string' ? reply.body.error : '';
      if (reply.status === 200) return request.write ? { type: 'ok' } : { type: 'ok', value: asValue(reply.body.value) };
      if (reply.status === 404 && code === 'not_found' && !request.write) return { type: 'ok', value: null };
      if (reply.status === 409 && code === 'cas_mismatch') return { type: 'fail', error: 'cas_mismatch', value: asValue(reply.body.value) };
      if (reply.status === 409 && code === 'session_expired') {
        // Our session was evicted; the state machine did not apply this request.
        if (maybeApplied) return { type: 'info', error: 'session_expired' };
        this.clientId = randomUUID();
        this.seq = 1;
        request.body = { ...request.body, clientId: this.clientId, seq: this.seq };
        continue;
      }
      if (reply.status === 503 || reply.status === 504) {
        if (reply.status === 504) maybeApplied = true;
        lastError = code || `http_${reply.status}`;
        if (!this.follow(reply.body)) {
          this.target = (this.target + 1) % this.urls.length;
          await sleep(Math.min(delayMs, Math.max(0, deadline - Date.now())), signal);
          delayMs = Math.min(delayMs * 2, this.options.retryDelayMaxMs);
        }
        continue;
      }
      // 400, 404 (route), 405, 413: the node refused the request itself.
      return {
        type: 'fail',
        error: code || `http_${reply.status}`,
        detail: typeof reply.body.detail === 'string' ? reply.body.detail : undefined,
      };
    }
    if (signal?.aborted) return { type: 'info', error: 'aborted' };
    if (maybeApplied || !request.write) return { type: 'info', error: lastError === 'unavailable' ? 'timeout' : lastError };
    return { type: 'fail', error: 'unavailable' };
  }

  /** Points the next attempt at the hinted leader; false when there is no usable hint. */
  private follow(body: Record<string, unknown>): boolean {
    const leader = typeof body.leader === 'string' ? body.leader : undefined;
    if (leader !== undefined) {
      const index = this.ids.indexOf(leader);
      if (index >= 0) {
        this.target = index;
        return true;
      }
    }
    const leaderUrl = typeof body.leaderUrl === 'string' ? body.leaderUrl : undefined;
    if (leaderUrl !== undefined && this.ids.every((id) => id === undefined)) {
      const index = this.urls.indexOf(leaderUrl.replace(/\/$/, ''));
      if (index >= 0) {
        this.target = index;
        return true;
      }
    }
    return false;
  }

  private send(request: Request, timeoutMs: number, signal: AbortSignal | undefined): Promise<HttpReply> {
    const url = new URL(this.urls[this.target] + request.path);
    const payload = request.body !== undefined ? JSON.stringify(request.body) : undefined;
    return new Promise((resolve, reject) => {
      let sent = false;
      let settled = false;
      const finish = (error: AttemptError | undefined, reply?: HttpReply) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(reply!);
      };
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: request.method,
          agent: this.agent,
          headers: payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.options.responseBytesMax) {
              response.destroy();
              finish(new AttemptError('response_too_large', true));
              return;
            }
            chunks.push(chunk);
          });
          response.on('end', () => {
            let body: Record<string, unknown> = {};
            try {
              const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
              if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
            } catch {
              return finish(new AttemptError('malformed_response', true));
            }
            finish(undefined, { status: response.statusCode ?? 0, body });
          });
          response.on('error', () => finish(new AttemptError('connection_broken', true)));
        },
      );
      const timer = setTimeout(
        () => {
          req.destroy();
          finish(new AttemptError('timeout', sent));
        },
        Math.max(1, timeoutMs),
      );
      const onAbort = () => {
        req.destroy();
        finish(new AttemptError('aborted', sent));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('socket', (socket) => {
        // Bytes that left this process may have reached the node, even if the reply never comes.
        if (socket.connecting) socket.once('connect', () => (sent = true));
        else sent = true;
      });
      req.on('error', () => {
        // Before the connection was up, nothing reached the node; after, we cannot tell.
        finish(new AttemptError(sent ? 'connection_broken' : 'connection_refused', sent));
      });
      req.end(payload);
    });
  }
}

function keyPath(key: string): string {
  return `/kv/${encodeURIComponent(key)}`;
}

function asValue(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
