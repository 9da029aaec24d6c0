// A fake KV store for tests: one in-memory map shared by every client, each request applied
// atomically after a short seeded random delay (so it is linearizable), optionally hanging forever
// or serving stale reads (a deliberate bug the checker must catch). Real timers, always cleaned up.

import { Random } from '../../src/raft/random.js';
import { applyKvCommand, kvStoreClient, type KvCommand, type KvReply, type KvStore } from '../../workloads/kv-command.js';
import type { Client, ClientFactory, Workload } from '../../workloads/types.js';

export interface MemoryStoreOptions {
  seed: number;
  /** Each request waits up to this long before it applies, and as long again before it answers. Default 2. */
  latencyMsMax?: number;
  /** Chance a request never answers; half of those apply first. Default 0. */
  hangProbability?: number;
  /** A hanging request ignores its abort signal too (a misbehaving client). Default false. */
  hangIgnoresAbort?: boolean;
  /** The bug: a get answers the key's value from before its latest write. Default false. */
  staleReads?: boolean;
}

export class MemoryKvStore {
  readonly data = new Map<string, string>();
  /** Each key's value before its latest write (what a stale read returns). */
  private readonly previous = new Map<string, string | null>();
  private readonly random: Random;
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly closedClients: number[] = [];
  readonly createdClients: number[] = [];
  applied = 0;

  constructor(private readonly options: MemoryStoreOptions) {
    this.random = new Random(options.seed);
  }

  /** A ClientFactory for `workload` against this store. */
  factory(workload: Pick<Workload<any>, 'encode' | 'decode'>): ClientFactory {
    return (processId: number): Client => {
      this.createdClients.push(processId);
      const client = kvStoreClient(workload, this.session(processId));
      return client;
    };
  }

  /** Clears every pending timer (requests in flight never answer). */
  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private session(processId: number): KvStore {
    const send = (command: KvCommand, signal?: AbortSignal) => this.request(command, signal);
    return {
      get: (key, signal) => send({ kind: 'get', key }, signal),
      put: (key, value, signal) => send({ kind: 'put', key, value }, signal),
      append: (key, value, signal) => send({ kind: 'append', key, value }, signal),
      cas: (key, from, to, signal) => send({ kind: 'cas', key, from, to }, signal),
      close: () => {
        this.closedClients.push(processId);
      },
    };
  }

  private apply(command: KvCommand): KvReply {
    this.applied++;
    if (command.kind === 'get' && this.options.staleReads && this.previous.has(command.key)) {
      return { type: 'ok', value: this.previous.get(command.key) ?? null };
    }
    const before = this.data.get(command.key) ?? null;
    const reply = applyKvCommand(this.data, command);
    if (command.kind !== 'get' && reply.type === 'ok') this.previous.set(command.key, before);
    return reply;
  }

  private request(command: KvCommand, signal?: AbortSignal): Promise<KvReply> {
    const latencyMsMax = this.options.latencyMsMax ?? 2;
    const hang = this.random.chance(this.options.hangProbability ?? 0);
    const applyBeforeHang = this.random.chance(0.5);
    const beforeMs = this.random.nextFloat() * latencyMsMax;
    const afterMs = this.random.nextFloat() * latencyMsMax;
    return new Promise<KvReply>((resolve, reject) => {
      if (hang) {
        if (applyBeforeHang) this.later(beforeMs, () => this.apply(command));
        if (!this.options.hangIgnoresAbort)
          signal?.addEventListener('abort', () => reject(new Error('aborted by the caller')), { once: true });
        return;
      }
      this.later(beforeMs, () => {
        const reply = this.apply(command);
        this.later(afterMs, () => resolve(reply));
      });
    });
  }

  private later(ms: number, f: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      f();
    }, ms);
    this.timers.add(timer);
  }
}
