// EtcdKvStore against real etcd members on loopback (its semantics on one member; what a member
// without a quorum and a killed member answer), and against a fake gateway for what a healthy etcd
// does not do on demand: oversized, malformed and error answers, silence, cut connections, contention.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CAS_MISMATCH, type KvReply } from '../../workloads/kv-command.js';
import { EtcdKvStore, EtcdKvStoreOptionsError, type EtcdKvStoreOptions } from '../../src/targets/etcd/client.js';
import { startEtcdMembers, type EtcdMembers } from './etcd-members.js';

const stores: EtcdKvStore[] = [];

function store(options: EtcdKvStoreOptions): EtcdKvStore {
  const created = new EtcdKvStore(options);
  stores.push(created);
  return created;
}

afterEach(() => {
  for (const created of stores.splice(0)) created.close();
});

/** The reply and how long it took. */
async function timed(run: () => Promise<KvReply>): Promise<{ reply: KvReply; ms: number }> {
  const start = performance.now();
  const reply = await run();
  return { reply, ms: performance.now() - start };
}

describe('EtcdKvStore on one etcd member', () => {
  let etcd: EtcdMembers;
  let kv: EtcdKvStore;

  beforeAll(async () => {
    etcd = await startEtcdMembers({ members: 1 });
    kv = new EtcdKvStore({ url: etcd.urls[0] });
  });

  afterAll(async () => {
    kv?.close();
    await etcd?.close();
  });

  it('reads a missing key as null, and a key holding "" as "" (etcd leaves the empty value out)', async () => {
    expect(await kv.get('absent')).toEqual({ type: 'ok', value: null });
    expect(await kv.put('empty', '')).toEqual({ type: 'ok' });
    expect(await kv.get('empty')).toEqual({ type: 'ok', value: '' });
  });

  it('round-trips non-ASCII keys and values', async () => {
    const key = 'κλειδί/鍵/🔑';
    const value = 'ἀπορία — 懐疑 🤔 \u0000 "quoted"';
    expect(await kv.put(key, value)).toEqual({ type: 'ok' });
    expect(await kv.get(key)).toEqual({ type: 'ok', value });
    expect(await kv.get('κλειδί/鍵')).toEqual({ type: 'ok', value: null });
  });

  it('cas from null creates only an absent key; a mismatch is a definite fail with the current value', async () => {
    expect(await kv.cas('c', null, '1')).toEqual({ type: 'ok' });
    expect(await kv.cas('c', null, '2')).toEqual({ type: 'fail', error: CAS_MISMATCH, value: '1' });
    expect(await kv.cas('c', '9', '2')).toEqual({ type: 'fail', error: CAS_MISMATCH, value: '1' });
    expect(await kv.cas('c', '1', '2')).toEqual({ type: 'ok' });
    expect(await kv.get('c')).toEqual({ type: 'ok', value: '2' });
    // "" is a value, not absence: etcd fails a VALUE compare on a missing key whatever the value.
    expect(await kv.cas('c-absent', '', 'x')).toEqual({ type: 'fail', error: CAS_MISMATCH, value: null });
    expect(await kv.put('c-empty', '')).toEqual({ type: 'ok' });
    expect(await kv.cas('c-empty', null, 'x')).toEqual({ type: 'fail', error: CAS_MISMATCH, value: '' });
    expect(await kv.cas('c-empty', '', 'x')).toEqual({ type: 'ok' });
  });

  it('append creates the key and builds on it', async () => {
    expect(await kv.append('a', 'x')).toEqual({ type: 'ok' });
    expect(await kv.append('a', 'y')).toEqual({ type: 'ok' });
    expect(await kv.append('a', 'ζ')).toEqual({ type: 'ok' });
    expect(await kv.get('a')).toEqual({ type: 'ok', value: 'xyζ' });
  });

  it('concurrent appends from 8 clients to one key each land exactly once', async () => {
    const clients = Array.from({ length: 8 }, () => store({ url: etcd.urls[0], appendAttemptsMax: 1000, deadlineMs: 20_000 }));
    const suffix = (client: number, op: number) => `[${client}.${op}]`;
    const replies = await Promise.all(
      clients.map(async (client, c) => {
        const own: KvReply[] = [];
        for (let op = 0; op < 5; op++) own.push(await client.append('contended', suffix(c, op)));
        return own;
      }),
    );
    expect(replies.flat().every((reply) => reply.type === 'ok')).toBe(true);
    const final = await kv.get('contended');
    expect(final.type).toBe('ok');
    const value = (final as { value: string }).value;
    for (let c = 0; c < 8; c++) {
      let at = -1;
      for (let op = 0; op < 5; op++) {
        expect(value.split(suffix(c, op)).length - 1, `${suffix(c, op)} in ${value}`).toBe(1);
        // Each client's appends are sequential, so they land in its order.
        expect(value.indexOf(suffix(c, op))).toBeGreaterThan(at);
        at = value.indexOf(suffix(c, op));
      }
    }
    expect(value.length).toBe(8 * 5 * '[0.0]'.length);
  });

  it('reads serializably when asked', async () => {
    const serializable = store({ url: etcd.urls[0], serializableReads: true });
    expect(await kv.put('s', 'v')).toEqual({ type: 'ok' });
    expect(await serializable.get('s')).toEqual({ type: 'ok', value: 'v' });
  });

  it('a request too large is refused definitely: by etcd over 1.5 MiB, by its gRPC server over 2 MiB', async () => {
    const tooLarge = 'etcd_invalid_argument: etcdserver: request is too large (HTTP 400)';
    expect(await kv.put('big', 'x'.repeat(1_600_000))).toEqual({ type: 'fail', error: tooLarge });
    expect(await kv.append('big', 'x'.repeat(1_600_000))).toEqual({ type: 'fail', error: tooLarge });
    const overGrpc = await kv.put('big', 'x'.repeat(2 * 1024 * 1024));
    expect(overGrpc.type).toBe('fail');
    expect((overGrpc as { error: string }).error).toMatch(
      /^etcd_resource_exhausted: grpc: received message larger than max \(\d+ vs\. 2097152\) \(HTTP 429\)$/,
    );
    expect(await kv.get('big')).toEqual({ type: 'ok', value: null });
  });

  it('connects from localAddress', async () => {
    const bound = store({ url: etcd.urls[0], localAddress: '127.0.0.2' });
    expect(await bound.put('bound', '1')).toEqual({ type: 'ok' });
    expect(await bound.get('bound')).toEqual({ type: 'ok', value: '1' });
  });
});

describe('EtcdKvStore on three etcd members, two of them killed', () => {
  let etcd: EtcdMembers;

  beforeAll(async () => {
    etcd = await startEtcdMembers({ members: 3 });
  });

  afterAll(async () => {
    await etcd?.close();
  });

  it('without a quorum a put ends info within the deadline, and a killed member refuses (a definite fail)', async () => {
    const on = (member: number, options: Partial<EtcdKvStoreOptions> = {}) =>
      store({ url: etcd.urls[member], attemptTimeoutMs: 2000, deadlineMs: 2000, ...options });
    for (let member = 0; member < 3; member++) expect(await on(member).put('k', `before-${member}`)).toEqual({ type: 'ok' });
    expect(await on(0).get('k')).toEqual({ type: 'ok', value: 'before-2' });

    await Promise.all([etcd.kill(1), etcd.kill(2)]);
    const [put, read, staleRead, refused, etcdAnswer] = await Promise.all([
      timed(() => on(0).put('k', 'lonely')),
      timed(() => on(0).get('k')),
      timed(() => on(0, { serializableReads: true }).get('k')),
      timed(() => on(1).put('k', 'to the dead')),
      // Long enough to hear etcd's own answer: it gives up on a proposal after 5 s + 2 election timeouts.
      timed(() => on(0, { attemptTimeoutMs: 15_000, deadlineMs: 15_000 }).put('k', 'patient')),
    ]);
    // The attempt gets what is left of the 2000 ms deadline when it starts: 2000 ms, or a few less.
    const noAnswer = { type: 'info', error: expect.stringMatching(/^timeout: no answer within (19[5-9]\d|2000) ms$/) };
    expect(put.reply).toEqual(noAnswer);
    expect(put.ms).toBeLessThan(2000 + 1500);
    expect(read.reply).toEqual(noAnswer);
    // The survivor answers a serializable read from its own state, without a leader.
    expect(staleRead.reply).toEqual({ type: 'ok', value: 'before-2' });
    expect(refused.reply).toEqual({ type: 'fail', error: 'unavailable: connection refused' });
    expect(refused.ms).toBeLessThan(1000);
    // Measured on 3.4.23: "request timed out" (HTTP 503, code 14) when the proposal reached a leader,
    // "context deadline exceeded" (HTTP 500, code 2) when there was none to hand it to. Both info.
    expect(etcdAnswer.reply.type).toBe('info');
    expect((etcdAnswer.reply as { error: string }).error).toMatch(
      /^etcd_(unavailable: etcdserver: request timed out.* \(HTTP 503\)|unknown: context deadline exceeded \(HTTP 500\))$/,
    );
    expect(etcdAnswer.ms).toBeGreaterThan(4000);
  });
});

describe('EtcdKvStore against a fake gateway', () => {
  type Handler = (request: IncomingMessage, body: Record<string, unknown>, response: ServerResponse) => void;
  let server: Server;
  let url: string;
  let handler: Handler;
  let seen: { path: string; body: Record<string, unknown>; from: string }[];
  const header = { revision: '9' };

  const answer = (response: ServerResponse, status: number, body: unknown) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  };
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const kv = (value: string, modRevision: string) => ({
    key: b64('k'),
    value: b64(value),
    mod_revision: modRevision,
    create_revision: '2',
  });

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        seen.push({ path: request.url ?? '', body, from: request.socket.remoteAddress ?? '' });
        handler(request, body, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    seen = [];
    handler = (_request, _body, response) => answer(response, 200, { header });
  });

  it('sends base64 keys and values, a CREATE == 0 compare for cas from null, and reads its failure range', async () => {
    handler = (_request, _body, response) =>
      answer(response, 200, { header, responses: [{ response_range: { header, kvs: [kv('now', '4')], count: '1' } }] });
    expect(await store({ url }).cas('k', null, 'v')).toEqual({ type: 'fail', error: CAS_MISMATCH, value: 'now' });
    expect(seen).toEqual([
      {
        path: '/v3/kv/txn',
        from: '127.0.0.1',
        body: {
          compare: [{ key: b64('k'), target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
          success: [{ request_put: { key: b64('k'), value: b64('v') } }],
          failure: [{ request_range: { key: b64('k') } }],
        },
      },
    ]);
  });

  it('append retries from the failed txn own range, with no second range, and gives up definitely', async () => {
    let txns = 0;
    handler = (request, _body, response) => {
      if (request.url === '/v3/kv/range') return answer(response, 200, { header, kvs: [kv('a', '7')], count: '1' });
      txns++;
      if (txns === 3) return answer(response, 200, { header, succeeded: true, responses: [{ response_put: { header } }] });
      answer(response, 200, { header, responses: [{ response_range: { header, kvs: [kv(`a${txns}`, String(7 + txns))] } }] });
    };
    expect(await store({ url }).append('k', 'x')).toEqual({ type: 'ok' });
    expect(
      seen.map(({ path, body }) => [path, (body.compare as object[] | undefined)?.[0], (body.success as object[] | undefined)?.[0]]),
    ).toEqual([
      ['/v3/kv/range', undefined, undefined],
      [
        '/v3/kv/txn',
        { key: b64('k'), target: 'MOD', result: 'EQUAL', mod_revision: '7' },
        { request_put: { key: b64('k'), value: b64('ax') } },
      ],
      [
        '/v3/kv/txn',
        { key: b64('k'), target: 'MOD', result: 'EQUAL', mod_revision: '8' },
        { request_put: { key: b64('k'), value: b64('a1x') } },
      ],
      [
        '/v3/kv/txn',
        { key: b64('k'), target: 'MOD', result: 'EQUAL', mod_revision: '9' },
        { request_put: { key: b64('k'), value: b64('a2x') } },
      ],
    ]);

    seen = [];
    txns = 100;
    const reply = await store({ url, appendAttemptsMax: 2 }).append('k', 'x');
    expect(reply.type).toBe('fail');
    expect((reply as { error: string }).error).toMatch(/^append_contention: /);
    expect(seen.map(({ path }) => path)).toEqual(['/v3/kv/range', '/v3/kv/txn', '/v3/kv/txn']);
  });

  it('an oversized answer is info, whether declared or streamed', async () => {
    const big = { header, kvs: [kv('x'.repeat(4096), '3')] };
    handler = (_request, _body, response) => answer(response, 200, big);
    expect((await store({ url, responseBytesMax: 1024 }).get('k')).type).toBe('info');
    handler = (_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(big));
    };
    const reply = await store({ url, responseBytesMax: 1024 }).get('k');
    expect(reply).toEqual({ type: 'info', error: 'response_too_large: HTTP 200 body over 1024 bytes' });
    expect(await store({ url, responseBytesMax: 8192 }).get('k')).toEqual({ type: 'ok', value: 'x'.repeat(4096) });
  });

  it('a body that is not JSON, or not shaped like etcd answers, is info', async () => {
    handler = (_request, _body, response) => answer(response, 200, '{"header":');
    expect((await store({ url }).put('k', 'v')).type).toBe('info');
    handler = (_request, _body, response) => answer(response, 200, { kvs: [] });
    expect((await store({ url }).get('k')).type).toBe('info');
    handler = (_request, _body, response) => answer(response, 200, { header, responses: [] });
    expect((await store({ url }).cas('k', 'a', 'b')).type).toBe('info');
    handler = (_request, _body, response) => answer(response, 404, 'Not Found\n');
    expect((await store({ url }).put('k', 'v')).type).toBe('info');
  });

  it('a gRPC error body is info, except InvalidArgument (code 3), which is definite', async () => {
    handler = (_request, _body, response) =>
      answer(response, 503, { error: 'etcdserver: request timed out', message: 'etcdserver: request timed out', code: 14 });
    expect(await store({ url }).put('k', 'v')).toEqual({
      type: 'info',
      error: 'etcd_unavailable: etcdserver: request timed out (HTTP 503)',
    });
    handler = (_request, _body, response) =>
      answer(response, 500, { error: 'context deadline exceeded', message: 'context deadline exceeded', code: 2 });
    expect(await store({ url }).cas('k', 'a', 'b')).toEqual({ type: 'info', error: 'etcd_unknown: context deadline exceeded (HTTP 500)' });
    handler = (_request, _body, response) =>
      answer(response, 400, { error: 'etcdserver: key is not provided', message: 'etcdserver: key is not provided', code: 3 });
    expect(await store({ url }).put('k', 'v')).toEqual({
      type: 'fail',
      error: 'etcd_invalid_argument: etcdserver: key is not provided (HTTP 400)',
    });
  });

  it('silence is info at the attempt timeout; a cut connection is info; an abort is info at once', async () => {
    handler = () => {};
    const silent = await timed(() => store({ url, attemptTimeoutMs: 300 }).put('k', 'v'));
    expect(silent.reply).toEqual({ type: 'info', error: 'timeout: no answer within 300 ms' });
    expect(silent.ms).toBeLessThan(300 + 1000);

    handler = (request) => request.socket.destroy();
    expect((await store({ url }).put('k', 'v')).type).toBe('info');

    handler = () => {};
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const aborted = await timed(() => store({ url }).append('k', 'v', controller.signal));
    expect(aborted.reply).toEqual({ type: 'info', error: 'aborted' });
    expect(aborted.ms).toBeLessThan(100 + 1000);
  });

  it("append's read failing is a definite fail (nothing written); its txn timing out is info", async () => {
    handler = () => {};
    const reply = await store({ url, attemptTimeoutMs: 200 }).append('k', 'x');
    expect(reply).toEqual({ type: 'fail', error: 'append_read_failed: timeout: no answer within 200 ms' });
    handler = (request, _body, response) => {
      if (request.url === '/v3/kv/range') answer(response, 200, { header });
    };
    expect(await store({ url, attemptTimeoutMs: 200 }).append('k', 'x')).toEqual({
      type: 'info',
      error: 'timeout: no answer within 200 ms',
    });
    expect(seen.map(({ path, body }) => [path, body.compare])).toEqual([
      ['/v3/kv/range', undefined],
      ['/v3/kv/range', undefined],
      ['/v3/kv/txn', [{ key: b64('k'), target: 'CREATE', result: 'EQUAL', create_revision: '0' }]],
    ]);
  });

  it('a refused connection is a definite fail', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = store({ url: `http://127.0.0.1:${port}` });
    expect(await refused.put('k', 'v')).toEqual({ type: 'fail', error: 'unavailable: connection refused' });
    expect(await refused.get('k')).toEqual({ type: 'fail', error: 'unavailable: connection refused' });
    expect(await refused.append('k', 'v')).toEqual({ type: 'fail', error: 'append_read_failed: unavailable: connection refused' });
  });

  it('connects from localAddress, and leaves a shared agent open on close', async () => {
    const agent = new Agent({ keepAlive: true });
    try {
      const first = new EtcdKvStore({ url, agent, localAddress: '127.0.0.2' });
      expect(await first.put('k', 'v')).toEqual({ type: 'ok' });
      first.close();
      expect(await new EtcdKvStore({ url, agent }).put('k', 'v')).toEqual({ type: 'ok' });
      expect(seen.map(({ from }) => from)).toEqual(['127.0.0.2', '127.0.0.1']);
    } finally {
      agent.destroy();
    }
  });

  it('refuses options that make no sense, quoting them', () => {
    expect(() => new EtcdKvStore({ url: 'localhost:2379' })).toThrow(EtcdKvStoreOptionsError);
    expect(() => new EtcdKvStore({ url: 'https://127.0.0.1:2379' })).toThrow(/http URL/);
    expect(() => new EtcdKvStore({ url, attemptTimeoutMs: 0 })).toThrow('attemptTimeoutMs must be an integer >= 1, got 0');
    expect(() => new EtcdKvStore({ url, appendAttemptsMax: 1.5 })).toThrow(/appendAttemptsMax/);
    expect(() => new EtcdKvStore({ url, localAddress: 'eth0' })).toThrow('localAddress must be an IP address, got "eth0"');
  });
});
