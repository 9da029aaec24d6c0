// `--db command --db-spec FILE` end to end through the real binary (run `npm run build` first): our
// own node described as a command target is judged valid under partitions and kills, on --net proxy
// and on --net hosts (root, as in CI); a cluster the harness did not start (endpoints) is tested with
// the user's own fault commands; bad specs, refused faults and a store that does not start exit 254
// with the field or the node's log, and leave no process behind.

import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts, skepsisBin } from '../../src/harness/launcher.js';
import { startLinkProxies } from '../../src/harness/proxies.js';
import { Random } from '../../src/raft/random.js';
import { prepareLocalCluster, startAll } from '../../src/targets/skepsis/local-cluster.js';

const root = mkdtempSync(join(tmpdir(), 'skepsis-command-'));
const store = join(root, 'store');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const faultCtl = fileURLToPath(new URL('../fixtures/command/fault-ctl.mjs', import.meta.url));

function skepsis(args: string[], timeoutMs = 120_000) {
  return execa(process.execPath, [skepsisBin(), ...args], { reject: false, timeout: timeoutMs, env: { ...process.env, FORCE_COLOR: '0' } });
}

/** Processes whose command line contains `marker` (a path under this test's folder), to prove none is left behind. */
async function processesWith(marker: string): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid,args'], { reject: false });
  return stdout.split('\n').filter((line) => line.includes(marker) && !line.includes('ps -eo'));
}

function writeSpec(name: string, spec: unknown): string {
  const file = join(root, name);
  writeFileSync(file, `${JSON.stringify(spec, null, 2)}\n`);
  return file;
}

/** Our own node as a store described by a spec (as examples/skepsis-node.spec.json, with absolute paths). */
function ourNodeSpec(extra: Record<string, unknown> = {}) {
  return {
    name: 'our-node',
    start: {
      command: [
        process.execPath,
        skepsisBin(),
        'node',
        '--id',
        '{id}',
        '--data-dir',
        '{dataDir}',
        '--peer-listen',
        '{host}:{peerPort}',
        '--client-listen',
        '{host}:{clientPort}',
        '--peers',
        '{peers}',
        '--seed',
        '{seed}',
      ],
    },
    ready: { http: '/status', status: 200, timeoutMs: 15_000 },
    client: { protocol: 'skepsis-http' },
    leader: 'protocol',
    ...extra,
  };
}

function runDir(name: string): string {
  return join(store, name, readlinkSync(join(store, name, 'latest')));
}

function runArgs(spec: string, name: string, seed: number, extra: string[], nodes = 3): string[] {
  return [
    'test',
    '--db',
    'command',
    '--db-spec',
    spec,
    '--nodes',
    String(nodes),
    '--workload',
    'register',
    '--seed',
    String(seed),
    '--store',
    store,
    '--name',
    name,
    '--quiet',
    ...extra,
  ];
}

/** Runs a test that must pass: exit 0 and a valid results.json; returns its folder, test.json and results.json. */
async function validRun(spec: string, name: string, seed: number, extra: string[], nodes = 3) {
  const result = await skepsis(runArgs(spec, name, seed, extra, nodes));
  expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
  const dir = runDir(name);
  const read = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const results = read('results.json');
  expect(results.valid).toBe(true);
  return { result, dir, config: read('test.json'), results };
}

describe('--db command, the harness starting the nodes', () => {
  it('judges our node described by a spec valid under partitions and kills on --net proxy, and records the spec', async () => {
    const spec = writeSpec('our-node-proxy.json', ourNodeSpec({ peerLinksProxyable: true }));
    const { result, dir, config, results } = await validRun(spec, 'our-node-proxy', 7, [
      '--nemesis',
      'partition,kill',
      '--nemesis-interval',
      '1.5',
      '--time-limit',
      '8',
    ]);
    expect(result.stdout).toMatch(/verdict: valid/);
    expect(config.db).toBe('command');
    expect(config.net).toBe('proxy');
    expect(config.dbSpec.file).toBe(spec);
    expect(config.dbSpec.sha256).toBe(createHash('sha256').update(readFileSync(spec)).digest('hex'));
    expect(config.dbSpec.spec).toEqual(ourNodeSpec({ peerLinksProxyable: true }));
    expect(config.dbVersion).toContain('our-node');
    expect(config.command).toContain(`--db-spec ${spec}`);
    expect(results.stats.ok).toBeGreaterThan(20);
    expect(results.faults.length).toBeGreaterThan(0);
    // Every peer link went through a proxy of its own (peerLinksProxyable), and the node logs are the spec command's output.
    expect(results.links.peer.links).toBe(6);
    expect(readFileSync(join(dir, 'nodes', 'n1.log'), 'utf8')).toContain('"event":"ready"');
    // Re-checking the stored run resolves the target from the recorded spec.
    const analyzed = await skepsis(['analyze', join(store, 'our-node-proxy', 'latest')]);
    expect(analyzed.exitCode, analyzed.stderr).toBe(0);
    expect(await processesWith(store)).toEqual([]);
  });

  it('runs it on --net hosts (the default for a spec without peerLinksProxyable) with partitions, valid', async () => {
    // The leader through the spec's own path and field (what isolate-leader cuts off).
    const spec = writeSpec('our-node-hosts.json', ourNodeSpec({ leader: { path: '/status', field: 'leader', termField: 'term' } }));
    const { config, results } = await validRun(spec, 'our-node-hosts', 8, [
      '--nemesis',
      'partition:isolate-leader,partition:halves',
      '--nemesis-interval',
      '1.5',
      '--time-limit',
      '8',
    ]);
    expect(config.net).toBe('hosts');
    expect(results.faults.some((f: { kind: string }) => f.kind === 'partition')).toBe(true);
    expect(await processesWith(store)).toEqual([]);
  });

  it('tests etcd described by a spec (examples/etcd.spec.json) over the v3 gateway on --net hosts, with leader faults, valid', async () => {
    const spec = fileURLToPath(new URL('../../examples/etcd.spec.json', import.meta.url));
    const { dir, results } = await validRun(spec, 'etcd-spec', 4, [
      '--nemesis',
      'partition:isolate-leader,kill:leader',
      '--nemesis-interval',
      '2',
      '--time-limit',
      '8',
    ]);
    expect(results.stats.ok).toBeGreaterThan(20);
    // The leader was known (etcd's maintenance status), so the faults named it, not a random node.
    const leaderFaults = results.faults.filter((f: { value: unknown }) => JSON.stringify(f.value).includes('leader'));
    expect(leaderFaults.length).toBeGreaterThan(0);
    expect(JSON.stringify(results.faults)).not.toContain('no leader known');
    expect(readFileSync(join(dir, 'nodes', 'n1.log'), 'utf8')).toContain('etcd');
    expect(await processesWith(dir)).toEqual([]);
  });

  it('starts the cluster again on new ports when a node finds its port taken, keeping the first try logs', async () => {
    // n1's first start fails as etcd (Go) does when another process took its port between the
    // harness's choice and its listen; its second start is our node.
    const once = join(root, 'port-taken-once');
    const base = ourNodeSpec({ peerLinksProxyable: true });
    const spec = writeSpec('port-taken.json', {
      ...base,
      start: {
        command: [
          'sh',
          '-c',
          `if [ {id} = n1 ] && [ ! -e ${once} ]; then touch ${once}; echo "listen tcp {host}:{clientPort}: bind: address already in use" >&2; exit 1; fi; exec "$@"`,
          'sh',
          ...base.start.command,
        ],
      },
    });
    const { dir } = await validRun(spec, 'port-taken', 3, ['--net', 'proxy', '--nemesis', 'partition', '--time-limit', '4']);
    expect(readFileSync(join(dir, 'nodes-attempt-1', 'n1.log'), 'utf8')).toContain('address already in use');
    expect(readFileSync(join(dir, 'nodes', 'n1.log'), 'utf8')).not.toContain('address already in use');
    expect(await processesWith(dir)).toEqual([]);
  });

  it('exits 254 with the log of a command that exits at once, and with "not ready" for one that never becomes ready; nothing is left', async () => {
    const exits = writeSpec('exits.json', {
      start: { command: ['sh', '-c', `echo starting {id} on {clientPort}; echo 'fatal: unknown flag --frobnicate' >&2; exit 3`] },
      client: { protocol: 'skepsis-http' },
    });
    const quick = await skepsis(runArgs(exits, 'exits', 1, ['--net', 'proxy', '--nemesis', 'none', '--time-limit', '3']));
    expect(quick.exitCode, `${quick.stdout}\n${quick.stderr}`).toBe(254);
    expect(quick.stderr).toMatch(/node n\d did not start: it exited \(exit 3\) before it was ready/);
    expect(quick.stderr).toContain('fatal: unknown flag --frobnicate');
    expect(quick.stderr).toContain('nothing is left running');
    const marker = join(root, 'never-ready-marker');
    const silent = writeSpec('never-ready.json', {
      start: { command: ['sh', '-c', `exec sleep 120 # ${marker} {id}`] },
      ready: { http: '/health', timeoutMs: 1500 },
      client: { protocol: 'skepsis-http' },
    });
    const hung = await skepsis(runArgs(silent, 'never-ready', 1, ['--net', 'proxy', '--nemesis', 'none', '--time-limit', '3']));
    expect(hung.exitCode, `${hung.stdout}\n${hung.stderr}`).toBe(254);
    expect(hung.stderr).toMatch(/did not start: not ready within 1500 ms/);
    expect(await processesWith(marker)).toEqual([]);
  });

  it('exits 254 naming the file and the field for bad specs, before anything starts', async () => {
    const cases: [string, unknown, string][] = [
      [
        'placeholder.json',
        { start: { command: ['x', '{clientport}'] }, client: { protocol: 'skepsis-http' } },
        'start.command[1]: unknown placeholder {clientport}',
      ],
      ['no-client.json', { start: { command: ['x'] } }, 'client: missing'],
      ['no-command.json', { start: {}, client: { protocol: 'skepsis-http' } }, 'start.command: missing'],
      ['not-json.json', '{"start": ', 'not valid JSON'],
    ];
    for (const [name, spec, message] of cases) {
      const file = join(root, name);
      writeFileSync(file, typeof spec === 'string' ? spec : JSON.stringify(spec));
      const result = await skepsis(runArgs(file, `bad-${name}`, 1, ['--net', 'proxy', '--nemesis', 'none']));
      expect(result.exitCode, result.stderr).toBe(254);
      expect(result.stderr).toContain(`${file}: ${message}`);
      expect(existsSync(join(store, `bad-${name}`))).toBe(false);
    }
    const missing = await skepsis(runArgs(join(root, 'absent.json'), 'absent', 1, []));
    expect(missing.exitCode).toBe(254);
    expect(missing.stderr).toContain(`--db-spec ${join(root, 'absent.json')}: cannot read it`);
    const noSpec = await skepsis(['test', '--db', 'command', '--store', store]);
    expect(noSpec.exitCode).toBe(254);
    expect(noSpec.stderr).toContain('--db command needs --db-spec FILE');
  });
});

/** The test's own cluster of our node, behind its own peer-link proxies, and a control server that is the "user's fault tooling". */
async function runningCluster(dir: string) {
  const ids = ['n1', 'n2', 'n3'];
  const ports = await freePorts(6);
  const peerPorts = new Map(ids.map((id, i) => [id, ports[i]]));
  const clientPorts = new Map(ids.map((id, i) => [id, ports[3 + i]]));
  const proxies = await startLinkProxies(ids, peerPorts, undefined, new Random(5));
  const cluster = await prepareLocalCluster({
    nodes: 3,
    dir,
    peerPorts,
    clientPorts,
    advertisedPeerPort: (from, to) => proxies.peerPort(from, to),
  });
  const calls: string[] = [];
  const server: Server = createServer((request, response) => {
    const [, action, a, b] = (request.url ?? '').split('/');
    const node = cluster.nodes.get(a);
    const act = async () => {
      if (action === 'partition') proxies.net.cut([[a, b]]);
      else if (action === 'heal') proxies.net.uncut([[a, b]]);
      else if (node === undefined) throw new Error(`unknown node ${a}`);
      else if (action === 'kill') await node.kill();
      else if (action === 'start') await node.start();
      else if (action === 'pause') node.pause();
      else if (action === 'resume') node.resume();
      else throw new Error(`unknown action ${action}`);
    };
    act().then(
      () => {
        calls.push(`${action} ${a}${b ? ` ${b}` : ''}`);
        response.end('ok');
      },
      (error: Error) => {
        response.statusCode = 500;
        response.end(error.message);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    ids,
    clientPorts,
    cluster,
    calls,
    controlPort: (server.address() as AddressInfo).port,
    start: () => startAll(cluster),
    async close() {
      await cluster.kill();
      await proxies.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('--db command, a cluster that already runs (endpoints)', () => {
  it('runs clients only and injects faults through the spec commands; valid, and the cluster is whole afterwards', async () => {
    const dir = join(root, 'running');
    mkdirSync(dir, { recursive: true });
    const running = await runningCluster(dir);
    try {
      await running.start();
      const ctl = `${JSON.stringify(process.execPath)} ${JSON.stringify(faultCtl)} ${running.controlPort}`;
      const spec = writeSpec('running.json', {
        name: 'running-cluster',
        endpoints: Object.fromEntries(running.ids.map((id) => [id, `127.0.0.1:${running.clientPorts.get(id)}`])),
        client: { protocol: 'skepsis-http' },
        ready: { http: '/status', timeoutMs: 15_000 },
        faults: {
          kill: `${ctl} kill {id}`,
          start: `${ctl} start {id}`,
          pause: `${ctl} pause {id}`,
          resume: `${ctl} resume {id}`,
          partition: `${ctl} partition {from} {to}`,
          heal: `${ctl} heal {from} {to}`,
        },
      });
      const { dir: run, results } = await validRun(spec, 'running', 3, [
        '--nemesis',
        'partition,kill,pause',
        '--nemesis-interval',
        '1',
        '--time-limit',
        '8',
      ]);
      expect(results.stats.ok).toBeGreaterThan(20);
      // Every fault the nemesis recorded was carried out by the user's commands, and undone.
      const kinds = new Set<string>(results.faults.map((f: { kind: string }) => f.kind));
      expect(kinds.size).toBeGreaterThan(0);
      const verbs: Record<string, [string, string]> = {
        kill: ['kill', 'start'],
        pause: ['pause', 'resume'],
        partition: ['partition', 'heal'],
      };
      for (const kind of kinds) {
        const [on, off] = verbs[kind];
        const count = (verb: string) => running.calls.filter((call) => call.startsWith(`${verb} `)).length;
        expect(count(on), `${kind}: ${running.calls.join(', ')}`).toBeGreaterThan(0);
        expect(count(off), `${kind}: ${running.calls.join(', ')}`).toBe(count(on));
      }
      expect(running.ids.every((id) => running.cluster.nodes.get(id)!.running && !running.cluster.nodes.get(id)!.isPaused)).toBe(true);
      // The harness proxied the client links only; it started nothing (no node logs).
      expect(results.links.client.connectionsAccepted).toBeGreaterThan(0);
      expect(readdirSync(join(run, 'nodes'))).toEqual([]);
    } finally {
      await running.close();
    }
  });

  it('refuses faults the spec gives no command for, and --net hosts, naming the fields', async () => {
    const spec = writeSpec('running-no-faults.json', {
      endpoints: { n1: '127.0.0.1:1', n2: '127.0.0.1:2', n3: '127.0.0.1:3' },
      client: { protocol: 'skepsis-http' },
      faults: { pause: 'true', resume: 'true' },
    });
    const refused = await skepsis(runArgs(spec, 'refused', 1, ['--nemesis', 'kill,pause,partition']));
    expect(refused.exitCode).toBe(254);
    expect(refused.stderr).toContain(`kill:random needs faults.kill and faults.start in ${spec}`);
    expect(refused.stderr).toContain(`partition:random needs faults.partition and faults.heal in ${spec}`);
    expect(refused.stderr).not.toContain('pause:random');
    const hosts = await skepsis(runArgs(spec, 'refused', 1, ['--nemesis', 'pause', '--net', 'hosts']));
    expect(hosts.exitCode).toBe(254);
    expect(hosts.stderr).toContain('--net hosts cannot go with --db command');
    const count = await skepsis(runArgs(spec, 'refused', 1, ['--nemesis', 'pause'], 5));
    expect(count.exitCode).toBe(254);
    expect(count.stderr).toContain(`--nodes 5: ${spec} gives 3 endpoints`);
    expect(existsSync(join(store, 'refused'))).toBe(false);
  });
});
