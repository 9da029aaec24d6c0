// Loopback socket helpers for the proxy and net tests: a target server that hands out its
// connections, clients, frame encoding and collection, bounded waits, and cleanup of everything.

import net from 'node:net';

/** Everything a test opened, closed in reverse order (also when the test fails). */
export class Resources {
  private readonly closers: Array<() => Promise<void> | void> = [];

  add(close: () => Promise<void> | void): void {
    this.closers.push(close);
  }

  async closeAll(): Promise<void> {
    while (this.closers.length > 0) {
      const close = this.closers.pop()!;
      try {
        await close();
      } catch {
        // Cleanup of one resource must not keep the others open.
      }
    }
  }
}

/** A TCP server on 127.0.0.1:0 that queues its accepted sockets. */
export interface TestServer {
  port: number;
  sockets: net.Socket[];
  /** The next accepted socket (bounded wait). */
  accept(timeoutMs?: number): Promise<net.Socket>;
  close(): Promise<void>;
}

export async function startServer(
  resources: Resources,
  onSocket?: (socket: net.Socket) => void,
  options: { allowHalfOpen?: boolean } = {},
): Promise<TestServer> {
  const sockets: net.Socket[] = [];
  const waiting: Array<(socket: net.Socket) => void> = [];
  let taken = 0;
  const server = net.createServer({ allowHalfOpen: options.allowHalfOpen ?? false }, (socket) => {
    socket.on('error', () => {});
    sockets.push(socket);
    onSocket?.(socket);
    const next = waiting.shift();
    if (next !== undefined) {
      taken++;
      next(socket);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  resources.add(close);
  return {
    port,
    sockets,
    accept(timeoutMs = 5000) {
      if (taken < sockets.length) return Promise.resolve(sockets[taken++]);
      return withTimeout(new Promise<net.Socket>((resolve) => waiting.push(resolve)), timeoutMs, 'an accepted connection');
    },
    close,
  };
}

/** A connected client socket (bounded wait), destroyed by resources. */
export async function connect(resources: Resources, port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  resources.add(() => {
    socket.destroy();
  });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('close', () => reject(new Error(`connection to ${port} closed before connecting`)));
    }),
    5000,
    `a connection to port ${port}`,
  );
  return socket;
}

/** A u32-BE length-prefixed frame. */
export function frame(payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/** Collects the frames arriving on a socket (checking that the stream stays well-formed). */
export class FrameCollector {
  readonly frames: Buffer[] = [];
  private pending = Buffer.alloc(0);

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 4) {
        const length = this.pending.readUInt32BE(0);
        if (this.pending.length < 4 + length) break;
        this.frames.push(this.pending.subarray(4, 4 + length));
        this.pending = this.pending.subarray(4 + length);
      }
    });
  }

  texts(): string[] {
    return this.frames.map((f) => f.toString());
  }

  async waitFor(count: number, timeoutMs = 5000): Promise<Buffer[]> {
    await waitUntil(
      () => this.frames.length >= count,
      timeoutMs,
      () => `${count} frames (have ${this.frames.length})`,
    );
    return this.frames;
  }
}

/** Collects the bytes arriving on a socket. */
export class ByteCollector {
  private readonly chunks: Buffer[] = [];
  length = 0;
  closed = false;

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
    });
    socket.on('close', () => {
      this.closed = true;
    });
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  async waitFor(length: number, timeoutMs = 10_000): Promise<Buffer> {
    await waitUntil(
      () => this.length >= length,
      timeoutMs,
      () => `${length} bytes (have ${this.length})`,
    );
    return this.bytes();
  }
}

/** Resolves when the socket has closed (bounded). */
export function closed(socket: net.Socket, timeoutMs = 5000): Promise<void> {
  if (socket.destroyed && socket.closed) return Promise.resolve();
  return withTimeout(new Promise<void>((resolve) => socket.once('close', () => resolve())), timeoutMs, 'the socket to close');
}

/** Polls `condition` every 5 ms; rejects with `what` after timeoutMs. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
