// A virtual clock and a priority queue of timed events. Ties break by insertion order, so the same
// schedule always runs in the same order. Bounded: scheduling past `eventsMax` pending throws.

import { assert } from '../raft/assert.js';

export interface SimEvent {
  timeMs: number;
  sequence: number;
  run: () => void;
}

export class EventQueue {
  private heap: SimEvent[] = [];
  private sequence = 0;
  nowMs = 0;

  constructor(readonly pendingEventsMax = 1_000_000) {}

  get size(): number {
    return this.heap.length;
  }

  schedule(delayMs: number, run: () => void): void {
    assert(delayMs >= 0, () => `negative delay ${delayMs}`);
    assert(this.heap.length < this.pendingEventsMax, () => `more than ${this.pendingEventsMax} pending events`);
    this.push({ timeMs: this.nowMs + delayMs, sequence: this.sequence++, run });
  }

  /** Time of the next event, or undefined when empty. */
  peekTimeMs(): number | undefined {
    return this.heap[0]?.timeMs;
  }

  /** Removes the next event and moves the clock to its time. */
  pop(): SimEvent | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    assert(top.timeMs >= this.nowMs, 'the clock must not go back');
    this.nowMs = top.timeMs;
    return top;
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.sequence < b.sequence);
  }

  private push(event: SimEvent): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && this.less(heap[left], heap[smallest])) smallest = left;
      if (right < heap.length && this.less(heap[right], heap[smallest])) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest], heap[i]];
      i = smallest;
    }
  }
}
