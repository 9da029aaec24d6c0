// The TCP proxy with real loopback sockets: pass-through, cuts in both modes, delay, drops, the
// handshake rule, throttling, bounds and cleanup. Seeds are fixed; timing bounds are generous.

import { createHash } from 'node:crypto';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Proxy, type ProxyOptions, ProxyOptionsError } from '../../nemesis/proxy.js';
import { Random } from '../../src/raft/random.js';
import { ByteCollector, closed, connect, FrameCollector, frame, Resources, sleep, startServer, waitUntil } from './sockets.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

async function startProxy(
  options: Omit<ProxyOptions, 'name' | 'targetHost' | 'random'> & { seed?: number; name?: string },
): Promise<Proxy> {
  const proxy = new Proxy({
    name: options.name ?? 'test',
    targetHost: '127.0.0.1',
    random: new Random(options.seed ?? 1),
    ...options,
  });
  resources.add(() => proxy.close());
  await proxy.start();
  return proxy;
}

/** A client connected through a new proxy to a new server, and the server's side of it. */
async function link(options: Omit<ProxyOptions, 'name' | 'targetHost' | 'targetPort' | 'random'> & { seed?: number }) {
  const server = await startServer(resources);
  const proxy = await startProxy({ ...options, targetPort: server.port });
  const client = await connect(resources, proxy.port);
  const target = await server.accept();
  return { server, proxy, client, target };
}

function randomBytes(random: Random, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i + 4 <= length; i += 4) bytes.writeUInt32LE(random.nextUint32(), i);
  for (let i = length - (length % 4); i < length; i++) bytes[i] = random.nextInt(0, 256);
  return bytes;
}

function sha(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes all frames, waiting for drain when needed. */
async function writeAll(socket: net.Socket, chunks: Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
  }
}

describe('proxy pass-through', () => {
  it('stream mode: 3 MiB of random bytes each way arrive intact', async () => {
    const random = new Random(11);
    const { client, target } = await link({ mode: 'stream' });
    const up = randomBytes(random, 3 * 1024 * 1024 + 7);
    const down = randomBytes(random, 3 * 1024 * 1024 + 3);
    const atTarget = new ByteCollector(target);
    const atClient = new ByteCollector(client);
    await Promise.all([writeAll(client, [up]), writeAll(target, [down])]);
    expect(sha(await atTarget.waitFor(up.length))).toBe(sha(up));
    expect(sha(await atClient.waitFor(down.length))).toBe(sha(down));
    await sleep(20);
    expect(atTarget.length).toBe(up.length);
    expect(atClient.length).toBe(down.length);
  });

  it('frames mode: random-sized frames each way arrive intact and in order', async () => {
    const random = new Random(12);
    const { proxy, client, target } = await link({ mode: 'frames' });
    const make = (): Buffer[] => Array.from({ length: 300 }, () => randomBytes(random, random.nextInt(0, 40_000)));
    const up = make();
    const down = make();
    const atTarget = new FrameCollector(target);
    const atClient = new FrameCollector(client);
    await Promise.all([writeAll(client, up.map(frame)), writeAll(target, down.map(frame))]);
    await atTarget.waitFor(up.length, 10_000);
    await atClient.waitFor(down.length, 10_000);
    expect(atTarget.frames.map(sha)).toEqual(up.map(sha));
    expect(atClient.frames.map(sha)).toEqual(down.map(sha));
    const stats = proxy.stats();
    expect(stats.forward.framesIn).toBe(up.length);
    expect(stats.backward.framesIn).toBe(down.length);
    expect(stats.forward.bytesDiscarded + stats.backward.bytesDiscarded).toBe(0);
  });

  it('half-close passes through: the target sees end, its reply still arrives', async () => {
    const server = await startServer(resources, undefined, { allowHalfOpen: true });
    const proxy = await startProxy({ mode: 'stream', targetPort: server.port });
    const client = await connect(resources, proxy.port);
    const target = await server.accept();
    const atClient = new ByteCollector(client);
    const atTarget = new ByteCollector(target);
    target.on('end', () => target.end('bye'));
    client.end('hello');
    await atClient.waitFor(3);
    expect(atTarget.bytes().toString()).toBe('hello');
    expect(atClient.bytes().toString()).toBe('bye');
    await closed(client);
  });
});

describe('proxy cuts', () => {
  it('frames mode: cut forward drops frames (never the handshake) while backward still flows; heal restores', async () => {
    const { proxy, client, target } = await link({ mode: 'frames' });
    const atTarget = new FrameCollector(target);
    const atClient = new FrameCollector(client);
    proxy.set({ cutForward: true });
    client.write(frame('hello'));
    for (let i = 0; i < 20; i++) client.write(frame(`up ${i}`));
    for (let i = 0; i < 20; i++) target.write(frame(`down ${i}`));
    await atClient.waitFor(20);
    await sleep(100);
    expect(atTarget.texts()).toEqual(['hello']);
    expect(proxy.stats().forward.framesCut).toBe(20);
    proxy.heal();
    client.write(frame('after'));
    await atTarget.waitFor(2);
    expect(atTarget.texts()).toEqual(['hello', 'after']);
    expect(client.destroyed).toBe(false);
  });

  it('frames mode: a cut that starts mid-frame never splits a frame', async () => {
    const { proxy, client, target } = await link({ mode: 'frames' });
    const atTarget = new FrameCollector(target);
    client.write(frame('hello'));
    const big = frame(Buffer.alloc(1000, 7));
    client.write(big.subarray(0, 500));
    await waitUntil(
      () => proxy.stats().forward.bytesOut >= 9 + 500,
      5000,
      () => 'the first half',
    );
    proxy.set({ cutForward: true });
    client.write(big.subarray(500));
    client.write(frame('cut away'));
    await sleep(50);
    proxy.heal();
    client.write(frame('later'));
    await atTarget.waitFor(3);
    expect(atTarget.frames.map((f) => f.length)).toEqual([5, 1000, 5]);
    expect(atTarget.texts()[2]).toBe('later');
  });

  it('stream mode: a cut direction is blackholed; on heal the connection is destroyed and new ones work', async () => {
    const { server, proxy, client, target } = await link({ mode: 'stream' });
    const atTarget = new ByteCollector(target);
    const atClient = new ByteCollector(client);
    proxy.set({ cutBackward: true });
    client.write('GET /');
    await atTarget.waitFor(5);
    target.write('200 OK');
    await sleep(150);
    expect(atClient.length).toBe(0);
    expect(client.destroyed).toBe(false);
    proxy.heal();
    await closed(client);
    expect(atClient.length).toBe(0);
    expect(proxy.stats().connectionsBroken).toBe(1);
    const again = await connect(resources, proxy.port);
    const target2 = await server.accept();
    const atClient2 = new ByteCollector(again);
    target2.write('fresh');
    await atClient2.waitFor(5);
    expect(atClient2.bytes().toString()).toBe('fresh');
  });

  it('stream mode: connections made while cut are accepted and silent, then destroyed on heal', async () => {
    const server = await startServer(resources);
    const proxy = await startProxy({ mode: 'stream', targetPort: server.port });
    proxy.set({ cutForward: true, cutBackward: true });
    const client = await connect(resources, proxy.port);
    const atClient = new ByteCollector(client);
    client.write('request');
    await sleep(150);
    expect(client.destroyed).toBe(false);
    expect(atClient.length).toBe(0);
    for (const socket of server.sockets) expect(socket.bytesRead).toBe(0);
    proxy.heal();
    await closed(client);
  });

  it('stream mode: a connection that lost nothing survives the heal', async () => {
    const { proxy, client, target } = await link({ mode: 'stream' });
    proxy.set({ cutForward: true });
    await sleep(20);
    proxy.heal();
    const atTarget = new ByteCollector(target);
    client.write('ok');
    await atTarget.waitFor(2);
    expect(proxy.stats().connectionsBroken).toBe(0);
  });
});

describe('proxy delay, drops and throttling', () => {
  it('frames mode: delay and jitter are roughly honored and order is preserved', async () => {
    const { proxy, client, target } = await link({ mode: 'frames', seed: 3 });
    const atTarget = new FrameCollector(target);
    client.write(frame('hello'));
    await atTarget.waitFor(1);
    proxy.set({ delayMs: 40, jitterMs: 40 });
    const sentAt = new Map<number, number>();
    const latencies: number[] = [];
    target.on('data', () => {
      const now = performance.now();
      for (let i = latencies.length; i < atTarget.frames.length - 1; i++) latencies.push(now - sentAt.get(i)!);
    });
    for (let i = 0; i < 100; i++) {
      sentAt.set(i, performance.now());
      client.write(frame(String(i)));
      if (i % 10 === 0) await sleep(5);
    }
    await atTarget.waitFor(101);
    await sleep(10);
    expect(atTarget.texts().slice(1)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    expect(Math.min(...latencies)).toBeGreaterThanOrEqual(38);
    const sorted = [...latencies].sort((a, b) => a - b);
    expect(sorted[50]).toBeLessThan(1000);
  });

  it('stream mode: delayed chunks keep their order', async () => {
    const { proxy, client, target } = await link({ mode: 'stream', seed: 4 });
    proxy.set({ delayMs: 10, jitterMs: 50 });
    const atTarget = new ByteCollector(target);
    const expected: string[] = [];
    for (let i = 0; i < 50; i++) {
      const text = `<${i}>`;
      expected.push(text);
      client.write(text);
      await sleep(1);
    }
    const text = expected.join('');
    expect((await atTarget.waitFor(text.length)).toString()).toBe(text);
  });

  it('frames mode: a drop fraction of 0.3 drops a plausible share of 2000 frames (seed 5)', async () => {
    const { proxy, client, target } = await link({ mode: 'frames', seed: 5 });
    const atTarget = new FrameCollector(target);
    client.write(frame('hello'));
    await atTarget.waitFor(1);
    proxy.set({ dropFraction: 0.3 });
    await writeAll(
      client,
      Array.from({ length: 2000 }, (_, i) => frame(String(i))),
    );
    const stats = (): ReturnType<Proxy['stats']> => proxy.stats();
    await waitUntil(
      () => stats().forward.framesIn === 2001,
      5000,
      () => 'all frames to pass the proxy',
    );
    const dropped = stats().forward.framesDropped;
    await atTarget.waitFor(2001 - dropped);
    // Binomial(2000, 0.3): mean 600, sd ~20.5; 5 sd either side.
    expect(dropped).toBeGreaterThan(500);
    expect(dropped).toBeLessThan(700);
    const numbers = atTarget.texts().slice(1).map(Number);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(new Set(numbers).size).toBe(2000 - dropped);
  });

  it('frames mode: the handshake of every connection survives a drop fraction of 1 (backward only when asked)', async () => {
    const server = await startServer(resources);
    for (const backwardHandshake of [false, true]) {
      const proxy = await startProxy({ mode: 'frames', targetPort: server.port, backwardHandshake });
      proxy.set({ dropFraction: 1 });
      for (let c = 0; c < 10; c++) {
        const client = await connect(resources, proxy.port);
        const target = await server.accept();
        const atTarget = new FrameCollector(target);
        const atClient = new FrameCollector(client);
        client.write(Buffer.concat([frame(`hello ${c}`), frame('x'), frame('y')]));
        target.write(Buffer.concat([frame(`welcome ${c}`), frame('z')]));
        await atTarget.waitFor(1);
        await sleep(20);
        expect(atTarget.texts()).toEqual([`hello ${c}`]);
        expect(atClient.texts()).toEqual(backwardHandshake ? [`welcome ${c}`] : []);
      }
      expect(proxy.stats().forward.framesDropped).toBe(20);
      expect(proxy.stats().backward.framesDropped).toBe(backwardHandshake ? 10 : 20);
    }
  });

  it('stream mode: a drop fraction of 1 breaks the connection on its first chunk', async () => {
    const { proxy, client, target } = await link({ mode: 'stream' });
    proxy.set({ dropFraction: 1 });
    client.write('doomed');
    await closed(client);
    await closed(target);
    expect(target.bytesRead).toBe(0);
    expect(proxy.stats().connectionsBroken).toBe(1);
  });

  it('throttling: 60 KB at 200 KB/s takes at least a quarter second', async () => {
    const { proxy, client, target } = await link({ mode: 'stream' });
    proxy.set({ bytesPerSecond: 200_000 });
    const atTarget = new ByteCollector(target);
    const payload = randomBytes(new Random(6), 60_000);
    const started = performance.now();
    for (let i = 0; i < payload.length; i += 1000) {
      client.write(payload.subarray(i, i + 1000));
      await sleep(0);
    }
    const received = await atTarget.waitFor(payload.length);
    const elapsedMs = performance.now() - started;
    expect(sha(received)).toBe(sha(payload));
    expect(elapsedMs).toBeGreaterThanOrEqual(250);
    expect(elapsedMs).toBeLessThan(10_000);
  });
});

describe('proxy bounds and failures', () => {
  it('a frame longer than frameBytesMax breaks the connection', async () => {
    const { proxy, client } = await link({ mode: 'frames', frameBytesMax: 1000 });
    client.write(frame('hello'));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1001, 0);
    client.write(header);
    await closed(client);
    expect(proxy.stats().framesOversized).toBe(1);
  });

  it('connections over connectionsMax are accepted and closed at once', async () => {
    const server = await startServer(resources);
    const proxy = await startProxy({ mode: 'stream', targetPort: server.port, connectionsMax: 2 });
    await connect(resources, proxy.port);
    await connect(resources, proxy.port);
    await waitUntil(
      () => proxy.stats().connectionsOpen === 2,
      5000,
      () => 'two connections',
    );
    const third = await connect(resources, proxy.port);
    await closed(third);
    expect(proxy.stats().connectionsRejected).toBe(1);
    expect(proxy.stats().connectionsOpen).toBe(2);
  });

  it('frames mode: past bufferedBytesMax, whole frames are dropped and counted, the rest arrive in order', async () => {
    const { proxy, client, target } = await link({ mode: 'frames', bufferedBytesMax: 2000 });
    const atTarget = new FrameCollector(target);
    client.write(frame('hello'));
    await atTarget.waitFor(1);
    proxy.set({ delayMs: 50 });
    client.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => frame(`${String(i).padStart(3, '0')}${'.'.repeat(96)}`))));
    await waitUntil(
      () => proxy.stats().forward.framesIn === 101,
      5000,
      () => 'all frames',
    );
    const overflow = proxy.stats().forward.framesOverflow;
    expect(overflow).toBeGreaterThan(50);
    await atTarget.waitFor(101 - overflow);
    const numbers = atTarget
      .texts()
      .slice(1)
      .map((t) => Number(t.slice(0, 3)));
    expect(numbers).toEqual(Array.from({ length: 100 - overflow }, (_, i) => i));
    expect(atTarget.frames.slice(1).every((f) => f.length === 99)).toBe(true);
  });

  it('stream mode: a chunk past bufferedBytesMax breaks the connection', async () => {
    const { proxy, client } = await link({ mode: 'stream', bufferedBytesMax: 1000 });
    proxy.set({ delayMs: 50 });
    client.write(Buffer.alloc(5000, 1));
    await closed(client);
    expect(proxy.stats().connectionsBroken).toBe(1);
  });

  it('target unreachable: the client side is closed, unless the link is cut (then it is silent until the heal)', async () => {
    const server = await startServer(resources);
    const deadPort = server.port;
    await server.close();
    const proxy = await startProxy({ mode: 'frames', targetPort: deadPort });
    const refused = await connect(resources, proxy.port);
    await closed(refused);
    expect(proxy.stats().targetFailures).toBe(1);
    proxy.set({ cutForward: true });
    const silent = await connect(resources, proxy.port);
    await waitUntil(
      () => proxy.stats().targetFailures === 2,
      5000,
      () => 'the second dial to fail',
    );
    await sleep(100);
    expect(silent.destroyed).toBe(false);
    proxy.heal();
    await closed(silent);
  });

  it('the target closing ends the client side', async () => {
    const { client, target } = await link({ mode: 'frames' });
    target.end();
    await closed(client);
  });

  it('close() destroys every connection and stops listening', async () => {
    const { proxy, client } = await link({ mode: 'stream' });
    const port = proxy.port;
    await proxy.close();
    await closed(client);
    await expect(connect(new Resources(), port)).rejects.toThrow();
    expect(proxy.stats().connectionsOpen).toBe(0);
  });

  it('a port that is taken is a ProxyError naming the proxy and the address', async () => {
    const first = await startProxy({ mode: 'stream', targetPort: 1 });
    const second = new Proxy({
      name: 'second',
      listenPort: first.port,
      targetHost: '127.0.0.1',
      targetPort: 1,
      mode: 'stream',
      random: new Random(1),
    });
    resources.add(() => second.close());
    await expect(second.start()).rejects.toThrow(new RegExp(`proxy second: cannot listen on 127.0.0.1:${first.port}`));
  });

  it('rejects bad options and faults, quoting the value', () => {
    const base = { name: 'p', targetHost: '127.0.0.1', targetPort: 1, mode: 'frames' as const, random: new Random(1) };
    expect(() => new Proxy({ ...base, targetPort: 70000 })).toThrow(/targetPort .* got 70000/);
    expect(() => new Proxy({ ...base, mode: 'udp' as never })).toThrow(ProxyOptionsError);
    expect(() => new Proxy({ ...base, mode: 'udp' as never })).toThrow(/"udp"/);
    expect(() => new Proxy({ ...base, bufferedBytesMax: 0 })).toThrow(/bufferedBytesMax .* got 0/);
    const proxy = new Proxy(base);
    expect(() => proxy.set({ dropFraction: 1.5 })).toThrow(/dropFraction .* got 1.5/);
    expect(() => proxy.set({ delayMs: -1 })).toThrow(/delayMs .* got -1/);
    expect(() => proxy.set({ slow: true } as never)).toThrow(/unknown fault field "slow"/);
    expect(() => proxy.port).toThrow(/not started/);
  });
});
