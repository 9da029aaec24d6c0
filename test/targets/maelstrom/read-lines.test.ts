// A Maelstrom node's stdout is split into lines with a bound: a line over it is skipped, not held.

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readLines } from '../../../src/targets/maelstrom/node-process.js';

function collect(chunks: string[], maxBytes: number) {
  const input = new PassThrough();
  const lines: (string | number)[] = [];
  readLines(input, maxBytes, (line, bytes) => lines.push(line ?? bytes));
  for (const chunk of chunks) input.emit('data', Buffer.from(chunk));
  return lines;
}

describe('readLines', () => {
  it('splits lines across chunks, dropping a CR before the newline', () => {
    expect(collect(['{"a"', ':1}\n{"b":2}\r\n', '\n{"c"', ':3}\n'], 100)).toEqual(['{"a":1}', '{"b":2}', '', '{"c":3}']);
  });

  it('skips a line over the bound (reporting its length) and goes on with the next', () => {
    expect(collect(['0123456789', '0123456789', 'xx\nok\n'], 16)).toEqual([22, 'ok']);
    expect(collect(['0123456789012345678\nshort\n'], 16)).toEqual([19, 'short']);
    expect(collect(['0123456789abcdef\n'], 16)).toEqual(['0123456789abcdef']);
  });
});
