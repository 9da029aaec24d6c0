// The helpers every HTML view shares (checker/view): escaping, clipping, digit grouping, tick steps
// and ticks, SVG coordinates.

import { describe, expect, it } from 'vitest';
import { coordinate, niceStep, TICKS_MAX, tickValues } from '../../checker/view/axis.js';
import { clip, escapeHtml, groupDigits } from '../../checker/view/text.js';

describe('text', () => {
  it('escapes every character that could end content or an attribute', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  });

  it('clips to at most max characters, ending with an ellipsis', () => {
    expect(clip('abcdef', 6)).toBe('abcdef');
    expect(clip('abcdefg', 6)).toBe('abcde…');
    expect(clip('abcdefg', 6).length).toBe(6);
    expect(clip(String(12345), 3)).toBe('12…');
  });

  it('groups digits by thousands', () => {
    expect(groupDigits(0)).toBe('0');
    expect(groupDigits(999)).toBe('999');
    expect(groupDigits(200000)).toBe('200,000');
    expect(groupDigits(1234567)).toBe('1,234,567');
  });
});

describe('axis', () => {
  it('rounds a step up to 1, 2 or 5 times a power of ten', () => {
    expect([0.3, 1, 1.5, 3, 7, 12, 4500].map(niceStep)).toEqual([0.5, 1, 2, 5, 10, 20, 5000]);
    expect(niceStep(0)).toBe(1);
    expect(niceStep(NaN)).toBe(1);
    expect(niceStep(Infinity)).toBe(1);
  });

  it('lists the multiples of a step in a range, tolerating rounding, and at most TICKS_MAX', () => {
    expect(tickValues(0, 10, 2.5)).toEqual([0, 2.5, 5, 7.5, 10]);
    expect(tickValues(3, 17, 5)).toEqual([5, 10, 15]);
    // 0.1 * 3 is a little above 0.3, and 0.9 / 0.3 a little below 3: both ends stay in.
    expect(tickValues(0.1 * 3, 0.9, 0.3)).toHaveLength(3);
    expect(tickValues(0, 1e12, 1)).toHaveLength(TICKS_MAX);
    expect(tickValues(0, 10, 0)).toEqual([]);
  });

  it('writes SVG coordinates with at most one decimal', () => {
    expect(coordinate(12.345)).toBe('12.3');
    expect(coordinate(7)).toBe('7');
    expect(coordinate(-0.06)).toBe('-0.1');
  });
});
