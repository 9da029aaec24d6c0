import { describe, expect, it } from 'vitest';
import { checkHistory, type CheckResult } from '../../checker/check.js';
import { pairHistory, type EventType, type History, type HistoryEvent } from '../../checker/history.js';
import { renderHtml } from '../../checker/html.js';
import { createModel } from '../../checker/models/index.js';

type Event = Omit<HistoryEvent, 'index'>;

function ev(time: number, process: number | string, type: EventType, f: string, value?: unknown, key?: string): Event {
  return { time, process, type, f, value, key };
}

function history(events: Event[], source = 'test.jsonl'): History {
  return pairHistory(
    events.map((e, index) => ({ index, ...e })),
    source,
  );
}

async function render(h: History, model: string, maxOps?: number): Promise<{ html: string; result: CheckResult }> {
  const result = await checkHistory(h.operations, { model, workers: 0 });
  return { html: renderHtml({ history: h, result, model: createModel(model), maxOps }), result };
}

function decode(html: string): string {
  return html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The page's text as a reader sees it: tags dropped, entities decoded, spaces collapsed. */
function text(html: string): string {
  return decode(html.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ');
}

/** The hover texts (title attributes), decoded, lines joined by " | ". */
function titles(html: string): string[] {
  return [...html.matchAll(/ title="([^"]*)"/g)].map((m) => decode(m[1]).replace(/\n/g, ' | '));
}

function bars(html: string): number {
  return html.split('<div class="op ').length - 1;
}

/** Sequential puts and gets over `keys` keys, one op per time step; the last get is wrong if `bad`. */
function generated(ops: number, keys: number, bad: boolean): History {
  const events: Event[] = [];
  for (let i = 0; i < ops; i++) {
    const round = Math.floor(i / keys);
    const put = round % 2 === 0;
    const value = String(Math.floor(round / 2) % 5);
    const f = put ? 'put' : 'get';
    const key = `k${i % keys}`;
    events.push(ev(2 * i, i % 4, 'invoke', f, put ? value : undefined, key));
    events.push(ev(2 * i + 1, i % 4, 'ok', f, bad && i === ops - 1 ? 'wrong' : value, key));
  }
  return history(events, 'generated');
}

// p0 writes 1; then p1 reads 1 while p2 writes 2 concurrently, and p1 reads 2 after.
const linearizable = [
  ev(0, 0, 'invoke', 'write', 1),
  ev(10, 0, 'ok', 'write', 1),
  ev(20, 1, 'invoke', 'read'),
  ev(22, 2, 'invoke', 'write', 2),
  ev(30, 1, 'ok', 'read', 1),
  ev(35, 2, 'ok', 'write', 2),
  ev(40, 1, 'invoke', 'read'),
  ev(50, 1, 'ok', 'read', 2),
];

// p0 writes 1 and completes; then p1 reads 2.
const stale = [ev(0, 0, 'invoke', 'write', 1), ev(10, 0, 'ok', 'write', 1), ev(20, 1, 'invoke', 'read'), ev(30, 1, 'ok', 'read', 2)];

describe('renderHtml', () => {
  it('shows a linearizable history with its linearization numbered and states on hover', async () => {
    const { html } = await render(history(linearizable), 'cas-register');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    const page = text(html);
    expect(page).toContain('linearizable');
    expect(page).not.toContain('NOT linearizable');
    expect(page).toContain('Linearization found: 4 ops');
    expect(page).toContain('cas-register');
    expect(bars(html)).toBe(4);
    // Hovering the read of 1 shows its place, its description and the state after it.
    expect(titles(html)).toContain('#2  p1 read -> 1 | ok | state after: 1 | call 20 ns, return 30 ns');
    expect(titles(html)).toContain('#4  p1 read -> 2 | ok | state after: 2 | call 40 ns, return 50 ns');
  });

  it('shows a non-linearizable history: the prefix, the stuck op and why', async () => {
    const { html, result } = await render(history(stale), 'cas-register');
    expect(result.valid).toBe(false);
    const page = text(html);
    expect(page).toContain('NOT linearizable');
    expect(page).toContain('Longest linearizable prefix: 1 ops');
    expect(page).toContain('model state after it: 1');
    expect(page).toContain('p1 read -> 2');
    expect(page).toContain('illegal in state 1');
    expect(html).toContain('class="op ok stuck"');
  });

  it('explains a dead end with the state it leads to', async () => {
    const h = history([...stale, ev(5, 2, 'invoke', 'write', 3)]);
    const { result } = await render(h, 'cas-register');
    const part = result.results[0];
    const deadEnd: CheckResult = {
      ...result,
      results: [{ ...part, stuck: [...(part.stuck ?? []), { opId: 1, reason: 'dead-end', stateAfter: '3' }] }],
    };
    const page = text(renderHtml({ history: h, result: deadEnd, model: createModel('cas-register') }));
    expect(page).toContain('p2 write 3 (?)');
    expect(page).toContain('dead-end: legal, leading to state 3, but nothing completes after it');
  });

  it('escapes user data everywhere', async () => {
    const evil = '<script>alert(1)</script>';
    const h = history(
      [
        ev(0, 0, 'invoke', 'put', evil, evil),
        ev(10, 0, 'ok', 'put', evil, evil),
        ev(20, `"><img src=x>`, 'invoke', 'get', undefined, evil),
        ev(30, `"><img src=x>`, 'ok', 'get', 'x"y', evil),
      ],
      evil,
    );
    const { html } = await render(h, 'kv-cas');
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(text(html)).toContain(`illegal in state "${evil}"`);
  });

  it('references nothing outside the page', async () => {
    const { html } = await render(history(stale), 'cas-register');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/<link\b|@import|url\(/i);
  });

  it('shades fault windows and marks other nemesis events', async () => {
    const h = history([
      ev(0, 0, 'invoke', 'write', 1),
      ev(5, 'nemesis', 'invoke', 'start'),
      ev(6, 'nemesis', 'info', 'start', 'partition [n1] [n2 n3]'),
      ev(10, 0, 'ok', 'write', 1),
      ev(12, 'nemesis', 'info', 'kill', 'n2'),
      ev(20, 'nemesis', 'invoke', 'stop'),
      ev(21, 'nemesis', 'info', 'stop'),
      ev(30, 1, 'invoke', 'read'),
      ev(40, 1, 'ok', 'read', 1),
    ]);
    const { html } = await render(h, 'cas-register');
    expect(html).toContain('<span class="proc">nemesis</span>');
    expect(titles(html)).toContain('fault: start "partition [n1] [n2 n3]" | from 5 ns to 21 ns');
    expect(titles(html)).toContain('nemesis info kill "n2" at 12 ns');
    expect(html).toContain('<div class="shade"><div class="fault"');
  });

  it('draws indeterminate ops open-ended to the right edge', async () => {
    const { html } = await render(history([...linearizable, ev(45, 3, 'invoke', 'write', 7)]), 'cas-register');
    expect(html).toMatch(/class="op info[^"]*" style="left:[\d.]+%;width:[\d.]+%"/);
    const [, left, width] = /class="op info[^"]*" style="left:([\d.]+)%;width:([\d.]+)%"/.exec(html)!;
    expect(Number(left) + Number(width)).toBeCloseTo(100, 2);
  });

  it('selects the failing part first', async () => {
    const events: Event[] = linearizable.map((e) => ({
      ...e,
      key: 'a',
      f: e.f === 'write' ? 'put' : 'get',
      value: e.value === undefined ? undefined : String(e.value),
    }));
    events.push(
      ev(60, 5, 'invoke', 'put', 'x', 'b'),
      ev(70, 5, 'ok', 'put', 'x', 'b'),
      ev(80, 5, 'invoke', 'get', undefined, 'b'),
      ev(90, 5, 'ok', 'get', 'y', 'b'),
    );
    const { html } = await render(history(events), 'kv-cas');
    expect(html).toMatch(/<option value="0" selected>key &quot;b&quot;: NOT linearizable/);
    expect(html).toContain('<section class="part" id="part-0">');
    expect(html).toContain('<section class="part" id="part-1" hidden>');
  });

  it('draws only a window around the failure of a big part', async () => {
    const h = generated(3000, 1, true);
    const { html, result } = await render(h, 'kv-cas', 500);
    expect(result.valid).toBe(false);
    expect(bars(html)).toBeLessThanOrEqual(500);
    expect(bars(html)).toBeGreaterThanOrEqual(300);
    const page = text(html);
    expect(page).toMatch(/Showing \d+ of 3,000 operations \(around the end of the longest prefix\); [\d,]+ left out/);
    expect(page).toContain('get k0 -> "wrong"');
    expect(titles(html).filter((t) => t.includes('could not come next'))).toEqual([expect.stringContaining('p3 get k0 -> "wrong"')]);
    expect(titles(html)).toContainEqual(expect.stringMatching(/^#2999  p2 put k0 "4" \| ok \| state after: "4"/));
  });

  it('stays small for a 200k-op history', async () => {
    for (const bad of [false, true]) {
      const h = generated(200_000, 200, bad);
      const { html, result } = await render(h, 'kv-cas');
      expect(result.valid).toBe(!bad);
      expect(html.length).toBeLessThan(1_000_000);
      expect(bars(html)).toBeLessThanOrEqual(2000);
      expect(text(html)).toMatch(/operations left out to keep this page small/);
    }
  }, 20_000);
});
