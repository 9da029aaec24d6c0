// The small interfaces a test run is built from on the client side: what a generator asks for
// (OpSpec), how a client answers (Completion), the Client itself, and the Workload object that
// bundles a generator, the checker model and the mapping to KV commands. Types only.

import type { Validity } from '../checker/check.js';
import type { History, HistoryEvent } from '../checker/history.js';
import type { Generator } from './generator.js';
import type { KvCommand, KvReply } from './kv-command.js';
import type { OptionSpec } from './options.js';

/** What a generator asks a client to do. `f` is the history's operation name (read, write, cas, get, put, append, add). */
export interface OpSpec {
  f: string;
  key?: string;
  value?: unknown;
}

/**
 * How an operation ended.
 * - ok: it took effect; `value` is its result (the value read) when it has one.
 * - fail: it definitely did not take effect (`error` says why, e.g. `cas_mismatch`).
 * - info: unknown; it may still take effect later (timeout, broken connection).
 */
export interface Completion {
  type: 'ok' | 'fail' | 'info';
  value?: unknown;
  error?: string;
}

/**
 * One logical client connection. `invoke` runs one operation at a time; when `signal` aborts it
 * should settle promptly (the runner has already recorded the op as `info` by then and ignores a
 * late answer). A rejected promise is recorded as `info` too: a client error is indeterminate.
 */
export interface Client {
  invoke(op: OpSpec, signal: AbortSignal): Promise<Completion>;
  close(): Promise<void>;
}

/** Makes a fresh client for a process id (a new process after every `info`). */
export type ClientFactory = (processId: number) => Client;

/** What an extra, workload-specific check concluded (e.g. the set workload's lost elements). */
export interface WorkloadCheckResult {
  valid: Validity;
  /** One line for the report and the progress output. */
  summary: string;
}

/** A request or reply body in the Maelstrom style: `type` and its fields (no msg_id / in_reply_to). */
export interface MessageBody {
  type: string;
  [field: string]: unknown;
}

/**
 * How a workload whose ops are messages, not KV commands (g-set, broadcast, counters, unique-ids,
 * echo), asks and reads answers. Only targets whose clients carry messages (Target.workloads lists
 * the workload: maelstrom) run these; errors are judged by the client (definite: fail, else info)
 * before `response` sees a body.
 */
export interface MessageCodec {
  request(op: OpSpec): MessageBody;
  /** The completion for a reply that is not an error. */
  response(op: OpSpec, body: MessageBody): Completion;
}

/** A target's channel for message workloads: one request, its reply (rejects on timeout or abort). */
export interface MessageChannel {
  request(body: MessageBody, signal?: AbortSignal): Promise<MessageBody>;
  close(): void;
}

/** What a final generator may look at: everything recorded so far (e.g. which keys were touched). */
export interface FinalContext {
  events: readonly HistoryEvent[];
}

/**
 * A workload: a plain object. Options are validated by `generator` itself (defaults filled in),
 * so `generator({})` always works; `parseWorkloadOptions` (index.ts) does the same from CLI text.
 */
export interface Workload<O extends object = Record<string, unknown>> {
  readonly name: string;
  /** One line for `--help`. */
  readonly summary: string;
  /** The checker model the history is checked against (see checker/models), or null when `check` alone judges it. */
  readonly model: string | null;
  /** The options this workload takes, with defaults and bounds. */
  readonly options: readonly OptionSpec<O>[];
  /** The main phase's generator (unbounded in time: the runner's time limit ends it). */
  generator(options?: Partial<O>): Generator;
  /** Reads after the nemesis has healed everything, if the workload wants them. */
  finalGenerator?(options: Partial<O> | undefined, context: FinalContext): Generator;
  /** Checks beyond linearizability, on the whole recorded history. */
  check?(history: History): WorkloadCheckResult;
  /** Set by workloads whose ops are messages (then encode/decode refuse every op). */
  readonly messages?: MessageCodec;
  /** How a client carries out one of this workload's ops on a key-value store. */
  encode(op: OpSpec): KvCommand;
  /** The completion for a definite reply from the store (timeouts are the client's `info`). */
  decode(op: OpSpec, reply: KvReply): Completion;
}
