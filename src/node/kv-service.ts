// The KV service on one Raft core, synchronous and free of I/O: client requests in (propose, read),
// Ready batches in two halves (plan, then finish once the driver made them durable), answers out
// through callbacks. It owns the state machine, pending writes, ReadIndex rounds, snapshot install
// and the compaction decision. It never touches a clock, a disk or a socket: the real node (timers,
// fsync, sockets) and the simulator (virtual clock, simulated disk and network) are its two drivers.

import { NODE_DEFAULTS } from './defaults.js';
import { decodeCommand, encodeCommand, KvStateMachine, type KvCommand, type KvResult } from '../kv/index.js';
import type { Message } from '../raft/message.js';
import { UNSAFE_BUGS as CORE_UNSAFE_BUGS, type UnsafeBug as CoreBug } from '../raft/options.js';
import type { Raft, ProposeResult, RaftStatus } from '../raft/raft.js';
import type { Ready } from '../raft/ready.js';
import type { Storage } from '../raft/storage.js';
import type { Entry, NodeId, Snapshot } from '../raft/types.js';
import { nodeError, SAFETY_VIOLATION_MARKER, type NodeAnswer, type NodeError } from './errors.js';

/**
 * Known classes of bugs, for proving that the harness finds them. Never on by default. The
 * service's own, the storage's (lying-fsync) and the core's (src/raft/options.ts), which are passed on.
 */
export type UnsafeBug = 'stale-read' | 'no-dedup' | 'lying-fsync' | CoreBug;
export const UNSAFE_BUGS: readonly UnsafeBug[] = ['stale-read', 'no-dedup', 'lying-fsync', ...CORE_UNSAFE_BUGS];

/** The bugs among `bugs` that live in the core, for RaftOptions.unsafeBugs. */
export function coreBugs(bugs: Iterable<UnsafeBug>): CoreBug[] {
  return [...bugs].filter((bug): bug is CoreBug => (CORE_UNSAFE_BUGS as readonly string[]).includes(bug));
}

/** The driver's clock: runs `action` after `delayMs`; the returned function cancels it. */
export interface ServiceTimers {
  after(delayMs: number, action: () => void): () => void;
}

export type Answer = (answer: NodeAnswer) => void;

export interface KvServiceOptions {
  id: NodeId;
  /** The core, built by the driver over `storage`. */
  raft: Raft;
  /** Read for the snapshot the state machine starts from. */
  storage: Storage;
  timers: ServiceTimers;
  /** Called when requests are waiting for flush(); the driver calls it soon (the node on setImmediate). */
  requestFlush: () => void;
  /** A request with no outcome after this long is answered `timeout` (indefinite). Default 3000. */
  requestTimeoutMs?: number;
  /** Requests waiting for an outcome, beyond which new ones are refused `busy`. Default 10 000. */
  pendingRequestsMax?: number;
  /** Snapshot and compact once this many entries were applied since the last one; 0 never. Default 10 000. */
  snapshotEntries?: number;
  unsafeBugs?: readonly UnsafeBug[];
  log?: (line: string) => void;
  /** Observers for the simulator's invariants: every entry applied, every snapshot installed. */
  onApplied?: (entry: Entry, command: KvCommand | undefined, result: KvResult | undefined) => void;
  onSnapshotInstalled?: (snapshot: Snapshot) => void;
}

/** What the driver does with a Ready's messages around its write (see planReady). */
export interface ReadyPlan {
  /** Send before the write is durable: a leader's AppendEntries and heartbeats (thesis §10.2.1). */
  early: Message[];
  /** Send once the write is durable. */
  later: Message[];
  /** Whether the write must be durable (fsync) before `later` go out. */
  mustSync: boolean;
}

export interface KvServiceStatus extends RaftStatus {
  snapshotIndex: number;
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

interface PendingWrite {
  term: number;
  answer: Answer;
  cancelTimer: () => void;
}

interface PendingRead {
  key: string;
  answer: Answer;
  done: boolean;
}

export class KvService {
  readonly id: NodeId;
  readonly raft: Raft;
  private stateMachine: KvStateMachine;
  private readonly timers: ServiceTimers;
  private readonly requestFlush: () => void;
  private readonly requestTimeoutMs: number;
  private readonly pendingRequestsMax: number;
  private readonly snapshotEntries: number;
  private readonly bugs: ReadonlySet<UnsafeBug>;
  private readonly log: (line: string) => void;
  private readonly onApplied: KvServiceOptions['onApplied'];
  private readonly onSnapshotInstalled: KvServiceOptions['onSnapshotInstalled'];
  private readonly pendingWrites = new Map<number, PendingWrite>();
  /** Writes waiting for the next flush(): proposed together, one AppendEntries and one fsync. */
  private proposalBatch: { data: Uint8Array; answer: Answer }[] = [];
  /** Reads not yet part of a ReadIndex round. */
  private queuedReads: PendingRead[] = [];
  /** The ReadIndex round in flight: its context and reads. One at a time; later reads batch up. */
  private readRound: { context: string; reads: PendingRead[] } | undefined;
  /** Confirmed rounds waiting for applied >= index. */
  private confirmedReads: { index: number; reads: PendingRead[] }[] = [];
  private readRoundCount = 0;
  private stopped = false;
  private snapshotIndexValue: number;
  /** Index of the last entry applied (no-ops included). */
  private applied: number;
  /** Peers and terms already reported as safety violations (one line each, bounded). */
  private readonly safetyReported = new Set<string>();

  constructor(options: KvServiceOptions) {
    this.id = options.id;
    this.raft = options.raft;
    this.timers = options.timers;
    this.requestFlush = options.requestFlush;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 3000;
    this.pendingRequestsMax = options.pendingRequestsMax ?? 10_000;
    this.snapshotEntries = options.snapshotEntries ?? NODE_DEFAULTS.snapshotEntries;
    this.bugs = new Set(options.unsafeBugs ?? []);
    this.log = options.log ?? (() => {});
    this.onApplied = options.onApplied;
    this.onSnapshotInstalled = options.onSnapshotInstalled;
    const snapshot = options.storage.snapshot();
    this.snapshotIndexValue = snapshot.metadata.index;
    this.applied = snapshot.metadata.index;
    this.stateMachine = snapshot.metadata.index > 0 ? KvStateMachine.restore(snapshot.data) : new KvStateMachine();
  }

  /** Index of the last entry applied. */
  get appliedIndex(): number {
    return this.applied;
  }

  get snapshotIndex(): number {
    return this.snapshotIndexValue;
  }

  /** The local value of `key`, without any leadership check (for status and tests, never for clients). */
  localValue(key: string): string | null {
    return this.stateMachine.get(key);
  }

  /** Answers every waiting request with `answer` (reads always definite) and refuses new ones. */
  stop(answer: NodeError = nodeError('stopping', true)): void {
    this.stopped = true;
    for (const [index, pending] of this.pendingWrites) this.settleWrite(index, pending, answer);
    for (const proposal of this.proposalBatch) proposal.answer(nodeError('stopping', false));
    this.proposalBatch = [];
    this.failAllReads(answer);
  }

  // ---- inputs --------------------------------------------------------------------------------

  /** A message from a peer; a refusal that means two different committed entries is logged loudly. */
  receive(message: Message): void {
    if (this.stopped) return;
    const rejected = this.raft.step(message);
    if (rejected === undefined) return;
    const from = String((message as { from?: unknown }).from);
    this.log(`rejected message from ${from}: ${rejected}`);
    // Two different entries committed at one index, or two leaders in one term: Raft's safety is
    // broken somewhere in the cluster (a buggy peer, or a disk that lost acknowledged records or a
    // vote). Said loudly, in the words the harness looks for in node logs (SAFETY_VIOLATION_MARKER).
    const violation =
      rejected === 'overwrites-committed'
        ? `sent entries that conflict with entries this node holds as committed (commit ${this.raft.status().commit})`
        : rejected === 'second-leader'
          ? `acts as leader of a term in which this node ${this.raft.role === 'leader' ? 'leads' : 'already followed another leader'}`
          : undefined;
    const key = `${rejected}/${from}/${message.term}`;
    if (violation !== undefined && !this.safetyReported.has(key) && this.safetyReported.size < 1000) {
      this.safetyReported.add(key);
      this.log(`${SAFETY_VIOLATION_MARKER}: ${from} (term ${message.term}) ${violation}`);
    }
  }

  /** A command through the log (writes; a get too, if a client wants its read in the log). */
  propose(command: KvCommand, answer: Answer): void {
    if (this.stopped) return answer(nodeError('stopping', false));
    if (this.raft.role !== 'leader') return answer(this.notLeader());
    if (this.pendingWrites.size + this.proposalBatch.length >= this.pendingRequestsMax) return answer(nodeError('busy', false));
    const proposed = this.bugs.has('no-dedup') ? stripSession(command) : command;
    this.proposalBatch.push({ data: encodeCommand(proposed), answer });
    this.requestFlush();
  }

  /** A linearizable read: confirmed by a ReadIndex round, served once applied reaches its index. */
  read(key: string, answer: Answer): void {
    if (this.stopped) return answer(nodeError('stopping', false));
    if (this.raft.role !== 'leader') return answer(this.notLeader());
    // UNSAFE: answers from local state without confirming leadership.
    if (this.bugs.has('stale-read')) return answer({ ok: true, value: this.stateMachine.get(key) });
    if (this.queuedReads.length >= this.pendingRequestsMax) return answer(nodeError('busy', false));
    const read: PendingRead = { key, done: false, answer: () => {} };
    const cancelTimer = this.timers.after(this.requestTimeoutMs, () => read.answer(nodeError('timeout', false)));
    read.answer = (result) => {
      if (read.done) return;
      read.done = true;
      cancelTimer();
      answer(result);
    };
    this.queuedReads.push(read);
    this.requestFlush();
  }

  /**
   * Proposes the batched writes and starts a read round for the queued reads: requests that
   * arrived together go out together (the read round's confirmation rides the same AppendEntries).
   */
  flush(): void {
    this.flushProposals();
    this.startReadRound();
  }

  private flushProposals(): void {
    const batch = this.proposalBatch;
    this.proposalBatch = [];
    if (batch.length === 0) return;
    if (this.stopped) {
      for (const proposal of batch) proposal.answer(nodeError('stopping', false));
      return;
    }
    const results: ProposeResult[] = this.raft.proposeBatch(batch.map((proposal) => proposal.data));
    results.forEach((result, i) => {
      const { answer } = batch[i];
      if (!result.ok) {
        if (result.reason === 'too-large') answer(nodeError('too_large', false));
        else if (result.reason === 'too-many-uncommitted') answer(nodeError('busy', false));
        else answer(this.notLeader());
        return;
      }
      const previous = this.pendingWrites.get(result.index);
      if (previous) this.settleWrite(result.index, previous, nodeError('leadership_lost', true, this.leaderHint()));
      const cancelTimer = this.timers.after(this.requestTimeoutMs, () => {
        if (this.pendingWrites.get(result.index) === pending) this.pendingWrites.delete(result.index);
        answer(nodeError('timeout', true));
      });
      const pending: PendingWrite = { term: result.term, answer, cancelTimer };
      this.pendingWrites.set(result.index, pending);
    });
  }

  /** Asks the leader to hand leadership to `to` (for operators and the harness). */
  transferLeader(to: NodeId): string {
    return this.raft.transferLeader(to);
  }

  status(): KvServiceStatus {
    const machine = this.stateMachine.size();
    return {
      ...this.raft.status(),
      snapshotIndex: this.snapshotIndexValue,
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

  // ---- a Ready, in two halves ----------------------------------------------------------------

  /**
   * The first half of a Ready, before the driver writes it: reacts to a change of role, and says
   * which messages may go before the write is durable and whether it must be fsynced. Call before
   * writing the Ready's hard state to `durable` storage (it compares against it).
   * A change of the commit index alone is written but not waited for, as in etcd: a restarted node
   * learns the commit index again from the leader.
   */
  planReady(ready: Ready, durable: Storage): ReadyPlan {
    if (ready.softState) {
      this.log(`role=${ready.softState.role} leader=${ready.softState.leader || '-'} term=${this.raft.term}`);
      if (ready.softState.role !== 'leader') this.onLostLeadership();
    }
    let termOrVoteChanged = false;
    if (ready.hardState) {
      const previous = durable.initialState().hardState;
      termOrVoteChanged = ready.hardState.term !== previous.term || ready.hardState.vote !== previous.vote;
    }
    const mustSync = ready.snapshot !== undefined || ready.entries.length > 0 || termOrVoteChanged;
    // A leader's AppendEntries and heartbeats need not wait for its own write (Raft thesis
    // §10.2.1): its copy only counts towards commit after advance(), and its term and vote were
    // durable before it could lead. Everything else (votes, responses) waits for the fsync.
    if (!termOrVoteChanged && ready.snapshot === undefined && this.raft.role === 'leader') {
      const early: Message[] = [];
      const later: Message[] = [];
      for (const message of ready.messages)
        (message.type === 'AppendEntries' || message.type === 'Heartbeat' ? early : later).push(message);
      return { early, later, mustSync };
    }
    return { early: [], later: ready.messages, mustSync };
  }

  /**
   * The second half, once the Ready is durable and its later messages sent: installs its snapshot,
   * applies its committed entries and answers the writes waiting on them, serves confirmed reads,
   * advances the core and starts the next read round.
   */
  finishReady(ready: Ready): void {
    if (ready.snapshot) this.installSnapshot(ready.snapshot);
    for (const entry of ready.committedEntries) this.applyEntry(entry);
    // Reads confirmed by a quorum wait for applied >= their index.
    for (const state of ready.readStates) this.onReadConfirmed(state.index, state.context);
    for (const context of ready.droppedReads) this.onReadDropped(context);
    this.serveConfirmedReads();
    this.raft.advance(ready);
    this.startReadRound();
  }

  /** A snapshot to take now ({index, data} for storage.compact), or undefined when none is due. */
  compactionDue(): { index: number; data: Uint8Array } | undefined {
    if (this.snapshotEntries <= 0 || this.applied - this.snapshotIndexValue < this.snapshotEntries) return undefined;
    return { index: this.applied, data: this.stateMachine.snapshot() };
  }

  /** The driver stored the snapshot from compactionDue() at `index`. */
  compacted(index: number): void {
    if (index > this.snapshotIndexValue) this.snapshotIndexValue = index;
  }

  private applyEntry(entry: Entry): void {
    if (entry.index <= this.applied) return;
    this.applied = entry.index;
    // The leader's no-op (empty data) applies nothing but still moves the applied index.
    if (entry.data.length === 0) {
      this.onApplied?.(entry, undefined, undefined);
      return this.answerWrite(entry, undefined);
    }
    const command = decodeCommand(entry.data);
    if ('error' in command) throw new KvNodeFatalError(`entry ${entry.term}/${entry.index} does not decode: ${command.error}`);
    const result = this.stateMachine.apply(entry.index, command);
    this.onApplied?.(entry, command, result);
    this.answerWrite(entry, result);
  }

  private answerWrite(entry: Entry, result: KvResult | undefined): void {
    const pending = this.pendingWrites.get(entry.index);
    if (!pending) return;
    // Indices re-appear after leader changes: only the entry this leader proposed (same term) is ours.
    if (pending.term === entry.term && result !== undefined) this.settleWrite(entry.index, pending, result);
    else this.settleWrite(entry.index, pending, nodeError('overwritten', false, this.leaderHint()));
  }

  private settleWrite(index: number, pending: PendingWrite, answer: NodeAnswer): void {
    pending.cancelTimer();
    this.pendingWrites.delete(index);
    pending.answer(answer);
  }

  private installSnapshot(snapshot: Snapshot): void {
    this.stateMachine = KvStateMachine.restore(snapshot.data);
    this.snapshotIndexValue = snapshot.metadata.index;
    this.applied = snapshot.metadata.index;
    this.onSnapshotInstalled?.(snapshot);
    this.log(`installed snapshot at ${snapshot.metadata.term}/${snapshot.metadata.index} (${snapshot.data.length} bytes)`);
    // Our proposals at or below it were decided elsewhere; we cannot tell how.
    for (const [index, pending] of this.pendingWrites) {
      if (index <= snapshot.metadata.index) this.settleWrite(index, pending, nodeError('leadership_lost', true, this.leaderHint()));
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
      for (const read of batch.reads) read.answer({ ok: true, value: this.stateMachine.get(read.key) });
    }
  }

  private failReads(reads: PendingRead[], answer: NodeError): void {
    for (const read of reads) read.answer(answer);
  }

  private onLostLeadership(): void {
    this.failAllReads(this.notLeader());
    // A proposed write may still commit under the next leader: indefinite, the client retries
    // with the same session so the state machine's de-duplication decides.
    for (const [index, pending] of this.pendingWrites)
      this.settleWrite(index, pending, nodeError('leadership_lost', true, this.leaderHint()));
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
