// The 6.824 KV lab's scenarios against real node processes on loopback: basic operations,
// concurrent clients, exactly-once under retries, crash and restart of every server, leader
// failover, snapshots bounding the log, a lagging node caught up by snapshot; each history checked.

import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startFixture, Recorder, sleep, type Fixture } from './cluster-fixture.js';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function post(url: string, body: unknown, method = 'POST'): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('kv node (real processes)', () => {
  it('basic: put, get, append, cas, delete through the client library, with the right status codes', async () => {
    fixture = await startFixture({ nodes: 3 });
    const client = fixture.client();
    expect(await client.get('a')).toEqual({ type: 'ok', value: null });
    expect(await client.put('a', 'x')).toEqual({ type: 'ok' });
    expect(await client.get('a')).toEqual({ type: 'ok', value: 'x' });
    expect(await client.append('a', 'y')).toEqual({ type: 'ok' });
    expect(await client.get('a')).toEqual({ type: 'ok', value: 'xy' });
    expect(await client.cas('a', 'nope', 'z')).toEqual({ type: 'fail', error: 'cas_mismatch', value: 'xy' });
    expect(await client.cas('a', 'xy', 'z')).toEqual({ type: 'ok' });
    expect(await client.cas('fresh', null, 'v')).toEqual({ type: 'ok' });
    expect(await client.get('fresh')).toEqual({ type: 'ok', value: 'v' });
    expect(await client.delete('a')).toEqual({ type: 'ok' });
    expect(await client.get('a')).toEqual({ type: 'ok', value: null });
    const leader = await fixture.leader();
    const follower = fixture.cluster.ids.find((id) => id !== leader)!;
    const refused = await fetch(`${fixture.cluster.clientUrls.get(follower)}/kv/a`);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: 'not_leader', leader, leaderUrl: fixture.cluster.clientUrls.get(leader) });
    const status = await fixture.status(leader);
    expect(status).toMatchObject({ id: leader, role: 'leader', leader });
    expect(status.applied).toBeGreaterThanOrEqual(7);
  });

  it('bad input gets a clear 4xx and the node keeps serving', async () => {
    fixture = await startFixture({ nodes: 1 });
    const url = fixture.cluster.clientUrls.get('n1')!;
    await fixture.leader();
    const malformed = await fetch(`${url}/kv/k`, { method: 'PUT', body: '{"value": ', signal: AbortSignal.timeout(5000) });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { detail: string }).detail).toMatch(/not valid JSON/);
    const wrongType = await post(`${url}/kv/k`, { value: 7 }, 'PUT');
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.detail).toMatch(/value/);
    const missing = await post(`${url}/kv/k/cas`, { to: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.body.detail).toMatch(/from/);
    const badSeq = await post(`${url}/kv/k`, { value: 'v', clientId: 'c', seq: -1 }, 'PUT');
    expect(badSeq.status).toBe(400);
    const route = await fetch(`${url}/nope`);
    expect(route.status).toBe(404);
    const method = await fetch(`${url}/kv/k/append`, { method: 'GET' });
    expect(method.status).toBe(405);
    // A body declared over the 2 MiB limit is refused from its header, before it is read.
    const huge = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(`${url}/kv/k`, { method: 'PUT', headers: { 'content-length': 3 * 1024 * 1024 } }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      request.write('{"value": "');
    });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatch(/over the limit/);
    const ok = await post(`${url}/kv/k`, { value: 'still here' }, 'PUT');
    expect(ok.status).toBe(200);
    expect(await (await fetch(`${url}/kv/k`)).json()).toEqual({ value: 'still here' });
  });

  it('exactly once: a retried append with the same client id and seq applies once', async () => {
    fixture = await startFixture({ nodes: 3 });
    const leader = await fixture.leader();
    const url = fixture.cluster.clientUrls.get(leader)!;
    for (let i = 0; i < 3; i++) expect((await post(`${url}/kv/log/append`, { value: 'a', clientId: 'c1', seq: 1 })).status).toBe(200);
    expect((await post(`${url}/kv/log/append`, { value: 'b', clientId: 'c1', seq: 2 })).status).toBe(200);
    expect((await post(`${url}/kv/log/append`, { value: 'b', clientId: 'c1', seq: 2 })).status).toBe(200);
    expect((await post(`${url}/kv/log/append`, { value: 'c', clientId: 'c2', seq: 1 })).status).toBe(200);
    expect(await (await fetch(`${url}/kv/log`)).json()).toEqual({ value: 'abc' });
  });

  it('concurrent clients with a leader kill in the middle: the history is linearizable and no append is lost or doubled', async () => {
    fixture = await startFixture({ nodes: 3 });
    await fixture.leader();
    const recorder = new Recorder();
    const clientsCount = 5;
    const opsPerClient = 30;
    let killed = '';
    const work = Array.from({ length: clientsCount }, async (_, c) => {
      let process = c;
      let client = fixture!.client({ deadlineMs: 8000 });
      for (let i = 0; i < opsPerClient; i++) {
        const key = `k${i % 3}`;
        const outcome =
          i % 3 === 2
            ? await recorder.run(process, 'get', key, null, () => client.get(key))
            : await recorder.run(process, 'append', key, ` ${c}.${i}`, () => client.append(key, ` ${c}.${i}`));
        if (outcome.type === 'info') {
          process += clientsCount;
          client = fixture!.client({ deadlineMs: 8000 });
        }
        if (c === 0 && i === 10) {
          killed = await fixture!.leader();
          await fixture!.cluster.nodes.get(killed)!.kill();
        }
      }
    });
    await Promise.all(work);
    expect(killed).not.toBe('');
    await fixture.cluster.nodes.get(killed)!.start();
    const verdict = await recorder.check();
    expect(verdict.valid, verdict.text).toBe(true);
    // Every acknowledged append appears exactly once in the final values.
    const client = fixture.client();
    for (let k = 0; k < 3; k++) {
      const final = await client.get(`k${k}`);
      expect(final.type).toBe('ok');
      const tokens = ((final as { value: string | null }).value ?? '').trim().split(' ').filter(Boolean);
      expect(new Set(tokens).size).toBe(tokens.length);
      const acknowledged = recorder.events
        .filter((e) => e.type === 'ok' && e.f === 'append' && e.key === `k${k}`)
        .map((e) => String(e.value).trim());
      for (const token of acknowledged) expect(tokens).toContain(token);
    }
  });

  it('crash and restart of every server keeps every acknowledged write', async () => {
    fixture = await startFixture({ nodes: 3 });
    const client = fixture.client();
    for (let i = 0; i < 20; i++) expect((await client.put(`key${i}`, `value${i}`)).type).toBe('ok');
    await fixture.cluster.kill();
    for (const node of fixture.cluster.nodes.values()) await node.start();
    const after = fixture.client();
    for (let i = 0; i < 20; i++) expect(await after.get(`key${i}`)).toEqual({ type: 'ok', value: `value${i}` });
  });

  it('failover: after the leader is killed a new one serves writes within seconds', async () => {
    fixture = await startFixture({ nodes: 3 });
    const client = fixture.client();
    expect((await client.put('x', '1')).type).toBe('ok');
    const leader = await fixture.leader();
    await fixture.cluster.nodes.get(leader)!.kill();
    const started = Date.now();
    expect((await client.put('x', '2')).type).toBe('ok');
    expect(Date.now() - started).toBeLessThan(10_000);
    const others = fixture.cluster.ids.filter((id) => id !== leader);
    expect(others).toContain(await fixture.leader(10_000, others));
    expect(await client.get('x')).toEqual({ type: 'ok', value: '2' });
  });

  it('snapshots bound the log, and a lagging node is caught up by snapshot', async () => {
    fixture = await startFixture({ nodes: 3, extraArgs: ['--snapshot-entries', '50'] });
    const leader = await fixture.leader();
    const lagging = fixture.cluster.ids.find((id) => id !== leader)!;
    await fixture.cluster.nodes.get(lagging)!.kill();
    const client = fixture.client();
    for (let i = 0; i < 300; i++) expect((await client.put(`k${i % 20}`, 'v'.repeat(100) + i)).type).toBe('ok');
    const leaderStatus = await fixture.status(await fixture.leader());
    expect(leaderStatus.snapshotIndex as number).toBeGreaterThan(200);
    // At most one snapshot interval of entries (plus a batch) stays in the log.
    expect((leaderStatus.lastIndex as number) - (leaderStatus.firstIndex as number)).toBeLessThan(120);
    await fixture.cluster.nodes.get(lagging)!.start();
    const deadline = Date.now() + 20_000;
    let status = await fixture.status(lagging);
    while ((status.applied as number) < (leaderStatus.applied as number) && Date.now() < deadline) {
      await sleep(100);
      status = await fixture.status(lagging);
    }
    expect(status.applied as number).toBeGreaterThanOrEqual(leaderStatus.applied as number);
    expect(status.snapshotIndex as number).toBeGreaterThan(200);
    expect(status.keys).toBe(20);
  });
});
