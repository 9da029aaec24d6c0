// The client API: a small HTTP/JSON protocol over a KvNode ("a compatible KV endpoint", documented in
// the README). It validates input, maps node answers to status codes and bounds request bodies; it
// keeps no state of its own.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateCommand, type KvCommand, type KvResult } from '../kv/index.js';
import { isNodeError, type NodeAnswer } from './errors.js';
import type { KvNode } from './kv-node.js';

export interface HttpApiOptions {
  node: KvNode;
  host: string;
  port: number;
  /** Client URL of each node, for the `leaderUrl` hint. */
  clientUrls?: Map<string, string>;
  /** Request bodies beyond this are refused with 413. Default 2 MiB. */
  bodyBytesMax?: number;
  /** Concurrent connections. Default 4096. */
  connectionsMax?: number;
  log?: (line: string) => void;
}

export interface HttpApi {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Thrown inside a handler for bad input; becomes 400 with the message. */
class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const KEY_ROUTE = /^\/kv\/([^/]+)(\/append|\/cas)?$/;

export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const bodyBytesMax = options.bodyBytesMax ?? 2 * 1024 * 1024;
  const { node } = options;

  function leaderFields(leader: string | undefined): Record<string, string | null> {
    return { leader: leader ?? null, leaderUrl: (leader && options.clientUrls?.get(leader)) || null };
  }

  function send(response: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  }

  function answer(response: ServerResponse, result: NodeAnswer, isRead: boolean): void {
    if (isNodeError(result)) {
      switch (result.error) {
        case 'not_leader':
        case 'overwritten':
          return send(response, 503, { error: 'not_leader', ...leaderFields(result.leader) });
        case 'busy':
          return send(response, 503, { error: 'busy' });
        case 'too_large':
          return send(response, 413, { error: 'too_large' });
        case 'leadership_lost':
          return send(response, 504, { error: 'leadership_lost', ...leaderFields(result.leader) });
        case 'stopping':
          return send(response, result.indefinite ? 504 : 503, { error: 'stopping' });
        case 'timeout':
          return send(response, 504, { error: 'timeout' });
      }
    }
    const kv = result as KvResult;
    if (kv.ok) {
      if (isRead)
        return kv.value === null || kv.value === undefined
          ? send(response, 404, { error: 'not_found' })
          : send(response, 200, { value: kv.value });
      return send(response, 200, { ok: true });
    }
    if (kv.error === 'cas_mismatch') return send(response, 409, { error: 'cas_mismatch', value: kv.value });
    if (kv.error === 'value_too_large')
      return send(response, 413, { error: 'value_too_large', detail: 'the value would pass the 1 MiB limit' });
    return send(response, 409, { error: kv.error });
  }

  async function readBody(request: IncomingMessage): Promise<unknown> {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > bodyBytesMax) throw new BadRequest(`request body of ${declared} bytes is over the limit of ${bodyBytesMax}`, 413);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > bodyBytesMax) throw new BadRequest(`request body is over the limit of ${bodyBytesMax} bytes`, 413);
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.length === 0) throw new BadRequest('the request needs a JSON body');
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new BadRequest(`the body is not valid JSON: ${(error as Error).message}`);
    }
  }

  function bodyObject(body: unknown): Record<string, unknown> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('the body must be a JSON object');
    return body as Record<string, unknown>;
  }

  function command(base: Record<string, unknown>, body: Record<string, unknown>): KvCommand {
    const candidate: Record<string, unknown> = { ...base };
    if (body.clientId !== undefined) candidate.clientId = body.clientId;
    if (body.seq !== undefined) candidate.seq = body.seq;
    const validated = validateCommand(candidate);
    if ('error' in validated) throw new BadRequest(validated.error);
    return validated;
  }

  function requireField(body: Record<string, unknown>, field: string): unknown {
    if (!(field in body)) throw new BadRequest(`the body needs the field "${field}"`);
    return body[field];
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = request.url ?? '/';
    const path = url.split('?')[0];
    const method = request.method ?? 'GET';
    if (path === '/status' && method === 'GET') return send(response, 200, node.status());
    if (path === '/admin/transfer-leader' && method === 'POST') {
      const body = bodyObject(await readBody(request));
      const to = requireField(body, 'to');
      if (typeof to !== 'string') throw new BadRequest('"to" must be a node id (string)');
      const result = node.transferLeader(to);
      return send(response, result === 'started' || result === 'in-progress' ? 200 : 409, { result });
    }
    const match = KEY_ROUTE.exec(path);
    if (!match) throw new BadRequest(`no route for ${method} ${path}; see the README's client API`, 404);
    let key: string;
    try {
      key = decodeURIComponent(match[1]);
    } catch {
      throw new BadRequest(`the key in ${path} is not valid percent-encoding`);
    }
    const action = match[2];
    if (action === undefined && method === 'GET') {
      const checked = validateCommand({ op: 'get', key });
      if ('error' in checked) throw new BadRequest(checked.error);
      return answer(response, await node.read(key), true);
    }
    if (action === undefined && method === 'PUT') {
      const body = bodyObject(await readBody(request));
      return answer(response, await node.propose(command({ op: 'put', key, value: requireField(body, 'value') }, body)), false);
    }
    if (action === undefined && method === 'DELETE') {
      const text = Number(request.headers['content-length'] ?? 0) > 0 ? bodyObject(await readBody(request)) : {};
      return answer(response, await node.propose(command({ op: 'delete', key }, text)), false);
    }
    if (action === '/append' && method === 'POST') {
      const body = bodyObject(await readBody(request));
      return answer(response, await node.propose(command({ op: 'append', key, value: requireField(body, 'value') }, body)), false);
    }
    if (action === '/cas' && method === 'POST') {
      const body = bodyObject(await readBody(request));
      const base = { op: 'cas', key, from: requireField(body, 'from'), to: requireField(body, 'to') };
      return answer(response, await node.propose(command(base, body)), false);
    }
    throw new BadRequest(
      `no route for ${method} ${path}; see the README's client API`,
      method === 'GET' || method === 'PUT' || method === 'POST' || method === 'DELETE' ? 405 : 404,
    );
  }

  const server = createServer({ keepAlive: true, requestTimeout: 30_000, headersTimeout: 10_000 }, (request, response) => {
    route(request, response).catch((error: unknown) => {
      if (error instanceof BadRequest) {
        const code = error.status === 404 || error.status === 405 ? 'no_route' : error.status === 413 ? 'too_large' : 'bad_request';
        send(response, error.status, { error: code, detail: error.message });
        if (error.status === 413) request.destroy();
        return;
      }
      options.log?.(`http: ${(error as Error).stack ?? String(error)}`);
      if (!response.headersSent) send(response, 500, { error: 'internal', detail: (error as Error).message });
    });
  });
  server.maxConnections = options.connectionsMax ?? 4096;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
