// `npm run bench:kv [-- --vs etcd]`: 3 nodes on loopback with fsync on. Puts and linearizable gets
// at several concurrencies (ops/s, p50, p99), leader SIGKILL to the first successful write, and RSS
// per node, and CPU per operation. With --vs etcd the same load runs against a 3-member etcd (Debian's
// etcd-server, installed with apt when absent) in the same script: both run side by side, every load
// point alternates between them for --rounds rounds, and the ratios of the medians are printed.
// A benchmark, not a test.

import { execa, type ResultPromise } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KvClient } from '../../src/client/kv-client.js';
import { waitForLeader } from '../../src/targets/skepsis/db.js';
import { freePorts } from '../../src/harness/launcher.js';
import { startLocalCluster, type LocalCluster } from '../../src/targets/skepsis/local-cluster.js';

const { values: flags } = parseArgs({
  options: {
    vs: { type: 'string' },
    'duration-ms': { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '1,16,64' },
    'failover-runs': { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
  },
});
const durationMs = Number(flags['duration-ms']);
const concurrencies = flags.concurrency!.split(',').map(Number);
const failoverRuns = Number(flags['failover-runs']);
const rounds = Number(flags.rounds);
for (const [flag, value] of [
  ['--duration-ms', durationMs],
  ['--failover-runs', failoverRuns],
  ['--rounds', rounds],
] as const) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a positive integer, got "${String(value)}"`);
}
if (concurrencies.some((c) => !Number.isInteger(c) || c < 1))
  throw new Error(`--concurrency must be positive integers, got "${flags.concurrency}"`);
if (flags.vs !== undefined && flags.vs !== 'etcd') throw new Error(`--vs must be "etcd", got "${flags.vs}"`);

/** One store under test: how to write, read, find and kill its leader, and its processes. */
interface Target {
  name: string;
  /** A worker's operations; each worker has its own session. */
  worker(): { put(key: string, value: string): Promise<boolean>; get(key: string): Promise<boolean>; close(): void };
  killLeader(): Promise<void>;
  restartAll(): Promise<void>;
  pids(): number[];
  stop(): Promise<void>;
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** CPU time (user + system) a process has used, in ms, from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks (USER_HZ = 100)
}

interface Row {
  opsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU ms per operation: the store's processes summed, and this (client) process. */
  serverCpuMs: number;
  clientCpuMs: number;
}

async function load(target: Target, kind: 'put' | 'get', concurrency: number): Promise<Row> {
  const workers = Array.from({ length: concurrency }, () => target.worker());
  const latencies: number[] = [];
  let errors = 0;
  const pids = target.pids();
  const serverBefore = pids.map(cpuMs);
  const clientBefore = process.cpuUsage();
  const end = performance.now() + durationMs;
  await Promise.all(
    workers.map(async (worker, w) => {
      let i = 0;
      while (performance.now() < end) {
        const key = `bench-${w}-${i % 100}`;
        const start = performance.now();
        const ok = kind === 'put' ? await worker.put(key, `value-${i}`) : await worker.get(`bench-${w}-${i % 10}`);
        if (ok) latencies.push(performance.now() - start);
        else errors++;
        i++;
      }
    }),
  );
  const client = process.cpuUsage(clientBefore);
  const serverMs = pids.reduce((sum, pid, i) => sum + cpuMs(pid) - serverBefore[i], 0);
  for (const worker of workers) worker.close();
  latencies.sort((a, b) => a - b);
  const done = Math.max(1, latencies.length);
  return {
    opsPerSec: (latencies.length / durationMs) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    serverCpuMs: serverMs / done,
    clientCpuMs: (client.user + client.system) / 1000 / done,
  };
}

async function failover(target: Target): Promise<number> {
  const worker = target.worker();
  for (let i = 0; i < 5; i++) await worker.put('failover', `warm-${i}`);
  const killedAt = performance.now();
  await target.killLeader();
  let i = 0;
  while (!(await worker.put('failover', `after-${i++}`))) {
    if (performance.now() - killedAt > 30_000) break;
  }
  const elapsed = performance.now() - killedAt;
  worker.close();
  await target.restartAll();
  return elapsed;
}

// ---- Skepsis ----------------------------------------------------------------------------------

async function skepsisTarget(dir: string): Promise<Target> {
  const cluster: LocalCluster = await startLocalCluster({ nodes: 3, dir });
  const probe = new KvClient({ nodes: cluster.clientUrls, deadlineMs: 20_000 });
  await probe.put('warmup', 'x');
  probe.close();
  const leader = async (): Promise<string> => {
    const id = await waitForLeader(cluster, { timeoutMs: 30_000 });
    if (id === undefined) throw new Error('no skepsis leader within 30 s');
    return id;
  };
  return {
    name: 'skepsis',
    worker() {
      // Short attempts so failover is measured, not the client's patience.
      const client = new KvClient({
        nodes: cluster.clientUrls,
        attemptTimeoutMs: 300,
        deadlineMs: 2000,
        retryDelayMinMs: 5,
        retryDelayMaxMs: 20,
      });
      return {
        put: async (key, value) => (await client.put(key, value)).type === 'ok',
        get: async (key) => (await client.get(key)).type === 'ok',
        close: () => client.close(),
      };
    },
    async killLeader() {
      await cluster.nodes.get(await leader())!.kill();
    },
    async restartAll() {
      for (const node of cluster.nodes.values()) if (!node.running) await node.start();
      await leader();
    },
    pids: () => [...cluster.nodes.values()].map((node) => node.pid!),
    stop: () => cluster.stop(),
  };
}

// ---- etcd --------------------------------------------------------------------------------------

async function ensureEtcd(): Promise<void> {
  if (existsSync('/usr/bin/etcd')) return;
  process.stderr.write('etcd not found: installing Debian etcd-server with apt-get\n');
  await execa('apt-get', ['update', '-qq']);
  await execa('apt-get', ['install', '-y', '-qq', 'etcd-server'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

async function etcdTarget(dir: string): Promise<Target> {
  await ensureEtcd();
  const ports = await freePorts(6);
  const names = ['e1', 'e2', 'e3'];
  const clientUrl = (i: number) => `http://127.0.0.1:${ports[i]}`;
  const peerUrl = (i: number) => `http://127.0.0.1:${ports[3 + i]}`;
  const initialCluster = names.map((name, i) => `${name}=${peerUrl(i)}`).join(',');
  const processes: (ResultPromise | undefined)[] = [undefined, undefined, undefined];
  const start = (i: number, state: 'new' | 'existing') => {
    processes[i] = execa(
      '/usr/bin/etcd',
      [
        `--name=${names[i]}`,
        `--data-dir=${join(dir, names[i])}`,
        `--listen-client-urls=${clientUrl(i)}`,
        `--advertise-client-urls=${clientUrl(i)}`,
        `--listen-peer-urls=${peerUrl(i)}`,
        `--initial-advertise-peer-urls=${peerUrl(i)}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-state=${state}`,
        '--log-level=error',
      ],
      { reject: false, cleanup: true, stdout: 'ignore', stderr: 'ignore' },
    );
  };
  names.forEach((_, i) => start(i, 'new'));
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const call = (i: number, path: string, body: unknown, timeoutMs = 2000): Promise<Record<string, unknown> | undefined> =>
    new Promise((resolve) => {
      const payload = JSON.stringify(body);
      const req = request(
        `${clientUrl(i)}${path}`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            if (response.statusCode !== 200) return resolve(undefined);
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
            } catch {
              resolve(undefined);
            }
          });
          response.on('error', () => resolve(undefined));
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy());
      req.on('error', () => resolve(undefined));
      req.end(payload);
    });
  const leaderIndex = async (): Promise<number> => {
    for (;;) {
      for (let i = 0; i < 3; i++) {
        if (processes[i] === undefined) continue;
        const status = await call(i, '/v3/maintenance/status', {}, 500);
        const header = status?.header as { member_id?: string } | undefined;
        if (status && header?.member_id !== undefined && status.leader === header.member_id) return i;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  let leader = await leaderIndex();
  return {
    name: 'etcd',
    worker() {
      // etcd forwards to its leader; like our client, each worker talks to the leader and moves on failure.
      let target = leader;
      const step = (ok: boolean) => {
        if (!ok) target = (target + 1) % 3;
        return ok;
      };
      return {
        put: async (key, value) => step((await call(target, '/v3/kv/put', { key: b64(key), value: b64(value) }, 300)) !== undefined),
        get: async (key) => step((await call(target, '/v3/kv/range', { key: b64(key) }, 300)) !== undefined),
        close: () => {},
      };
    },
    async killLeader() {
      const i = await leaderIndex();
      processes[i]!.kill('SIGKILL');
      await processes[i];
      processes[i] = undefined;
    },
    async restartAll() {
      for (let i = 0; i < 3; i++) if (processes[i] === undefined) start(i, 'existing');
      leader = await leaderIndex();
    },
    pids: () => processes.map((p) => p!.pid!),
    async stop() {
      for (const p of processes) p?.kill('SIGKILL');
      await Promise.all(processes.map((p) => p));
      agent.destroy();
    },
  };
}

// ---- main ----------------------------------------------------------------------------------------

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Medians over rounds of one load point. */
function medianRow(rows: Row[]): Row {
  const pick = (field: keyof Row) => median(rows.map((row) => row[field]));
  return {
    opsPerSec: pick('opsPerSec'),
    p50: pick('p50'),
    p99: pick('p99'),
    errors: rows.reduce((sum, row) => sum + row.errors, 0),
    serverCpuMs: pick('serverCpuMs'),
    clientCpuMs: pick('clientCpuMs'),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'skepsis-bench-kv-'));
  const targets: Target[] = [];
  const points = (['put', 'get'] as const).flatMap((kind) => concurrencies.map((concurrency) => ({ kind, concurrency })));
  const samples = new Map<string, Row[]>();
  const rss = new Map<string, { fresh: number[]; after: number[] }>();
  const failovers = new Map<string, number[]>();
  try {
    // Both stores run side by side; every load point alternates between them, round after round,
    // so a noisy neighbour on a shared machine hits both alike. Ratios are of the medians.
    targets.push(await skepsisTarget(join(dir, 'skepsis')));
    if (flags.vs === 'etcd') targets.push(await etcdTarget(join(dir, 'etcd')));
    for (const target of targets) rss.set(target.name, { fresh: target.pids().map(rssMb), after: [] });
    for (let round = 0; round < rounds; round++) {
      for (const { kind, concurrency } of points) {
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const target of order) {
          const row = await load(target, kind, concurrency);
          const key = `${target.name} ${kind} c=${concurrency}`;
          samples.set(key, [...(samples.get(key) ?? []), row]);
          process.stderr.write(
            `round ${round + 1}/${rounds} ${key}: ${row.opsPerSec.toFixed(0)} ops/s p50 ${row.p50.toFixed(2)} ms p99 ${row.p99.toFixed(2)} ms, ` +
              `cpu/op server ${row.serverCpuMs.toFixed(2)} ms client ${row.clientCpuMs.toFixed(2)} ms\n`,
          );
        }
      }
    }
    for (const target of targets) {
      rss.get(target.name)!.after = target.pids().map(rssMb);
      const runs: number[] = [];
      for (let run = 0; run < failoverRuns; run++) runs.push(await failover(target));
      failovers.set(target.name, runs);
    }
  } finally {
    for (const target of targets) await target.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const names = targets.map((target) => target.name);
  console.log(`\nbench:kv — 3 nodes on loopback, fsync on, ${durationMs} ms per point, median of ${rounds} interleaved round(s)`);
  console.log(
    ['load'.padEnd(10), ...names.map((n) => `${n} ops/s  p50 ms  p99 ms  cpu/op`.padEnd(40)), names.length > 1 ? 'ratio' : ''].join(' '),
  );
  for (const { kind, concurrency } of points) {
    const point = `${kind} c=${concurrency}`;
    const rows = names.map((name) => medianRow(samples.get(`${name} ${point}`)!));
    const cells = rows.map((row) =>
      `${row.opsPerSec.toFixed(0).padStart(8)}  ${row.p50.toFixed(2).padStart(6)}  ${row.p99.toFixed(2).padStart(6)}  ${row.serverCpuMs.toFixed(2).padStart(6)}`.padEnd(
        40,
      ),
    );
    const ratio = rows.length > 1 ? `${(rows[0].opsPerSec / rows[1].opsPerSec).toFixed(2)}x` : '';
    console.log([point.padEnd(10), ...cells, ratio].join(' '));
  }
  console.log('(cpu/op: CPU ms per completed operation, the three server processes summed)');
  for (const name of names) {
    const runs = failovers.get(name)!;
    const { fresh, after } = rss.get(name)!;
    console.log(
      `${name}: failover (leader SIGKILL -> first successful write) median ${median(runs).toFixed(0)} ms of [${runs.map((v) => v.toFixed(0)).join(', ')}]; ` +
        `RSS fresh ${fresh.map((v) => v.toFixed(0)).join('/')} MB, after load ${after.map((v) => v.toFixed(0)).join('/')} MB`,
    );
  }
}

await main();
