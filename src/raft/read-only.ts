// ReadIndex requests a leader is confirming: each remembers the commit index at arrival and the
// voters that acknowledged a heartbeat carrying its context. Confirming one confirms all before it.

import type { NodeId, ReadState } from './types.js';

interface PendingRead {
  index: number;
  context: string;
  acks: Map<NodeId, boolean>;
}

export class ReadOnly {
  private readonly pending = new Map<string, PendingRead>();
  /** Contexts in arrival order. */
  private queue: string[] = [];

  get size(): number {
    return this.pending.size;
  }

  has(context: string): boolean {
    return this.pending.has(context);
  }

  add(index: number, context: string): void {
    if (this.pending.has(context)) return;
    this.pending.set(context, { index, context, acks: new Map() });
    this.queue.push(context);
  }

  /** Records an acknowledgement; returns the acks so far, or undefined for an unknown context. */
  recordAck(from: NodeId, context: string): ReadonlyMap<NodeId, boolean> | undefined {
    const read = this.pending.get(context);
    if (read === undefined) return undefined;
    read.acks.set(from, true);
    return read.acks;
  }

  /** Releases `context` and every request queued before it. */
  release(context: string): ReadState[] {
    const at = this.queue.indexOf(context);
    if (at < 0) return [];
    const released = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    return released.map((c) => {
      const read = this.pending.get(c)!;
      this.pending.delete(c);
      return { index: read.index, context: read.context };
    });
  }

  /** Every pending context, oldest first. */
  contexts(): string[] {
    return this.queue.slice();
  }

  /** The newest pending context, re-sent with heartbeats in case earlier ones were lost. */
  lastContext(): string {
    return this.queue[this.queue.length - 1] ?? '';
  }

  reset(): void {
    this.pending.clear();
    this.queue = [];
  }
}
