// An in-process TCP proxy for one link (client -> target) that can cut, delay, drop and throttle
// traffic in either direction. It knows frames only by their u32 length prefix, never their contents.

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Random } from '../src/raft/random.js';

/** 'frames': u32-BE length-prefixed frames (peer links); 'stream': raw bytes (HTTP client links). */
export type ProxyMode = 'frames' | 'stream';
export const PROXY_MODES: readonly ProxyMode[] = ['frames', 'stream'];

export interface ProxyOptions {
  /** Shown in errors and descriptions, e.g. `n1->n2` or `client->n3`. */
  name: string;
  /** Default 127.0.0.1. */
  listenHost?: string;
  /** Default 0 (an ephemeral port; read it from start() or `port`). */
  listenPort?: number;
  targetHost: string;
  targetPort: number;
  /**
   * 'frames': faults act on whole frames, and the client's first frame on each connection (the
   * handshake) is never dropped, even by a cut: the target sees the connection, then silence. 'stream': faults act on chunks of bytes as they arrive.
   */
  mode: ProxyMode;
  /** Seeded randomness for jitter and drops. Real sockets make the order of draws timing-dependent. */
  random: Random;
  /** Frames mode: the target's first frame on each connection is a handshake too (never dropped).
   * Default false: only the client's first frame is. */
  backwardHandshake?: boolean;
  /** A frame announcing more bytes than this breaks the connection (protocol mismatch). Default 64 MiB,
   * the node transport's own default (frames are never buffered whole, so a large bound costs nothing). */
  frameBytesMax?: number;
  /** Connections open at once; more are accepted and closed at once (counted). Default 256. */
  connectionsMax?: number;
  /**
   * Bytes held back (delayed or throttled) per direction per connection. At half of it the source
   * is paused (backpressure, as TCP would); a frame starting at the full bound is dropped (frames)
   * or the connection is broken (stream), counted. Default 4 MiB.
   */
  bufferedBytesMax?: number;
}

/**
 * What the proxy does to traffic. "forward" is client -> target, "backward" is target -> client.
 * `set` replaces the whole fault; `{}` is a healthy link. Delay, jitter, drops and throttling apply
 * to both directions.
 */
export interface LinkFault {
  /** Frames: client->target frames are silently discarded (the connection stays up). Stream: the
   * direction is blackholed; once the cut is lifted, connections that lost bytes are destroyed. */
  cutForward?: boolean;
  /** The same for target -> client. */
  cutBackward?: boolean;
  /** Fixed delay per frame (frames) or chunk (stream). Order is always preserved. Default 0. */
  delayMs?: number;
  /** Extra uniform delay in [0, jitterMs) per frame or chunk. Default 0. */
  jitterMs?: number;
  /** Frames: probability a frame (never a handshake) is dropped. Stream: probability per chunk that
   * the connection is broken (the client sees a reset). In [0, 1]. Default 0. */
  dropFraction?: number;
  /** Throttle per direction per connection; undefined means unlimited. */
  bytesPerSecond?: number;
}

export interface DirectionStats {
  bytesIn: number;
  /** Bytes written to the other side. */
  bytesOut: number;
  /** Bytes discarded by a cut, a drop, an overflow or a side that is gone. */
  bytesDiscarded: number;
  /** Frames begun (frames mode only). */
  framesIn: number;
  /** Frames discarded because the direction was cut. */
  framesCut: number;
  /** Frames dropped at random (dropFraction). */
  framesDropped: number;
  /** Frames dropped because bufferedBytesMax was reached. */
  framesOverflow: number;
}

export interface ProxyStats {
  connectionsAccepted: number;
  connectionsOpen: number;
  /** Over connectionsMax: accepted and closed at once. */
  connectionsRejected: number;
  /** Destroyed by the proxy: random drops (stream), overflow (stream), oversized frames, heal of
   * blackholed or half-dead connections. */
  connectionsBroken: number;
  /** Dials to the target that failed. */
  targetFailures: number;
  /** Frames that announced more than frameBytesMax. */
  framesOversized: number;
  forward: DirectionStats;
  backward: DirectionStats;
}

/** Options or a fault that make no sense; the message quotes the bad value. */
export class ProxyOptionsError extends Error {
  override readonly name = 'ProxyOptionsError';
}

/** The proxy could not listen (e.g. the port is taken). */
export class ProxyError extends Error {
  override readonly name = 'ProxyError';
}

type Direction = 'forward' | 'backward';
type Fate = 'deliver' | 'cut' | 'drop' | 'overflow';

interface Piece {
  bytes: Buffer;
  releaseAtMs: number;
}

interface ResolvedProxyOptions {
  name: string;
  listenHost: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
  mode: ProxyMode;
  random: Random;
  backwardHandshake: boolean;
  frameBytesMax: number;
  connectionsMax: number;
  bufferedBytesMax: number;
}

/** Timers fire no earlier than asked, but performance.now() and the timer clock may differ a little. */
const TIMER_SLACK_MS = 1;

export class Proxy {
  readonly name: string;
  private readonly options: ResolvedProxyOptions;
  private server: net.Server | undefined;
  private listeningPort: number | undefined;
  private closing = false;
  private readonly connections = new Set<Connection>();
  /** @internal read by the pipes */
  fault: Readonly<LinkFault> = {};
  /** @internal per direction: nothing to do but pass bytes through */
  clean: Record<Direction, boolean> = { forward: true, backward: true };
  /** @internal */
  readonly counters: ProxyStats = emptyProxyStats();

  constructor(options: ProxyOptions) {
    this.options = resolveProxyOptions(options);
    this.name = this.options.name;
  }

  /** Listens; resolves with the port clients should dial. */
  async start(): Promise<{ port: number }> {
    if (this.server !== undefined) throw new ProxyError(`proxy ${this.name}: already started`);
    if (this.closing) throw new ProxyError(`proxy ${this.name}: closed`);
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(
          new ProxyError(`proxy ${this.name}: cannot listen on ${this.options.listenHost}:${this.options.listenPort}: ${error.message}`),
        );
      };
      server.once('error', onError);
      server.listen(this.options.listenPort, this.options.listenHost, () => {
        server.off('error', onError);
        resolve();
      });
    });
    // Errors after listening (rare: e.g. EMFILE on accept) must not crash the harness.
    server.on('error', () => {});
    const address = server.address();
    if (address === null || typeof address === 'string') throw new ProxyError(`proxy ${this.name}: unexpected address ${String(address)}`);
    this.listeningPort = address.port;
    return { port: address.port };
  }

  /** The listening port; throws before start(). */
  get port(): number {
    if (this.listeningPort === undefined) throw new ProxyError(`proxy ${this.name}: not started`);
    return this.listeningPort;
  }

  get mode(): ProxyMode {
    return this.options.mode;
  }

  /** Replaces the current fault. Lifting a cut destroys the connections that it left inconsistent. */
  set(fault: LinkFault): void {
    const valid = validateLinkFault(fault, `proxy ${this.name}`);
    this.fault = valid;
    const slow =
      (valid.delayMs ?? 0) > 0 || (valid.jitterMs ?? 0) > 0 || (valid.dropFraction ?? 0) > 0 || valid.bytesPerSecond !== undefined;
    this.clean = { forward: !slow && !valid.cutForward, backward: !slow && !valid.cutBackward };
    for (const connection of [...this.connections]) connection.onFaultChanged();
  }

  /** The same as set({}). */
  heal(): void {
    this.set({});
  }

  /** A copy of the counters (summed over all connections so far). */
  stats(): ProxyStats {
    return {
      ...this.counters,
      connectionsOpen: this.connections.size,
      forward: { ...this.counters.forward },
      backward: { ...this.counters.backward },
    };
  }

  /** Stops listening and destroys every connection. Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    for (const connection of [...this.connections]) connection.destroy(false);
    const server = this.server;
    if (server === undefined || !server.listening) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** @internal */
  get resolved(): ResolvedProxyOptions {
    return this.options;
  }

  /** @internal */
  isCut(direction: Direction): boolean {
    return direction === 'forward' ? this.fault.cutForward === true : this.fault.cutBackward === true;
  }

  /** @internal */
  forget(connection: Connection): void {
    this.connections.delete(connection);
  }

  private accept(client: net.Socket): void {
    this.counters.connectionsAccepted++;
    if (this.closing || this.connections.size >= this.options.connectionsMax) {
      this.counters.connectionsRejected++;
      client.on('error', () => {});
      client.destroy();
      return;
    }
    this.connections.add(new Connection(this, client));
  }
}

/** One accepted client socket and the socket the proxy dialed to the target. */
class Connection {
  readonly target: net.Socket;
  private readonly forward: Pipe;
  private readonly backward: Pipe;
  /** Directions whose cut left this connection inconsistent: destroyed once the cut is lifted. */
  private readonly lingerOn = new Set<Direction>();
  private targetConnected = false;
  private clientClosed = false;
  private targetClosed = false;
  private destroyed = false;

  constructor(
    private readonly proxy: Proxy,
    readonly client: net.Socket,
  ) {
    const options = proxy.resolved;
    this.target = net.connect({ host: options.targetHost, port: options.targetPort, allowHalfOpen: true });
    client.setNoDelay(true);
    this.target.setNoDelay(true);
    this.forward = new Pipe(proxy, this, 'forward', client, this.target, proxy.counters.forward);
    this.backward = new Pipe(proxy, this, 'backward', this.target, client, proxy.counters.backward);
    this.target.on('connect', () => {
      this.targetConnected = true;
    });
    client.on('data', (chunk: Buffer) => this.forward.onData(chunk));
    this.target.on('data', (chunk: Buffer) => this.backward.onData(chunk));
    client.on('end', () => this.forward.onSourceEnd());
    this.target.on('end', () => this.backward.onSourceEnd());
    // Errors arrive again as close(hadError); the listeners only keep them from being thrown.
    client.on('error', () => {});
    this.target.on('error', () => {});
    client.on('close', (hadError: boolean) => this.onClientClose(hadError));
    this.target.on('close', (hadError: boolean) => this.onTargetClose(hadError));
  }

  /** Marks the connection inconsistent while `direction` is cut; it is destroyed when the cut lifts. */
  linger(direction: Direction): void {
    this.lingerOn.add(direction);
  }

  onFaultChanged(): void {
    for (const direction of this.lingerOn) {
      if (!this.proxy.isCut(direction)) {
        this.destroy(true);
        return;
      }
    }
    this.forward.onFaultChanged();
    this.backward.onFaultChanged();
  }

  /** The client sees a reset: used for stream-mode drops, overflows and oversized frames. */
  break(): void {
    this.destroy(true, true);
  }

  destroy(counted: boolean, reset = false): void {
    if (this.destroyed) return;
    if (counted) this.proxy.counters.connectionsBroken++;
    this.destroyed = true;
    this.forward.dispose();
    this.backward.dispose();
    if (reset && !this.client.destroyed) this.client.resetAndDestroy();
    else this.client.destroy();
    this.target.destroy();
    this.proxy.forget(this);
  }

  private onClientClose(hadError: boolean): void {
    this.clientClosed = true;
    if (this.destroyed) return;
    if (this.targetClosed) return this.destroy(false);
    if (hadError) {
      // A reset from the client: the target would only learn of it if forward traffic flows.
      if (this.proxy.isCut('forward')) this.linger('forward');
      else this.destroy(false);
      return;
    }
    this.forward.onSourceEnd();
  }

  private onTargetClose(hadError: boolean): void {
    this.targetClosed = true;
    if (this.destroyed) return;
    if (!this.targetConnected) {
      // Target unreachable: a partitioned client hears nothing; otherwise it sees its connection closed.
      this.proxy.counters.targetFailures++;
      if (this.proxy.isCut('forward')) {
        this.linger('forward');
        return;
      }
      return this.destroy(false, true);
    }
    if (this.clientClosed) return this.destroy(false);
    if (hadError) {
      if (this.proxy.isCut('backward')) this.linger('backward');
      else this.destroy(false);
      return;
    }
    this.backward.onSourceEnd();
  }
}

/** One direction of one connection: frame tracking, fates, the delay queue and backpressure. */
class Pipe {
  private readonly options: ResolvedProxyOptions;
  private readonly queue: Piece[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastReleaseAtMs = 0;
  private busyUntilMs = 0;
  private pausedForDrain = false;
  private pausedForQueue = false;
  private sourceEnded = false;
  private ended = false;
  private disposed = false;
  // Frame tracking (frames mode): bytes of the length prefix seen, its value, body bytes left.
  private headerSeen = 0;
  private headerValue = 0;
  private bodyRemaining = 0;
  private framesStarted = 0;
  private frameFate: Fate = 'deliver';
  private frameDelayMs = 0;

  constructor(
    private readonly proxy: Proxy,
    private readonly connection: Connection,
    private readonly direction: Direction,
    private readonly source: net.Socket,
    private readonly destination: net.Socket,
    private readonly stats: DirectionStats,
  ) {
    this.options = proxy.resolved;
  }

  onData(chunk: Buffer): void {
    if (this.disposed) return;
    this.stats.bytesIn += chunk.length;
    const frames = this.options.mode === 'frames';
    if (this.proxy.clean[this.direction] && this.queuedBytes === 0 && (!frames || this.headerSeen === 0 || this.frameFate === 'deliver')) {
      // The fast path: no fault, nothing queued, not inside a frame with another fate.
      if (frames && !this.scanFrames(chunk, true)) return;
      this.write(chunk);
      return;
    }
    if (frames) {
      this.scanFrames(chunk, false);
      return;
    }
    const fault = this.proxy.fault;
    if (this.proxy.isCut(this.direction)) {
      this.stats.bytesDiscarded += chunk.length;
      this.connection.linger(this.direction);
      return;
    }
    if (this.options.random.chance(fault.dropFraction ?? 0)) {
      this.stats.bytesDiscarded += chunk.length;
      this.connection.break();
      return;
    }
    if (this.queuedBytes + chunk.length > this.options.bufferedBytesMax) {
      this.stats.bytesDiscarded += chunk.length;
      this.connection.break();
      return;
    }
    this.enqueue(chunk, this.drawDelayMs());
  }

  onSourceEnd(): void {
    this.sourceEnded = true;
    this.maybeEnd();
  }

  onFaultChanged(): void {
    // Queued bytes keep their release times (order is kept); only backpressure may need lifting.
    this.maybeResume();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (let i = this.queueHead; i < this.queue.length; i++) this.stats.bytesDiscarded += this.queue[i].bytes.length;
    this.queue.length = 0;
    this.queueHead = 0;
    this.queuedBytes = 0;
  }

  /**
   * Walks the frames in `chunk`. Fast: only tracks boundaries (and the size bound). Otherwise each
   * frame's fate and delay are decided at its first byte and its bytes follow that fate, so frames are
   * never buffered whole. Returns false when the connection was broken.
   */
  private scanFrames(chunk: Buffer, fast: boolean): boolean {
    const length = chunk.length;
    let i = 0;
    while (i < length) {
      const segmentStart = i;
      if (this.headerSeen < 4) {
        if (this.headerSeen === 0) {
          this.beginFrame(fast);
          if (length - i >= 4) {
            this.headerValue = chunk.readUInt32BE(i);
            this.headerSeen = 4;
            i += 4;
          }
        }
        while (this.headerSeen < 4 && i < length) {
          this.headerValue = this.headerValue * 256 + chunk[i];
          this.headerSeen++;
          i++;
        }
        if (this.headerSeen < 4) {
          if (!fast) this.emit(chunk.subarray(segmentStart, i));
          break;
        }
        if (this.headerValue > this.options.frameBytesMax) {
          this.proxy.counters.framesOversized++;
          this.stats.bytesDiscarded += length;
          this.connection.break();
          return false;
        }
        this.bodyRemaining = this.headerValue;
      }
      const take = Math.min(this.bodyRemaining, length - i);
      i += take;
      this.bodyRemaining -= take;
      if (!fast) this.emit(chunk.subarray(segmentStart, i));
      if (this.bodyRemaining === 0) {
        this.headerSeen = 0;
        this.headerValue = 0;
      }
    }
    return true;
  }

  private beginFrame(fast: boolean): void {
    this.framesStarted++;
    this.stats.framesIn++;
    this.frameDelayMs = 0;
    const handshake = this.framesStarted === 1 && (this.direction === 'forward' || this.options.backwardHandshake);
    if (fast || handshake) {
      // The handshake is never dropped or cut: the receiver needs it to make sense of what follows.
      this.frameFate = 'deliver';
      if (!fast) this.frameDelayMs = this.drawDelayMs();
      return;
    }
    if (this.proxy.isCut(this.direction)) {
      this.frameFate = 'cut';
      this.stats.framesCut++;
    } else if (this.queuedBytes >= this.options.bufferedBytesMax) {
      this.frameFate = 'overflow';
      this.stats.framesOverflow++;
    } else if (this.options.random.chance(this.proxy.fault.dropFraction ?? 0)) {
      this.frameFate = 'drop';
      this.stats.framesDropped++;
    } else {
      this.frameFate = 'deliver';
      this.frameDelayMs = this.drawDelayMs();
    }
  }

  private emit(segment: Buffer): void {
    if (segment.length === 0) return;
    if (this.frameFate === 'deliver') this.enqueue(segment, this.frameDelayMs);
    else this.stats.bytesDiscarded += segment.length;
  }

  private drawDelayMs(): number {
    const fault = this.proxy.fault;
    const jitterMs = fault.jitterMs ?? 0;
    return (fault.delayMs ?? 0) + (jitterMs > 0 ? this.options.random.nextFloat() * jitterMs : 0);
  }

  /** Queues bytes for release after the delay and the throttle, never before earlier bytes. */
  private enqueue(bytes: Buffer, delayMs: number): void {
    const nowMs = performance.now();
    let sendAtMs = Math.max(nowMs, this.busyUntilMs);
    const bytesPerSecond = this.proxy.fault.bytesPerSecond;
    if (bytesPerSecond !== undefined) {
      sendAtMs += (bytes.length * 1000) / bytesPerSecond;
      this.busyUntilMs = sendAtMs;
    }
    const releaseAtMs = Math.max(sendAtMs + delayMs, this.lastReleaseAtMs);
    this.lastReleaseAtMs = releaseAtMs;
    if (releaseAtMs <= nowMs && this.queuedBytes === 0) {
      this.write(bytes);
      return;
    }
    this.queue.push({ bytes, releaseAtMs });
    this.queuedBytes += bytes.length;
    if (!this.pausedForQueue && this.queuedBytes >= this.options.bufferedBytesMax / 2) {
      this.pausedForQueue = true;
      this.source.pause();
    }
    this.arm();
  }

  private arm(): void {
    if (this.timer !== undefined || this.queueHead >= this.queue.length || this.disposed) return;
    const waitMs = Math.max(0, this.queue[this.queueHead].releaseAtMs - performance.now());
    this.timer = setTimeout(() => this.release(), Math.ceil(waitMs));
  }

  private release(): void {
    this.timer = undefined;
    if (this.disposed) return;
    const nowMs = performance.now() + TIMER_SLACK_MS;
    while (this.queueHead < this.queue.length && this.queue[this.queueHead].releaseAtMs <= nowMs) {
      const piece = this.queue[this.queueHead++];
      this.queuedBytes -= piece.bytes.length;
      this.write(piece.bytes);
      if (this.disposed) return;
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    this.maybeResume();
    this.maybeEnd();
    this.arm();
  }

  private write(bytes: Buffer): void {
    if (this.destination.destroyed || this.ended) {
      this.stats.bytesDiscarded += bytes.length;
      return;
    }
    this.stats.bytesOut += bytes.length;
    if (!this.destination.write(bytes) && !this.pausedForDrain) {
      this.pausedForDrain = true;
      this.source.pause();
      this.destination.once('drain', () => {
        this.pausedForDrain = false;
        this.maybeResume();
      });
    }
  }

  private maybeResume(): void {
    if (this.pausedForQueue && this.queuedBytes < this.options.bufferedBytesMax / 4) this.pausedForQueue = false;
    if (!this.pausedForDrain && !this.pausedForQueue && !this.disposed && this.source.isPaused()) this.source.resume();
  }

  /** Passes the source's end on once everything before it is written; held while the direction is cut. */
  private maybeEnd(): void {
    if (!this.sourceEnded || this.ended || this.disposed || this.queuedBytes > 0) return;
    if (this.proxy.isCut(this.direction)) {
      this.connection.linger(this.direction);
      return;
    }
    this.ended = true;
    if (!this.destination.destroyed) this.destination.end();
  }
}

/** Counters at zero, for a new proxy. */
function emptyProxyStats(): ProxyStats {
  return {
    connectionsAccepted: 0,
    connectionsOpen: 0,
    connectionsRejected: 0,
    connectionsBroken: 0,
    targetFailures: 0,
    framesOversized: 0,
    forward: emptyDirectionStats(),
    backward: emptyDirectionStats(),
  };
}

function emptyDirectionStats(): DirectionStats {
  return { bytesIn: 0, bytesOut: 0, bytesDiscarded: 0, framesIn: 0, framesCut: 0, framesDropped: 0, framesOverflow: 0 };
}

function resolveProxyOptions(options: ProxyOptions): ResolvedProxyOptions {
  const resolved: ResolvedProxyOptions = {
    name: options.name,
    listenHost: options.listenHost ?? '127.0.0.1',
    listenPort: options.listenPort ?? 0,
    targetHost: options.targetHost,
    targetPort: options.targetPort,
    mode: options.mode,
    random: options.random,
    backwardHandshake: options.backwardHandshake ?? false,
    frameBytesMax: options.frameBytesMax ?? 64 * 1024 * 1024,
    connectionsMax: options.connectionsMax ?? 256,
    bufferedBytesMax: options.bufferedBytesMax ?? 4 * 1024 * 1024,
  };
  if (typeof resolved.name !== 'string' || resolved.name.length === 0)
    throw new ProxyOptionsError(`proxy name must be a non-empty string, got ${JSON.stringify(resolved.name)}`);
  const where = `proxy ${resolved.name}`;
  if (typeof resolved.listenHost !== 'string' || resolved.listenHost.length === 0)
    throw new ProxyOptionsError(`${where}: listenHost must be a non-empty string, got ${JSON.stringify(resolved.listenHost)}`);
  if (typeof resolved.targetHost !== 'string' || resolved.targetHost.length === 0)
    throw new ProxyOptionsError(`${where}: targetHost must be a non-empty string, got ${JSON.stringify(resolved.targetHost)}`);
  if (!isInteger(resolved.listenPort, 0, 65535))
    throw new ProxyOptionsError(`${where}: listenPort must be an integer in [0, 65535], got ${JSON.stringify(resolved.listenPort)}`);
  if (!isInteger(resolved.targetPort, 1, 65535))
    throw new ProxyOptionsError(`${where}: targetPort must be an integer in [1, 65535], got ${JSON.stringify(resolved.targetPort)}`);
  if (!PROXY_MODES.includes(resolved.mode))
    throw new ProxyOptionsError(`${where}: mode must be one of ${PROXY_MODES.join(', ')}, got ${JSON.stringify(resolved.mode)}`);
  if (typeof resolved.backwardHandshake !== 'boolean')
    throw new ProxyOptionsError(`${where}: backwardHandshake must be a boolean, got ${JSON.stringify(resolved.backwardHandshake)}`);
  if (resolved.random === undefined || typeof resolved.random.nextFloat !== 'function')
    throw new ProxyOptionsError(`${where}: random must be a seeded Random (src/raft/random.ts)`);
  for (const key of ['frameBytesMax', 'connectionsMax', 'bufferedBytesMax'] as const) {
    if (!isInteger(resolved[key], 1, Number.MAX_SAFE_INTEGER))
      throw new ProxyOptionsError(`${where}: ${key} must be a positive integer, got ${JSON.stringify(resolved[key])}`);
  }
  return resolved;
}

/** Checks a fault and returns a copy with only the known fields; `where` prefixes error messages. */
export function validateLinkFault(fault: LinkFault, where = 'link fault'): LinkFault {
  if (fault === null || typeof fault !== 'object')
    throw new ProxyOptionsError(`${where}: fault must be an object, got ${JSON.stringify(fault)}`);
  const known = ['cutForward', 'cutBackward', 'delayMs', 'jitterMs', 'dropFraction', 'bytesPerSecond'];
  for (const key of Object.keys(fault)) {
    if (!known.includes(key))
      throw new ProxyOptionsError(`${where}: unknown fault field ${JSON.stringify(key)}; allowed: ${known.join(', ')}`);
  }
  const valid: LinkFault = {};
  for (const key of ['cutForward', 'cutBackward'] as const) {
    const value = fault[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new ProxyOptionsError(`${where}: ${key} must be a boolean, got ${JSON.stringify(value)}`);
    if (value) valid[key] = true;
  }
  for (const key of ['delayMs', 'jitterMs'] as const) {
    const value = fault[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 3_600_000)
      throw new ProxyOptionsError(`${where}: ${key} must be a number of ms in [0, 3600000], got ${JSON.stringify(value)}`);
    if (value > 0) valid[key] = value;
  }
  if (fault.dropFraction !== undefined) {
    const value = fault.dropFraction;
    if (typeof value !== 'number' || !(value >= 0 && value <= 1))
      throw new ProxyOptionsError(`${where}: dropFraction must be a number in [0, 1], got ${JSON.stringify(value)}`);
    if (value > 0) valid.dropFraction = value;
  }
  if (fault.bytesPerSecond !== undefined) {
    const value = fault.bytesPerSecond;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
      throw new ProxyOptionsError(`${where}: bytesPerSecond must be a positive number, got ${JSON.stringify(value)}`);
    valid.bytesPerSecond = value;
  }
  return valid;
}

/** One line, e.g. `cut forward, delay 20ms+0..30ms, drop 10%, 64000 B/s`, or `healthy`. */
export function describeLinkFault(fault: LinkFault): string {
  const parts: string[] = [];
  if (fault.cutForward && fault.cutBackward) parts.push('cut both ways');
  else if (fault.cutForward) parts.push('cut forward');
  else if (fault.cutBackward) parts.push('cut backward');
  if (fault.delayMs || fault.jitterMs) parts.push(`delay ${fault.delayMs ?? 0}ms${fault.jitterMs ? `+0..${fault.jitterMs}ms` : ''}`);
  if (fault.dropFraction) parts.push(`drop ${Math.round(fault.dropFraction * 1000) / 10}%`);
  if (fault.bytesPerSecond !== undefined) parts.push(`${fault.bytesPerSecond} B/s`);
  return parts.length === 0 ? 'healthy' : parts.join(', ');
}

function isInteger(value: unknown, low: number, high: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= low && value <= high;
}
