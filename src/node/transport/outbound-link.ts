// One direction of one link: the connection this node dials to one peer's advertised address, with a
// bounded queue, batched writes and redial after failure with bounded, jittered exponential backoff.
// It only writes (besides noticing the peer's close); messages from the peer never arrive on it.

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Random } from '../../raft/random.js';
import type { NodeId } from '../../raft/types.js';
import { encodeHandshakeFrame } from './codec.js';

/**
 * - idle: no connection and none wanted yet (nothing queued); the next message dials.
 * - connecting: dialing; messages wait in the queue.
 * - open: connected, handshake sent; messages are written in batches.
 * - waiting: the last connection failed or ended; a timer redials after the backoff delay.
 * - closed: the transport is closed; everything is dropped.
 */
export type LinkState = 'idle' | 'connecting' | 'open' | 'waiting' | 'closed';

/** Counters shared by all the links of one transport (the transport owns and reports them). */
export interface LinkCounters {
  framesSent: number;
  bytesSent: number;
  dropped: number;
  connects: number;
  connectFailures: number;
  disconnects: number;
}

export interface OutboundLinkOptions {
  self: NodeId;
  peer: NodeId;
  host: string;
  port: number;
  queueBytesMax: number;
  reconnectDelayMinMs: number;
  reconnectDelayMaxMs: number;
  /** A dial that has not connected within this time is abandoned (and counts as a failure). */
  connectTimeoutMs: number;
  random: Random;
  counters: LinkCounters;
  log: (line: string) => void;
}

/** TCP keepalive probe delay: a peer host that vanishes without a FIN or RST is noticed eventually. */
const KEEPALIVE_INITIAL_DELAY_MS = 5000;

/** The socket's own buffer before write() asks us to wait for 'drain'; our queue holds the rest. */
const SOCKET_HIGH_WATER_MARK_BYTES = 256 * 1024;

export class OutboundLink {
  private linkState: LinkState = 'idle';
  private socket: net.Socket | undefined;
  /** Encoded frames not yet handed to the socket; `queue[queueHead]` is the oldest. */
  private queue: Buffer[] = [];
  private queueHead = 0;
  private queueBytes = 0;
  private flushScheduled = false;
  /** Consecutive failed or short-lived connections: the exponent of the backoff. */
  private failures = 0;
  private openedAtMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private droppedInStreak = 0;
  private readonly handshake: Buffer;
  private readonly closeWaiters: (() => void)[] = [];

  constructor(private readonly options: OutboundLinkOptions) {
    this.handshake = encodeHandshakeFrame({ from: options.self, to: options.peer });
  }

  /** Where the next dial goes; a connection already open stays where it is. */
  setAddress(host: string, port: number): void {
    this.options.host = host;
    this.options.port = port;
  }

  state(): LinkState {
    return this.linkState;
  }

  /** Bytes waiting: in our queue and in the socket's own write buffer. */
  bufferedBytes(): number {
    return this.queueBytes + (this.socket?.writableLength ?? 0);
  }

  consecutiveFailures(): number {
    return this.failures;
  }

  /**
   * Queues one encoded frame; returns false (and counts it) when it is dropped because the buffer
   * would exceed queueBytesMax. An empty buffer takes any one frame, so no message is too big to send.
   */
  enqueue(frame: Buffer): boolean {
    const o = this.options;
    if (this.linkState === 'closed') {
      o.counters.dropped++;
      return false;
    }
    const buffered = this.bufferedBytes();
    if (buffered > 0 && buffered + frame.length > o.queueBytesMax) {
      o.counters.dropped++;
      if (this.droppedInStreak++ === 0) {
        o.log(
          `${o.self}->${o.peer}: outbound buffer full (${this.bufferedBytes()} of ${o.queueBytesMax} bytes, ${this.linkState}); dropping`,
        );
      }
      return false;
    }
    if (this.droppedInStreak > 0) {
      o.log(`${o.self}->${o.peer}: outbound buffer has room again after dropping ${this.droppedInStreak} messages`);
      this.droppedInStreak = 0;
    }
    this.queue.push(frame);
    this.queueBytes += frame.length;
    if (this.linkState === 'idle') this.dial();
    else if (this.linkState === 'open') this.scheduleFlush();
    return true;
  }

  /** Destroys the connection and drops the queue; resolves once the socket has closed. */
  close(): Promise<void> {
    this.linkState = 'closed';
    clearTimeout(this.timer);
    this.timer = undefined;
    this.options.counters.dropped += this.queue.length - this.queueHead;
    this.queue = [];
    this.queueHead = 0;
    this.queueBytes = 0;
    const socket = this.socket;
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      socket.destroy();
    });
  }

  private dial(): void {
    const o = this.options;
    this.linkState = 'connecting';
    // Node reads highWaterMark from these options (as for any stream); @types/node omits it.
    const connectOptions: net.TcpNetConnectOpts & { highWaterMark: number } = {
      host: o.host,
      port: o.port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: KEEPALIVE_INITIAL_DELAY_MS,
      highWaterMark: SOCKET_HIGH_WATER_MARK_BYTES,
    };
    const socket = net.connect(connectOptions);
    this.socket = socket;
    let failure = '';
    const connectTimer = setTimeout(() => {
      failure = `no connection within ${o.connectTimeoutMs} ms`;
      socket.destroy();
    }, o.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(connectTimer);
      if (this.socket !== socket || this.linkState !== 'connecting') return;
      socket.setNoDelay(true);
      this.linkState = 'open';
      this.openedAtMs = performance.now();
      o.counters.connects++;
      if (this.failures > 0) o.log(`${o.self}->${o.peer}: connected to ${o.host}:${o.port} after ${this.failures} failed attempts`);
      // The handshake leads, in the same write as whatever is queued.
      socket.cork();
      socket.write(this.handshake);
      this.flush();
      socket.uncork();
    });
    // The acceptor never writes; reading anyway lets us see its FIN at once.
    socket.on('data', () => {});
    socket.on('drain', () => this.scheduleFlush());
    socket.on('error', (error) => {
      failure ||= error.message;
    });
    socket.once('close', () => {
      clearTimeout(connectTimer);
      this.onClosed(socket, failure);
    });
  }

  private onClosed(socket: net.Socket, failure: string): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    if (this.linkState === 'closed') {
      for (const resolve of this.closeWaiters.splice(0)) resolve();
      return;
    }
    const o = this.options;
    const wasOpen = this.linkState === 'open';
    if (wasOpen) {
      o.counters.disconnects++;
      // A connection that lived a while resets the backoff; one the peer closes at once (say, it
      // rejects our handshake) does not, so we do not hammer it.
      if (performance.now() - this.openedAtMs >= o.reconnectDelayMaxMs) this.failures = 0;
    } else {
      o.counters.connectFailures++;
    }
    const delayMs = this.backoffDelayMs();
    if (wasOpen || this.failures === 0) {
      const why = failure || (wasOpen ? 'closed by peer' : 'closed before connecting');
      o.log(`${o.self}->${o.peer}: connection to ${o.host}:${o.port} ${wasOpen ? 'lost' : 'failed'} (${why}); redialing in ${delayMs} ms`);
    }
    this.failures++;
    this.linkState = 'waiting';
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.linkState !== 'waiting') return;
      if (this.queueHead < this.queue.length) this.dial();
      else this.linkState = 'idle';
    }, delayMs);
  }

  /** Exponential in the consecutive failures, with equal jitter, always within [min, max]. */
  private backoffDelayMs(): number {
    const { reconnectDelayMinMs: min, reconnectDelayMaxMs: max, random } = this.options;
    const base = Math.min(max, min * 2 ** Math.min(this.failures, 30));
    const jittered = Math.round(base * (0.5 + 0.5 * random.nextFloat()));
    return Math.max(min, Math.min(max, jittered));
  }

  /** Messages sent in the same tick share one flush, hence one writev. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const socket = this.socket;
    if (this.linkState !== 'open' || socket === undefined || socket.destroyed) return;
    const counters = this.options.counters;
    socket.cork();
    let room = !socket.writableNeedDrain;
    while (room && this.queueHead < this.queue.length) {
      const frame = this.queue[this.queueHead];
      this.queue[this.queueHead++] = EMPTY;
      this.queueBytes -= frame.length;
      counters.framesSent++;
      counters.bytesSent += frame.length;
      room = socket.write(frame);
    }
    socket.uncork();
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead >= 1024 && this.queueHead * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);
