// `skepsis cluster` through the real binary: prints each node's client URL, serves requests, and on
// SIGINT stops every node and leaves no process behind.

import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { KvClient } from '../../src/client/kv-client.js';
import { skepsisBin } from '../../src/harness/launcher.js';

const dir = mkdtempSync(join(tmpdir(), 'skepsis-cluster-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function processesUsing(text: string): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid,args'], { reject: false });
  return stdout.split('\n').filter((line) => line.includes(text) && !line.includes('ps -eo'));
}

describe('skepsis cluster', () => {
  it('runs 3 nodes in the foreground, serves them, and Ctrl-C stops all of it', async () => {
    const child = execa(process.execPath, [skepsisBin(), 'cluster', '--nodes', '3', '--data-dir', dir], { reject: false, timeout: 60_000 });
    try {
      const urls = new Map<string, string>();
      const lines = createInterface({ input: child.stdout! });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URLs within 30 s; got ${[...urls].join(', ')}`)), 30_000);
        lines.on('line', (line) => {
          const match = /^\s+(n\d+)\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(line);
          if (match) urls.set(match[1], match[2]);
          if (urls.size === 3) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const client = new KvClient({ nodes: urls, deadlineMs: 15_000 });
      expect(await client.put('hello', 'world')).toEqual({ type: 'ok' });
      expect(await client.get('hello')).toEqual({ type: 'ok', value: 'world' });
      client.close();
      expect((await processesUsing(dir)).length).toBeGreaterThanOrEqual(3);
      child.kill('SIGINT');
      const result = await child;
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(/SIGINT; stopping every node/);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await processesUsing(dir)).toEqual([]);
  });

  it('refuses a bad node count with exit 254', async () => {
    const result = await execa(process.execPath, [skepsisBin(), 'cluster', '--nodes', '0'], { reject: false });
    expect(result.exitCode).toBe(254);
    expect(result.stderr).toMatch(/--nodes must be an integer from 1 to 15, got 0/);
  });
});
