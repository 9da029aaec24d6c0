// Test helpers for the TCP transport: transports wired up on ephemeral loopback ports, a tiny TCP
// forwarder standing in for the harness's proxy, raw sockets, bounded waits and cleanup.

import net from 'node:net';
import { TcpTransport, type TcpTransportOptions } from '../../../src/node/transport/tcp-transport.js';
import type { Message } from '../../../src/raft/message.js';
import type { NodeId } from '../../../src/raft/types.js';

export const HOST = '127.0.0.1';

/** Things to close after each test, also when it fails; closed in reverse order. */
export class Cleanup {
  private readonly steps: (() => Promise<void> | void)[] = [];

  add(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

/** Polls `condition` every few ms; fails naming `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Node {
  id: NodeId;
  transport: TcpTransport;
  port: number;
  inbox: Message[];
  logs: string[];
}

/** Starts one transport on an ephemeral port, collecting what it receives and logs. */
export async function startNode(
  cleanup: Cleanup,
  id: NodeId,
  options: Partial<TcpTransportOptions> = {},
  onMessage?: (m: Message) => void,
): Promise<Node> {
  const inbox: Message[] = [];
  const logs: string[] = [];
  const transport = new TcpTransport({
    id,
    listenHost: HOST,
    listenPort: 0,
    peers: new Map(),
    onMessage: (m) => {
      inbox.push(m);
      onMessage?.(m);
    },
    log: (line) => logs.push(line),
    reconnectDelayMinMs: 10,
    reconnectDelayMaxMs: 200,
    ...options,
  });
  cleanup.add(() => transport.close());
  const { port } = await transport.start();
  return { id, transport, port, inbox, logs };
}

/** Starts transports for `ids`, each knowing every other at its real address. */
export async function startCluster(
  cleanup: Cleanup,
  ids: NodeId[],
  options: Partial<TcpTransportOptions> = {},
): Promise<Map<NodeId, Node>> {
  const nodes = new Map<NodeId, Node>();
  for (const id of ids) nodes.set(id, await startNode(cleanup, id, options));
  for (const a of nodes.values()) {
    for (const b of nodes.values()) if (a !== b) a.transport.setPeer(b.id, { host: HOST, port: b.port });
  }
  return nodes;
}

/**
 * A TCP forwarder to `targetPort`, recording what passes each way. `cut()` stops it: open
 * connections are destroyed and new ones closed on arrival.
 */
export class Forwarder {
  readonly upstream: Buffer[] = [];
  downstreamBytes = 0;
  connections = 0;
  private cutOff = false;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(cleanup: Cleanup, targetPort: number): Promise<Forwarder> {
    let forwarder: Forwarder | undefined;
    const server = net.createServer((client) => forwarder!.forward(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    forwarder = new Forwarder(server, (server.address() as net.AddressInfo).port);
    cleanup.add(() => forwarder!.close());
    return forwarder;
  }

  private forward(client: net.Socket, targetPort: number): void {
    if (this.cutOff) {
      client.destroy();
      return;
    }
    this.connections++;
    const target = net.connect(targetPort, HOST);
    for (const socket of [client, target]) {
      this.sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        target.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      this.upstream.push(chunk);
      target.write(chunk);
    });
    target.on('data', (chunk: Buffer) => {
      this.downstreamBytes += chunk.length;
      client.write(chunk);
    });
  }

  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A raw client socket to `port`, destroyed at cleanup. Resolves once connected. */
export async function rawConnect(cleanup: Cleanup, port: number): Promise<net.Socket & { closedPromise: Promise<void> }> {
  const socket = net.connect(port, HOST) as net.Socket & { closedPromise: Promise<void> };
  socket.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  socket.on('data', () => {});
  cleanup.add(() => {
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('close', () => reject(new Error(`could not connect to ${HOST}:${port}`)));
  });
  return socket;
}

/** Resolves true if `socket` closes within `timeoutMs`, false otherwise. */
export async function closesWithin(socket: { closedPromise: Promise<void> }, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const closed = await Promise.race([socket.closedPromise.then(() => true), timeout]);
  clearTimeout(timer);
  return closed;
}

export function heartbeat(from: NodeId, to: NodeId, commit: number, context = ''): Message {
  return { type: 'Heartbeat', from, to, term: 1, commit, context };
}
