// A crash is never a verdict: when the checker fails inside (forced here by preloading
// crash-checker.mjs into the real binary), `skepsis check`, `skepsis test` and `skepsis analyze`
// exit 3 and say it is an internal error, with the stack; a run's results record the crash and the
// run can be judged again once the checker works.

import { execa } from 'execa';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_INTERNAL } from '../../src/cli/exit.js';
import { PORCUPINE_DIR } from '../checker/porcupine-histories.js';

const BIN = fileURLToPath(new URL('../../bin/skepsis.cjs', import.meta.url));
const CRASH_CHECKER = fileURLToPath(new URL('./crash-checker.mjs', import.meta.url));

/** Runs the real binary; `crash` preloads the module that makes the checker throw. */
function skepsis(args: string[], options: { crash: boolean; timeoutMs?: number; env?: Record<string, string> }) {
  const preload = options.crash ? ['--import', CRASH_CHECKER] : [];
  return execa(process.execPath, [...preload, BIN, ...args], {
    reject: false,
    timeout: options.timeoutMs ?? 60_000,
    env: { ...process.env, FORCE_COLOR: '0', ...options.env },
  });
}

const TEMP = mkdtempSync(join(tmpdir(), 'skepsis-internal-'));
afterAll(() => rmSync(TEMP, { recursive: true, force: true }));

describe('an internal error', () => {
  it('is exit 3 from skepsis check, named as such with its stack, and prints no verdict', async () => {
    const history = join(TEMP, 'read-your-write.jsonl');
    writeFileSync(
      history,
      [
        { index: 0, process: 0, type: 'invoke', f: 'write', value: 1 },
        { index: 1, process: 0, type: 'ok', f: 'write', value: 1 },
        { index: 2, process: 1, type: 'invoke', f: 'read' },
        { index: 3, process: 1, type: 'ok', f: 'read', value: 1 },
      ]
        .map((event) => JSON.stringify(event))
        .join('\n'),
    );
    expect((await skepsis(['check', history], { crash: false })).exitCode).toBe(0);
    const crashed = await skepsis(['check', history, '--json'], { crash: true });
    expect(EXIT_INTERNAL).toBe(3);
    expect(crashed.exitCode).toBe(EXIT_INTERNAL);
    expect(crashed.stderr).toContain('skepsis check: internal error, no verdict (exit 3): Error: forced internal error in the checker');
    // From the check bundle (bin/skepsis.cjs), and from the modules when the bundle is not used.
    expect(crashed.stderr).toMatch(/at .*dist\/checker\/check-cli\.cjs/);
    expect(crashed.stdout).toBe('');
    const fromModules = await skepsis(['check', history, '--json'], { crash: true, env: { SKEPSIS_NO_CHECK_BUNDLE: '1' } });
    expect(fromModules.exitCode).toBe(EXIT_INTERNAL);
    expect(fromModules.stderr).toContain('skepsis check: internal error, no verdict (exit 3): Error: forced internal error in the checker');
    expect(fromModules.stderr).toMatch(/at .*dist\/checker\/search\.js/);
    expect(fromModules.stdout).toBe('');
  });

  it('is exit 3 when a worker thread of the checker crashes', async () => {
    const crashed = await skepsis(['check', join(PORCUPINE_DIR, 'kv/c10-ok.txt'), '--workers', '2'], { crash: true });
    expect(crashed.exitCode).toBe(EXIT_INTERNAL);
    expect(crashed.stderr).toMatch(
      /skepsis check: internal error, no verdict \(exit 3\): Error: checker worker failed: .*forced internal error/,
    );
  });

  it('is exit 3 from skepsis test and skepsis analyze; the results record it and a later analyze judges the run', async () => {
    const store = join(TEMP, 'store');
    // A short fault-free run: the cluster and the history are real, only the checker is made to fail.
    const args = 'test --nodes 3 --workload register --nemesis none --time-limit 3 --seed 7 --name crash'.split(' ');
    const run = await skepsis([...args, '--store', store], { crash: true, timeoutMs: 120_000 });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(EXIT_INTERNAL);
    expect(run.stderr).toContain('skepsis test: internal error, no verdict (exit 3): CheckerCrashError: the linearizability check crashed');
    expect(run.stderr).toContain('forced internal error in the checker');
    expect(run.stdout).not.toMatch(/verdict:/);
    const latest = join(store, 'crash', 'latest');
    const results = JSON.parse(readFileSync(join(store, 'crash', readlinkSync(latest), 'results.json'), 'utf8'));
    expect(results.valid).toBe('unknown');
    expect(results.linearizability).toMatchObject({ valid: 'unknown', error: expect.stringContaining('forced internal error') });
    expect(results.summary.join('\n')).toMatch(/linearizability check CRASHED \(cas-register\), an internal error and no verdict/);
    expect(results.stats.ok).toBeGreaterThan(0);

    const again = await skepsis(['analyze', latest], { crash: true });
    expect(again.exitCode).toBe(EXIT_INTERNAL);
    expect(again.stderr).toContain('skepsis analyze: internal error, no verdict (exit 3)');
    const fixed = await skepsis(['analyze', latest], { crash: false });
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(/verdict: valid/);
  });
});
