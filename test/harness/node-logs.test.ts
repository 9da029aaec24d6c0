// The node-log check: lines in which a node reports a broken Raft invariant fail the run; other
// lines, other files and a run without node logs do not. Matches are counted in full, kept bounded.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkNodeLogs } from '../../src/harness/node-logs.js';
import { SAFETY_VIOLATION_MARKER } from '../../src/node/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function runDir(logs: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'skepsis-node-logs-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'nodes'));
  for (const [name, text] of Object.entries(logs)) writeFileSync(join(dir, 'nodes', name), text);
  return dir;
}

describe('checkNodeLogs', () => {
  it('fails on a safety violation line, naming the node and keeping the line', async () => {
    const line = `2026-11-22T08:00:00.000Z n3 ${SAFETY_VIOLATION_MARKER}: n1 (term 7) sent entries that conflict with entries this node holds as committed (commit 41)`;
    const dir = runDir({
      'n1.log': 'ready\nrole=leader leader=n1 term=7\nrejected message from n2: stale-term\n',
      'n3.log': `ready\n${line}\nmore\n`,
      'notes.txt': `${SAFETY_VIOLATION_MARKER} in a file that is not a node log\n`,
    });
    const check = await checkNodeLogs(dir);
    expect(check).toEqual({ valid: false, pattern: SAFETY_VIOLATION_MARKER, count: 1, matches: [{ node: 'n3', line }] });
  });

  it('passes clean logs and a run folder without node logs', async () => {
    expect((await checkNodeLogs(runDir({ 'n1.log': 'ready\nrejected message from n2: overwrites-committed\n' }))).valid).toBe(true);
    const bare = mkdtempSync(join(tmpdir(), 'skepsis-node-logs-'));
    dirs.push(bare);
    expect(await checkNodeLogs(bare)).toEqual({ valid: true, pattern: SAFETY_VIOLATION_MARKER, count: 0, matches: [] });
  });

  it('counts every match but keeps 20, each cut to 500 characters', async () => {
    const long = `${SAFETY_VIOLATION_MARKER}: ${'x'.repeat(2000)}`;
    const check = await checkNodeLogs(runDir({ 'n1.log': `${long}\n`.repeat(30), 'n2.log': `${long}\n`.repeat(5) }));
    expect(check.count).toBe(35);
    expect(check.matches).toHaveLength(20);
    expect(check.matches.every((m) => m.node === 'n1' && m.line.length === 500)).toBe(true);
  });
});
