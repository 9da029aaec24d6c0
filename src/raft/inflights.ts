// The bounded window of AppendEntries in flight to one follower (pipelining): the last index of
// each unacknowledged message, oldest first. Bytes are bounded separately by the message size.

import { assert } from './assert.js';

export class Inflights {
  private readonly lastIndexes: number[] = [];

  constructor(readonly sizeMax: number) {
    assert(sizeMax >= 1, () => `inflight window must be >= 1, got ${sizeMax}`);
  }

  get count(): number {
    return this.lastIndexes.length;
  }

  full(): boolean {
    return this.lastIndexes.length >= this.sizeMax;
  }

  add(lastIndex: number): void {
    assert(!this.full(), 'adding to a full inflight window');
    const previous = this.lastIndexes[this.lastIndexes.length - 1];
    assert(previous === undefined || lastIndex > previous, () => `inflight ${lastIndex} not after ${previous}`);
    this.lastIndexes.push(lastIndex);
  }

  /** Frees every message whose last index is <= `index` (they were acknowledged). */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.lastIndexes.length && this.lastIndexes[n] <= index) n++;
    if (n > 0) this.lastIndexes.splice(0, n);
  }

  /** Frees the oldest message: a heartbeat answer shows the follower is alive, so one may be lost. */
  freeFirstOne(): void {
    this.lastIndexes.shift();
  }

  reset(): void {
    this.lastIndexes.length = 0;
  }
}
