// kill -9 against a real child process: with honest fsync every acknowledged write survives; with the
// "lying-fsync" bug acknowledged writes still in the process buffer are lost (the harness must catch this).

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskStorage } from '../../../src/node/storage/disk-storage.js';
import { removeTempDirs, tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const ACKS_BEFORE_KILL = 60;
const WAIT_MS = 30_000;

const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await removeTempDirs();
});

/** Runs the child until it has acknowledged `acks` writes, kills it with SIGKILL, returns the last ack. */
async function runAndKill(dir: string, mode: 'honest' | 'honest-now' | 'lying', acks: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lastAck = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    let last = 0;
    const timer = setTimeout(() => reject(new Error(`no ack ${acks} within ${WAIT_MS} ms (last ${last}); stderr: ${stderr}`)), WAIT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const match = /^ack (\d+)$/.exec(line);
        if (match === null) continue;
        last = Number(match[1]);
        if (last >= acks) {
          // Kill at once: anything the child acknowledged after this line is not counted.
          child.kill('SIGKILL');
          clearTimeout(timer);
          resolve(last);
        }
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      if (last < acks) reject(new Error(`child exited early (${child.exitCode ?? child.signalCode}); stderr: ${stderr}`));
    });
  });
  await exited;
  expect(child.signalCode).toBe('SIGKILL');
  return lastAck;
}

describe('kill -9', () => {
  it.each(['honest', 'honest-now'] as const)('loses no acknowledged write with honest fsync (%s)', async (mode) => {
    const dir = await tempDir();
    const acked = await runAndKill(dir, mode, ACKS_BEFORE_KILL);
    const storage = await DiskStorage.open({ dir, configuration: { voters: ['n1'] }, fsync: false });
    try {
      expect(storage.lastIndex()).toBeGreaterThanOrEqual(acked);
      expect(storage.initialState().hardState.commit).toBeGreaterThanOrEqual(acked);
    } finally {
      await storage.close();
    }
  });

  it('the lying-fsync bug loses acknowledged writes', async () => {
    const dir = await tempDir();
    const acked = await runAndKill(dir, 'lying', ACKS_BEFORE_KILL);
    const storage = await DiskStorage.open({ dir, configuration: { voters: ['n1'] }, fsync: false });
    try {
      expect(acked).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);
      expect(storage.lastIndex()).toBeLessThan(acked);
    } finally {
      await storage.close();
    }
  });
});
