// The disk-synced check in analyzeRun: a node that started on a log whose synced data was damaged
// (it must refuse loudly) fails the run, even when the history is linearizable; a refusal does not.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../src/harness/analyze.js';
import { testConfig } from './config-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'skepsis-disk-synced-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CONFIG = testConfig({
  name: 'disk-synced',
  nemesis: 'disk-synced',
  nodes: 3,
  concurrency: 2,
  timeLimitMs: 6000,
  seed: 1,
  unsafeBugs: [],
  opTimeoutMs: 5000,
  checkTimeoutMs: 120000,
  command: 'npx skepsis test --nemesis disk-synced --seed 1',
  gitCommit: null,
  startedAt: '2026-12-05T15:00:00.000Z',
});

/** A stored run: one write and one read of it, and a disk-synced window ending with `outcome`. */
function storedRun(outcome: 'recovered' | 'refused'): string {
  const dir = join(root, outcome);
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  writeFileSync(join(dir, 'test.json'), JSON.stringify(CONFIG));
  const events = [
    { process: 'nemesis', type: 'info', f: 'start-disk-synced', value: { node: 'n2', how: 'synced', damage: 'flipped a bit' } },
    { process: 0, type: 'invoke', f: 'write', key: 'r0', value: 1 },
    { process: 0, type: 'ok', f: 'write', key: 'r0', value: 1 },
    { process: 'nemesis', type: 'info', f: 'stop-disk-synced', value: { node: 'n2', how: 'synced', outcome, expected: 'refused' } },
    { process: 1, type: 'invoke', f: 'read', key: 'r0', value: null },
    { process: 1, type: 'ok', f: 'read', key: 'r0', value: 1 },
  ];
  writeFileSync(
    join(dir, 'history.jsonl'),
    events.map((event, index) => JSON.stringify({ index, time: (index + 1) * 1_000_000, ...event })).join('\n') + '\n',
  );
  return dir;
}

describe('the disk-synced check', () => {
  it('fails a run in which a node started on damaged synced data, though the history is linearizable', async () => {
    const { results } = await analyzeRun(storedRun('recovered'));
    expect(results.linearizability?.valid).toBe(true);
    expect(results.valid).toBe(false);
    expect(results.summary).toContain('disk-synced: n2 started on a log whose synced data was damaged, where it must refuse loudly');
  });

  it('passes a run in which the node refused to start', async () => {
    const { results } = await analyzeRun(storedRun('refused'));
    expect(results.valid).toBe(true);
    expect(results.summary.join('\n')).not.toMatch(/disk-synced/);
  });
});
