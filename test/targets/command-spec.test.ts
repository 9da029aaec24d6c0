// The --db-spec file: every field checked, each error naming the file and the field; placeholders
// expanded; the example spec in examples/ parses and describes our own node.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CommandSpecError, expand, loadCommandSpec, parseCommandSpec } from '../../src/targets/command/spec.js';
import { commandTarget } from '../../src/targets/command/target.js';

const start = { command: ['mystore', '--id', '{id}'] };
const client = { protocol: 'skepsis-http' };
const endpoints = { n1: '127.0.0.1:7001', n2: '127.0.0.1:7002', n3: '127.0.0.1:7003' };

function errorOf(spec: unknown): string {
  try {
    parseCommandSpec(spec, 'spec.json');
  } catch (error) {
    expect(error).toBeInstanceOf(CommandSpecError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(spec)}`);
}

describe('command spec', () => {
  it.each([
    ['not an object', [], 'spec.json: (top level): expected an object'],
    ['an unknown field', { start, client, colour: 'red' }, 'spec.json: colour: unknown field; the fields are name, start,'],
    ['no start nor endpoints', { client }, 'spec.json: start: missing: give "start"'],
    ['both start and endpoints', { start, endpoints, client }, 'spec.json: (top level): give either "start"'],
    ['no client', { start }, 'spec.json: client: missing'],
    [
      'an unknown protocol',
      { start, client: { protocol: 'grpc' } },
      'spec.json: client.protocol: expected one of skepsis-http, etcd-v3-gateway, got "grpc"',
    ],
    ['no command', { start: { env: {} }, client }, 'spec.json: start.command: missing'],
    ['an empty command', { start: { command: [] }, client }, 'spec.json: start.command: missing'],
    ['a non-string argument', { start: { command: ['x', 3] }, client }, 'spec.json: start.command[1]: expected a string, got 3'],
    [
      'an unknown placeholder',
      { start: { command: ['x', '--port', '{clientport}'] }, client },
      'spec.json: start.command[2]: unknown placeholder {clientport}; known: {id}, {index}, {host}, {clientPort}, {peerPort}, {peers}, {dataDir}, {runId}, {seed}',
    ],
    [
      'a placeholder in env',
      { start: { ...start, env: { DIR: '{datadir}' } }, client },
      'spec.json: start.env.DIR: unknown placeholder {datadir}',
    ],
    [
      'a bad env name',
      { start: { ...start, env: { 'A-B': 'x' } }, client },
      'spec.json: start.env.A-B: expected an environment variable name',
    ],
    [
      'a node placeholder in peers',
      { start, client, peers: { format: '{id}' } },
      'spec.json: peers.format: unknown placeholder {id}; known: {peerId}',
    ],
    ['a bad ready check', { start, client, ready: { http: 'status' } }, 'spec.json: ready.http: expected a path starting with "/"'],
    ['http and tcp', { start, client, ready: { http: '/x', tcp: true } }, 'spec.json: ready: give either "http" or "tcp"'],
    [
      'a bad timeout',
      { start, client, ready: { tcp: true, timeoutMs: 0 } },
      'spec.json: ready.timeoutMs: expected an integer number of milliseconds',
    ],
    ['a bad leader', { start, client, leader: 'raft' }, 'spec.json: leader: expected "protocol", "none" or'],
    ['a leader without field', { start, client, leader: { path: '/status' } }, 'spec.json: leader.field: expected a non-empty string'],
    ['faults with start', { start, client, faults: {} }, 'spec.json: faults: goes with "endpoints" only'],
    ['misnamed endpoints', { endpoints: { a: '127.0.0.1:1' }, client }, 'spec.json: endpoints.a: the nodes must be named n1..n1'],
    ['a bad endpoint', { endpoints: { n1: 'localhost' }, client }, 'spec.json: endpoints.n1: expected "HOST:PORT"'],
    ['peers with endpoints', { endpoints, client, peers: { format: '{peerId}' } }, 'spec.json: peers: goes with "start" only'],
    [
      'kill without start',
      { endpoints, client, faults: { kill: 'x {id}' } },
      'spec.json: faults.start: missing: "kill" and "start" go together',
    ],
    ['heal without partition', { endpoints, client, faults: { heal: 'x' } }, 'spec.json: faults.partition: missing'],
    [
      'a node placeholder in partition',
      { endpoints, client, faults: { partition: 'cut {id}', heal: 'x' } },
      'spec.json: faults.partition: unknown placeholder {id}; known: {from}, {to}',
    ],
    ['an unknown fault', { endpoints, client, faults: { reboot: 'x' } }, 'spec.json: faults.reboot: unknown field'],
  ])('refuses %s, naming the field', (_what, spec, message) => {
    expect(errorOf(spec)).toContain(message);
  });

  it('fills defaults and resolves cwd against the spec file', () => {
    const spec = parseCommandSpec({ start: { ...start, cwd: 'bin' }, client }, '/some/where/spec.json');
    expect(spec.start).toEqual({ command: start.command, env: {}, cwd: '/some/where/bin', stopGraceMs: 3000 });
    expect(spec.peers).toEqual({ format: '{peerId}={peerHost}:{peerPort}', separator: ',', includeSelf: true });
    expect(spec.ready).toEqual({ kind: 'tcp', timeoutMs: 30_000 });
    expect(spec.leader).toEqual({ kind: 'protocol' });
    expect(spec.peerLinksProxyable).toBe(false);
  });

  it('expands placeholders', () => {
    expect(expand('--peers={peers} --id {id}{id}', { peers: 'n1=a:1,n2=b:2', id: 'n1' })).toBe('--peers=n1=a:1,n2=b:2 --id n1n1');
  });

  it('makes a target whose net and faults follow the spec', () => {
    const started = commandTarget(parseCommandSpec({ start, client, peerLinksProxyable: true }, 'a.json'));
    expect(started.defaultNet).toBe('proxy');
    expect(started.peerLinks.proxyable).toBe(true);
    expect(started.capabilities).toEqual(['leader']);
    const hosts = commandTarget(parseCommandSpec({ start, client, leader: 'none' }, 'b.json'));
    expect(hosts.defaultNet).toBe('hosts');
    expect(hosts.capabilities).toEqual([]);
    const running = commandTarget(parseCommandSpec({ endpoints, client, faults: { pause: 'p {id}', resume: 'r {id}' } }, 'c.json'));
    expect(running.nets).toEqual(['proxy', 'direct']);
    expect(running.ownNetCapabilities).toEqual([]);
    const refused = (
      [
        { kind: 'kill', variant: 'one', name: 'kill:one' },
        { kind: 'pause', variant: 'one', name: 'pause:one' },
        { kind: 'partition', variant: 'halves', name: 'partition:halves' },
      ] as const
    ).map((item) => running.refuseNemesis!(item));
    expect(refused[0]).toContain('kill:one needs faults.kill and faults.start in c.json');
    expect(refused[1]).toBeUndefined();
    expect(refused[2]).toContain('partition:halves needs faults.partition and faults.heal in c.json');
  });

  it('parses the example spec of our own node', () => {
    const spec = loadCommandSpec(fileURLToPath(new URL('../../examples/skepsis-node.spec.json', import.meta.url)));
    expect(spec.client.protocol).toBe('skepsis-http');
    expect(spec.peerLinksProxyable).toBe(true);
    expect(spec.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
