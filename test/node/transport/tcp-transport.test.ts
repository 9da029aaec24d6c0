// The TCP transport on loopback with ephemeral ports: delivery between two and three nodes, the
// one-way rule (A's messages to B only on the connection A dialed), reconnect after a restart, bad
// peers (garbage, wrong handshakes, misaddressed messages), the outbound buffer bound, and close().

import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, encodeHandshakeFrame, FrameReader, decodeHandshake, decodeMessage } from '../../../src/node/transport/codec.js';
import {
  TcpTransport,
  TcpTransportListenError,
  TcpTransportOptionsError,
  type TcpTransportOptions,
} from '../../../src/node/transport/tcp-transport.js';
import type { Message } from '../../../src/raft/message.js';
import { canonical, patternBytes } from './arbitraries.js';
import { Cleanup, closesWithin, Forwarder, heartbeat, HOST, rawConnect, sleep, startCluster, startNode, waitFor } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function commits(inbox: Message[], from: string): number[] {
  return inbox.filter((m) => m.from === from).map((m) => (m.type === 'Heartbeat' ? m.commit : -1));
}

function range(n: number, start = 0): number[] {
  return Array.from({ length: n }, (_, i) => start + i);
}

describe('TcpTransport delivery', () => {
  it('two nodes exchange messages in order, large ones intact', async () => {
    const nodes = await startCluster(cleanup, ['a', 'b']);
    const a = nodes.get('a')!;
    const b = nodes.get('b')!;
    for (const i of range(300)) a.transport.send(heartbeat('a', 'b', i));
    for (const i of range(300)) b.transport.send(heartbeat('b', 'a', i));
    const snapshot: Message = {
      type: 'InstallSnapshot',
      from: 'a',
      to: 'b',
      term: 4,
      snapshotIndex: 90,
      snapshotTerm: 3,
      configuration: { voters: ['a', 'b'] },
      sizeBytes: 8 * 1024 * 1024,
      offset: 0,
      data: patternBytes(8 * 1024 * 1024, 3),
      done: true,
    };
    const append: Message = {
      type: 'AppendEntries',
      from: 'a',
      to: 'b',
      term: 4,
      prevLogIndex: 90,
      prevLogTerm: 3,
      commit: 90,
      entries: [
        { term: 4, index: 91, data: patternBytes(1024 * 1024, 1) },
        { term: 4, index: 92, data: new Uint8Array(0) },
        { term: 4, index: 93, data: Uint8Array.of(1, 2, 3) },
      ],
    };
    a.transport.send(snapshot);
    a.transport.send(append);
    await waitFor('all messages', () => b.inbox.length === 302 && a.inbox.length === 300);
    expect(commits(b.inbox.slice(0, 300), 'a')).toEqual(range(300));
    expect(commits(a.inbox, 'b')).toEqual(range(300));
    expect(canonical(b.inbox[300])).toEqual(canonical(snapshot));
    expect(canonical(b.inbox[301])).toEqual(canonical(append));
    const stats = a.transport.stats();
    expect(stats).toMatchObject({ framesSent: 302, framesReceived: 300, connects: 1, dropped: 0, malformed: 0, inboundOpen: 1 });
    expect(stats.peers.b).toMatchObject({ state: 'open', queuedBytes: 0 });
    expect(b.transport.stats().bytesReceived).toBeGreaterThan(9 * 1024 * 1024);
  });

  it('three nodes: every pair, both directions, in order', async () => {
    const ids = ['n1', 'n2', 'n3'];
    const nodes = await startCluster(cleanup, ids);
    for (const i of range(200)) {
      for (const from of ids) for (const to of ids) if (from !== to) nodes.get(from)!.transport.send(heartbeat(from, to, i));
      // Spread over ticks too, so both the batched and the one-at-a-time paths run.
      if (i % 50 === 0) await sleep(1);
    }
    await waitFor('400 messages at each node', () => ids.every((id) => nodes.get(id)!.inbox.length === 400));
    for (const to of ids) {
      for (const from of ids) if (from !== to) expect(commits(nodes.get(to)!.inbox, from)).toEqual(range(200));
      expect(nodes.get(to)!.inbox.every((m) => m.to === to)).toBe(true);
      expect(nodes.get(to)!.transport.stats()).toMatchObject({ framesSent: 400, framesReceived: 400, inboundOpen: 2, connects: 2 });
    }
  });
  it('messages sent in the same tick leave in one write call', async () => {
    const nodes = await startCluster(cleanup, ['a', 'b']);
    const a = nodes.get('a')!;
    const b = nodes.get('b')!;
    a.transport.send(heartbeat('a', 'b', 0));
    await waitFor('connected', () => b.inbox.length === 1);
    // Count the stream's calls into the socket handle (one per write or writev syscall batch).
    const prototype = net.Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
    const original = { write: prototype._write, writev: prototype._writev };
    const calls = { write: 0, writev: 0, chunks: 0 };
    prototype._write = function (this: unknown, ...args: unknown[]) {
      calls.write++;
      calls.chunks++;
      return original.write.apply(this, args);
    };
    prototype._writev = function (this: unknown, ...args: unknown[]) {
      calls.writev++;
      calls.chunks += (args[0] as unknown[]).length;
      return original.writev.apply(this, args);
    };
    try {
      for (const i of range(200, 1)) a.transport.send(heartbeat('a', 'b', i));
      await waitFor('the batch', () => b.inbox.length === 201);
    } finally {
      prototype._write = original.write;
      prototype._writev = original.writev;
    }
    expect(calls).toEqual({ write: 0, writev: 1, chunks: 200 });
  });
});

describe('TcpTransport one-way links', () => {
  it("A's messages to B travel only on the connection A dialed; cutting it leaves B to A intact", async () => {
    const a = await startNode(cleanup, 'a');
    const b = await startNode(cleanup, 'b');
    const proxy = await Forwarder.start(cleanup, b.port);
    a.transport.setPeer('b', { host: HOST, port: proxy.port });
    b.transport.setPeer('a', { host: HOST, port: a.port });

    for (const i of range(50)) a.transport.send(heartbeat('a', 'b', i));
    for (const i of range(50)) b.transport.send(heartbeat('b', 'a', i));
    await waitFor('both directions', () => a.inbox.length === 50 && b.inbox.length === 50);

    // Everything that crossed the proxy was A's handshake and A's messages; nothing came back.
    expect(proxy.connections).toBe(1);
    expect(proxy.downstreamBytes).toBe(0);
    const reader = new FrameReader();
    const payloads = proxy.upstream.flatMap((chunk) => reader.push(chunk).payloads);
    expect(decodeHandshake(payloads[0])).toEqual({ from: 'a', to: 'b' });
    const crossed = payloads.slice(1).map(decodeMessage) as Message[];
    expect(crossed.length).toBe(50);
    expect(crossed.every((m) => m.from === 'a' && m.to === 'b')).toBe(true);

    // Cut a -> b only.
    proxy.cut();
    for (const i of range(20, 100)) a.transport.send(heartbeat('a', 'b', i));
    for (const i of range(20, 100)) b.transport.send(heartbeat('b', 'a', i));
    await waitFor('b -> a after the cut', () => a.inbox.length === 70);
    await sleep(150);
    expect(b.inbox.length).toBe(50);
    expect(commits(a.inbox, 'b')).toEqual([...range(50), ...range(20, 100)]);
  });
});

describe('TcpTransport reconnect', () => {
  it('redials a restarted peer on the same port, within a bounded time', async () => {
    const nodes = await startCluster(cleanup, ['a', 'b']);
    const a = nodes.get('a')!;
    const b = nodes.get('b')!;
    a.transport.send(heartbeat('a', 'b', 1));
    await waitFor('first message', () => b.inbox.length === 1);

    await b.transport.close();
    await waitFor('a notices the loss', () => a.transport.stats().disconnects === 1, 5000);
    for (const i of range(5, 10)) a.transport.send(heartbeat('a', 'b', i));
    await sleep(100);

    const b2 = await startNode(cleanup, 'b', { listenPort: b.port });
    b2.transport.setPeer('a', { host: HOST, port: a.port });
    const restartedAt = Date.now();
    let seq = 100;
    while (b2.inbox.length === 0) {
      if (Date.now() - restartedAt > 5000) throw new Error(`no message reached the restarted peer: ${JSON.stringify(a.transport.stats())}`);
      a.transport.send(heartbeat('a', 'b', seq++));
      await sleep(10);
    }
    // reconnectDelayMaxMs is 200 here: the next dial comes well within a second.
    expect(Date.now() - restartedAt).toBeLessThan(2000);
    await waitFor('the rest', () => b2.inbox.length === seq - 100 + 5);
    // Messages queued while b was down arrive first, then the rest, in order.
    expect(commits(b2.inbox, 'a')).toEqual([...range(5, 10), ...range(seq - 100, 100)]);
    const stats = a.transport.stats();
    expect(stats.connects).toBe(2);
    expect(stats.connectFailures).toBeGreaterThanOrEqual(1);
    expect(a.logs.some((line) => /a->b: connection to .* lost/.test(line))).toBe(true);
  });

  it('backs off exponentially while the peer is down, within [min, max]', async () => {
    const closedPort = await freePort();
    const a = await startNode(cleanup, 'a', { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 160 });
    a.transport.setPeer('b', { host: HOST, port: closedPort });
    a.transport.send(heartbeat('a', 'b', 1));
    await sleep(1000);
    // Delays 20, 40, 80, 160, 160, ... ms, each jittered down by at most half (never below 20): about
    // 9 dials in 1 s, at most 15; without backoff it would be 50.
    const failures = a.transport.stats().connectFailures;
    expect(failures).toBeGreaterThanOrEqual(4);
    expect(failures).toBeLessThanOrEqual(16);
    expect(a.transport.stats().peers.b.consecutiveFailures).toBe(failures);
  });
});

describe('TcpTransport bad peers', () => {
  it('closes a connection that sends garbage, and keeps serving the others', async () => {
    const nodes = await startCluster(cleanup, ['a', 'b']);
    const a = nodes.get('a')!;
    const b = nodes.get('b')!;
    a.transport.send(heartbeat('a', 'b', 1));
    await waitFor('first message', () => b.inbox.length === 1);

    // Not a frame at all: 'GET ' read as a length is ~1.2 GB.
    const http = await rawConnect(cleanup, b.port);
    http.write('GET / HTTP/1.1\r\nHost: b\r\n\r\n');
    expect(await closesWithin(http, 5000)).toBe(true);
    expect(b.transport.stats().malformed).toBe(1);
    expect(b.logs.some((line) => /exceeds frameBytesMax/.test(line))).toBe(true);

    // A proper handshake, then a well-framed but undecodable payload.
    const junk = await rawConnect(cleanup, b.port);
    junk.write(encodeHandshakeFrame({ from: 'a', to: 'b' }));
    junk.write(Buffer.from([0, 0, 0, 5, 77, 1, 2, 3, 4]));
    expect(await closesWithin(junk, 5000)).toBe(true);
    expect(b.transport.stats().malformed).toBe(2);
    expect(b.logs.some((line) => /bad frame: unknown message type byte 77/.test(line))).toBe(true);

    // A valid frame whose payload fails the core's shape check (term 0).
    const invalid = await rawConnect(cleanup, b.port);
    invalid.write(Buffer.concat([encodeHandshakeFrame({ from: 'a', to: 'b' }), Buffer.from([0, 0, 0, 6, 11, 1, 0x61, 1, 0x62, 0])]));
    expect(await closesWithin(invalid, 5000)).toBe(true);
    expect(b.transport.stats().malformed).toBe(3);

    a.transport.send(heartbeat('a', 'b', 2));
    b.transport.send(heartbeat('b', 'a', 3));
    await waitFor('traffic after the garbage', () => b.inbox.length === 2 && a.inbox.length === 1);
    expect(b.transport.stats()).toMatchObject({ inboundOpen: 1, framesReceived: 2 });
  });

  it('rejects handshakes naming another receiver, an unknown or self sender, or none in time', async () => {
    const nodes = await startCluster(cleanup, ['a', 'b'], { handshakeTimeoutMs: 300 });
    const b = nodes.get('b')!;
    const cases = [
      { from: 'a', to: 'x', log: /names receiver "x", this is b/ },
      { from: 'z', to: 'b', log: /unknown sender "z"/ },
      { from: 'b', to: 'b', log: /unknown sender "b"/ },
    ];
    for (const [i, c] of cases.entries()) {
      const socket = await rawConnect(cleanup, b.port);
      socket.write(encodeHandshakeFrame({ from: c.from, to: c.to }));
      // A message after the bad handshake must not be delivered.
      socket.write(encodeFrame(heartbeat(c.from === 'b' ? 'a' : c.from, 'b', 9)));
      expect(await closesWithin(socket, 5000)).toBe(true);
      expect(b.transport.stats().handshakesRejected).toBe(i + 1);
      expect(b.logs.some((line) => c.log.test(line))).toBe(true);
    }
    const silent = await rawConnect(cleanup, b.port);
    const openedAt = Date.now();
    expect(await closesWithin(silent, 5000)).toBe(true);
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(250);
    expect(b.transport.stats().handshakesRejected).toBe(4);
    expect(b.logs.some((line) => /no handshake within 300 ms/.test(line))).toBe(true);
    expect(b.inbox).toEqual([]);
  });

  it('drops and counts messages whose from or to disagree with the handshake, keeping the connection', async () => {
    const nodes = await startCluster(cleanup, ['a', 'b', 'c']);
    const b = nodes.get('b')!;
    const socket = await rawConnect(cleanup, b.port);
    socket.write(encodeHandshakeFrame({ from: 'a', to: 'b' }));
    socket.write(encodeFrame(heartbeat('c', 'b', 1))); // claims to be from c on a's connection
    socket.write(encodeFrame(heartbeat('a', 'c', 2))); // for someone else
    socket.write(encodeFrame(heartbeat('a', 'b', 3)));
    await waitFor('the good message', () => b.inbox.length === 1);
    expect(commits(b.inbox, 'a')).toEqual([3]);
    expect(b.transport.stats()).toMatchObject({ misaddressed: 2, malformed: 0, framesReceived: 1 });
    expect(await closesWithin(socket, 100)).toBe(false);
  });

  it('refuses connections beyond inboundConnectionsMax', async () => {
    const b = await startNode(cleanup, 'b', { inboundConnectionsMax: 2 });
    const first = await rawConnect(cleanup, b.port);
    const second = await rawConnect(cleanup, b.port);
    await waitFor('two accepted', () => b.transport.stats().inboundAccepted === 2);
    const third = await rawConnect(cleanup, b.port);
    expect(await closesWithin(third, 5000)).toBe(true);
    expect(b.transport.stats()).toMatchObject({ inboundRefused: 1, inboundOpen: 2 });
    expect(await closesWithin(first, 50)).toBe(false);
    expect(await closesWithin(second, 1)).toBe(false);
  });
});

describe('TcpTransport bounds', () => {
  it('drops and counts messages beyond queueBytesMax while the peer is unreachable', async () => {
    const closedPort = await freePort();
    const a = await startNode(cleanup, 'a', { queueBytesMax: 10_000 });
    a.transport.setPeer('b', { host: HOST, port: closedPort });
    const frameBytes = encodeFrame(heartbeat('a', 'b', 0, 'x'.repeat(80))).length;
    for (const i of range(1000)) a.transport.send(heartbeat('a', 'b', i % 10, 'x'.repeat(80)));
    const kept = Math.floor(10_000 / frameBytes);
    expect(a.transport.stats()).toMatchObject({ dropped: 1000 - kept, queuedBytes: kept * frameBytes });
    await waitFor('a failed dial', () => a.transport.stats().connectFailures >= 1, 5000);
    // The queue survives failed dials (for the next connection) and stays bounded.
    a.transport.send(heartbeat('a', 'b', 1, 'x'.repeat(80)));
    expect(a.transport.stats()).toMatchObject({ dropped: 1001 - kept, queuedBytes: kept * frameBytes });
    expect(a.logs.filter((line) => /outbound buffer full/.test(line)).length).toBe(1);
    await a.transport.close();
    expect(a.transport.stats()).toMatchObject({ dropped: 1001, queuedBytes: 0 });
  });

  it('bounds what waits for a peer that does not read', async () => {
    const sockets: net.Socket[] = [];
    const sink = net.createServer((socket) => {
      sockets.push(socket);
      socket.pause();
    });
    await new Promise<void>((resolve) => sink.listen(0, HOST, resolve));
    cleanup.add(() => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), sink.close(() => resolve()))));
    const queueBytesMax = 1024 * 1024;
    const a = await startNode(cleanup, 'a', { queueBytesMax });
    a.transport.setPeer('b', { host: HOST, port: (sink.address() as net.AddressInfo).port });
    const data = patternBytes(64 * 1024);
    // 64 MiB offered: more than the kernel's loopback buffers can absorb (tcp_rmem max is often 32 MiB).
    const ROUNDS = 64;
    let maxQueued = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < 16; i++) {
        const index = round * 16 + i + 1;
        a.transport.send({
          type: 'AppendEntries',
          from: 'a',
          to: 'b',
          term: 1,
          prevLogIndex: index - 1,
          prevLogTerm: 1,
          commit: 0,
          entries: [{ term: 1, index, data }],
        });
        maxQueued = Math.max(maxQueued, a.transport.stats().queuedBytes);
      }
      await sleep(2);
    }
    const stats = a.transport.stats();
    // The kernel absorbs some, our buffer at most queueBytesMax, the rest is dropped.
    expect(maxQueued).toBeLessThanOrEqual(queueBytesMax);
    expect(stats.dropped).toBeGreaterThan(0);
    // Every message was handed to the socket, dropped, or is among the few still in our buffer.
    expect(stats.framesSent + stats.dropped).toBeLessThanOrEqual(ROUNDS * 16);
    expect(stats.framesSent + stats.dropped).toBeGreaterThanOrEqual(ROUNDS * 16 - Math.ceil(queueBytesMax / (64 * 1024)));
    expect(stats.connects).toBe(1);
  });

  it('drops a message whose frame exceeds frameBytesMax instead of sending it', async () => {
    const nodes = await startCluster(cleanup, ['a', 'b'], { frameBytesMax: 1000 });
    const a = nodes.get('a')!;
    const b = nodes.get('b')!;
    a.transport.send(heartbeat('a', 'b', 1, 'x'.repeat(1000)));
    a.transport.send(heartbeat('a', 'b', 2));
    await waitFor('the small one', () => b.inbox.length === 1);
    expect(commits(b.inbox, 'a')).toEqual([2]);
    expect(a.transport.stats().dropped).toBe(1);
    expect(b.transport.stats().malformed).toBe(0);
  });

  it('drops messages to unknown peers, and refuses to send for another node', async () => {
    const a = await startNode(cleanup, 'a');
    a.transport.send(heartbeat('a', 'nobody', 1));
    a.transport.send(heartbeat('a', 'nobody', 2));
    expect(a.transport.stats().dropped).toBe(2);
    expect(a.logs.filter((line) => /no address for "nobody"/.test(line)).length).toBe(1);
    expect(() => a.transport.send(heartbeat('b', 'a', 1))).toThrow(/cannot send a message from "b"/);
  });
});

describe('TcpTransport lifecycle', () => {
  it('close() closes every socket and the listener, frees the port, and is idempotent', async () => {
    const nodes = await startCluster(cleanup, ['a', 'b']);
    const a = nodes.get('a')!;
    const b = nodes.get('b')!;
    a.transport.send(heartbeat('a', 'b', 1));
    b.transport.send(heartbeat('b', 'a', 1));
    await waitFor('both ways', () => a.inbox.length === 1 && b.inbox.length === 1);
    const idle = await rawConnect(cleanup, a.port);
    await waitFor('accepted', () => a.transport.stats().inboundOpen === 2);

    const closing = a.transport.close();
    expect(a.transport.close()).toBe(closing);
    await closing;
    expect(a.transport.stats()).toMatchObject({ inboundOpen: 0 });
    expect(a.transport.stats().peers.b.state).toBe('closed');
    expect(await closesWithin(idle, 2000)).toBe(true);
    await waitFor('b sees its inbound closed', () => b.transport.stats().inboundOpen === 0, 5000);
    // The port is free again at once.
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(a.port, HOST, resolve);
    });
    await new Promise<void>((resolve) => again.close(() => resolve()));

    a.transport.send(heartbeat('a', 'b', 2));
    expect(a.transport.stats().dropped).toBe(1);
    await expect(a.transport.start()).rejects.toThrow(TcpTransportListenError);
  });

  it('reports a port in use as a TcpTransportListenError', async () => {
    const a = await startNode(cleanup, 'a');
    const clash = new TcpTransport({ id: 'b', listenHost: HOST, listenPort: a.port, peers: new Map(), onMessage: () => {} });
    cleanup.add(() => clash.close());
    await expect(clash.start()).rejects.toThrow(new RegExp(`cannot listen on 127.0.0.1:${a.port}: .*EADDRINUSE`));
  });

  it('validates its options up front, quoting the bad value', () => {
    const base: TcpTransportOptions = { id: 'a', listenHost: HOST, listenPort: 0, peers: new Map(), onMessage: () => {} };
    const bad: [Partial<TcpTransportOptions> & Record<string, unknown>, RegExp][] = [
      [{ id: '' }, /id must be a string of 1 to 256 characters, got ""/],
      [{ listenPort: 70000 }, /listenPort must be an integer in \[0, 65535\], got 70000/],
      [{ peers: new Map([['b', { host: HOST, port: 0 }]]) }, /peer b: port must be an integer in \[1, 65535\], got 0/],
      [{ peers: new Map([['b', { host: '', port: 1 }]]) }, /peer b: host must be a host name or address, got ""/],
      [{ queueBytesMax: 0 }, /queueBytesMax must be an integer in \[1, \d+\], got 0/],
      [{ frameBytesMax: 2 ** 32 }, /frameBytesMax must be an integer in \[1, 4294967295\], got 4294967296/],
      [{ reconnectDelayMinMs: 500, reconnectDelayMaxMs: 100 }, /reconnectDelayMaxMs \(100\) must be at least reconnectDelayMinMs \(500\)/],
      [{ handshakeTimeoutMs: 1.5 }, /handshakeTimeoutMs must be an integer .* got 1.5/],
      [{ onMessage: undefined }, /onMessage must be a function, got undefined/],
    ];
    for (const [override, message] of bad) {
      expect(() => new TcpTransport({ ...base, ...override } as TcpTransportOptions)).toThrow(TcpTransportOptionsError);
      expect(() => new TcpTransport({ ...base, ...override } as TcpTransportOptions)).toThrow(message);
    }
    expect(() => new TcpTransport(base).setPeer('b', { host: HOST, port: -1 })).toThrow(/got -1/);
  });
});

/** A port nothing listens on (bound, then released: nothing else here takes it in the meantime). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
