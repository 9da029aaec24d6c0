// The real node's peer transport over TCP: one dialed, write-only connection per peer for our messages
// and a listener whose accepted connections are only read. It moves messages; it knows no Raft rules.
// Messages from A to B travel only on connections A dialed to B's advertised address, so a proxy at
// that address can cut exactly one direction of one link.

import net from 'node:net';
import { assert } from '../../raft/assert.js';
import { describeMessage } from '../../raft/describe.js';
import type { Message } from '../../raft/message.js';
import { Random } from '../../raft/random.js';
import type { NodeId } from '../../raft/types.js';
import {
  decodeHandshake,
  decodeMessage,
  encodeFrame,
  FRAME_BYTES_LIMIT,
  FRAME_BYTES_MAX_DEFAULT,
  FRAME_HEADER_BYTES,
  FrameReader,
} from './codec.js';
import { OutboundLink, type LinkCounters, type LinkState } from './outbound-link.js';

export interface PeerAddress {
  host: string;
  port: number;
}

export interface TcpTransportOptions {
  /** This node. */
  id: NodeId;
  listenHost: string;
  /** 0 picks an ephemeral port; start() returns the bound one. */
  listenPort: number;
  /** Where to dial each peer (may be a proxy the test harness controls). An entry for `id` itself is ignored. */
  peers: Map<NodeId, PeerAddress>;
  /** Called synchronously for each accepted message, in arrival order per connection. A throw is a
   * programmer error and is not caught. */
  onMessage: (m: Message) => void;
  /** Where connection events and rejections are reported, one line each. Default: nowhere. */
  log?: (line: string) => void;
  /** Largest frame payload sent or accepted, in bytes. Default 64 MiB. */
  frameBytesMax?: number;
  /** Per-peer bound on bytes waiting to be sent (while disconnected or slow). Beyond it, messages are
   * dropped (Raft tolerates loss) and counted; an empty buffer takes any one message. Default 32 MiB. */
  queueBytesMax?: number;
  /** Redial backoff: exponential in consecutive failures, with jitter, within [min, max]. Defaults 20 and 1000. */
  reconnectDelayMinMs?: number;
  reconnectDelayMaxMs?: number;
  /** An accepted connection must deliver its handshake within this time; a dial must connect within
   * it. Default 2000. */
  handshakeTimeoutMs?: number;
  /** Accepted connections open at once; more are closed on arrival. Default 64. */
  inboundConnectionsMax?: number;
  /** Seed of the backoff jitter. Default: a hash of `id`, so nodes desynchronize yet runs replay. */
  seed?: number;
}

export interface TcpTransportStats {
  /** Message frames handed to outbound sockets (a connection that then fails may lose them). */
  framesSent: number;
  /** Bytes of those frames, headers included (handshakes not counted). */
  bytesSent: number;
  /** Messages delivered to onMessage. */
  framesReceived: number;
  /** Bytes read from accepted connections. */
  bytesReceived: number;
  /** Accepted connections closed for a bad frame: bad length, oversized, undecodable or invalid payload. */
  malformed: number;
  /** Well-formed messages dropped because `from` was not the handshake's sender or `to` not this node. */
  misaddressed: number;
  /** Accepted connections closed for a missing, late or wrong handshake. */
  handshakesRejected: number;
  /** Accepted connections closed on arrival because inboundConnectionsMax were open. */
  inboundRefused: number;
  /** Outbound messages dropped: buffer full, unknown peer, too large, or queued at close. */
  dropped: number;
  /** Outbound connections established, failed before connecting, and lost after connecting. */
  connects: number;
  connectFailures: number;
  disconnects: number;
  inboundAccepted: number;
  inboundOpen: number;
  /** Bytes waiting to be sent, over all peers. */
  queuedBytes: number;
  peers: Record<NodeId, { state: LinkState; queuedBytes: number; consecutiveFailures: number }>;
}

/** Options that make no sense; the message quotes the bad value. */
export class TcpTransportOptionsError extends Error {
  override readonly name = 'TcpTransportOptionsError';
}

/** The listener could not be started (say, the port is taken). */
export class TcpTransportListenError extends Error {
  override readonly name = 'TcpTransportListenError';
}

type ResolvedOptions = Required<TcpTransportOptions>;

const KEEPALIVE_INITIAL_DELAY_MS = 5000;

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function isPort(value: unknown, allowZero: boolean): boolean {
  return Number.isInteger(value) && (value as number) >= (allowZero ? 0 : 1) && (value as number) <= 65535;
}

/** FNV-1a: a stable default seed per node id. */
function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function checkPeer(peer: unknown, address: PeerAddress | undefined): void {
  if (typeof peer !== 'string' || peer.length === 0 || peer.length > 256)
    throw new TcpTransportOptionsError(`peer ids must be strings of 1 to 256 characters, got ${quote(peer)}`);
  if (typeof address?.host !== 'string' || address.host.length === 0)
    throw new TcpTransportOptionsError(`peer ${peer}: host must be a host name or address, got ${quote(address?.host)}`);
  if (!isPort(address.port, false))
    throw new TcpTransportOptionsError(`peer ${peer}: port must be an integer in [1, 65535], got ${quote(address.port)}`);
}

function resolveOptions(options: TcpTransportOptions): ResolvedOptions {
  const fail = (message: string): never => {
    throw new TcpTransportOptionsError(message);
  };
  if (typeof options.id !== 'string' || options.id.length === 0 || options.id.length > 256)
    fail(`id must be a string of 1 to 256 characters, got ${quote(options.id)}`);
  if (typeof options.listenHost !== 'string' || options.listenHost.length === 0)
    fail(`listenHost must be a host name or address, got ${quote(options.listenHost)}`);
  if (!isPort(options.listenPort, true)) fail(`listenPort must be an integer in [0, 65535], got ${quote(options.listenPort)}`);
  if (!(options.peers instanceof Map)) fail(`peers must be a Map of id -> { host, port }, got ${quote(options.peers)}`);
  for (const [peer, address] of options.peers) checkPeer(peer, address);
  if (typeof options.onMessage !== 'function') fail(`onMessage must be a function, got ${quote(options.onMessage)}`);
  const resolved: ResolvedOptions = {
    id: options.id,
    listenHost: options.listenHost,
    listenPort: options.listenPort,
    peers: options.peers,
    onMessage: options.onMessage,
    log: options.log ?? (() => {}),
    frameBytesMax: options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT,
    queueBytesMax: options.queueBytesMax ?? 32 * 1024 * 1024,
    reconnectDelayMinMs: options.reconnectDelayMinMs ?? 20,
    reconnectDelayMaxMs: options.reconnectDelayMaxMs ?? 1000,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 2000,
    inboundConnectionsMax: options.inboundConnectionsMax ?? 64,
    seed: options.seed ?? hashId(options.id),
  };
  const limits: [keyof ResolvedOptions, number][] = [
    ['frameBytesMax', FRAME_BYTES_LIMIT],
    ['queueBytesMax', Number.MAX_SAFE_INTEGER],
    ['reconnectDelayMinMs', 2 ** 31 - 1],
    ['reconnectDelayMaxMs', 2 ** 31 - 1],
    ['handshakeTimeoutMs', 2 ** 31 - 1],
    ['inboundConnectionsMax', 1_000_000],
  ];
  for (const [key, max] of limits) {
    const value = resolved[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max)
      fail(`${key} must be an integer in [1, ${max}], got ${quote(value)}`);
  }
  if (resolved.reconnectDelayMaxMs < resolved.reconnectDelayMinMs)
    fail(`reconnectDelayMaxMs (${resolved.reconnectDelayMaxMs}) must be at least reconnectDelayMinMs (${resolved.reconnectDelayMinMs})`);
  if (typeof resolved.log !== 'function') fail(`log must be a function, got ${quote(resolved.log)}`);
  if (!Number.isInteger(resolved.seed)) fail(`seed must be an integer, got ${quote(resolved.seed)}`);
  return resolved;
}

export class TcpTransport {
  private readonly options: ResolvedOptions;
  private readonly links = new Map<NodeId, OutboundLink>();
  private readonly inbound = new Set<net.Socket>();
  private readonly inboundClosed = new WeakMap<net.Socket, Promise<void>>();
  private readonly counters: LinkCounters & Omit<TcpTransportStats, keyof LinkCounters | 'inboundOpen' | 'queuedBytes' | 'peers'> = {
    framesSent: 0,
    bytesSent: 0,
    dropped: 0,
    connects: 0,
    connectFailures: 0,
    disconnects: 0,
    framesReceived: 0,
    bytesReceived: 0,
    malformed: 0,
    misaddressed: 0,
    handshakesRejected: 0,
    inboundRefused: 0,
    inboundAccepted: 0,
  };
  private readonly loggedUnknownPeers = new Set<NodeId>();
  private readonly random: Random;
  private server: net.Server | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: TcpTransportOptions) {
    this.options = resolveOptions(options);
    const o = this.options;
    this.random = new Random(o.seed);
    for (const [peer, address] of o.peers) {
      if (peer !== o.id) this.addLink(peer, address);
    }
  }

  /**
   * Adds a peer, or changes where the next dial to it goes (a connection already open is kept).
   * Lets tests wire up transports on ephemeral ports, and a harness move a peer behind a proxy.
   */
  setPeer(peer: NodeId, address: PeerAddress): void {
    checkPeer(peer, address);
    if (peer === this.options.id) return;
    const link = this.links.get(peer);
    if (link === undefined) this.addLink(peer, address);
    else link.setAddress(address.host, address.port);
  }

  private addLink(peer: NodeId, address: PeerAddress): void {
    const o = this.options;
    const link = new OutboundLink({
      self: o.id,
      peer,
      host: address.host,
      port: address.port,
      queueBytesMax: o.queueBytesMax,
      reconnectDelayMinMs: o.reconnectDelayMinMs,
      reconnectDelayMaxMs: o.reconnectDelayMaxMs,
      connectTimeoutMs: o.handshakeTimeoutMs,
      random: this.random.fork(),
      counters: this.counters,
      log: o.log,
    });
    // Added after close: it starts closed, so whatever is sent to it is dropped and counted.
    if (this.closing !== undefined) void link.close();
    this.links.set(peer, link);
  }

  get id(): NodeId {
    return this.options.id;
  }

  /** Listens for peers' connections; resolves with the bound port. */
  start(): Promise<{ port: number }> {
    if (this.server !== undefined) return Promise.reject(new TcpTransportListenError(`transport ${this.options.id} was already started`));
    if (this.closing !== undefined) return Promise.reject(new TcpTransportListenError(`transport ${this.options.id} is closed`));
    const { listenHost, listenPort } = this.options;
    const server = net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_INITIAL_DELAY_MS }, (socket) =>
      this.accept(socket),
    );
    this.server = server;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(new TcpTransportListenError(`cannot listen on ${listenHost}:${listenPort}: ${error.message}`));
      };
      server.once('error', onError);
      server.listen({ host: listenHost, port: listenPort }, () => {
        server.off('error', onError);
        server.on('error', (error) => this.options.log(`${this.options.id}: listener error: ${error.message}`));
        resolve({ port: (server.address() as net.AddressInfo).port });
      });
    });
  }

  /**
   * Queues `m` for its recipient; never blocks and never throws for network reasons (a message not
   * from this node is a programmer error and fails an assertion). Messages sent in
   * the same tick leave in one write. Dropped (and counted) when the peer's buffer is full, the
   * recipient is unknown, the frame exceeds frameBytesMax, or the transport is closed.
   */
  send(m: Message): void {
    const o = this.options;
    assert(m.from === o.id, () => `transport ${o.id} cannot send a message from ${quote(m.from)}: ${describeMessage(m)}`);
    const link = this.links.get(m.to);
    if (link === undefined) {
      this.counters.dropped++;
      if (!this.loggedUnknownPeers.has(m.to) && this.loggedUnknownPeers.size < 64) {
        this.loggedUnknownPeers.add(m.to);
        o.log(`${o.id}: no address for ${quote(m.to)}; dropping messages to it`);
      }
      return;
    }
    const frame = encodeFrame(m);
    if (frame.length - FRAME_HEADER_BYTES > o.frameBytesMax) {
      this.counters.dropped++;
      o.log(`${o.id}: dropping a ${frame.length}-byte frame above frameBytesMax ${o.frameBytesMax}: ${m.type} to ${m.to}`);
      return;
    }
    link.enqueue(frame);
  }

  stats(): TcpTransportStats {
    const peers: TcpTransportStats['peers'] = {};
    let queuedBytes = 0;
    for (const [peer, link] of this.links) {
      const bytes = link.bufferedBytes();
      queuedBytes += bytes;
      peers[peer] = { state: link.state(), queuedBytes: bytes, consecutiveFailures: link.consecutiveFailures() };
    }
    return { ...this.counters, inboundOpen: this.inbound.size, queuedBytes, peers };
  }

  /** Destroys every socket and the listener; resolves once all of them have closed. Idempotent. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    const waits: Promise<void>[] = [];
    for (const link of this.links.values()) waits.push(link.close());
    for (const socket of this.inbound) {
      waits.push(this.inboundClosed.get(socket) ?? Promise.resolve());
      socket.destroy();
    }
    const server = this.server;
    if (server !== undefined) waits.push(new Promise((resolve) => server.close(() => resolve())));
    this.closing = Promise.all(waits).then(() => undefined);
    return this.closing;
  }

  private accept(socket: net.Socket): void {
    const o = this.options;
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.inbound.size >= o.inboundConnectionsMax) {
      this.counters.inboundRefused++;
      o.log(`${o.id}: refusing connection from ${remote}: ${this.inbound.size} of inboundConnectionsMax ${o.inboundConnectionsMax} open`);
      socket.destroy();
      return;
    }
    this.inbound.add(socket);
    this.inboundClosed.set(socket, new Promise((resolve) => socket.once('close', () => resolve())));
    this.counters.inboundAccepted++;
    socket.setNoDelay(true);
    const reader = new FrameReader({ frameBytesMax: o.frameBytesMax });
    let sender: NodeId | undefined;
    let misaddressedLogged = false;
    const reject = (counter: 'malformed' | 'handshakesRejected', why: string): void => {
      this.counters[counter]++;
      o.log(`${o.id}: closing connection from ${sender ?? remote}: ${why}`);
      socket.destroy();
    };
    const handshakeTimer = setTimeout(
      () => reject('handshakesRejected', `no handshake within ${o.handshakeTimeoutMs} ms`),
      o.handshakeTimeoutMs,
    );
    socket.on('data', (chunk: Buffer) => {
      this.counters.bytesReceived += chunk.length;
      const { payloads, error } = reader.push(chunk);
      for (const payload of payloads) {
        // onMessage may close the transport, or an earlier payload may have closed this connection.
        if (socket.destroyed) return;
        if (sender === undefined) {
          const handshake = decodeHandshake(payload);
          if ('error' in handshake) return reject('handshakesRejected', `bad handshake: ${handshake.error}`);
          if (handshake.to !== o.id)
            return reject('handshakesRejected', `handshake names receiver ${quote(handshake.to)}, this is ${o.id}`);
          if (handshake.from === o.id || !this.links.has(handshake.from))
            return reject('handshakesRejected', `handshake names unknown sender ${quote(handshake.from)}`);
          clearTimeout(handshakeTimer);
          sender = handshake.from;
          continue;
        }
        const m = decodeMessage(payload);
        if ('error' in m) return reject('malformed', `bad frame: ${m.error}`);
        if (m.from !== sender || m.to !== o.id) {
          this.counters.misaddressed++;
          if (!misaddressedLogged) {
            misaddressedLogged = true;
            o.log(`${o.id}: dropping misaddressed messages on the connection from ${sender}, first: ${describeMessage(m)}`);
          }
          continue;
        }
        this.counters.framesReceived++;
        o.onMessage(m);
      }
      if (error !== undefined && !socket.destroyed) reject('malformed', error);
    });
    socket.on('error', () => {
      // 'close' follows; a reset by the dialer needs no report of its own.
    });
    socket.once('close', () => {
      clearTimeout(handshakeTimer);
      this.inbound.delete(socket);
    });
  }
}
