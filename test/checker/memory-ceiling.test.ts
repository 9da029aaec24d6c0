// The search's memory: a table too large to allocate fails alone and leaves later searches working.

import { describe, expect, it } from 'vitest';
import { createModel } from '../../checker/models/index.js';
import { int32s, searchPart } from '../../checker/search.js';
import { ops } from './ops.js';

/** `count` writes one after another on one register, each of a new value: a new state each. */
function sequentialWrites(count: number) {
  return ops(...Array.from({ length: count }, (_, i) => ({ process: 0, f: 'write', input: i, call: i * 10, ret: i * 10 + 5 })));
}

describe('the memory ceiling', () => {
  it('a table too large to allocate fails alone: later searches carve and check as before', () => {
    // 2^53 + 2^31 bytes: past any ArrayBuffer, and its low 32 bits wrap negative under the old
    // `(bytes + 7) & ~7`, which left the shared chunk's offset negative for every later search.
    expect(() => int32s((2 ** 53 + 2 ** 31) / 4)).toThrow(RangeError);
    const small = int32s(5);
    expect(Array.from(small)).toEqual([0, 0, 0, 0, 0]);
    expect(searchPart(createModel('register'), sequentialWrites(50)).verdict).toBe('ok');
  });
});
