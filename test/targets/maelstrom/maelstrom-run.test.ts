// `skepsis test --db maelstrom` end to end through the real binary, with the JavaScript Maelstrom
// nodes in test/fixtures/maelstrom: a correct node per workload is judged valid under partitions
// (and kills where the node keeps no state of its own); each broken one is caught; bad usage and a
// node that never answers init exit 254 and leave no process behind. Replay any run with the
// command printed in its output (it carries its seed).

import { execa } from 'execa';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { skepsisBin } from '../../../src/harness/launcher.js';

const store = mkdtempSync(join(tmpdir(), 'skepsis-maelstrom-'));
afterAll(() => rmSync(store, { recursive: true, force: true }));
const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/maelstrom/${name}`, import.meta.url));

function skepsis(args: string[], timeoutMs = 120_000) {
  return execa(process.execPath, [skepsisBin(), 'test', '--db', 'maelstrom', '--store', store, '--quiet', ...args], {
    reject: false,
    timeout: timeoutMs,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
}

/** Fixture node processes still alive (they run from test/fixtures/maelstrom). */
async function fixturesAlive(): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid,args'], { reject: false });
  return stdout.split('\n').filter((line) => line.includes('fixtures/maelstrom/') && !line.includes('vitest'));
}

function results(name: string) {
  const dir = join(store, name, readlinkSync(join(store, name, 'latest')));
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
}

const run = (name: string, bin: string, workload: string, nemesis: string, extra: string[] = []) =>
  skepsis([
    '--name',
    name,
    '--bin',
    fixture(bin),
    ...extra,
    '--workload',
    workload,
    '--nodes',
    '3',
    '--nemesis',
    nemesis,
    '--nemesis-interval',
    '1',
    '--time-limit',
    '4',
    '--seed',
    '11',
    ...(workload === 'lin-kv' || workload === 'echo' || workload === 'unique-ids' ? [] : ['--workload-opt', 'settle-ms=1500']),
  ]);

describe('skepsis test --db maelstrom', () => {
  const cases: [string, string, string, string, string[], 0 | 1][] = [
    ['lin-kv-proxy', 'lin-kv-proxy.cjs', 'lin-kv', 'partition,kill,pause', [], 0],
    ['lin-kv-stale', 'lin-kv-stale.cjs', 'lin-kv', 'partition', [], 1],
    ['g-set', 'g-set.cjs', 'g-set', 'partition', [], 0],
    ['g-set-lossy', 'g-set.cjs', 'g-set', 'partition', ['--bin-arg', 'lossy'], 1],
    ['broadcast', 'g-set.cjs', 'broadcast', 'partition,flaky', [], 0],
    ['broadcast-lossy', 'g-set.cjs', 'broadcast', 'partition', ['--bin-arg', 'lossy'], 1],
    ['pn-counter', 'counter.cjs', 'pn-counter', 'partition,pause', [], 0],
    ['g-counter-double', 'counter.cjs', 'g-counter', 'partition', ['--bin-arg', 'double'], 1],
    // Not under kill: a restarted node starts its counter again (in-memory state is lost), so ids repeat.
    ['unique-ids', 'unique-ids.cjs', 'unique-ids', 'partition,pause', [], 0],
    ['unique-ids-broken', 'unique-ids.cjs', 'unique-ids', 'none', ['--bin-arg', 'broken'], 1],
    ['echo', 'echo.cjs', 'echo', 'kill', [], 0],
  ];
  for (const [name, bin, workload, nemesis, extra, exitCode] of cases) {
    it(`${name}: --workload ${workload} under ${nemesis} exits ${exitCode}`, async () => {
      const result = await run(name, bin, workload, nemesis, extra);
      expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(exitCode);
      expect(result.stdout).toMatch(exitCode === 0 ? /verdict: valid/ : /verdict: INVALID/);
      const found = results(name);
      expect(found.messages.totals.clients.delivered).toBeGreaterThan(0);
      expect(found.messages.perOperation.all).toBeGreaterThan(0);
      expect(found.messages.malformed).toBe(0);
    });
  }

  it('counts the traffic a partition cut, per link', async () => {
    const found = results('g-set');
    const cut = Object.values(found.messages.links as Record<string, { cut: number }>).reduce((sum, link) => sum + link.cut, 0);
    expect(cut).toBeGreaterThan(0);
    expect(found.messages.totals.nodes.cut).toBe(cut);
  });

  it('refuses bad usage with 254 and a clear message', async () => {
    const missing = await skepsis(['--bin', join(store, 'no-such-node'), '--workload', 'lin-kv']);
    expect(missing.exitCode).toBe(254);
    expect(missing.stderr).toMatch(/--bin .*no-such-node: no such file/);
    const notExecutable = await skepsis(['--bin', fixture('node-lib.cjs'), '--workload', 'lin-kv']);
    expect(notExecutable.exitCode).toBe(254);
    expect(notExecutable.stderr).toMatch(/not executable/);
    const noBin = await skepsis(['--workload', 'lin-kv']);
    expect(noBin.exitCode).toBe(254);
    expect(noBin.stderr).toMatch(/needs --bin PATH/);
    const proxy = await skepsis(['--bin', fixture('echo.cjs'), '--workload', 'echo', '--net', 'proxy']);
    expect(proxy.exitCode).toBe(254);
    expect(proxy.stderr).toMatch(/its own network \(--net router/);
    const kvWorkload = await skepsis(['--bin', fixture('echo.cjs'), '--workload', 'kv']);
    expect(kvWorkload.exitCode).toBe(254);
    expect(kvWorkload.stderr).toMatch(/runs --workload lin-kv, g-set/);
    const otherDb = await execa(process.execPath, [skepsisBin(), 'test', '--workload', 'g-set', '--store', store], { reject: false });
    expect(otherDb.exitCode).toBe(254);
    expect(otherDb.stderr).toMatch(/--workload g-set sends Maelstrom messages; it runs on --db maelstrom, not --db skepsis/);
  });

  it('fails setup with 254 and the stderr tail when a node never answers init, leaving nothing running', async () => {
    const result = await skepsis(['--bin', fixture('silent.cjs'), '--workload', 'echo', '--nodes', '2', '--time-limit', '2']);
    expect(result.exitCode, result.stderr).toBe(254);
    expect(result.stderr).toMatch(/node n1 did not start: no init_ok within 10000 ms/);
    expect(result.stderr).toMatch(/silent node: reading stdin and answering nothing/);
    expect(await fixturesAlive()).toEqual([]);
  });

  it('leaves no node process behind after the runs', async () => {
    expect(await fixturesAlive()).toEqual([]);
  });
});
