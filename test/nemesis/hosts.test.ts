// --net hosts: the Net's rules (pure, with a recording `ip`), then real namespaces as root: a cut
// drops what it names at the IP level (a one-way cut is one-way, shown with UDP, which has no ACKs to
// drag the other direction down), heal restores it, and nothing outlives close(), a killed owner or
// `skepsis clean`. CI runs as root, so none of this is skipped there.

import { execa } from 'execa';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanStaleHosts,
  createHostsNet,
  createHostsNetwork,
  type HostsNetwork,
  hostsUnavailableReason,
  LOCK_DIR,
} from '../../nemesis/hosts.js';
import { CLIENT } from '../../nemesis/types.js';

function recordingNet() {
  const applied: string[] = [];
  const net = createHostsNet(['n1', 'n2', 'n3'], {
    address: (n) => `198.18.9.${n.slice(1)}`,
    namespace: (n) => `ns-${n}`,
    clientAddress: '198.18.9.253',
    apply: (namespace, lines) => applied.push(...lines.map((line) => `${namespace}: ${line}`)),
  });
  return { net, applied };
}

describe('hosts net rules', () => {
  it('drops a cut link at its receiver, client links by the clients address, and lifts exactly what it made', () => {
    const { net, applied } = recordingNet();
    net.cut([['n1', 'n2']]);
    net.cut([['n1', 'n2']]); // already cut: nothing more
    net.cut([
      [CLIENT, 'n3'],
      ['n3', CLIENT],
    ]);
    expect(applied).toEqual([
      'ns-n2: rule add from 198.18.9.1/32 pref 100 blackhole',
      'ns-n3: rule add from 198.18.9.253/32 pref 100 blackhole',
      'ns-n3: route add blackhole 198.18.9.253/32',
    ]);
    expect(net.describe()).toBe('cut: client->n3 n1->n2 n3->client');
    applied.length = 0;
    net.uncut([['n1', 'n2']]);
    net.heal();
    expect(applied).toEqual([
      'ns-n2: rule del from 198.18.9.1/32 pref 100 blackhole',
      'ns-n3: rule del from 198.18.9.253/32 pref 100 blackhole',
      'ns-n3: route del blackhole 198.18.9.253/32',
    ]);
    expect(net.describe()).toBe('healthy');
  });

  it('isolates a node both ways (and from clients when asked), refuses flakiness and unknown nodes', () => {
    const { net } = recordingNet();
    expect(net.isolate('n1', { clients: true })).toHaveLength(6);
    expect(net.describe()).toBe('cut: client->n1 n1->client n1->n2 n1->n3 n2->n1 n3->n1');
    expect(() => net.flaky({ delayMs: 10 })).toThrow(/not available under --net hosts: this kernel has no netem/);
    expect(() => net.cut([['n1', 'n9']])).toThrow(/unknown node "n9"/);
    expect(net.capabilities).toEqual(['cut', 'cut-clients']);
  });
});

const unavailable = hostsUnavailableReason();

/** Runs a one-line node script on a host (its namespace); resolves with its stdout. */
function onHost(hosts: HostsNetwork, node: string, script: string, timeoutMs = 10_000) {
  const [file, ...prefix] = hosts.spawnPrefix(node);
  return execa(file, [...prefix, process.execPath, '-e', script], { timeout: timeoutMs, reject: false });
}

/** Listens for UDP on the host's address for `ms`, printing how many datagrams arrived. */
const udpListen = (address: string, ms: number) =>
  `const s=require('dgram').createSocket('udp4');let n=0;s.on('message',()=>n++);s.bind(9999,'${address}',()=>{console.log('ready');setTimeout(()=>{console.log(n);process.exit(0)},${ms})});`;
const udpSend = (address: string, count: number) =>
  `const s=require('dgram').createSocket('udp4');let i=0;const t=setInterval(()=>{s.send('x',9999,'${address}');if(++i===${count}){clearInterval(t);setTimeout(()=>process.exit(0),50)}},10);`;

async function datagramsArriving(hosts: HostsNetwork, from: string, to: string): Promise<number> {
  const listener = onHost(hosts, to, udpListen(hosts.address(to), 1500));
  await new Promise((resolve) => setTimeout(resolve, 400));
  await onHost(hosts, from, udpSend(hosts.address(to), 40));
  return Number((await listener).stdout.trim().split('\n').at(-1));
}

async function networkLeftovers(runId: string): Promise<string[]> {
  const namespaces = (await execa('ip', ['netns', 'list'], { reject: false })).stdout;
  const links = (await execa('ip', ['-o', 'link', 'show'], { reject: false })).stdout;
  return [...namespaces.split('\n'), ...links.split('\n')].filter((line) => line.includes(runId));
}

describe('real network hosts (root)', () => {
  const opened: HostsNetwork[] = [];
  afterAll(async () => {
    for (const hosts of opened) await hosts.close();
  });

  it('is available on this machine kind as root', () => {
    // CI runs as root; without root every test below fails with this reason rather than skipping.
    expect(unavailable).toBeUndefined();
  });

  it('cuts exactly the direction named, at the IP level, and heal restores it', async () => {
    const hosts = createHostsNetwork(['n1', 'n2', 'n3']);
    opened.push(hosts);
    expect(await datagramsArriving(hosts, 'n1', 'n2')).toBeGreaterThan(30);
    hosts.net.cut([['n1', 'n2']]);
    expect(await datagramsArriving(hosts, 'n1', 'n2')).toBe(0);
    expect(await datagramsArriving(hosts, 'n2', 'n1')).toBeGreaterThan(30);
    expect(await datagramsArriving(hosts, 'n3', 'n2')).toBeGreaterThan(30);
    hosts.net.heal();
    expect(await datagramsArriving(hosts, 'n1', 'n2')).toBeGreaterThan(30);
    await hosts.close();
    expect(await networkLeftovers(hosts.runId)).toEqual([]);
    expect(existsSync(join(LOCK_DIR, `${hosts.subnet}.json`))).toBe(false);
  }, 60_000);

  it('two networks at once get different subnets and names', async () => {
    const a = createHostsNetwork(['n1']);
    const b = createHostsNetwork(['n1']);
    opened.push(a, b);
    expect(a.subnet).not.toBe(b.subnet);
    expect(a.namespace('n1')).not.toBe(b.namespace('n1'));
    await a.close();
    await b.close();
  });

  it('a harness killed with -9 leaves nothing behind: its reaper removes the network and the processes on it', async () => {
    const script = `
      import('${new URL('../../dist/nemesis/hosts.js', import.meta.url).href}').then(({ createHostsNetwork }) => {
        const hosts = createHostsNetwork(['n1', 'n2']);
        const [file, ...args] = hosts.spawnPrefix('n1');
        require('node:child_process').spawn(file, [...args, 'sleep', '600'], { stdio: 'ignore', detached: true }).unref();
        console.log(JSON.stringify({ runId: hosts.runId }));
        setInterval(() => {}, 1000);
      });`;
    const child = execa(process.execPath, ['-e', script], { reject: false, timeout: 60_000 });
    const runId = await new Promise<string>((resolve) => child.stdout!.once('data', (data) => resolve(JSON.parse(String(data)).runId)));
    expect(await networkLeftovers(runId)).not.toEqual([]);
    child.kill('SIGKILL');
    await child;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await networkLeftovers(runId)).length > 0) await new Promise((r) => setTimeout(r, 200));
    expect(await networkLeftovers(runId)).toEqual([]);
  }, 60_000);

  it('skepsis clean removes only the networks of dead owners', async () => {
    const live = createHostsNetwork(['n1']);
    opened.push(live);
    // A dead run's leftovers, as a harness killed before its reaper started would leave them.
    const dead = await execa(process.execPath, ['-e', 'console.log(process.pid)']);
    const deadPid = Number(dead.stdout.trim());
    const runId = 'dead00';
    // A subnet no live run holds (the claim is written exclusively, so a live run's is never overwritten).
    let third = 255;
    while (existsSync(join(LOCK_DIR, `198.19.${third}.json`))) third--;
    const subnet = `198.19.${third}`;
    await execa('ip', ['link', 'add', `sk${runId}`, 'type', 'bridge']);
    await execa('ip', ['netns', 'add', `skepsis-${runId}-n1`]);
    writeFileSync(
      join(LOCK_DIR, `${subnet}.json`),
      JSON.stringify({ runId, pid: deadPid, subnet, bridge: `sk${runId}`, namespaces: [`skepsis-${runId}-n1`] }),
      { flag: 'wx' },
    );
    const removed = cleanStaleHosts();
    expect(removed.join('\n')).toContain(`run ${runId}`);
    expect(removed.join('\n')).not.toContain(live.runId);
    expect(await networkLeftovers(runId)).toEqual([]);
    expect(existsSync(join(LOCK_DIR, `${subnet}.json`))).toBe(false);
    expect(await networkLeftovers(live.runId)).not.toEqual([]);
    expect(readdirSync(LOCK_DIR)).toContain(`${live.subnet}.json`);
    await live.close();
  });
});
