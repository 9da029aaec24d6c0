// The deterministic simulator: N KV services (src/node/kv-service.ts, each on its Raft core) on a
// virtual clock, a faulty simulated network, crash and restart from what was made durable (also in
// the middle of handling a Ready), and safety invariants checked after every event. One seed fixes
// the whole run. It drives the same service and core the real node drives; it never sleeps.

import { describeCommand, encodeCommand, type KvCommand, type KvResult } from '../kv/index.js';
import { coreBugs, KvService, type ServiceTimers, type UnsafeBug } from '../node/kv-service.js';
import { describeMessage } from '../raft/describe.js';
import { MemoryStorage } from '../raft/memory-storage.js';
import type { Message } from '../raft/message.js';
import type { RaftOptions } from '../raft/options.js';
import { Raft, type ProposeResult, type ReadIndexResult } from '../raft/raft.js';
import { Random } from '../raft/random.js';
import type { Ready } from '../raft/ready.js';
import type { NodeId, ReadState } from '../raft/types.js';
import { EventQueue } from './event-queue.js';
import { InvariantChecker, InvariantViolation } from './invariants.js';
import { Network, RELIABLE, type LinkOptions } from './network.js';

export interface SimulatorOptions {
  seed: number;
  /** Nodes are named n1..nN. Default 3. */
  nodeCount?: number;
  /** Virtual ms per core tick. Default 100 (so heartbeats at 10/s, elections after 1-2 s). */
  tickMs?: number;
  /** Core options shared by every node (id, storage and random are set by the simulator). */
  raft?: Partial<Omit<RaftOptions, 'id' | 'storage' | 'random'>>;
  /** Each node snapshots its state machine every this many applied entries; 0 never. Default 0. */
  snapshotEveryEntries?: number;
  /**
   * Deliberate bugs in every node, as `skepsis node --unsafe-bug`: the service's (stale-read,
   * no-dedup) and the core's (also accepted in `raft.unsafeBugs`). lying-fsync needs a disk that
   * lies and is refused: the simulated disk has no fsync. Default none.
   */
  unsafeBugs?: readonly UnsafeBug[];
  /** A client request with no outcome after this much virtual time is answered `timeout`. Default 3000. */
  requestTimeoutMs?: number;
  network?: Partial<LinkOptions>;
  /** How to replay this run, printed with any failure. */
  replayCommand?: string;
  /** Keep this many trace lines for failure reports. Default 40. */
  traceLinesMax?: number;
  /**
   * Chance that a node crashes in the middle of handling a Ready: after persisting it but before
   * sending its messages, or after sending but before applying (non-atomic Ready processing).
   * A crashed node stays down until restart(). Default 0.
   */
  midReadyCrashProbability?: number;
}

/** A failed run: the message names the seed and the command that replays it. */
export class SimulationFailure extends Error {
  override readonly name = 'SimulationFailure';
  constructor(
    readonly seed: number,
    readonly detail: string,
    replayCommand: string,
    trace: string[],
  ) {
    super(`${detail}\n  seed: ${seed}\n  replay: ${replayCommand}\n  last events:\n    ${trace.join('\n    ')}`);
  }
}

export interface SimNode {
  id: NodeId;
  /** Survives crashes: exactly what was persisted through Ready. */
  storage: MemoryStorage;
  /** Undefined while crashed. */
  raft: Raft | undefined;
  /** The KV service of the current (or, while crashed, the last) incarnation. */
  service: KvService;
  /** Bumped on every restart; ticks of an older incarnation are ignored. */
  incarnation: number;
}

/** `command` is the text a lab proposal carried (Simulator.propose), else the command's text form. */
export type ApplyListener = (id: NodeId, index: number, term: number, command: string, result: KvResult) => void;
export type ReadListener = (id: NodeId, read: ReadState) => void;
/** After a node handled a whole Ready (persisted, sent, applied, advanced). */
export type ReadyListener = (id: NodeId, ready: Ready) => void;
export type CrashListener = (id: NodeId) => void;

/** The key that lab proposals (Simulator.propose with a text command) write to; clients never use it. */
export const LAB_KEY = '_lab';

function commandText(command: KvCommand): string {
  return command.op === 'put' && command.key === LAB_KEY ? command.value : describeCommand(command);
}

export class Simulator {
  readonly seed: number;
  readonly random: Random;
  readonly queue = new EventQueue();
  readonly network: Network;
  readonly invariants = new InvariantChecker();
  readonly nodes = new Map<NodeId, SimNode>();
  readonly ids: NodeId[];
  readonly tickMs: number;
  private readonly options: SimulatorOptions;
  private readonly trace: string[] = [];
  /** FNV-1a over every trace line: two runs with the same seed must end with the same hash. */
  traceHash = 0x811c9dc5;
  eventsProcessed = 0;
  /** Extra checks, run after every event; they throw to fail the run. */
  readonly applyListeners: ApplyListener[] = [];
  readonly readListeners: ReadListener[] = [];
  readonly readyListeners: ReadyListener[] = [];
  readonly crashListeners: CrashListener[] = [];
  /** Crashes in the middle of a Ready so far (midReadyCrashProbability). */
  midReadyCrashes = 0;
  /** May be lowered during a run (e.g. to 0 once faults are healed); see SimulatorOptions. */
  midReadyCrashProbability: number;
  /** Its own stream, drawn from only when mid-Ready crashes are on, so other runs keep their traces. */
  private readonly crashRandom: Random | undefined;
  /** The text form of the command first applied at each index (lab tests compare it). */
  private readonly appliedText = new Map<number, string>();

  constructor(options: SimulatorOptions) {
    this.options = options;
    this.seed = options.seed;
    this.random = new Random(options.seed);
    this.tickMs = options.tickMs ?? 100;
    this.network = new Network(this.random.fork(), { ...RELIABLE, ...options.network });
    const crashProbability = options.midReadyCrashProbability ?? 0;
    if (!(crashProbability >= 0 && crashProbability <= 1)) {
      throw new RangeError(`midReadyCrashProbability must be in [0, 1], got ${JSON.stringify(options.midReadyCrashProbability)}`);
    }
    this.midReadyCrashProbability = crashProbability;
    if (options.unsafeBugs?.includes('lying-fsync')) {
      throw new RangeError(
        'unsafeBugs: lying-fsync needs a disk that lies about fsync; the simulated disk has no fsync (use skepsis test)',
      );
    }
    this.crashRandom = crashProbability > 0 ? this.random.fork() : undefined;
    const count = options.nodeCount ?? 3;
    this.ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
    for (const id of this.ids) {
      // start() gives it its service.
      const node = { id, storage: new MemoryStorage({ voters: this.ids }), raft: undefined, incarnation: 0 } as unknown as SimNode;
      this.nodes.set(id, node);
      this.start(node);
    }
  }

  get nowMs(): number {
    return this.queue.nowMs;
  }

  // ---- running --------------------------------------------------------------------------------

  /** Runs every event up to `nowMs + durationMs`. */
  runFor(durationMs: number): void {
    const end = this.queue.nowMs + durationMs;
    for (;;) {
      const next = this.queue.peekTimeMs();
      if (next === undefined || next > end) break;
      this.runEvent(this.queue.pop()!.run);
    }
    this.queue.nowMs = end;
  }

  /** Runs until `done()` holds (checked every `pollMs`), or `timeoutMs` passes. Returns whether done. */
  runUntil(done: () => boolean, timeoutMs: number, pollMs = 10): boolean {
    const end = this.queue.nowMs + timeoutMs;
    while (this.queue.nowMs < end) {
      if (done()) return true;
      this.runFor(Math.min(pollMs, end - this.queue.nowMs));
    }
    return done();
  }

  /** Schedules `action` after `delayMs` of virtual time; it runs like any event (invariants after). */
  at(delayMs: number, action: () => void): void {
    this.queue.schedule(delayMs, action);
  }

  private runEvent(run: () => void): void {
    this.eventsProcessed++;
    try {
      run();
      this.invariants.onEvent(this.liveRafts());
    } catch (error) {
      throw this.wrap(error);
    }
  }

  private wrap(error: unknown): Error {
    if (error instanceof SimulationFailure) return error;
    const detail =
      error instanceof InvariantViolation ? `invariant violated: ${error.message}` : `error: ${(error as Error).stack ?? String(error)}`;
    return this.failure(detail);
  }

  /** A failure carrying the seed, the replay command and the recent trace. */
  failure(detail: string): SimulationFailure {
    const replay = this.options.replayCommand ?? `npm run sim -- --seeds 1 --seed-start ${this.seed}`;
    return new SimulationFailure(this.seed, `t=${this.nowMs}ms ${detail}`, replay, this.trace);
  }

  record(line: string): void {
    const text = `${this.nowMs} ${line}`;
    for (let i = 0; i < text.length; i++) {
      this.traceHash ^= text.charCodeAt(i);
      this.traceHash = Math.imul(this.traceHash, 0x01000193) >>> 0;
    }
    this.trace.push(text);
    if (this.trace.length > (this.options.traceLinesMax ?? 40)) this.trace.shift();
  }

  liveRafts(): Raft[] {
    const rafts: Raft[] = [];
    for (const node of this.nodes.values()) if (node.raft) rafts.push(node.raft);
    return rafts;
  }

  // ---- nodes ----------------------------------------------------------------------------------

  node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${JSON.stringify(id)}; nodes are ${this.ids.join(', ')}`);
    return node;
  }

  raft(id: NodeId): Raft | undefined {
    return this.node(id).raft;
  }

  private start(node: SimNode): void {
    const snapshot = node.storage.snapshot();
    node.incarnation++;
    const incarnation = node.incarnation;
    const bugs = this.options.unsafeBugs ?? [];
    const raft = new Raft({
      ...this.options.raft,
      unsafeBugs: [...(this.options.raft?.unsafeBugs ?? []), ...coreBugs(bugs)],
      // As in the node: the stale-read bug is a leader that goes on believing it leads.
      ...(bugs.includes('stale-read') ? { checkQuorum: false } : {}),
      id: node.id,
      storage: node.storage,
      random: this.random.fork(),
      appliedIndex: snapshot.metadata.index,
    });
    node.raft = raft;
    let flushScheduled = false;
    node.service = new KvService({
      id: node.id,
      raft,
      storage: node.storage,
      timers: this.timersOf(node, incarnation),
      // Requests that arrive at one virtual instant are proposed together, as the node does on setImmediate.
      requestFlush: () => {
        if (flushScheduled) return;
        flushScheduled = true;
        this.queue.schedule(0, () => {
          flushScheduled = false;
          if (node.incarnation !== incarnation) return;
          node.service.flush();
          this.processReady(node);
        });
      },
      requestTimeoutMs: this.options.requestTimeoutMs,
      snapshotEntries: this.options.snapshotEveryEntries ?? 0,
      unsafeBugs: bugs,
      onApplied: (entry, command, result) => {
        this.invariants.onApply(node.id, raft.term, entry);
        if (command === undefined || result === undefined) return;
        const text = commandText(command);
        if (!this.appliedText.has(entry.index)) this.appliedText.set(entry.index, text);
        for (const listener of this.applyListeners) listener(node.id, entry.index, entry.term, text, result);
      },
      onSnapshotInstalled: (installed) => this.invariants.onInstallSnapshot(node.id, installed.metadata.index),
    });
    this.invariants.onRestart(node.id, snapshot.metadata.index);
    // Each node ticks on its own phase so that timers do not line up across nodes.
    const tick = (): void => {
      if (node.incarnation !== incarnation || node.raft === undefined) return;
      node.raft.tick();
      this.processReady(node);
      this.queue.schedule(this.tickMs, tick);
    };
    this.queue.schedule(this.random.nextInt(1, this.tickMs + 1), tick);
  }

  /** Kills a node: everything not persisted through Ready is lost. */
  crash(id: NodeId): void {
    const node = this.node(id);
    if (node.raft === undefined) return;
    node.raft = undefined;
    node.incarnation++;
    this.record(`crash ${id}`);
    for (const listener of this.crashListeners) listener(id);
  }

  /** Starts a crashed node again from its storage (snapshot + log + hard state). */
  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.raft !== undefined) this.crash(id);
    this.start(node);
    this.record(`restart ${id}`);
  }

  isUp(id: NodeId): boolean {
    return this.node(id).raft !== undefined;
  }

  /** Whether to crash `node` now, at a point inside its Ready handling. */
  private crashMidReady(node: SimNode, point: string): boolean {
    if (this.crashRandom === undefined || !this.crashRandom.chance(this.midReadyCrashProbability)) return false;
    this.midReadyCrashes++;
    this.record(`crash ${node.id} ${point}`);
    this.crash(node.id);
    return true;
  }

  /** The service's timers on the virtual clock; a crash silences those of older incarnations. */
  private timersOf(node: SimNode, incarnation: number): ServiceTimers {
    return {
      after: (delayMs, action) => {
        let cancelled = false;
        this.queue.schedule(delayMs, () => {
          if (!cancelled && node.incarnation === incarnation) action();
        });
        return () => {
          cancelled = true;
        };
      },
    };
  }

  /** The node loop: persist, send, apply, advance (house-style order), as KvNode drives the service. */
  processReady(node: SimNode): void {
    const raft = node.raft;
    if (raft === undefined) return;
    const service = node.service;
    for (let rounds = 0; node.raft === raft && raft.hasReady(); rounds++) {
      if (rounds > 1000) throw new Error(`${node.id} produced Ready batches forever`);
      const ready = raft.ready();
      const plan = service.planReady(ready, node.storage);
      // Like the real node: a leader whose term and vote are unchanged sends its AppendEntries and
      // heartbeats before its write is durable (thesis §10.2.1), so a crash can land between the two.
      if (plan.early.length > 0) {
        for (const message of plan.early) this.send(message);
        if (this.crashMidReady(node, 'after sending appends, before persisting')) return;
      }
      if (ready.snapshot) node.storage.applySnapshot(ready.snapshot);
      node.storage.append(ready.entries);
      if (ready.hardState) node.storage.setHardState(ready.hardState);
      // Checked once durable: a crash before this point loses the Ready, which is allowed.
      this.invariants.onReady(node.id, raft, ready);
      if (this.crashMidReady(node, 'after persisting, before sending')) return;
      for (const message of plan.later) this.send(message);
      if (ready.committedEntries.length > 0 && this.crashMidReady(node, 'after sending, before applying')) return;
      for (const read of ready.readStates) for (const listener of this.readListeners) listener(node.id, read);
      service.finishReady(ready);
      const due = service.compactionDue();
      if (due !== undefined && node.storage.compact(due.index, due.data) === 'compacted') service.compacted(due.index);
      for (const listener of this.readyListeners) listener(node.id, ready);
    }
  }

  private send(message: Message): void {
    for (const delayMs of this.network.route(message)) {
      this.queue.schedule(delayMs, () => this.deliver(message));
    }
  }

  private deliver(message: Message): void {
    const node = this.nodes.get(message.to);
    // A cut link also loses what was in flight on it.
    if (node?.raft === undefined || !this.network.canTalk(message.from, message.to)) {
      this.network.counters.dropped++;
      return;
    }
    this.network.counters.delivered++;
    this.record(describeMessage(message));
    const reason = node.raft.step(message);
    if (reason !== undefined) throw new Error(`${node.id} rejected a message from a correct peer (${reason}): ${describeMessage(message)}`);
    this.processReady(node);
  }

  // ---- operations used by tests and workloads -------------------------------------------------

  /**
   * Proposes a lab command straight to one node's core (no client, no answer): a put of `command`
   * to LAB_KEY, whose text committedCount and the apply listeners give back. Processes the node's
   * Ready at once.
   */
  propose(id: NodeId, command: string): ProposeResult {
    const node = this.node(id);
    if (node.raft === undefined) return { ok: false, reason: 'not-leader' };
    const result = node.raft.propose(encodeCommand({ op: 'put', key: LAB_KEY, value: command }));
    this.processReady(node);
    this.record(`propose ${id} ${command} -> ${result.ok ? `${result.term}/${result.index}` : result.reason}`);
    return result;
  }

  /** Starts a ReadIndex on one node, as a client would; processes the node's Ready at once. */
  readIndex(id: NodeId, context: string): ReadIndexResult {
    const node = this.node(id);
    if (node.raft === undefined) return 'not-leader';
    const result = node.raft.readIndex(context);
    this.processReady(node);
    this.record(`readIndex ${id} ${context} -> ${result}`);
    return result;
  }

  /** Live, connected nodes that believe they lead, by term. */
  leaders(): Raft[] {
    return this.liveRafts().filter((r) => r.role === 'leader' && this.network.isConnected(r.id));
  }

  /** How many nodes applied `index` (state machines past it), and the command applied there. */
  committedCount(index: number): { count: number; command: string | undefined } {
    let count = 0;
    for (const node of this.nodes.values()) if (node.service.appliedIndex >= index) count++;
    return { count, command: this.appliedText.get(index) };
  }
}
