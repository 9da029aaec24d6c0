// The node loop: drives the pure Raft core with a ticker, durable storage and a peer transport, and
// serves key-value requests on top of it. It follows the course notes' rules for services on Raft:
// a request is proposed with propose(), answered only once its entry comes back applied (reads go
// through ReadIndex), an index applied with another entry than the one proposed fails the request,
// retries are de-duplicated inside the state machine, and one loop is the only code that applies.
// It does no socket or file I/O of its own: the storage, transport and HTTP API are passed in.

import { encodeCommand, decodeCommand, KvStateMachine, type KvCommand, type KvResult } from '../kv/index.js';
import type { Message } from '../raft/message.js';
import { Raft, type ProposeResult, type RaftStatus } from '../raft/raft.js';
import { UNSAFE_BUGS as CORE_BUGS, type RaftOptions, type UnsafeBug as CoreBug } from '../raft/options.js';
import { Random } from '../raft/random.js';
import type { Ready } from '../raft/ready.js';
import type { Storage } from '../raft/storage.js';
import type { Entry, HardState, NodeId, Snapshot } from '../raft/types.js';
import { nodeError, SAFETY_VIOLATION_MARKER, type NodeAnswer, type NodeError } from './errors.js';

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

/** Known classes of bugs, for proving that the harness finds them. Never on by default. */
export const UNSAFE_BUGS = ['stale-read', 'no-dedup', 'lying-fsync', 'commit-prior-term', 'vote-twice'] as const;
export type UnsafeBug = (typeof UNSAFE_BUGS)[number];

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

interface PendingWrite {
  term: number;
  resolve: (answer: NodeAnswer) => void;
  timer: NodeJS.Timeout;
}

interface PendingRead {
  key: string;
  resolve: (answer: NodeAnswer) => void;
  timer: NodeJS.Timeout;
  done: boolean;
}

export interface KvNodeStatus extends RaftStatus {
  snapshotIndex: number;
  logBytes: number;
  snapshotBytes: number;
  keys: number;
  sessions: number;
  pendingWrites: number;
  pendingReads: number;
  unsafeBugs: readonly UnsafeBug[];
}

/** A fatal error in the loop (storage failure, broken invariant): the node must stop. */
export class KvNodeFatalError extends Error {
  override readonly name = 'KvNodeFatalError';
}

export class KvNode {
  readonly id: NodeId;
  readonly raft: Raft;
  private stateMachine: KvStateMachine;
  private readonly storage: NodeStorage;
  private readonly transport: NodeTransport;
  private readonly options: Required<Omit<KvNodeOptions, 'raft' | 'log' | 'unsafeBugs' | 'storage' | 'transport' | 'id' | 'seed'>>;
  private readonly bugs: ReadonlySet<UnsafeBug>;
  private readonly log: (line: string) => void;
  private readonly pendingWrites = new Map<number, PendingWrite>();
  /** Writes waiting for the next proposeBatch (flushed on setImmediate). */
  private proposalBatch: { data: Uint8Array; resolve: (answer: NodeAnswer) => void }[] = [];
  /** Reads not yet part of a ReadIndex round. */
  private queuedReads: PendingRead[] = [];
  /** The ReadIndex round in flight: its context and reads. One at a time; later reads batch up. */
  private readRound: { context: string; reads: PendingRead[] } | undefined;
  /** Confirmed rounds waiting for applied >= index. */
  private confirmedReads: { index: number; reads: PendingRead[] }[] = [];
  private readRoundCount = 0;
  private ticker: NodeJS.Timeout | undefined;
  private driving = false;
  private driveAgain = false;
  /** A flush of the proposal batch and the read queue is due on setImmediate (scheduleFlush). */
  private flushScheduled = false;
  private stopped = false;
  private fatal: Error | undefined;
  private snapshotIndex: number;
  /** Index of the last entry applied (no-ops included). */
  private applied: number;
  private compacting = false;
  /** Peers and terms already reported as safety violations (one line each, bounded). */
  private readonly safetyReported = new Set<string>();
  private readonly onFatal: (error: Error) => void;

  constructor(options: KvNodeOptions, onFatal: (error: Error) => void) {
    this.id = options.id;
    this.storage = options.storage;
    this.transport = options.transport;
    this.onFatal = onFatal;
    this.log = options.log ?? (() => {});
    this.bugs = new Set(options.unsafeBugs ?? []);
    this.options = {
      tickMs: options.tickMs ?? 10,
      electionTimeoutMs: options.electionTimeoutMs ?? 200,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 40,
      snapshotEntries: options.snapshotEntries ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 3000,
      pendingRequestsMax: options.pendingRequestsMax ?? 10_000,
    };
    const { tickMs, electionTimeoutMs, heartbeatIntervalMs } = this.options;
    const snapshot = this.storage.snapshot();
    this.snapshotIndex = snapshot.metadata.index;
    this.applied = snapshot.metadata.index;
    this.stateMachine = snapshot.metadata.index > 0 ? KvStateMachine.restore(snapshot.data) : new KvStateMachine();
    const coreBugs = [...this.bugs].filter((bug): bug is CoreBug => (CORE_BUGS as readonly string[]).includes(bug));
    this.raft = new Raft({
      ...options.raft,
      // The stale-read bug class is a leader that goes on believing it leads: no CheckQuorum step-down.
      ...(this.bugs.has('stale-read') ? { checkQuorum: false } : {}),
      id: options.id,
      storage: this.storage,
      random: new Random(options.seed),
      electionTimeoutTicks: Math.max(2, Math.round(electionTimeoutMs / tickMs)),
      heartbeatIntervalTicks: Math.max(1, Math.round(heartbeatIntervalMs / tickMs)),
      appliedIndex: snapshot.metadata.index,
      unsafeBugs: coreBugs,
    });
  }

  start(): void {
    this.ticker = setInterval(() => {
      if (this.stopped) return;
      this.raft.tick();
      this.drive();
    }, this.options.tickMs);
    this.drive();
  }

  /** Stops ticking and answers every waiting request `stopping`. */
  stop(): void {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.failAll(nodeError('stopping', true));
  }

  // ---- inputs --------------------------------------------------------------------------------

  receive(message: Message): void {
    if (this.stopped) return;
    const rejected = this.raft.step(message);
    if (rejected !== undefined) {
      const from = String((message as { from?: unknown }).from);
      this.log(`rejected message from ${from}: ${rejected}`);
      // Two different entries committed at one index: Raft's safety is broken somewhere in the
      // cluster (a buggy peer, or a disk that lost acknowledged records). Said loudly, in the words
      // the harness looks for in node logs (SAFETY_VIOLATION_MARKER).
      const key = `${from}/${message.term}`;
      if (rejected === 'overwrites-committed' && !this.safetyReported.has(key) && this.safetyReported.size < 1000) {
        this.safetyReported.add(key);
        this.log(
          `${SAFETY_VIOLATION_MARKER}: ${from} (term ${message.term}) sent entries that conflict with entries this node holds as committed (commit ${this.raft.status().commit})`,
        );
      }
    }
    this.drive();
  }

  /** A write (put, append, cas, delete) or, with `viaLog`, a read through the log. */
  propose(command: KvCommand): Promise<NodeAnswer> {
    if (this.stopped) return Promise.resolve(nodeError('stopping', false));
    if (this.raft.role !== 'leader') return Promise.resolve(this.notLeader());
    if (this.pendingWrites.size + this.proposalBatch.length >= this.options.pendingRequestsMax)
      return Promise.resolve(nodeError('busy', false));
    const proposed = this.bugs.has('no-dedup') ? stripSession(command) : command;
    return new Promise((resolve) => {
      // Requests that arrive together are proposed together: one AppendEntries per follower and one
      // fsync carry the whole batch.
      this.proposalBatch.push({ data: encodeCommand(proposed), resolve });
      this.scheduleFlush();
    });
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
      this.flushProposals();
      this.startReadRound();
      this.drive();
    });
  }

  private flushProposals(): void {
    const batch = this.proposalBatch;
    this.proposalBatch = [];
    if (batch.length === 0) return;
    if (this.stopped) {
      for (const proposal of batch) proposal.resolve(nodeError('stopping', false));
      return;
    }
    const results: ProposeResult[] = this.raft.proposeBatch(batch.map((proposal) => proposal.data));
    results.forEach((result, i) => {
      const { resolve } = batch[i];
      if (!result.ok) {
        if (result.reason === 'too-large') resolve(nodeError('too_large', false));
        else if (result.reason === 'too-many-uncommitted') resolve(nodeError('busy', false));
        else resolve(this.notLeader());
        return;
      }
      const previous = this.pendingWrites.get(result.index);
      if (previous) this.settleWrite(result.index, previous, nodeError('leadership_lost', true, this.leaderHint()));
      const timer = setTimeout(() => {
        if (this.pendingWrites.get(result.index)?.timer === timer) this.pendingWrites.delete(result.index);
        resolve(nodeError('timeout', true));
      }, this.options.requestTimeoutMs);
      this.pendingWrites.set(result.index, { term: result.term, resolve, timer });
    });
  }

  /** A linearizable read: confirmed by a ReadIndex round, served once applied reaches its index. */
  read(key: string): Promise<NodeAnswer> {
    if (this.stopped) return Promise.resolve(nodeError('stopping', false));
    if (this.raft.role !== 'leader') return Promise.resolve(this.notLeader());
    if (this.bugs.has('stale-read')) {
      // UNSAFE: answers from local state without confirming leadership.
      return Promise.resolve({ ok: true, value: this.stateMachine.get(key) });
    }
    if (this.queuedReads.length >= this.options.pendingRequestsMax) return Promise.resolve(nodeError('busy', false));
    return new Promise((resolve) => {
      const read: PendingRead = {
        key,
        done: false,
        resolve: (answer) => {
          if (read.done) return;
          read.done = true;
          clearTimeout(read.timer);
          resolve(answer);
        },
        timer: setTimeout(() => read.resolve(nodeError('timeout', false)), this.options.requestTimeoutMs),
      };
      this.queuedReads.push(read);
      this.scheduleFlush();
    });
  }

  /** Asks the leader to hand leadership to `to` (for operators and the harness). */
  transferLeader(to: NodeId): string {
    const result = this.raft.transferLeader(to);
    this.drive();
    return result;
  }

  status(): KvNodeStatus {
    const sizes = this.storage.sizeBytes();
    const machine = this.stateMachine.size();
    return {
      ...this.raft.status(),
      snapshotIndex: this.snapshotIndex,
      logBytes: sizes.logBytes,
      snapshotBytes: sizes.snapshotBytes,
      keys: machine.keys,
      sessions: machine.sessions,
      pendingWrites: this.pendingWrites.size,
      pendingReads: this.queuedReads.length + (this.readRound?.reads.length ?? 0),
      unsafeBugs: [...this.bugs],
    };
  }

  leaderHint(): string | undefined {
    const leader = this.raft.leader;
    return leader === '' ? undefined : leader;
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

  /** The order matters: persist, send, apply, serve reads, advance. */
  private async handleReady(ready: Ready): Promise<void> {
    if (ready.softState) {
      this.log(`role=${ready.softState.role} leader=${ready.softState.leader || '-'} term=${this.raft.term}`);
      if (ready.softState.role !== 'leader') this.onLostLeadership();
    }
    // 1. Make the snapshot, entries, term and vote durable (one fsync shared by everything in this
    // batch). A change of the commit index alone is written but not waited for, as in etcd: a
    // restarted node learns the commit index again from the leader.
    if (ready.snapshot) await this.storage.applySnapshot(ready.snapshot);
    if (ready.entries.length > 0) this.storage.append(ready.entries);
    let termOrVoteChanged = false;
    if (ready.hardState) {
      const previous = this.storage.initialState().hardState;
      termOrVoteChanged = ready.hardState.term !== previous.term || ready.hardState.vote !== previous.vote;
      this.storage.setHardState(ready.hardState);
    }
    const mustSync = ready.snapshot !== undefined || ready.entries.length > 0 || termOrVoteChanged;
    // A leader's AppendEntries and heartbeats need not wait for its own write (Raft thesis
    // §10.2.1): its copy only counts towards commit after advance(), and its term and vote were
    // durable before it could lead. Everything else (votes, responses) waits for the fsync.
    let later = ready.messages;
    if (mustSync && !termOrVoteChanged && ready.snapshot === undefined && this.raft.role === 'leader') {
      later = [];
      for (const message of ready.messages) {
        if (message.type === 'AppendEntries' || message.type === 'Heartbeat') this.transport.send(message);
        else later.push(message);
      }
    }
    if (mustSync) {
      // A follower can do nothing useful before its write is durable, so it writes on this thread
      // when it can (no thread-pool round trip on the commit path); a leader keeps serving meanwhile.
      const blocked = this.raft.role !== 'leader' && this.storage.syncNow?.() === true;
      if (!blocked) await this.storage.sync();
    }
    // 2. Send what depended on it.
    for (const message of later) this.transport.send(message);
    // 3. Install and apply.
    if (ready.snapshot) this.installSnapshot(ready.snapshot);
    for (const entry of ready.committedEntries) this.applyEntry(entry);
    // 4. Reads confirmed by a quorum wait for applied >= their index.
    for (const state of ready.readStates) this.onReadConfirmed(state.index, state.context);
    for (const context of ready.droppedReads) this.onReadDropped(context);
    this.serveConfirmedReads();
    this.raft.advance(ready);
    this.startReadRound();
    await this.maybeCompact();
  }

  private applyEntry(entry: Entry): void {
    if (entry.index <= this.applied) return;
    this.applied = entry.index;
    // The leader's no-op (empty data) applies nothing but still moves the applied index.
    if (entry.data.length === 0) return this.answerWrite(entry, undefined);
    const command = decodeCommand(entry.data);
    if ('error' in command) throw new KvNodeFatalError(`entry ${entry.term}/${entry.index} does not decode: ${command.error}`);
    this.answerWrite(entry, this.stateMachine.apply(entry.index, command));
  }

  private answerWrite(entry: Entry, result: KvResult | undefined): void {
    const pending = this.pendingWrites.get(entry.index);
    if (!pending) return;
    // Indices re-appear after leader changes: only the entry this leader proposed (same term) is ours.
    if (pending.term === entry.term && result !== undefined) this.settleWrite(entry.index, pending, result);
    else this.settleWrite(entry.index, pending, nodeError('overwritten', false, this.leaderHint()));
  }

  private settleWrite(index: number, pending: PendingWrite, answer: NodeAnswer): void {
    clearTimeout(pending.timer);
    this.pendingWrites.delete(index);
    pending.resolve(answer);
  }

  private installSnapshot(snapshot: Snapshot): void {
    this.stateMachine = KvStateMachine.restore(snapshot.data);
    this.snapshotIndex = snapshot.metadata.index;
    this.applied = snapshot.metadata.index;
    this.log(`installed snapshot at ${snapshot.metadata.term}/${snapshot.metadata.index} (${snapshot.data.length} bytes)`);
    // Our proposals at or below it were decided elsewhere; we cannot tell how.
    for (const [index, pending] of this.pendingWrites) {
      if (index <= snapshot.metadata.index) this.settleWrite(index, pending, nodeError('leadership_lost', true, this.leaderHint()));
    }
  }

  private async maybeCompact(): Promise<void> {
    const applied = this.applied;
    if (this.compacting || applied - this.snapshotIndex < this.options.snapshotEntries) return;
    this.compacting = true;
    try {
      await this.storage.compact(applied, this.stateMachine.snapshot());
      this.snapshotIndex = applied;
    } finally {
      this.compacting = false;
    }
  }

  // ---- reads ---------------------------------------------------------------------------------

  private startReadRound(): void {
    if (this.readRound !== undefined || this.stopped) return;
    this.queuedReads = this.queuedReads.filter((read) => !read.done);
    if (this.queuedReads.length === 0) return;
    if (this.raft.role !== 'leader') {
      this.failReads(this.queuedReads, this.notLeader());
      this.queuedReads = [];
      return;
    }
    const context = `${this.id}:${++this.readRoundCount}`;
    const result = this.raft.readIndex(context);
    if (result !== 'accepted') {
      this.failReads(this.queuedReads, result === 'not-leader' ? this.notLeader() : nodeError('busy', false));
      this.queuedReads = [];
      return;
    }
    this.readRound = { context, reads: this.queuedReads };
    this.queuedReads = [];
  }

  private onReadConfirmed(index: number, context: string): void {
    if (this.readRound?.context !== context) return;
    this.confirmedReads.push({ index, reads: this.readRound.reads });
    this.readRound = undefined;
  }

  private onReadDropped(context: string): void {
    if (this.readRound?.context !== context) return;
    this.failReads(this.readRound.reads, this.notLeader());
    this.readRound = undefined;
  }

  private serveConfirmedReads(): void {
    const applied = this.applied;
    while (this.confirmedReads.length > 0 && this.confirmedReads[0].index <= applied) {
      const batch = this.confirmedReads.shift()!;
      for (const read of batch.reads) read.resolve({ ok: true, value: this.stateMachine.get(read.key) });
    }
  }

  private failReads(reads: PendingRead[], answer: NodeError): void {
    for (const read of reads) read.resolve(answer);
  }

  private onLostLeadership(): void {
    this.failAllReads(this.notLeader());
    // A proposed write may still commit under the next leader: indefinite, the client retries
    // with the same session so the state machine's de-duplication decides.
    for (const [index, pending] of this.pendingWrites)
      this.settleWrite(index, pending, nodeError('leadership_lost', true, this.leaderHint()));
  }

  private failAll(answer: NodeError): void {
    for (const [index, pending] of this.pendingWrites) this.settleWrite(index, pending, answer);
    this.failAllReads(answer);
  }

  /** Reads change nothing, so failing them is always definite. */
  private failAllReads(answer: NodeError): void {
    const reads = [...(this.readRound?.reads ?? []), ...this.confirmedReads.flatMap((batch) => batch.reads), ...this.queuedReads];
    this.readRound = undefined;
    this.confirmedReads = [];
    this.queuedReads = [];
    this.failReads(reads, { ...answer, indefinite: false });
  }

  private notLeader(): NodeError {
    return nodeError('not_leader', false, this.leaderHint());
  }
}

function stripSession(command: KvCommand): KvCommand {
  const { clientId: _clientId, seq: _seq, ...rest } = command;
  return rest as KvCommand;
}
