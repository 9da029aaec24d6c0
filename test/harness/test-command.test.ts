// `skepsis test` end to end through the real binary: a correct cluster under faults is judged valid
// and leaves a complete store folder; known bug classes are reported; bad usage and a node that
// cannot start exit 254 and leave no process behind.

import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skepsisBin } from '../../src/harness/launcher.js';
import { BUG_HUNTS } from '../soak/hunts.js';

const store = mkdtempSync(join(tmpdir(), 'skepsis-test-cmd-'));
afterAll(() => rmSync(store, { recursive: true, force: true }));

function skepsis(args: string[], timeoutMs = 180_000) {
  return execa(process.execPath, [skepsisBin(), ...args], { reject: false, timeout: timeoutMs, env: { ...process.env, FORCE_COLOR: '0' } });
}

/** Node processes started from this store (by their --data-dir), to prove none is left behind. */
async function nodesAlive(): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid,args'], { reject: false });
  return stdout.split('\n').filter((line) => line.includes(' node ') && line.includes(store));
}

describe('skepsis test', () => {
  it('judges a correct 3-node cluster under partitions and kills valid, and writes the store folder', async () => {
    const result = await skepsis([
      'test',
      '--nodes',
      '3',
      '--workload',
      'register',
      '--nemesis',
      'partition,kill',
      '--nemesis-interval',
      '2',
      '--time-limit',
      '12',
      '--seed',
      '42',
      '--store',
      store,
      '--name',
      'correct-register',
    ]);
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/verdict: valid/);
    expect(result.stderr).toMatch(/\[\d+\/12 s\] \d+ ops\/s ok \d+ fail \d+ info \d+/);
    const latest = join(store, 'correct-register', 'latest');
    const dir = join(store, 'correct-register', readlinkSync(latest));
    for (const file of ['test.json', 'history.jsonl', 'results.json', 'report.html', 'nodes/n1.log', 'nodes/n3.log']) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    const config = JSON.parse(readFileSync(join(dir, 'test.json'), 'utf8'));
    expect(config).toMatchObject({ seed: 42, nodes: 3, workload: 'register', nemesis: 'partition,kill' });
    expect(config.command).toContain('--seed 42');
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(results.valid).toBe(true);
    expect(results.stats.ok).toBeGreaterThan(50);
    expect(results.faults.length).toBeGreaterThan(0);
    // The proxies carried the traffic and counted the partitions' cuts.
    expect(results.links.peer.links).toBe(6);
    expect(results.links.peer.frames).toBeGreaterThan(100);
    expect(results.links.client.connectionsAccepted).toBeGreaterThan(0);
    // Re-checking the stored run gives the same verdict and keeps what only the run knew.
    const analyzed = await skepsis(['analyze', latest]);
    expect(analyzed.exitCode, analyzed.stderr).toBe(0);
    expect(analyzed.stdout).toMatch(/verdict: valid/);
    const rechecked = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    for (const fact of ['nodeExits', 'links', 'elapsedMs', 'interrupted', 'problems']) expect(rechecked[fact], fact).toEqual(results[fact]);
    expect(await nodesAlive()).toEqual([]);
  });

  // Each documented bug command must be reported; real processes are not bit-for-bit
  // reproducible, so several seeds are tried and one detection suffices here (npm run soak
  // measures the rate). vote-twice was found in 7 of 8 seeds at 20 s, so missing all five is
  // unlikely (about 1 in 30 000 at that rate). commit-prior-term, found through the node-log check
  // in about 3 of 4 seeds, gets 8 seeds (missing all 8 at that rate: under 1 in 10 000). no-dedup,
  // under client connections that break, was found in every run of 15 s (50 to 90 duplicates each).
  const seedsFor = (name: string) => (name === 'commit-prior-term' ? 8 : 5);
  it(
    'judges the correct node valid under the no-dedup command: retried writes after lost replies apply once',
    { timeout: 300_000 },
    async () => {
      const hunt = BUG_HUNTS.find((h) => h.name === 'no-dedup')!;
      const args = hunt.args.filter((arg, i, all) => arg !== '--unsafe-bug' && all[i - 1] !== '--unsafe-bug');
      const result = await skepsis([
        'test',
        ...args,
        '--time-limit',
        '12',
        '--seed',
        '3',
        '--store',
        store,
        '--name',
        'correct-dedup',
        '--quiet',
      ]);
      expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(/verdict: valid/);
      const dir = join(store, 'correct-dedup', readlinkSync(join(store, 'correct-dedup', 'latest')));
      const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
      // The fault bit: the proxies broke client connections (so clients retried), and the set check ran.
      expect(results.links.client.connectionsBroken).toBeGreaterThan(5);
      expect(results.workloadCheck.summary).toMatch(/0 lost, 0 duplicated/);
      // The workload's name once, as its check says it.
      expect(results.summary).toContainEqual(expect.stringMatching(/^set: valid: /));
      expect(result.stdout).toMatch(/^set: valid: /m);
      expect(result.stdout).not.toMatch(/set: set:/);
      expect(await nodesAlive()).toEqual([]);
    },
  );

  for (const hunt of BUG_HUNTS) {
    it(`reports the ${hunt.name} bug`, { timeout: 900_000 }, async () => {
      const outputs: string[] = [];
      const seeds = seedsFor(hunt.name);
      for (let seed = 1; seed <= seeds; seed++) {
        const result = await skepsis(['test', ...hunt.args, '--time-limit', '15', '--seed', String(seed), '--store', store, '--quiet']);
        outputs.push(`seed ${seed}: exit ${result.exitCode}\n${result.stdout.slice(-600)}`);
        expect([0, 1, 2], result.stderr).toContain(result.exitCode);
        if (result.exitCode === 1) {
          expect(result.stdout).toMatch(/verdict: INVALID/);
          return;
        }
      }
      throw new Error(`the ${hunt.name} bug was not reported in ${seeds} seeds:\n${outputs.join('\n')}`);
    });
  }

  it('on Ctrl-C heals, stops every node, checks what was recorded and leaves no process behind', async () => {
    const child = execa(
      process.execPath,
      [
        skepsisBin(),
        'test',
        '--nodes',
        '3',
        '--nemesis',
        'kill,partition',
        '--nemesis-interval',
        '1',
        '--time-limit',
        '120',
        '--store',
        store,
        '--name',
        'interrupted',
        '--seed',
        '5',
      ],
      { reject: false, timeout: 120_000 },
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no progress line within 40 s')), 40_000);
      child.stderr!.on('data', (chunk: Buffer) => {
        if (/\[\d+\/120 s\]/.test(chunk.toString())) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    child.kill('SIGINT');
    const result = await child;
    expect(result.stderr).toMatch(/interrupted; healing/);
    expect([0, 2]).toContain(result.exitCode);
    expect(result.stdout).toMatch(/interrupted before the time limit/);
    const results = JSON.parse(readFileSync(join(store, 'interrupted', 'latest', 'results.json'), 'utf8'));
    expect(results.interrupted).toBe(true);
    expect(results.stats.operations).toBeGreaterThan(0);
    expect(await nodesAlive()).toEqual([]);
  });

  it('passes every --node-arg given (repeated array flags collect, they do not keep only the last)', async () => {
    // Together these two are invalid (the heartbeat must be below the election timeout); either alone is fine.
    const result = await skepsis([
      'test',
      '--nodes',
      '3',
      '--time-limit',
      '1',
      '--store',
      store,
      '--name',
      'node-args',
      '--node-arg=--election-timeout-ms=50',
      '--node-arg=--heartbeat-interval-ms=60',
    ]);
    expect(result.exitCode, result.stderr).toBe(254);
    expect(result.stderr).toMatch(/--heartbeat-interval-ms \(60\) must be below --election-timeout-ms \(50\)/);
    expect(await nodesAlive()).toEqual([]);
  });

  it('refuses bad flags with exit 254, naming the flag and the allowed values, and starts nothing', async () => {
    const workload = await skepsis(['test', '--workload', 'bank', '--store', store]);
    expect(workload.exitCode).toBe(254);
    expect(workload.stderr).toMatch(/workload/);
    expect(workload.stderr).toMatch(/register/);
    const nemesis = await skepsis(['test', '--nemesis', 'partition:sideways', '--store', store]);
    expect(nemesis.exitCode).toBe(254);
    expect(nemesis.stderr).toMatch(/sideways/);
    expect(nemesis.stderr).toMatch(/halves/);
    const nodes = await skepsis(['test', '--nodes', '0', '--store', store]);
    expect(nodes.exitCode).toBe(254);
    expect(nodes.stderr).toMatch(/--nodes must be an integer from 1 to 15, got 0/);
    const unknown = await skepsis(['test', '--bogus-flag', '1', '--store', store]);
    expect(unknown.exitCode).toBe(254);
    expect(unknown.stderr).toMatch(/bogus-flag/);
    const bug = await skepsis(['test', '--unsafe-bug', 'everything', '--store', store]);
    expect(bug.exitCode).toBe(254);
    expect(bug.stderr).toMatch(/stale-read/);
    expect(await nodesAlive()).toEqual([]);
  });

  it('refuses a target, net or fault that cannot work, naming it and what to use, before anything starts', async () => {
    const refusals: [string[], RegExp][] = [
      [['--db', 'mongo'], /--db must be one of skepsis, etcd, maelstrom, command, got "mongo"/],
      [['--net', 'wifi'], /--net must be one of proxy, hosts, direct, router, got "wifi"/],
      [['--net', 'router'], /--net router is for targets whose messages the harness routes \(maelstrom\)/],
      [['--db', 'etcd', '--db-opt', 'etcd-bin=/no/such/etcd'], /apt-get install -y etcd-server.*--db-opt etcd-bin=PATH/],
      [['--db', 'etcd', '--db-opt', 'colour=blue'], /--db-opt colour: target etcd takes etcd-bin, serializable-reads/],
      [['--db', 'etcd', '--db-opt', 'serializable-reads=maybe'], /serializable-reads for target etcd must be true or false/],
      [['--db', 'etcd', '--nemesis', 'disk'], /disk:random needs log damage, which target etcd does not offer/],
      [
        ['--db', 'etcd', '--net', 'proxy', '--nemesis', 'partition'],
        /partition:random needs cuts between nodes, which --net proxy cannot do for target etcd: .*use --net hosts/,
      ],
      [['--db', 'etcd', '--unsafe-bug', 'stale-read'], /--unsafe-bug plants bugs in our own node only/],
      [['--net', 'hosts', '--nemesis', 'flaky'], /flaky:both needs delay and loss on peer links, which --net hosts cannot do.*no netem/],
      [['--no-proxy', '--nemesis', 'partition'], /which --net direct cannot do/],
    ];
    for (const [args, message] of refusals) {
      const result = await skepsis(['test', ...args, '--time-limit', '1', '--store', store]);
      expect(result.exitCode, args.join(' ')).toBe(254);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    expect(await nodesAlive()).toEqual([]);
  });

  it('runs our node on network hosts (--net hosts) under partitions and kills: valid, and no namespace outlives the run', async () => {
    const result = await skepsis([
      'test',
      '--net',
      'hosts',
      '--nodes',
      '3',
      '--workload',
      'register',
      '--nemesis',
      'partition:isolate-leader,partition:one-way,kill',
      '--nemesis-interval',
      '2',
      '--time-limit',
      '10',
      '--seed',
      '5',
      '--store',
      store,
      '--name',
      'hosts-run',
    ]);
    expect(result.exitCode, `${result.stdout}\n${result.stderr.slice(-3000)}\nreplay: npx skepsis test --net hosts ... --seed 5`).toBe(0);
    const run = join(store, 'hosts-run', readlinkSync(join(store, 'hosts-run', 'latest')));
    const config = JSON.parse(readFileSync(join(run, 'test.json'), 'utf8'));
    expect(config.net).toBe('hosts');
    const history = readFileSync(join(run, 'history.jsonl'), 'utf8');
    expect(history).toMatch(/"f":"start-(partition|kill)"/);
    // Other tests may run hosts of their own meanwhile: look for this run's, named by its run id.
    const runId = /bridge sk([0-9a-f]{6})/.exec(result.stderr)?.[1];
    expect(runId, result.stderr.slice(0, 2000)).toBeDefined();
    const namespaces = (await execa('ip', ['netns', 'list'], { reject: false })).stdout;
    expect(namespaces).not.toContain(`skepsis-${runId}-`);
    expect((await execa('ip', ['-o', 'link', 'show'], { reject: false })).stdout).not.toContain(`sk${runId}`);
    expect(await nodesAlive()).toEqual([]);
  }, 120_000);

  it('stops with the failing node log excerpt and leaves no process behind when a node cannot start', async () => {
    // A node flag that makes every node refuse to start: a data directory that is a file.
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const result = await skepsis([
        'test',
        '--nodes',
        '3',
        '--time-limit',
        '5',
        '--store',
        store,
        '--name',
        'cannot-start',
        '--node-arg=--data-dir=/proc/version/not-a-dir',
      ]);
      expect(result.exitCode, result.stdout).toBe(254);
      expect(result.stderr).toMatch(/could not start/);
      expect(result.stderr).toMatch(/last lines of its log/);
      expect(result.stderr).toMatch(/not-a-dir/);
    } finally {
      blocker.close();
    }
    expect(await nodesAlive()).toEqual([]);
  });
});
