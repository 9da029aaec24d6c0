// etcd as a target, for real (Debian's etcd-server; .ci/run installs it): partitions on network
// hosts really isolate (an isolated leader can neither commit nor serve a linearizable read, the
// majority elects another, a serializable read on the isolated side is stale, a one-way cut of the
// leader's outbound traffic deposes it), and a short `skepsis test --db etcd` run under partitions,
// kills and pauses is judged valid and names the target and its version. Needs root for --net hosts.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRunNetwork, type RunNetwork } from '../../src/harness/network.js';
import { runTest } from '../../src/harness/run-test.js';
import type { TestResults } from '../../src/harness/results.js';
import { Random } from '../../src/raft/random.js';
import { etcdTarget } from '../../src/targets/etcd/target.js';
import { parseTargetOptions, type TargetCluster } from '../../src/targets/types.js';
import { parseWorkloadOptions } from '../../workloads/index.js';

const root = mkdtempSync(join(tmpdir(), 'skepsis-etcd-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ids = ['n1', 'n2', 'n3'];
const timing = { attemptTimeoutMs: 1000, deadlineMs: 3000 };

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Three etcd members on network hosts, started; `body` runs with them, and everything is removed after. */
async function withEtcd(
  name: string,
  dbOpts: string[],
  body: (cluster: TargetCluster, network: RunNetwork) => Promise<void>,
): Promise<void> {
  let network: RunNetwork | undefined;
  let cluster: TargetCluster | undefined;
  try {
    network = await createRunNetwork({ net: 'hosts', ids, proxyPeers: false, random: new Random(1) });
    cluster = await etcdTarget.prepare({
      ids,
      dir: join(root, name),
      addressing: network.addressing,
      seed: 1,
      options: parseTargetOptions(etcdTarget, dbOpts),
      unsafeBugs: [],
      nodeArgs: [],
      runId: name,
      log: () => {},
    });
    await cluster.start();
    await body(cluster, network);
  } finally {
    await cluster?.kill();
    await network?.close();
  }
}

describe('etcd on network hosts', () => {
  it('reports its version, or says how to install it', () => {
    expect(etcdTarget.validate(parseTargetOptions(etcdTarget, []), { unsafeBugs: [], nodeArgs: [] }).version).toMatch(/^3\.\d+\.\d+/);
    expect(() => etcdTarget.validate(parseTargetOptions(etcdTarget, ['etcd-bin=/no/such/etcd']), { unsafeBugs: [], nodeArgs: [] })).toThrow(
      /apt-get install -y etcd-server.*--db-opt etcd-bin=PATH/,
    );
  });

  it('an isolated leader cannot commit or read linearizably; the majority elects another; one-way cuts depose', async () => {
    await withEtcd('isolation', [], async (cluster, network) => {
      const leader = await cluster.waitForLeader({ timeoutMs: 20_000 });
      expect(leader).toBeDefined();
      const onLeader = cluster.client(0, leader!, timing);
      expect(await onLeader.put('k', 'v1')).toEqual({ type: 'ok' });

      network.net.isolate(leader!);
      expect((await onLeader.put('k', 'v2')).type).toBe('info');
      expect((await onLeader.get('k')).type).toBe('info');
      const next = await until('a new leader on the majority side', 20_000, async () => {
        const id = await cluster!.db.leader!();
        return id !== undefined && id !== leader ? id : undefined;
      });
      const onNext = cluster.client(1, next, timing);
      expect(await onNext.put('k', 'v3')).toEqual({ type: 'ok' });
      expect(await onNext.get('k')).toEqual({ type: 'ok', value: 'v3' });

      network.net.heal();
      expect(
        await until('the old leader to catch up', 20_000, async () => {
          const reply = await onLeader.get('k');
          return reply.type === 'ok' && reply.value === 'v3' ? reply : undefined;
        }),
      ).toEqual({ type: 'ok', value: 'v3' });

      // One way: nothing the current leader sends reaches the others; they elect someone else.
      const current = await until('a leader after the heal', 20_000, () => cluster!.db.leader!());
      network.net.cut(ids.filter((id) => id !== current).map((id) => [current, id] as const));
      const deposedBy = await until('a leader other than the one cut one way', 20_000, async () => {
        const id = await cluster!.db.leader!();
        return id !== undefined && id !== current ? id : undefined;
      });
      expect(deposedBy).not.toBe(current);
      network.net.heal();
      for (const client of [onLeader, onNext]) await client.close?.();
    });
  }, 120_000);

  it('serializable reads on an isolated member are stale', async () => {
    await withEtcd('serializable', ['serializable-reads=true'], async (cluster, network) => {
      const leader = (await cluster.waitForLeader({ timeoutMs: 20_000 }))!;
      const follower = ids.find((id) => id !== leader)!;
      const onFollower = cluster.client(0, follower, timing);
      const onLeader = cluster.client(1, leader, timing);
      expect(await onLeader.put('k', 'old')).toEqual({ type: 'ok' });
      await until('the follower to see the first write', 10_000, async () => {
        const reply = await onFollower.get('k');
        return reply.type === 'ok' && reply.value === 'old' ? reply : undefined;
      });
      network.net.isolate(follower);
      expect(await onLeader.put('k', 'new')).toEqual({ type: 'ok' });
      expect(await onFollower.get('k')).toEqual({ type: 'ok', value: 'old' });
      await onFollower.close?.();
      await onLeader.close?.();
    });
  }, 120_000);

  it('skepsis test --db etcd under partitions, kills and pauses: valid, with the target named', async () => {
    const { version } = etcdTarget.validate(parseTargetOptions(etcdTarget, []), { unsafeBugs: [], nodeArgs: [] });
    const store = join(root, 'store');
    const outcome = await runTest({
      store,
      config: {
        name: 'etcd-ci',
        workload: 'register',
        workloadOptions: parseWorkloadOptions('register', {}),
        nemesis: 'partition:isolate-leader,kill,pause',
        nemesisIntervalMs: 2000,
        nodes: 3,
        concurrency: 6,
        timeLimitMs: 12_000,
        seed: 7,
        unsafeBugs: [],
        nodeArgs: [],
        db: 'etcd',
        dbOptions: parseTargetOptions(etcdTarget, []),
        dbVersion: version,
        net: 'hosts',
        opTimeoutMs: 3000,
        checkTimeoutMs: 60_000,
        command: 'etcd-target.test.ts',
      },
    });
    const results = JSON.parse(readFileSync(join(outcome.dir, 'results.json'), 'utf8')) as TestResults;
    expect(results.problems).toEqual([]);
    expect(results.valid, `seed 7; store ${outcome.dir}`).toBe(true);
    expect(results.stats.ok).toBeGreaterThan(50);
    expect(results.faults.length).toBeGreaterThan(0);
    expect(results.test.db).toBe('etcd');
    expect(results.nodeLogs.skipped).toMatch(/etcd writes no SAFETY VIOLATION/);
    expect(readFileSync(join(outcome.dir, 'report.html'), 'utf8')).toContain(`etcd ${version}`);
    expect(results.test.dbVersion).toMatch(/^3\.\d+\.\d+$/);
  }, 180_000);
});
