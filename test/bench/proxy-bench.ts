// Proxy overhead on loopback: bulk throughput (stream mode, and frames mode with small and large
// frames) and request/response round trips, each direct and through a healthy Proxy, with the ratio.
// The load (sender and sink) runs in a child process and the proxy in this one, as in a real run
// (proxies in the harness, nodes in their own processes). Not a test.
// Usage: npx tsx test/bench/proxy-bench.ts [--mib N] [--round-trips N] [--runs N]

import { type ChildProcess, fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Proxy, type ProxyMode } from '../../nemesis/proxy.js';
import { Random } from '../../src/raft/random.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} must be a positive number, got ${JSON.stringify(process.argv[i + 1])}`);
  return value;
}

const MIB = flag('mib', 256);
const ROUND_TRIPS = flag('round-trips', 20_000);
const RUNS = flag('runs', 3);

interface Sink {
  port: number;
  close(): Promise<void>;
}

/** Counts bytes; once `expected` bytes arrived on a connection it answers with one byte. Echoes in echo mode. */
async function startSink(echo: boolean): Promise<Sink & { expect(bytes: number): void }> {
  let expected = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      if (echo) {
        socket.write(chunk);
        return;
      }
      received += chunk.length;
      if (received === expected) socket.write(Buffer.from([1]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    expect(bytes) {
      expected = bytes;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function dial(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.setNoDelay(true);
    socket.once('error', reject);
  });
}

/** Sends `total` bytes as `chunk`-sized writes (each a frame when framed); ms until the sink acknowledged all. */
async function bulk(port: number, total: number, chunkBytes: number, framed: boolean): Promise<number> {
  const socket = await dial(port);
  const chunk = Buffer.alloc(chunkBytes, 0x5a);
  if (framed) chunk.writeUInt32BE(chunkBytes - 4, 0);
  const done = new Promise<void>((resolve) => socket.once('data', () => resolve()));
  const started = performance.now();
  for (let sent = 0; sent < total; sent += chunkBytes) {
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await done;
  const elapsedMs = performance.now() - started;
  socket.destroy();
  return elapsedMs;
}

/** Sequential request/response round trips of one small frame; ms for all of them. */
async function pingPong(port: number, count: number): Promise<number> {
  const socket = await dial(port);
  const ping = Buffer.alloc(64, 1);
  ping.writeUInt32BE(60, 0);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve) => {
      let got = 0;
      const onData = (data: Buffer): void => {
        got += data.length;
        if (got >= ping.length) {
          socket.off('data', onData);
          resolve();
        }
      };
      socket.on('data', onData);
      socket.write(ping);
    });
  }
  const elapsedMs = performance.now() - started;
  socket.destroy();
  return elapsedMs;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The least a userspace relay can do (socket.pipe both ways): the floor for any proxy's overhead. */
async function withPipe<T>(targetPort: number, body: (port: number) => Promise<T>): Promise<T> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const target = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const socket of [client, target]) {
      socket.setNoDelay(true);
      socket.on('error', () => {});
      sockets.add(socket);
    }
    client.pipe(target);
    target.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await body((server.address() as net.AddressInfo).port);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function withProxy<T>(targetPort: number, mode: ProxyMode, body: (port: number) => Promise<T>): Promise<T> {
  const proxy = new Proxy({ name: 'bench', targetHost: '127.0.0.1', targetPort, mode, random: new Random(1) });
  const { port } = await proxy.start();
  try {
    return await body(port);
  } finally {
    await proxy.close();
  }
}

type RequestBody =
  | { kind: 'sinks' }
  | { kind: 'bulk'; port: number; bytes: number; chunkBytes: number; framed: boolean }
  | { kind: 'ping-pong'; port: number; count: number };
type Request = RequestBody & { id: number };

/** The load process: a counting sink, an echo sink, and the senders, driven over IPC. */
async function child(): Promise<void> {
  const counting = await startSink(false);
  const echo = await startSink(true);
  process.on('message', (request: Request) => {
    const answer = async (): Promise<unknown> => {
      if (request.kind === 'sinks') return { counting: counting.port, echo: echo.port };
      if (request.kind === 'bulk') {
        counting.expect(request.bytes);
        return bulk(request.port, request.bytes, request.chunkBytes, request.framed);
      }
      return pingPong(request.port, request.count);
    };
    answer().then((value) => process.send!({ id: request.id, value }));
  });
  process.on('disconnect', () => process.exit(0));
}

function caller(load: ChildProcess): <T>(request: RequestBody) => Promise<T> {
  let next = 0;
  const waiting = new Map<number, (value: unknown) => void>();
  load.on('message', (message: { id: number; value: unknown }) => waiting.get(message.id)?.(message.value));
  return <T>(request: RequestBody) =>
    new Promise<T>((resolve) => {
      const id = next++;
      waiting.set(id, (value) => resolve(value as T));
      load.send({ ...request, id });
    });
}

async function main(): Promise<void> {
  const load = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: 'inherit' });
  const kill = (): void => {
    if (load.exitCode === null) load.kill('SIGKILL');
  };
  process.on('exit', kill);
  try {
    const call = caller(load);
    const sinks = await call<{ counting: number; echo: number }>({ kind: 'sinks' });
    const total = MIB * 1024 * 1024;
    console.log(`proxy bench: ${MIB} MiB per bulk run, ${ROUND_TRIPS} round trips, median of ${RUNS} runs`);
    console.log('case                          direct        bare pipe     proxy         proxy/direct  proxy/pipe');
    const row = (name: string, unit: string, direct: number, pipe: number, proxy: number): void => {
      const cells = [direct, pipe, proxy].map((v) => `${v.toFixed(0)} ${unit}`.padEnd(12));
      console.log(`${name.padEnd(28)}  ${cells.join('  ')}  ${(proxy / direct).toFixed(2).padEnd(12)}  ${(proxy / pipe).toFixed(2)}`);
    };
    const cases: Array<{ name: string; mode: ProxyMode; chunkBytes: number }> = [
      { name: 'stream, 64 KiB writes', mode: 'stream', chunkBytes: 64 * 1024 },
      { name: 'frames, 64 KiB frames', mode: 'frames', chunkBytes: 64 * 1024 },
      { name: 'frames, 1 KiB frames', mode: 'frames', chunkBytes: 1024 },
    ];
    for (const c of cases) {
      const bytes = Math.floor(total / c.chunkBytes) * c.chunkBytes;
      const framed = c.mode === 'frames';
      const direct: number[] = [];
      const piped: number[] = [];
      const proxied: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        direct.push(await call<number>({ kind: 'bulk', port: sinks.counting, bytes, chunkBytes: c.chunkBytes, framed }));
        piped.push(await withPipe(sinks.counting, (port) => call<number>({ kind: 'bulk', port, bytes, chunkBytes: c.chunkBytes, framed })));
        proxied.push(
          await withProxy(sinks.counting, c.mode, (port) => call<number>({ kind: 'bulk', port, bytes, chunkBytes: c.chunkBytes, framed })),
        );
      }
      const mibPerSecond = (ms: number): number => bytes / 1024 / 1024 / (ms / 1000);
      row(c.name, 'MiB/s', mibPerSecond(median(direct)), mibPerSecond(median(piped)), mibPerSecond(median(proxied)));
    }
    const direct: number[] = [];
    const piped: number[] = [];
    const proxied: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      direct.push(await call<number>({ kind: 'ping-pong', port: sinks.echo, count: ROUND_TRIPS }));
      piped.push(await withPipe(sinks.echo, (port) => call<number>({ kind: 'ping-pong', port, count: ROUND_TRIPS })));
      proxied.push(await withProxy(sinks.echo, 'frames', (port) => call<number>({ kind: 'ping-pong', port, count: ROUND_TRIPS })));
    }
    const perSecond = (ms: number): number => ROUND_TRIPS / (ms / 1000);
    row('frames, 64 B round trips', 'rt/s', perSecond(median(direct)), perSecond(median(piped)), perSecond(median(proxied)));
    console.log('(each proxied byte crosses two extra loopback hops; the harness goal is measured end to end by bench:harness)');
  } finally {
    load.disconnect();
    kill();
  }
}

const run = process.argv.includes('--child') ? child : main;
run().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
