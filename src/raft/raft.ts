// The Raft core: term and vote rules, role changes (become*), step dispatch, tick, propose,
// readIndex, transferLeader and the Ready/advance protocol. No clock, I/O, await or unseeded
// randomness; the role handlers live in follower.ts, candidate.ts and leader.ts.

import { assert } from './assert.js';
import { stepCandidate } from './candidate.js';
import { stepFollower } from './follower.js';
import { stepLeader, tickLeader } from './leader.js';
import { validateMessage, type Message, type MessageLimits } from './message.js';
import { resolveOptions, type RaftOptions, type ResolvedRaftOptions } from './options.js';
import { Progress } from './progress.js';
import { committedIndex, voteResult } from './quorum.js';
import { RaftLog } from './raft-log.js';
import { ReadOnly } from './read-only.js';
import type { Ready } from './ready.js';
import { broadcastAppend, maybeSendAppend, sendHeartbeat, sendTimeoutNow } from './replication.js';
import { ENTRY_OVERHEAD_BYTES } from './storage.js';
import {
  NONE,
  type Configuration,
  type Entry,
  type HardState,
  type NodeId,
  type ReadState,
  type Role,
  type Snapshot,
  type SoftState,
} from './types.js';

export type ProposeResult =
  | { ok: true; index: number; term: number }
  | { ok: false; reason: 'not-leader' | 'transferring' | 'empty' | 'too-large' | 'too-many-uncommitted' };

export type ReadIndexResult = 'accepted' | 'not-leader' | 'duplicate-context' | 'too-many-reads';

export type TransferResult = 'started' | 'not-leader' | 'already-leader' | 'unknown-node' | 'in-progress';

export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  vote: NodeId;
  leader: NodeId;
  commit: number;
  applied: number;
  firstIndex: number;
  lastIndex: number;
  lastTerm: number;
  /** Peer messages rejected as malformed or impossible, by reason. */
  rejectedMessages: Record<string, number>;
}

interface IncomingSnapshot {
  index: number;
  term: number;
  configuration: Configuration;
  sizeBytes: number;
  chunks: Uint8Array[];
  bytesReceived: number;
}

const encoder = new TextEncoder();

/**
 * One Raft peer. Fields are readable by the role handlers and tests; drivers use the methods.
 * Assertions (RaftAssertionError) mean a bug in the core or a driver that broke the Ready protocol.
 */
export class Raft {
  readonly id: NodeId;
  readonly options: ResolvedRaftOptions;
  readonly log: RaftLog;
  term = 0;
  vote: NodeId = NONE;
  leader: NodeId = NONE;
  role: Role = 'follower';
  configuration: Configuration;
  /** Leader only: one entry per voter, including itself. */
  progress = new Map<NodeId, Progress>();
  /** Candidate and pre-candidate: votes received this round. */
  votes = new Map<NodeId, boolean>();
  electionElapsedTicks = 0;
  heartbeatElapsedTicks = 0;
  randomizedElectionTimeoutTicks = 0;
  leadTransferee: NodeId = NONE;
  readonly readOnly = new ReadOnly();
  /** ReadIndex calls that arrived before this leader committed an entry of its own term. */
  pendingReadContexts: string[] = [];
  incomingSnapshot: IncomingSnapshot | undefined = undefined;
  private messages: Message[] = [];
  private readStates: ReadState[] = [];
  /** Accepted ReadIndex contexts given up on a role or term change, for the next Ready. */
  private droppedReads: string[] = [];
  /**
   * Leader: the newest read context not yet sent to the followers. It goes out when the next Ready
   * is taken, on each follower's last AppendEntries of that Ready if there is one, else on a
   * heartbeat: reads that arrive with writes cost no extra round of messages.
   */
  private readToConfirm: string | undefined;
  private readonly rejected = new Map<string, number>();
  /** The reason the message being stepped was rejected by a handler, if it was. */
  private stepRejection: string | undefined;
  private previousHardState: HardState;
  private previousSoftState: SoftState;
  private outstandingReady: Ready | undefined = undefined;
  private readonly messageLimits: MessageLimits;
  private readonly unsafeVoteTwice: boolean;
  private readonly unsafeCommitPriorTerm: boolean;
  /** The commit-prior-term bug's read rule: the last index this leader had when it took office. */
  private electionLastIndex = 0;

  constructor(raftOptions: RaftOptions) {
    this.options = resolveOptions(raftOptions);
    this.id = this.options.id;
    this.messageLimits = {
      entriesMax: Math.floor(this.options.messageBytesMax / ENTRY_OVERHEAD_BYTES) + 1,
      entryBytesMax: this.options.entryBytesMax,
      // A correct leader sends at most messageBytesMax of entries, or one entry larger than that.
      entriesBytesMax: this.options.messageBytesMax + this.options.entryBytesMax + ENTRY_OVERHEAD_BYTES,
    };
    this.unsafeVoteTwice = this.options.unsafeBugs.includes('vote-twice');
    this.unsafeCommitPriorTerm = this.options.unsafeBugs.includes('commit-prior-term');
    this.log = new RaftLog(this.options.storage);
    const { hardState, configuration } = this.options.storage.initialState();
    this.configuration = { voters: [...configuration.voters] };
    if (hardState.commit > 0) {
      assert(
        hardState.commit >= this.log.committed && hardState.commit <= this.log.lastIndex(),
        () => `stored commit ${hardState.commit} outside [${this.log.committed}, ${this.log.lastIndex()}]`,
      );
      this.log.committed = hardState.commit;
    }
    if (this.options.appliedIndex !== undefined) {
      assert(
        this.options.appliedIndex <= this.log.committed,
        () => `appliedIndex ${this.options.appliedIndex} is past commit ${this.log.committed}`,
      );
      this.log.applied = Math.max(this.log.applied, this.options.appliedIndex);
    }
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.previousHardState = { ...hardState };
    this.becomeFollower(this.term, NONE);
    this.previousSoftState = { leader: this.leader, role: this.role };
  }

  // ---- inputs -------------------------------------------------------------------------------

  /** Advances logical time by one tick: election timeouts, heartbeats, CheckQuorum. */
  tick(): void {
    if (this.role === 'leader') tickLeader(this);
    else this.tickElection();
  }

  /**
   * Handles one message from a peer. Malformed or impossible input is rejected and counted; the
   * returned reason says why (undefined when accepted).
   */
  step(input: unknown): string | undefined {
    const reason = validateMessage(input, this.id, this.messageLimits) ?? this.checkSender(input as Message);
    if (reason !== undefined) {
      this.reject(reason);
      return reason;
    }
    this.stepRejection = undefined;
    this.stepMessage(input as Message);
    return this.stepRejection;
  }

  /** Appends a command if this node leads. The caller waits for `index` to be applied with `term`. */
  propose(command: Uint8Array | string): ProposeResult {
    return this.proposeBatch([command])[0];
  }

  /**
   * Appends several commands at once (consecutive indices) and replicates them together: one
   * AppendEntries per follower carries the whole batch. Each command gets its own result.
   */
  proposeBatch(commands: readonly (Uint8Array | string)[]): ProposeResult[] {
    const results: ProposeResult[] = [];
    const accepted: Uint8Array[] = [];
    const uncommitted = this.log.lastIndex() - this.log.committed;
    for (const command of commands) {
      const data = typeof command === 'string' ? encoder.encode(command) : command;
      let refusal: Extract<ProposeResult, { ok: false }>['reason'] | undefined;
      if (data.length === 0)
        refusal = 'empty'; // empty data marks the no-op
      else if (this.role !== 'leader') refusal = 'not-leader';
      else if (this.leadTransferee !== NONE) refusal = 'transferring';
      else if (data.length > this.options.entryBytesMax) refusal = 'too-large';
      else if (uncommitted + accepted.length >= this.options.uncommittedEntriesMax) refusal = 'too-many-uncommitted';
      if (refusal !== undefined) {
        results.push({ ok: false, reason: refusal });
        continue;
      }
      results.push({ ok: true, index: this.log.lastIndex() + 1 + accepted.length, term: this.term });
      accepted.push(data);
    }
    if (accepted.length > 0) {
      this.appendEntries(accepted);
      broadcastAppend(this);
    }
    return results;
  }

  /**
   * Starts a linearizable read (ReadIndex, Raft thesis §6.4): once a quorum confirms this node
   * still leads, a ReadState {index, context} comes out in a Ready; serve the read when applied >=
   * index. If leadership (or the term) changes first, the context comes out in Ready.droppedReads
   * instead, so the caller can retry elsewhere at once.
   */
  readIndex(context: string): ReadIndexResult {
    if (this.role !== 'leader') return 'not-leader';
    if (context.length === 0 || this.readOnly.has(context) || this.pendingReadContexts.includes(context)) return 'duplicate-context';
    // Dropped reads not yet handed out count too, so a Ready never carries more than the bound.
    const held = this.readOnly.size + this.pendingReadContexts.length + this.droppedReads.length;
    if (held >= this.options.pendingReadsMax) return 'too-many-reads';
    if (!this.mayServeReads()) {
      // Our commit index may lag the previous leader's until our no-op commits (thesis §6.4 step 1).
      this.pendingReadContexts.push(context);
      return 'accepted';
    }
    this.startRead(context);
    return 'accepted';
  }

  /** Moves leadership to `to` (thesis §3.10): catch it up, then tell it to campaign at once. */
  transferLeader(to: NodeId): TransferResult {
    if (this.role !== 'leader') return 'not-leader';
    if (to === this.id) return 'already-leader';
    const progress = this.progress.get(to);
    if (progress === undefined) return 'unknown-node';
    if (this.leadTransferee === to) return 'in-progress';
    this.leadTransferee = to;
    // The transfer must finish within one election timeout or it is abandoned (tickLeader).
    this.electionElapsedTicks = 0;
    if (progress.match === this.log.lastIndex()) sendTimeoutNow(this, to);
    else maybeSendAppend(this, to, true);
    return 'started';
  }

  // ---- outputs ------------------------------------------------------------------------------

  hasReady(): boolean {
    if (this.outstandingReady !== undefined) return false;
    const soft = this.softState();
    return (
      soft.leader !== this.previousSoftState.leader ||
      soft.role !== this.previousSoftState.role ||
      !sameHardState(this.hardState(), this.previousHardState) ||
      this.log.unstable.entries.length > 0 ||
      this.log.unstable.snapshot !== undefined ||
      this.messages.length > 0 ||
      this.readToConfirm !== undefined ||
      this.readStates.length > 0 ||
      this.droppedReads.length > 0 ||
      this.log.hasNextCommittedEntries()
    );
  }

  /** Takes the next batch of work; call advance(ready) when it is done, before the next ready(). */
  ready(): Ready {
    assert(this.outstandingReady === undefined, 'ready() called again before advance()');
    this.sendReadToConfirm();
    const soft = this.softState();
    const hard = this.hardState();
    const ready: Ready = {
      entries: this.log.unstableEntries(),
      committedEntries: this.log.nextCommittedEntries(this.options.committedEntriesBytesMax),
      messages: this.messages,
      readStates: this.readStates,
      droppedReads: this.droppedReads,
    };
    if (soft.leader !== this.previousSoftState.leader || soft.role !== this.previousSoftState.role) ready.softState = soft;
    if (!sameHardState(hard, this.previousHardState)) ready.hardState = hard;
    if (this.log.unstable.snapshot !== undefined) ready.snapshot = this.log.unstable.snapshot;
    this.messages = [];
    this.readStates = [];
    this.droppedReads = [];
    this.outstandingReady = ready;
    return ready;
  }

  /** The driver finished `ready`: its entries and snapshot are durable and its entries applied. */
  advance(ready: Ready): void {
    assert(this.outstandingReady === ready, 'advance() called with a Ready that is not the outstanding one');
    this.outstandingReady = undefined;
    if (ready.softState) this.previousSoftState = ready.softState;
    if (ready.hardState) this.previousHardState = ready.hardState;
    if (ready.entries.length > 0) {
      const last = ready.entries[ready.entries.length - 1];
      this.log.unstable.stableTo(last.index, last.term);
      // Our own copy is durable now: count it (see appendEntries).
      if (this.role === 'leader' && last.term === this.term) {
        this.progress.get(this.id)?.maybeUpdate(last.index);
        this.maybeCommit();
      }
    }
    if (ready.snapshot) {
      this.log.unstable.stableSnapshotTo(ready.snapshot.metadata.index);
      if (ready.snapshot.metadata.index > this.log.applied) this.log.applied = ready.snapshot.metadata.index;
    }
    if (ready.committedEntries.length > 0) {
      this.log.appliedTo(ready.committedEntries[ready.committedEntries.length - 1].index);
    }
  }

  status(): RaftStatus {
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.leader,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      lastTerm: this.log.lastTerm(),
      rejectedMessages: Object.fromEntries(this.rejected),
    };
  }

  // ---- internals shared with the role handlers ----------------------------------------------

  send(message: Message): void {
    this.messages.push(message);
  }

  /** Counts a rejected message; step() returns the reason (a handler may reject after validation). */
  reject(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
    this.stepRejection = reason;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { leader: this.leader, role: this.role };
  }

  isVoter(id: NodeId): boolean {
    return this.configuration.voters.includes(id);
  }

  private checkSender(m: Message): string | undefined {
    return this.isVoter(m.from) ? undefined : 'unknown-sender';
  }

  private stepMessage(m: Message): void {
    if (m.term > this.term) {
      if (m.type === 'RequestVote' || m.type === 'PreVote') {
        const force = m.type === 'RequestVote' && m.transfer;
        const inLease = this.options.checkQuorum && this.leader !== NONE && this.electionElapsedTicks < this.options.electionTimeoutTicks;
        // Leader stickiness: we heard from a live leader recently, so this candidate is disruptive.
        if (!force && inLease) return;
      }
      if (m.type === 'PreVote' || (m.type === 'PreVoteResponse' && m.granted)) {
        // A pre-vote never changes terms: a granted answer carries the term that was asked about.
      } else if (m.type === 'AppendEntries' || m.type === 'Heartbeat' || m.type === 'InstallSnapshot') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.options.checkQuorum || this.options.preVote) && (m.type === 'AppendEntries' || m.type === 'Heartbeat')) {
        // A deposed leader cut off from us: our higher term in a reply makes it step down, which
        // it would otherwise never learn (with PreVote nobody sends it a higher-term vote request).
        this.send({
          type: 'AppendEntriesResponse',
          from: this.id,
          to: m.from,
          term: this.term,
          success: false,
          matchIndex: 0,
          rejectedIndex: 0,
          hintIndex: 0,
          hintTerm: 0,
        });
      } else if (m.type === 'PreVote') {
        this.send({ type: 'PreVoteResponse', from: this.id, to: m.from, term: this.term, granted: false });
      }
      return;
    }
    if (m.type === 'RequestVote' || m.type === 'PreVote') {
      this.handleVoteRequest(m);
      return;
    }
    if (this.role === 'leader') stepLeader(this, m);
    else if (this.role === 'follower') stepFollower(this, m);
    else stepCandidate(this, m);
  }

  private handleVoteRequest(m: Extract<Message, { type: 'RequestVote' | 'PreVote' }>): void {
    // The vote-twice bug forgets that a vote was already cast in this term.
    const voteFree = this.vote === NONE || this.unsafeVoteTwice;
    const canVote = this.vote === m.from || (voteFree && this.leader === NONE) || (m.type === 'PreVote' && m.term > this.term);
    const responseType = m.type === 'RequestVote' ? 'RequestVoteResponse' : 'PreVoteResponse';
    if (canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
      this.send({ type: responseType, from: this.id, to: m.from, term: m.term, granted: true });
      if (m.type === 'RequestVote') {
        this.electionElapsedTicks = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: responseType, from: this.id, to: m.from, term: this.term, granted: false });
    }
  }

  private tickElection(): void {
    this.electionElapsedTicks++;
    if (this.isVoter(this.id) && this.electionElapsedTicks >= this.randomizedElectionTimeoutTicks) {
      this.electionElapsedTicks = 0;
      this.campaignOrPoll(false);
    }
  }

  /** Starts a pre-vote (or, for a leader transfer or without PreVote, a real election). */
  campaignOrPoll(transfer: boolean): void {
    if (this.role === 'leader' || !this.isVoter(this.id)) return;
    if (this.options.preVote && !transfer) this.campaign('pre-election', false);
    else this.campaign('election', transfer);
  }

  campaign(kind: 'pre-election' | 'election', transfer: boolean): void {
    if (kind === 'pre-election') this.becomePreCandidate();
    else this.becomeCandidate();
    const voteTerm = kind === 'pre-election' ? this.term + 1 : this.term;
    if (this.poll(this.id, true) === 'won') {
      // A single voter wins at once.
      if (kind === 'pre-election') this.campaign('election', transfer);
      else this.becomeLeader();
      return;
    }
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const id of this.configuration.voters) {
      if (id === this.id) continue;
      if (kind === 'pre-election') this.send({ type: 'PreVote', from: this.id, to: id, term: voteTerm, lastLogIndex, lastLogTerm });
      else this.send({ type: 'RequestVote', from: this.id, to: id, term: voteTerm, lastLogIndex, lastLogTerm, transfer });
    }
  }

  poll(from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    return voteResult(this.configuration.voters, this.votes);
  }

  private reset(term: number): void {
    if (term !== this.term) {
      assert(term > this.term, () => `term going back from ${this.term} to ${term}`);
      this.term = term;
      this.vote = NONE;
    }
    this.leader = NONE;
    this.electionElapsedTicks = 0;
    this.heartbeatElapsedTicks = 0;
    const timeout = this.options.electionTimeoutTicks;
    this.randomizedElectionTimeoutTicks = timeout + this.options.random.nextInt(0, timeout);
    this.leadTransferee = NONE;
    this.votes.clear();
    this.progress.clear();
    // Reads waiting for this leader's confirmation can no longer be confirmed: say so.
    this.droppedReads.push(...this.pendingReadContexts, ...this.readOnly.contexts());
    this.readOnly.reset();
    this.pendingReadContexts = [];
    this.readToConfirm = undefined;
  }

  becomeFollower(term: number, leader: NodeId): void {
    this.reset(term);
    this.leader = leader;
    this.role = 'follower';
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    // Neither term nor vote changes: a pre-vote must leave no trace if it fails.
    this.votes.clear();
    this.leader = NONE;
    this.role = 'pre-candidate';
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  becomeLeader(): void {
    assert(this.role === 'candidate', () => `only a candidate becomes leader, not a ${this.role}`);
    this.reset(this.term);
    this.leader = this.id;
    this.role = 'leader';
    const lastIndex = this.log.lastIndex();
    for (const id of this.configuration.voters) {
      const progress = new Progress(lastIndex + 1, this.options.inflightMessagesMax);
      if (id === this.id) {
        progress.match = lastIndex;
        progress.becomeReplicate();
        progress.recentActive = true;
      }
      this.progress.set(id, progress);
    }
    this.electionLastIndex = lastIndex;
    // The no-op lets this leader commit (and so learn the commit index of) earlier terms' entries.
    // The commit-prior-term bug leaves it out: earlier terms' entries then commit by counting alone.
    if (!this.unsafeCommitPriorTerm) this.appendEntries([new Uint8Array(0)]);
    else this.maybeCommit(); // a single voter holds a majority of its own log
  }

  /**
   * Leader: appends entries of its term. Returns the last index. Its own copy counts towards a
   * majority only once it is durable (in advance()), so a driver may send AppendEntries while it
   * is still writing them (Raft thesis §10.2.1) without an entry committing on a copy a crash loses.
   */
  appendEntries(datas: Uint8Array[]): number {
    const first = this.log.lastIndex() + 1;
    const entries: Entry[] = datas.map((data, i) => ({ term: this.term, index: first + i, data }));
    return this.log.append(entries);
  }

  /** Leader: advances the commit index to what a majority holds, if of this term (Figure 8). */
  maybeCommit(): boolean {
    const index = committedIndex(this.configuration.voters, (id) => this.progress.get(id)?.match ?? 0);
    // The commit-prior-term bug takes any entry a majority holds, whatever its term.
    const term = this.unsafeCommitPriorTerm ? this.log.termOrZero(index) : this.term;
    if (!this.log.maybeCommit(index, term)) return false;
    if (this.pendingReadContexts.length > 0 && this.mayServeReads()) {
      const contexts = this.pendingReadContexts;
      this.pendingReadContexts = [];
      for (const context of contexts) this.startRead(context);
    }
    return true;
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.termOrZero(this.log.committed) === this.term;
  }

  /**
   * Leader: whether the commit index is known to cover every committed entry, so ReadIndex may use
   * it. The correct rule waits for an entry of this term (the no-op) to commit. The commit-prior-term
   * bug, having no no-op, trusts its commit index once it covers the log it had on taking office
   * (sound if commits were sound; with commits by counting it is not).
   */
  private mayServeReads(): boolean {
    if (this.unsafeCommitPriorTerm) return this.log.committed >= this.electionLastIndex;
    return this.committedEntryInCurrentTerm();
  }

  private startRead(context: string): void {
    if (this.configuration.voters.length === 1) {
      this.readStates.push({ index: this.log.committed, context });
      return;
    }
    this.readOnly.add(this.log.committed, context);
    this.readOnly.recordAck(this.id, context);
    // Confirming the newest read confirms every one before it (ReadOnly.release).
    this.readToConfirm = context;
  }

  /**
   * Sends the read context waiting for confirmation: on the last AppendEntries of this batch to each
   * follower (not sent yet, so it leaves after the read's index was recorded, as a heartbeat would),
   * or on a heartbeat to a follower that gets none.
   */
  private sendReadToConfirm(): void {
    const context = this.readToConfirm;
    if (context === undefined) return;
    this.readToConfirm = undefined;
    if (this.role !== 'leader') return;
    const carried = new Set<NodeId>();
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i];
      if (m.type !== 'AppendEntries' || m.term !== this.term || carried.has(m.to)) continue;
      m.context = context;
      carried.add(m.to);
    }
    for (const id of this.configuration.voters) if (id !== this.id && !carried.has(id)) sendHeartbeat(this, id, context);
  }

  /** Leader: a heartbeat answer carrying `context` from `from`; releases confirmed reads. */
  acknowledgeRead(from: NodeId, context: string): void {
    const acks = this.readOnly.recordAck(from, context);
    if (acks === undefined || voteResult(this.configuration.voters, acks) !== 'won') return;
    this.readStates.push(...this.readOnly.release(context));
  }

  /** Follower: installs a complete snapshot from the leader. Returns false when it adds nothing. */
  restore(snapshot: Snapshot): boolean {
    const { index, term } = snapshot.metadata;
    if (index <= this.log.committed) return false;
    assert(this.role === 'follower', () => `restoring a snapshot as ${this.role}`);
    if (this.log.matchTerm(index, term)) {
      // Our log already holds the snapshot's last entry: just commit up to it, keep the tail.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    this.configuration = { voters: [...snapshot.metadata.configuration.voters] };
    return true;
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
