// Simulated Jepsen-style clients: each logical client invokes get/put/cas/delete on a few keys and
// talks to a node's KV service as a real client talks to the node: a request with its client id and
// sequence number, an answer after apply (reads through ReadIndex, or through the log), not-leader
// redirects, and retries with the same id and sequence number after an indefinite answer, a
// timeout or a broken connection. It records a history in the checker's format.

import { checkHistory, validateOperations, type CheckResult } from '../../checker/check.js';
import type { HistoryEvent } from '../../checker/history.js';
import { createModel } from '../../checker/models/index.js';
import { formatResultText } from '../../checker/report.js';
import type { KvCommand, KvResult } from '../kv/index.js';
import type { Completion } from '../../workloads/types.js';
import { Recorder } from '../harness/recorder.js';
import { isNodeError, type NodeAnswer } from '../node/errors.js';
import { assert } from '../raft/assert.js';
import type { Random } from '../raft/random.js';
import { NONE, type NodeId } from '../raft/types.js';
import type { Simulator } from './simulator.js';

export interface KvClientsOptions {
  /** Logical clients running at once, each with at most one operation pending. Default 3. */
  clientCount?: number;
  /** Keys the clients touch, named k0..k(n-1). Default 3. */
  keyCount?: number;
  /** A client gives up on an operation after this much virtual time. Default 3000. */
  operationTimeoutMs?: number;
  /** Pause between a client's operations, uniform in [0, thinkTimeMaxMs]. Default 150. */
  thinkTimeMaxMs?: number;
  /** One-way client<->node latency, uniform in [1, requestDelayMaxMs]. Default 5. */
  requestDelayMaxMs?: number;
  /**
   * Pause before another attempt: uniform in [d, 2d], where d starts at retryDelayMs and doubles
   * with each failed attempt of the operation, up to retryDelayMaxMs. Defaults 20 and 320.
   */
  retryDelayMs?: number;
  retryDelayMaxMs?: number;
  /** Share of gets served through ReadIndex (the service's read); the rest go through the log. Default 0.5. */
  readIndexProbability?: number;
  /** Operations invoked in one run, all clients together. Default 10 000. */
  operationsMax?: number;
  /**
   * Test-only bug: gets are answered at once from the local state machine of a random node,
   * without the log or ReadIndex, so they can be stale. The checker must catch it. Default false.
   * (The service's own stale-read bug is SimulatorOptions.unsafeBugs.)
   */
  unsafeStaleReads?: boolean;
}

/** Options that make no sense; the message quotes the bad value. */
export class KvClientsOptionsError extends Error {
  override readonly name = 'KvClientsOptionsError';
}

type ResolvedOptions = Required<KvClientsOptions>;

/** Fault annotations a run may record (besides two events per operation). */
const FAULT_RECORDS_MAX = 100_000;

function resolveOptions(options: KvClientsOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    clientCount: options.clientCount ?? 3,
    keyCount: options.keyCount ?? 3,
    operationTimeoutMs: options.operationTimeoutMs ?? 3000,
    thinkTimeMaxMs: options.thinkTimeMaxMs ?? 150,
    requestDelayMaxMs: options.requestDelayMaxMs ?? 5,
    retryDelayMs: options.retryDelayMs ?? 20,
    retryDelayMaxMs: options.retryDelayMaxMs ?? 320,
    readIndexProbability: options.readIndexProbability ?? 0.5,
    operationsMax: options.operationsMax ?? 10_000,
    unsafeStaleReads: options.unsafeStaleReads ?? false,
  };
  const positive = [
    'clientCount',
    'keyCount',
    'operationTimeoutMs',
    'requestDelayMaxMs',
    'retryDelayMs',
    'retryDelayMaxMs',
    'operationsMax',
  ] as const;
  for (const key of positive) {
    const value = resolved[key];
    if (!Number.isSafeInteger(value) || value < 1)
      throw new KvClientsOptionsError(`${key} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  if (!Number.isSafeInteger(resolved.thinkTimeMaxMs) || resolved.thinkTimeMaxMs < 0) {
    throw new KvClientsOptionsError(`thinkTimeMaxMs must be a non-negative integer, got ${JSON.stringify(resolved.thinkTimeMaxMs)}`);
  }
  const p = resolved.readIndexProbability;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new KvClientsOptionsError(`readIndexProbability must be in [0, 1], got ${JSON.stringify(p)}`);
  }
  return resolved;
}

type OperationName = 'get' | 'put' | 'cas' | 'delete';

interface Operation {
  f: OperationName;
  key: string;
  /** The history value of the call: the value written, [from, to] for a cas. */
  input: string | [string, string] | undefined;
  /** The command as sent, with the client's session (every attempt sends the same one). */
  command: KvCommand;
  useReadIndex: boolean;
  /** Some attempt may have reached a leader's log, so the operation may take effect even if we give up. */
  maybeApplied: boolean;
  /** Bumped on every attempt; timers and answers of older attempts see the change and do nothing. */
  attempt: number;
  /** Failed attempts so far: the retry delay doubles with each. */
  failures: number;
  /** The node (and its incarnation) holding the current attempt, until it answers. */
  at: { node: NodeId; incarnation: number } | undefined;
  /** The node answered and the answer is on its way back (a crash of the node no longer matters). */
  replying: boolean;
}

interface Client {
  /** Session id for de-duplication in the state machine; kept across processes. */
  id: string;
  /** History process; a new one after each indeterminate (`info`) operation, as in Jepsen. */
  process: number;
  sequence: number;
  operation: Operation | undefined;
  /** Where the next attempt goes: the last leader we heard of. */
  target: NodeId;
}

export interface KvClientsStats {
  invoked: number;
  ok: number;
  fail: number;
  info: number;
  /** Attempts beyond the first, all operations together. */
  retries: number;
}

/** The checker's verdict on a simulated history, with its text report. */
export interface KvCheck {
  result: CheckResult;
  /** The checker's report: verdict, and for a failing key the longest prefix and the stuck ops. */
  text: string;
}

export class KvClients {
  private readonly options: ResolvedOptions;
  private readonly clients: Client[] = [];
  /** The harness's recorder on the simulator's clock: one event constructor and one set of checks for both. */
  private readonly recorder: Recorder;
  private nextProcess = 0;
  private stopped = false;
  /** The last value written or read per key, so that a cas has a fair chance to match. */
  private readonly lastValues = new Map<string, string | null>();
  readonly stats: KvClientsStats = { invoked: 0, ok: 0, fail: 0, info: 0, retries: 0 };

  constructor(
    private readonly sim: Simulator,
    private readonly random: Random,
    options: KvClientsOptions = {},
  ) {
    this.options = resolveOptions(options);
    this.recorder = new Recorder({
      clockNs: () => Math.round(sim.nowMs * 1_000_000),
      eventsMax: 2 * this.options.operationsMax + FAULT_RECORDS_MAX,
    });
    for (let i = 0; i < this.options.clientCount; i++) {
      this.clients.push({ id: `c${i + 1}`, process: this.nextProcess++, sequence: 0, operation: undefined, target: random.pick(sim.ids) });
    }
    sim.crashListeners.push((id) => this.onCrash(id));
  }

  /** Starts every client; each invokes operations until stop(). */
  start(): void {
    for (const client of this.clients) this.sim.at(this.random.nextInt(0, this.options.thinkTimeMaxMs + 1), () => this.invokeNext(client));
  }

  /** No new operations; pending ones go on until they complete or time out. */
  stop(): void {
    this.stopped = true;
  }

  /** Ends the run: every operation still pending completes as it would on a timeout. */
  finish(): void {
    this.stopped = true;
    for (const client of this.clients) if (client.operation) this.giveUp(client, client.operation, 'run-ended');
  }

  get pendingCount(): number {
    return this.clients.filter((c) => c.operation !== undefined).length;
  }

  /** The history so far (client operations and fault annotations), in the checker's format. */
  history(): HistoryEvent[] {
    return this.recorder.events.slice();
  }

  /** A fault annotation (the nemesis process), shown in views and never checked. At most FAULT_RECORDS_MAX. */
  recordFault(f: string, value?: unknown): void {
    this.recorder.fault(f, value);
  }

  /** Judges the history with the kv-cas model. `unknown` past `timeoutMs` of wall time. */
  async check(options: { timeoutMs?: number; source?: string } = {}): Promise<KvCheck> {
    const history = this.recorder.history(options.source ?? `simulation seed ${this.sim.seed}`);
    const model = createModel('kv-cas');
    validateOperations(history, model);
    const result = await checkHistory(history.operations, { model: 'kv-cas', workers: 0, timeoutMs: options.timeoutMs ?? 10_000 });
    return { result, text: formatResultText(history, result, model) };
  }

  // ---- operations -----------------------------------------------------------------------------

  /** Records how the client's pending operation ended. */
  private record(client: Client, operation: Operation, completion: Completion): void {
    this.recorder.complete(client.process, { f: operation.f, key: operation.key, value: operation.input }, completion);
  }

  private invokeNext(client: Client): void {
    if (this.stopped || client.operation !== undefined || this.stats.invoked >= this.options.operationsMax) return;
    const operation = this.generate(client);
    client.operation = operation;
    this.stats.invoked++;
    this.recorder.invoke(client.process, { f: operation.f, key: operation.key, value: operation.input });
    this.sim.at(this.options.operationTimeoutMs, () => {
      if (client.operation === operation) this.giveUp(client, operation, 'timeout');
    });
    this.attempt(client, operation, 0);
  }

  private generate(client: Client): Operation {
    const sequence = ++client.sequence;
    const key = `k${this.random.nextInt(0, this.options.keyCount)}`;
    const fresh = `${client.id}.${sequence}`;
    const roll = this.random.nextFloat();
    const known = this.lastValues.get(key);
    const session = { clientId: client.id, seq: sequence };
    const operation = (f: OperationName, input: Operation['input'], command: KvCommand, useReadIndex: boolean): Operation => ({
      f,
      key,
      input,
      command: { ...command, ...session },
      useReadIndex,
      maybeApplied: false,
      attempt: 0,
      failures: 0,
      at: undefined,
      replying: false,
    });
    if (roll < 0.4) return operation('get', undefined, { op: 'get', key }, this.random.chance(this.options.readIndexProbability));
    if (roll < 0.6 && typeof known === 'string') return operation('cas', [known, fresh], { op: 'cas', key, from: known, to: fresh }, false);
    if (roll < 0.67) return operation('delete', undefined, { op: 'delete', key }, false);
    return operation('put', fresh, { op: 'put', key, value: fresh }, false);
  }

  /** Sends the next attempt to the client's target after `delayMs` plus the request latency. */
  private attempt(client: Client, operation: Operation, delayMs: number): void {
    if (operation.attempt > 0) this.stats.retries++;
    const attempt = ++operation.attempt;
    operation.at = undefined;
    operation.replying = false;
    const latencyMs = this.random.nextInt(1, this.options.requestDelayMaxMs + 1);
    this.sim.at(delayMs + latencyMs, () => {
      if (client.operation === operation && operation.attempt === attempt) this.send(client, operation);
    });
  }

  /** Gives up on the current node: retry on the leader it named, else on another node. */
  private retryElsewhere(client: Client, operation: Operation, hint: NodeId): void {
    const current = client.target;
    if (hint !== NONE && hint !== current) client.target = hint;
    else {
      const others = this.sim.ids.filter((id) => id !== current);
      client.target = others.length > 0 ? this.random.pick(others) : current;
    }
    this.retryLater(client, operation);
  }

  private retryLater(client: Client, operation: Operation): void {
    const { retryDelayMs, retryDelayMaxMs } = this.options;
    const delayMs = Math.min(retryDelayMs * 2 ** Math.min(operation.failures++, 20), retryDelayMaxMs);
    this.attempt(client, operation, this.random.nextInt(delayMs, 2 * delayMs + 1));
  }

  /** The request reaches the node: its service takes it, and answers now or once applied. */
  private send(client: Client, operation: Operation): void {
    if (operation.f === 'get' && this.options.unsafeStaleReads) {
      // The deliberate bug: any live node answers from what it has applied, however far behind.
      const live = this.sim.ids.filter((id) => this.sim.isUp(id));
      if (live.length === 0) this.retryLater(client, operation);
      else this.reply(client, operation, { ok: true, value: this.sim.node(this.random.pick(live)).service.localValue(operation.key) });
      return;
    }
    const node = this.sim.node(client.target);
    if (node.raft === undefined) {
      // Connection refused: nothing reached the node.
      this.retryElsewhere(client, operation, NONE);
      return;
    }
    const attempt = operation.attempt;
    operation.at = { node: node.id, incarnation: node.incarnation };
    const answer = (result: NodeAnswer): void => {
      if (client.operation === operation && operation.attempt === attempt) this.reply(client, operation, result);
    };
    if (operation.f === 'get' && operation.useReadIndex) node.service.read(operation.key, answer);
    else node.service.propose(operation.command, answer);
  }

  /** A node crashed: attempts waiting on it see a broken connection (a write may have reached its log). */
  private onCrash(id: NodeId): void {
    for (const client of this.clients) {
      const operation = client.operation;
      if (operation?.at?.node !== id) continue;
      if (operation.f !== 'get') operation.maybeApplied = true;
      this.retryElsewhere(client, operation, NONE);
    }
  }

  // ---- completions ----------------------------------------------------------------------------

  /** The node answered; the answer reaches the client after the reply latency. */
  private reply(client: Client, operation: Operation, answer: NodeAnswer): void {
    operation.at = undefined;
    operation.replying = true;
    const attempt = ++operation.attempt;
    this.sim.at(this.random.nextInt(1, this.options.requestDelayMaxMs + 1), () => {
      if (client.operation === operation && operation.attempt === attempt) this.onAnswer(client, operation, answer);
    });
  }

  /**
   * A node error says where to go next: not_leader and overwritten are definite (this attempt did
   * nothing), leadership_lost, timeout and stopping may have applied; every retry keeps the client
   * id and sequence number, so the state machine applies the write at most once.
   */
  private onAnswer(client: Client, operation: Operation, answer: NodeAnswer): void {
    operation.replying = false;
    if (!isNodeError(answer)) return this.complete(client, operation, answer);
    assert(answer.error !== 'too_large', () => `${operation.f} ${operation.key} refused as too large`);
    if (answer.indefinite && operation.f !== 'get') operation.maybeApplied = true;
    if (answer.error === 'busy') this.retryLater(client, operation);
    else this.retryElsewhere(client, operation, answer.leader ?? NONE);
  }

  private complete(client: Client, operation: Operation, result: KvResult): void {
    const { f, key, input } = operation;
    if (result.ok) {
      let value: unknown = input;
      if (f === 'get') {
        assert(result.value !== undefined, () => `get ${key} answered without a value`);
        value = result.value;
        this.lastValues.set(key, result.value);
      } else if (f === 'put') {
        this.lastValues.set(key, input as string);
      } else if (f === 'cas') {
        this.lastValues.set(key, (input as [string, string])[1]);
      } else {
        this.lastValues.set(key, null);
      }
      this.stats.ok++;
      this.record(client, operation, { type: 'ok', value });
    } else if (result.error === 'session_expired' && operation.maybeApplied) {
      // Our session is gone, so a retry cannot tell whether an earlier attempt applied.
      this.stats.info++;
      this.record(client, operation, { type: 'info', value: input, error: result.error });
      client.process = this.nextProcess++;
    } else {
      assert(f === 'cas' || result.error === 'session_expired', () => `${f} ${key} failed with ${result.error}`);
      this.stats.fail++;
      this.record(client, operation, { type: 'fail', value: input, error: result.error });
    }
    this.next(client);
  }

  /**
   * Times out. A write that may have reached a log is indeterminate (`info`) and the client goes on
   * as a new process; one that never did, and any read (reads change nothing), definitely did
   * not take effect (`fail`).
   */
  private giveUp(client: Client, operation: Operation, reason: string): void {
    const { f, input } = operation;
    operation.attempt++;
    // A write still at a node when we give up may be in its log, and so may one whose answer we
    // have not heard yet (it may say ok).
    if ((operation.at !== undefined || operation.replying) && f !== 'get') operation.maybeApplied = true;
    operation.at = undefined;
    operation.replying = false;
    if (operation.maybeApplied) {
      this.stats.info++;
      this.record(client, operation, { type: 'info', value: input, error: reason });
      client.process = this.nextProcess++;
    } else {
      this.stats.fail++;
      this.record(client, operation, { type: 'fail', value: input, error: f === 'get' ? reason : 'unavailable' });
    }
    this.next(client);
  }

  private next(client: Client): void {
    client.operation = undefined;
    if (this.stopped) return;
    this.sim.at(this.random.nextInt(0, this.options.thinkTimeMaxMs + 1), () => this.invokeNext(client));
  }
}
