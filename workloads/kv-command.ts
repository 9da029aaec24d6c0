// How workload ops become key-value commands and replies become completions: the one place the
// op vocabulary (read, write, cas, get, put, append, add) meets the store's API (get, put,
// append, cas). Includes a reference in-memory store for tests and the simulator. No I/O.

import type { Workload } from './types.js';
import type { Client, Completion, OpSpec } from './types.js';

/** A command the KV store understands. Values are strings; `from: null` means "the key is absent". */
export type KvCommand =
  | { kind: 'get'; key: string }
  | { kind: 'put'; key: string; value: string }
  | { kind: 'append'; key: string; value: string }
  | { kind: 'cas'; key: string; from: string | null; to: string };

/**
 * The store's answer, shaped like src/client's KvOutcome: ok (with the value for a get; null when
 * absent), fail (definitely not applied: cas_mismatch, bad_request ...), info (may have applied).
 */
export type KvReply =
  | { type: 'ok'; value?: string | null }
  | { type: 'fail'; error: string; value?: string | null }
  | { type: 'info'; error: string };

/** The store-side operations a client needs, e.g. src/client's KvClient or an in-memory store. */
export interface KvStore {
  get(key: string, signal?: AbortSignal): Promise<KvReply>;
  put(key: string, value: string, signal?: AbortSignal): Promise<KvReply>;
  append(key: string, value: string, signal?: AbortSignal): Promise<KvReply>;
  cas(key: string, from: string | null, to: string, signal?: AbortSignal): Promise<KvReply>;
  close?(): void | Promise<void>;
}

/** A workload op the workload cannot express as a command: a programmer error in a generator. */
export class UnknownOperationError extends Error {
  override readonly name = 'UnknownOperationError';
}

/** Error of a failed compare-and-set, as the checker's models expect it. */
export const CAS_MISMATCH = 'cas_mismatch';

/** The reference semantics of the node's KV store, applied to a Map; the fake and simulated stores use it. */
export function applyKvCommand(data: Map<string, string>, command: KvCommand): KvReply {
  switch (command.kind) {
    case 'get':
      return { type: 'ok', value: data.get(command.key) ?? null };
    case 'put':
      data.set(command.key, command.value);
      return { type: 'ok' };
    case 'append':
      data.set(command.key, (data.get(command.key) ?? '') + command.value);
      return { type: 'ok' };
    case 'cas': {
      const current = data.get(command.key) ?? null;
      if (current !== command.from) return { type: 'fail', error: CAS_MISMATCH, value: current };
      data.set(command.key, command.to);
      return { type: 'ok' };
    }
  }
}

/** Sends a command to a store. */
export function sendKvCommand(store: KvStore, command: KvCommand, signal?: AbortSignal): Promise<KvReply> {
  switch (command.kind) {
    case 'get':
      return store.get(command.key, signal);
    case 'put':
      return store.put(command.key, command.value, signal);
    case 'append':
      return store.append(command.key, command.value, signal);
    case 'cas':
      return store.cas(command.key, command.from, command.to, signal);
  }
}

/**
 * A Client for a workload on top of a KV store: encode, send, decode. A rejected promise from the
 * store becomes `info` (indeterminate), with the error's message.
 */
export function kvStoreClient(workload: Pick<Workload<any>, 'encode' | 'decode'>, store: KvStore): Client {
  return {
    async invoke(op: OpSpec, signal: AbortSignal): Promise<Completion> {
      const command = workload.encode(op);
      let reply: KvReply;
      try {
        reply = await sendKvCommand(store, command, signal);
      } catch (error) {
        return { type: 'info', error: errorText(error) };
      }
      return workload.decode(op, reply);
    },
    async close(): Promise<void> {
      await store.close?.();
    },
  };
}

/** The completion for a reply whose value the workload does not interpret (writes). */
export function writeCompletion(op: OpSpec, reply: KvReply): Completion {
  if (reply.type === 'ok') return op.value === undefined ? { type: 'ok' } : { type: 'ok', value: op.value };
  return { type: reply.type, error: reply.error };
}

export function requireKey(op: OpSpec): string {
  if (typeof op.key !== 'string' || op.key === '') {
    throw new UnknownOperationError(`operation ${op.f} needs a key, got ${JSON.stringify(op.key)}`);
  }
  return op.key;
}

export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message === '' ? error.name : error.message;
  return String(error);
}
