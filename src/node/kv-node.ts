// The node loop: the real-time driver of the KV service (kv-service.ts). It ticks the Raft core on a
// timer, writes each Ready to durable storage (fsync before anything that depends on it), sends
// messages through the peer transport, and batches requests that arrive in one turn of the event
// loop. What the node answers and when (after apply, reads through ReadIndex, a pending write
// matched to the entry applied at its index, de-duplication by client session) is the service's.
// It does no socket or file I/O of its own: the storage, transport and HTTP API are passed in.

import { NODE_DEFAULTS } from './defaults.js';
import type { KvCommand } from '../kv/index.js';
import type { Message } from '../raft/message.js';
import type { RaftOptions } from '../raft/options.js';
import { Raft } from '../raft/raft.js';
import { Random } from '../raft/random.js';
import type { Ready } from '../raft/ready.js';
import type { Storage } from '../raft/storage.js';
import type { Entry, HardState, NodeId, Snapshot } from '../raft/types.js';
import { nodeError, type NodeAnswer } from './errors.js';
import { coreBugs, KvService, type KvServiceStatus, type UnsafeBug } from './kv-service.js';

export { KvNodeFatalError, UNSAFE_BUGS, type UnsafeBug } from './kv-service.js';

/** What the loop needs from durable storage (DiskStorage, or MemoryStorage-like in tests). */
export interface NodeStorage extends Storage {
  append(entries: Entry[]): void;
  setHardState(hardState: HardState): void;
  applySnapshot(snapshot: Snapshot): Promise<unknown> | unknown;
  compact(index: number, data: Uint8Array): Promise<unknown> | unknown;
  /** Resolves when everything appended so far is durable. */
  sync(): Promise<void>;
  /** Makes everything appended so far durable before returning true, blocking; false: use sync(). */
  syncNow?(): boolean;
  sizeBytes(): { logBytes: number; snapshotBytes: number };
}

/** What the loop needs from the peer transport. */
export interface NodeTransport {
  send(message: Message): void;
}

export interface KvNodeOptions {
  id: NodeId;
  storage: NodeStorage;
  transport: NodeTransport;
  /** Real milliseconds per core tick. Default 10. */
  tickMs?: number;
  /** Election timeout: a follower campaigns after a random time in [this, 2 * this). Default 200. */
  electionTimeoutMs?: number;
  /** Leader heartbeat period. Default 40. */
  heartbeatIntervalMs?: number;
  /** Take a snapshot and compact the log once this many entries were applied since the last one. Default 10 000. */
  snapshotEntries?: number;
  /** A request with no outcome after this long is answered `timeout` (indefinite). Default 3000. */
  requestTimeoutMs?: number;
  /** Requests waiting for an outcome, beyond which new ones are refused `busy`. Default 10 000. */
  pendingRequestsMax?: number;
  /** Seed for the core's election timeouts. */
  seed: number;
  unsafeBugs?: readonly UnsafeBug[];
  /** Core options passed through (PreVote, CheckQuorum, message sizes ...). */
  raft?: Partial<Omit<RaftOptions, 'id' | 'storage' | 'random' | 'electionTimeoutTicks' | 'heartbeatIntervalTicks' | 'appliedIndex'>>;
  log?: (line: string) => void;
}

export interface KvNodeStatus extends KvServiceStatus {
  logBytes: number;
  snapshotBytes: number;
}

export class KvNode {
  readonly id: NodeId;
  readonly raft: Raft;
  /** The KV service this loop drives: everything but the timers, the disk and the sockets. */
  readonly service: KvService;
  private readonly storage: NodeStorage;
  private readonly transport: NodeTransport;
  private readonly tickMs: number;
  private ticker: NodeJS.Timeout | undefined;
  private driving = false;
  private driveAgain = false;
  /** A flush of the service's batched requests is due on setImmediate (scheduleFlush). */
  private flushScheduled = false;
  private stopped = false;
  private fatal: Error | undefined;
  private compacting = false;
  private readonly onFatal: (error: Error) => void;

  constructor(options: KvNodeOptions, onFatal: (error: Error) => void) {
    this.id = options.id;
    this.storage = options.storage;
    this.transport = options.transport;
    this.onFatal = onFatal;
    const bugs = new Set(options.unsafeBugs ?? []);
    this.tickMs = options.tickMs ?? 10;
    const electionTimeoutMs = options.electionTimeoutMs ?? NODE_DEFAULTS.electionTimeoutMs;
    const heartbeatIntervalMs = options.heartbeatIntervalMs ?? NODE_DEFAULTS.heartbeatIntervalMs;
    const snapshot = this.storage.snapshot();
    this.raft = new Raft({
      ...options.raft,
      // The stale-read bug class is a leader that goes on believing it leads: no CheckQuorum step-down.
      ...(bugs.has('stale-read') ? { checkQuorum: false } : {}),
      id: options.id,
      storage: this.storage,
      random: new Random(options.seed),
      electionTimeoutTicks: Math.max(2, Math.round(electionTimeoutMs / this.tickMs)),
      heartbeatIntervalTicks: Math.max(1, Math.round(heartbeatIntervalMs / this.tickMs)),
      appliedIndex: snapshot.metadata.index,
      unsafeBugs: coreBugs(bugs),
    });
    this.service = new KvService({
      id: options.id,
      raft: this.raft,
      storage: this.storage,
      timers: REAL_TIMERS,
      requestFlush: () => this.scheduleFlush(),
      requestTimeoutMs: options.requestTimeoutMs ?? 3000,
      pendingRequestsMax: options.pendingRequestsMax ?? 10_000,
      snapshotEntries: options.snapshotEntries ?? NODE_DEFAULTS.snapshotEntries,
      unsafeBugs: [...bugs],
      log: options.log,
    });
  }

  start(): void {
    this.ticker = setInterval(() => {
      if (this.stopped) return;
      this.raft.tick();
      this.drive();
    }, this.tickMs);
    this.drive();
  }

  /** Stops ticking and answers every waiting request `stopping`. */
  stop(): void {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.service.stop(nodeError('stopping', true));
  }

  // ---- inputs --------------------------------------------------------------------------------

  receive(message: Message): void {
    if (this.stopped) return;
    this.service.receive(message);
    this.drive();
  }

  /** A write (put, append, cas, delete), answered once applied. */
  propose(command: KvCommand): Promise<NodeAnswer> {
    if (this.stopped) return Promise.resolve(nodeError('stopping', false));
    return new Promise((resolve) => this.service.propose(command, resolve));
  }

  /** A linearizable read: confirmed by a ReadIndex round, served once applied reaches its index. */
  read(key: string): Promise<NodeAnswer> {
    if (this.stopped) return Promise.resolve(nodeError('stopping', false));
    return new Promise((resolve) => this.service.read(key, resolve));
  }

  /**
   * Writes and reads that arrive in one turn of the event loop go out together on the next: the
   * writes as one batch, and the read round's confirmation on the same AppendEntries (no heartbeat
   * round of its own while writes flow).
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.service.flush();
      this.drive();
    });
  }

  /** Asks the leader to hand leadership to `to` (for operators and the harness). */
  transferLeader(to: NodeId): string {
    const result = this.service.transferLeader(to);
    this.drive();
    return result;
  }

  status(): KvNodeStatus {
    const sizes = this.storage.sizeBytes();
    return { ...this.service.status(), logBytes: sizes.logBytes, snapshotBytes: sizes.snapshotBytes };
  }

  leaderHint(): string | undefined {
    return this.service.leaderHint();
  }

  // ---- the loop ------------------------------------------------------------------------------

  /** Handles Ready batches one at a time until none is left; re-entrant calls just ask for another pass. */
  private drive(): void {
    if (this.driving) {
      this.driveAgain = true;
      return;
    }
    if (this.stopped || this.fatal) return;
    this.driving = true;
    void this.driveLoop().then(
      () => {
        this.driving = false;
        if (this.driveAgain) this.drive();
      },
      (error: unknown) => {
        this.driving = false;
        this.fatal = error instanceof Error ? error : new Error(String(error));
        this.stop();
        this.onFatal(this.fatal);
      },
    );
  }

  private async driveLoop(): Promise<void> {
    do {
      this.driveAgain = false;
      while (!this.stopped && this.raft.hasReady()) await this.handleReady(this.raft.ready());
    } while (this.driveAgain && !this.stopped);
  }

  /** The order matters: persist, send, apply, serve reads, advance (the service does the last three). */
  private async handleReady(ready: Ready): Promise<void> {
    const plan = this.service.planReady(ready, this.storage);
    // 1. Make the snapshot, entries, term and vote durable (one fsync shared by everything in this
    // batch); a leader's appends go out meanwhile.
    if (ready.snapshot) await this.storage.applySnapshot(ready.snapshot);
    if (ready.entries.length > 0) this.storage.append(ready.entries);
    if (ready.hardState) this.storage.setHardState(ready.hardState);
    for (const message of plan.early) this.transport.send(message);
    if (plan.mustSync) {
      // A follower can do nothing useful before its write is durable, so it writes on this thread
      // when it can (no thread-pool round trip on the commit path); a leader keeps serving meanwhile.
      const blocked = this.raft.role !== 'leader' && this.storage.syncNow?.() === true;
      if (!blocked) await this.storage.sync();
    }
    // 2. Send what depended on it.
    for (const message of plan.later) this.transport.send(message);
    // 3. and 4. Install and apply, answer writes and confirmed reads, advance.
    this.service.finishReady(ready);
    await this.maybeCompact();
  }

  private async maybeCompact(): Promise<void> {
    if (this.compacting) return;
    const due = this.service.compactionDue();
    if (due === undefined) return;
    this.compacting = true;
    try {
      await this.storage.compact(due.index, due.data);
      this.service.compacted(due.index);
    } finally {
      this.compacting = false;
    }
  }
}

/** The service's timers on the real clock. */
const REAL_TIMERS = {
  after(delayMs: number, action: () => void): () => void {
    const timer = setTimeout(action, delayMs);
    return () => clearTimeout(timer);
  },
};
