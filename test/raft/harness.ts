// A hand-driven cluster of cores for unit and golden interaction tests: messages wait in a FIFO
// until the test delivers them, and every Ready is rendered with describe.ts.

import { describeMessage, describeReady } from '../../src/raft/describe.js';
import { MemoryStorage } from '../../src/raft/memory-storage.js';
import type { Message } from '../../src/raft/message.js';
import type { RaftOptions } from '../../src/raft/options.js';
import { Raft } from '../../src/raft/raft.js';
import { Random } from '../../src/raft/random.js';

export class Harness {
  readonly nodes = new Map<string, Raft>();
  readonly storages = new Map<string, MemoryStorage>();
  queue: Message[] = [];
  /** Nodes whose messages (in and out) are dropped. */
  readonly isolated = new Set<string>();
  output: string[] = [];

  constructor(
    ids: string[],
    readonly options: Partial<RaftOptions> = {},
  ) {
    ids.forEach((id, n) => {
      const storage = new MemoryStorage({ voters: ids });
      this.storages.set(id, storage);
      this.nodes.set(id, new Raft({ electionTimeoutTicks: 10, ...options, id, storage, random: new Random(n + 1) }));
    });
  }

  /** Replaces each listed node with one restarted from a log of the given entry terms. */
  withLogs(logs: Record<string, number[]>): this {
    for (const [id, terms] of Object.entries(logs)) {
      const storage = this.storages.get(id)!;
      storage.append(terms.map((term, i) => ({ term, index: i + 1, data: new TextEncoder().encode(`e${i + 1}`) })));
      storage.setHardState({ term: Math.max(...terms), vote: '', commit: 1 });
      const n = [...this.nodes.keys()].indexOf(id);
      this.nodes.set(id, new Raft({ electionTimeoutTicks: 10, ...this.options, id, storage, random: new Random(n + 1) }));
    }
    return this;
  }

  raft(id: string): Raft {
    return this.nodes.get(id)!;
  }

  /** Persists, queues messages and applies, like the node loop; renders each Ready. */
  process(id: string): void {
    const raft = this.raft(id);
    const storage = this.storages.get(id)!;
    while (raft.hasReady()) {
      const ready = raft.ready();
      this.output.push(describeReady(id, ready));
      if (ready.snapshot) storage.applySnapshot(ready.snapshot);
      storage.append(ready.entries);
      if (ready.hardState) storage.setHardState(ready.hardState);
      this.queue.push(...ready.messages);
      raft.advance(ready);
    }
  }

  /** Ticks `id` until it has something to say (an election or a heartbeat), at most `ticksMax`. */
  tickUntilReady(id: string, ticksMax = 100): void {
    for (let i = 0; i < ticksMax && !this.raft(id).hasReady(); i++) this.raft(id).tick();
    this.process(id);
  }

  tick(id: string, ticks = 1): void {
    for (let i = 0; i < ticks; i++) this.raft(id).tick();
    this.process(id);
  }

  /** Delivers queued messages (and the answers they cause) until none are left. */
  stabilize(stepsMax = 10_000): void {
    for (let steps = 0; this.queue.length > 0 && steps < stepsMax; steps++) {
      const m = this.queue.shift()!;
      if (this.isolated.has(m.from) || this.isolated.has(m.to)) {
        this.output.push(`drop ${describeMessage(m)}`);
        continue;
      }
      const reason = this.raft(m.to).step(m);
      if (reason !== undefined) this.output.push(`rejected (${reason}) ${describeMessage(m)}`);
      this.process(m.to);
    }
  }

  /** Returns and clears the rendered output. */
  take(): string {
    const text = this.output.join('\n');
    this.output = [];
    return text;
  }

  /** Elects `id`: it campaigns at once (as on TimeoutNow) and all messages are delivered. */
  elect(id: string): void {
    this.raft(id).campaign('election', false);
    this.process(id);
    this.stabilize();
  }
}
