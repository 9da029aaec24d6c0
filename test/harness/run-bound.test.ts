// Every run ends: when the cluster stops answering for good (here every node is frozen with SIGSTOP
// mid-run, as a hung store would be), the run still ends within its time limit plus the bounded
// phases after it (in-flight operations, heal, a leader wait, final reads, stop, check), reports
// why, and leaves no process behind. Before these bounds such a run waited 30 s for a leader and
// retried final reads for 60 s more.

import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skepsisBin } from '../../src/harness/launcher.js';
import { afterRunBoundsMs } from '../../src/harness/run-test.js';

const store = mkdtempSync(join(tmpdir(), 'skepsis-run-bound-'));
afterAll(() => rmSync(store, { recursive: true, force: true }));

/** Pids of node processes started from this store (by their --data-dir). */
async function nodePids(): Promise<number[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid,args'], { reject: false });
  return stdout
    .split('\n')
    .filter((line) => line.includes(' node ') && line.includes(store))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

describe('the wall time of a run', () => {
  it('stays within the time limit plus bounded phases when the cluster hangs for good', { timeout: 180_000 }, async () => {
    const timeLimitSec = 6;
    const opTimeoutMs = 2000;
    const run = execa(
      process.execPath,
      [
        skepsisBin(),
        'test',
        '--nodes',
        '3',
        '--workload',
        'set',
        '--nemesis',
        'none',
        '--time-limit',
        String(timeLimitSec),
        '--op-timeout-ms',
        String(opTimeoutMs),
        '--seed',
        '7',
        '--store',
        store,
        '--name',
        'hang',
      ],
      { reject: false, timeout: 170_000, env: { ...process.env, FORCE_COLOR: '0' } },
    );
    const frozen: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no progress line within 60 s')), 60_000);
      run.stderr!.on('data', (chunk: Buffer) => {
        if (frozen.length === 0 && /\[3\/6 s\]/.test(chunk.toString())) {
          clearTimeout(timer);
          void nodePids().then((pids) => {
            for (const pid of pids) process.kill(pid, 'SIGSTOP');
            frozen.push(...pids);
            resolve();
          }, reject);
        }
      });
    });
    expect(frozen.length).toBe(3);
    const result = await run;
    const results = JSON.parse(readFileSync(join(store, 'hang', 'latest', 'results.json'), 'utf8'));
    const bounds = afterRunBoundsMs(opTimeoutMs);
    // The time limit, operations in flight at its end, the leader wait, the final reads and the
    // operations in flight at their end, plus 15 s for starting, healing and stopping.
    const boundMs = timeLimitSec * 1000 + opTimeoutMs + bounds.leaderWaitMs + bounds.finalReadsMs + opTimeoutMs + 15_000;
    expect(results.elapsedMs, `${result.stdout}\n${result.stderr.slice(-3000)}`).toBeLessThan(boundMs);
    expect(results.problems.join('\n')).toMatch(/no leader within 10 s after the final heal/);
    // Nothing acknowledged was read back, so the set check cannot say valid.
    expect(result.exitCode, result.stdout).not.toBe(0);
    expect([1, 2]).toContain(result.exitCode);
    expect(await nodePids()).toEqual([]);
  });
});
