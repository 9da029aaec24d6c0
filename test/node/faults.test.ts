// The 6.824 KV lab's fault scenarios on real node processes behind the nemesis's proxies:
// partitions (the minority side completes nothing; after healing it serves again within seconds),
// an unreliable network (delay and loss) with a checked history, garbage on the peer port, and a
// torn or corrupted WAL (recover, or refuse to start naming the file and offset).

import { mkdtempSync, rmSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cutBetween } from '../../nemesis/grudge.js';
import type { Net } from '../../nemesis/types.js';
import { KvClient } from '../../src/client/kv-client.js';
import { newestWalSegment, waitForLeader } from '../../src/targets/skepsis/db.js';
import { freePorts, logExcerpt } from '../../src/harness/launcher.js';
import { startLinkProxies } from '../../src/harness/proxies.js';
import { prepareLocalCluster, startAll, type LocalCluster } from '../../src/targets/skepsis/local-cluster.js';
import { Random } from '../../src/raft/random.js';
import { Recorder, sleep, TEST_NODE_ARGS } from './cluster-fixture.js';

interface ProxiedCluster {
  cluster: LocalCluster;
  net: Net;
  client(ids?: string[], deadlineMs?: number): KvClient;
  leader(among?: string[]): Promise<string>;
  close(): Promise<void>;
}

let current: ProxiedCluster | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function startProxied(nodes: number): Promise<ProxiedCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'skepsis-faults-'));
  const ids = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const ports = await freePorts(nodes * 2);
  const peerPorts = new Map(ids.map((id, i) => [id, ports[i]]));
  const clientPorts = new Map(ids.map((id, i) => [id, ports[nodes + i]]));
  const proxies = await startLinkProxies(ids, peerPorts, undefined, new Random(7));
  const cluster = await prepareLocalCluster({
    nodes,
    dir,
    peerPorts,
    clientPorts,
    advertisedPeerPort: proxies.peerPort,
    extraArgs: TEST_NODE_ARGS,
  });
  const { net } = proxies;
  const clients: KvClient[] = [];
  const close = async () => {
    for (const client of clients) client.close();
    await cluster.kill();
    await proxies.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await startAll(cluster);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    cluster,
    net,
    client(only = ids, deadlineMs = 15_000) {
      const client = new KvClient({
        nodes: new Map(only.map((id) => [id, cluster.clientUrls.get(id)!])),
        deadlineMs,
        attemptTimeoutMs: 1000,
      });
      clients.push(client);
      return client;
    },
    async leader(among = ids) {
      const leader = await waitForLeader(cluster, { timeoutMs: 20_000, among });
      if (leader === undefined) throw new Error(`no leader among ${among.join(', ')}`);
      return leader;
    },
    close,
  };
}

describe('kv node under network faults (real processes, proxied links)', () => {
  it('partition: the minority side completes nothing; the majority serves; after healing the minority serves within seconds', async () => {
    current = await startProxied(5);
    const { net } = current;
    expect((await current.client().put('k', 'before')).type).toBe('ok');
    const oldLeader = await current.leader();
    const others = current.cluster.ids.filter((id) => id !== oldLeader);
    const minority = [oldLeader, others[0]];
    const majority = others.slice(1);
    net.cut(cutBetween(minority, majority));
    const minorityClient = current.client(minority, 3000);
    const outcome = await minorityClient.put('k', 'minority');
    expect(outcome.type).not.toBe('ok');
    const majorityClient = current.client(majority);
    expect((await majorityClient.put('k', 'majority')).type).toBe('ok');
    expect(majority).toContain(await current.leader(majority));
    expect(await majorityClient.get('k')).toEqual({ type: 'ok', value: 'majority' });
    // Reads on the minority side must not be served either (no stale reads).
    expect((await minorityClient.get('k')).type).not.toBe('ok');
    net.heal();
    const healed = Date.now();
    // The minority's nodes rejoin: a client bound to one of them is served (through its redirect).
    const again = new KvClient({ nodes: current.cluster.clientUrls, home: minority[0], deadlineMs: 20_000 });
    expect(await again.get('k')).toEqual({ type: 'ok', value: 'majority' });
    expect((await again.put('k', 'after')).type).toBe('ok');
    again.close();
    expect(Date.now() - healed).toBeLessThan(15_000);
    // And they caught up: the old leader knows the new leader and has applied the new writes.
    const deadline = Date.now() + 15_000;
    let status: { leader?: string; applied?: number } = {};
    while (Date.now() < deadline) {
      status = (await (await fetch(`${current.cluster.clientUrls.get(oldLeader)}/status`)).json()) as typeof status;
      if (majority.includes(status.leader ?? '')) break;
      await sleep(100);
    }
    expect(majority).toContain(status.leader);
  });

  it('unreliable network (delay, jitter and 10% frame loss): concurrent clients, checked history, no lost appends', async () => {
    current = await startProxied(3);
    current.net.flaky({ delayMs: 5, jitterMs: 20, dropFraction: 0.1 });
    const recorder = new Recorder();
    await Promise.all(
      Array.from({ length: 4 }, async (_, c) => {
        let process = c;
        let client = current!.client(undefined, 10_000);
        for (let i = 0; i < 15; i++) {
          const key = `k${i % 2}`;
          const outcome =
            i % 3 === 2
              ? await recorder.run(process, 'get', key, null, () => client.get(key))
              : await recorder.run(process, 'append', key, ` ${c}.${i}`, () => client.append(key, ` ${c}.${i}`));
          if (outcome.type === 'info') {
            process += 4;
            client = current!.client(undefined, 10_000);
          }
        }
      }),
    );
    current.net.heal();
    const verdict = await recorder.check();
    expect(verdict.valid, verdict.text).toBe(true);
    expect(recorder.events.filter((e) => e.type === 'ok').length).toBeGreaterThan(30);
  });

  it('garbage on the peer port closes that connection and the node keeps serving', async () => {
    current = await startProxied(3);
    const port = current.cluster.peerPorts.get('n1')!;
    for (const garbage of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]), Buffer.alloc(64, 7)]) {
      await new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(garbage));
        socket.on('close', () => resolve());
        socket.on('error', () => resolve());
        socket.resume();
      });
    }
    expect((await current.client().put('after-garbage', 'ok')).type).toBe('ok');
    expect(logExcerpt(current.cluster.logFile('n1'), 200)).toMatch(/closing connection from/);
  });

  it('a torn WAL tail is truncated on restart; a corrupted record in the middle makes the node refuse to start, naming file and offset', async () => {
    current = await startProxied(3);
    const client = current.client();
    for (let i = 0; i < 30; i++) expect((await client.put(`k${i}`, `v${i}`)).type).toBe('ok');
    const victim = current.cluster.ids.find((id) => id !== 'n0')!;
    const node = current.cluster.nodes.get(victim)!;
    await node.kill();
    const file = (await newestWalSegment(current.cluster.dataDir(victim)))!;
    const size = (await stat(file)).size;
    // Torn: cut the last record in half.
    const handle = await open(file, 'r+');
    await handle.truncate(size - 3);
    await handle.close();
    await node.start();
    expect(logExcerpt(current.cluster.logFile(victim), 50)).toMatch(/truncat|torn/i);
    for (let i = 0; i < 30; i++) expect(await client.get(`k${i}`)).toEqual({ type: 'ok', value: `v${i}` });
    // Corrupt: flip a byte in the middle of the log.
    await node.kill();
    const middle = Math.floor((await stat(file)).size / 2);
    const corrupt = await open(file, 'r+');
    const byte = Buffer.alloc(1);
    await corrupt.read(byte, 0, 1, middle);
    byte[0] ^= 0x5a;
    await corrupt.write(byte, 0, 1, middle);
    await corrupt.close();
    const refused = await node.start().then(
      () => undefined,
      (error: Error) => error,
    );
    expect(refused?.message).toMatch(/did not start/);
    expect(refused?.message).toContain(file);
    expect(refused?.message).toMatch(/offset/);
    expect(node.running).toBe(false);
    // The others still serve.
    expect((await client.put('still', 'serving')).type).toBe('ok');
  });
});
