// The spec file of `--db command --db-spec FILE`: a JSON description of a user's store, either how to
// start one node of it (a command line with placeholders) or the endpoints of a cluster that already
// runs (with optional shell commands for faults). Parsed and checked field by field here, before
// anything starts; every error names the file and the field. Placeholder expansion lives here too.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The client protocols a spec may name: our node's HTTP/JSON API (docs/kv-http-protocol.md), or etcd's v3 JSON gateway. */
export const CLIENT_PROTOCOLS = ['skepsis-http', 'etcd-v3-gateway'] as const;
export type ClientProtocol = (typeof CLIENT_PROTOCOLS)[number];

/** Placeholders of `start.command`, `start.env` and `start.cwd`. */
export const NODE_PLACEHOLDERS = ['id', 'index', 'host', 'clientPort', 'peerPort', 'peers', 'dataDir', 'runId', 'seed'] as const;
/** Placeholders of `peers.format` (one peer of the list). */
export const PEER_PLACEHOLDERS = ['peerId', 'peerIndex', 'peerHost', 'peerPort'] as const;
/** Placeholders of the node fault commands (kill, start, pause, resume). */
export const NODE_FAULT_PLACEHOLDERS = ['id', 'index', 'host', 'port'] as const;
/** Placeholders of the link fault commands (partition, heal): one directed link, from -> to. */
export const LINK_FAULT_PLACEHOLDERS = ['from', 'to', 'fromIndex', 'toIndex', 'fromHost', 'toHost', 'fromPort', 'toPort'] as const;

export const FAULT_COMMANDS = ['kill', 'start', 'pause', 'resume', 'partition', 'heal'] as const;
export type FaultCommand = (typeof FAULT_COMMANDS)[number];

/** How readiness is checked: an HTTP GET answering `status`, or a TCP connect, on the node's client port. */
export type ReadyCheck = { kind: 'http'; path: string; status: number; timeoutMs: number } | { kind: 'tcp'; timeoutMs: number };

/** How the harness asks who leads. */
export type LeaderSpec =
  /** The protocol's own way: /status `role` for skepsis-http, /v3/maintenance/status for etcd-v3-gateway. */
  | { kind: 'protocol' }
  /** A GET of `path` on every node; `field` holds the leader's node id (the highest `termField` wins when given). */
  | { kind: 'http'; path: string; field: string; termField?: string }
  | { kind: 'none' };

export interface StartSpec {
  /** The program and its arguments, with NODE_PLACEHOLDERS. */
  command: string[];
  env: Record<string, string>;
  /** Absolute (resolved against the spec file's folder). */
  cwd: string;
  /** SIGTERM, then SIGKILL after this long. */
  stopGraceMs: number;
}

export interface PeersSpec {
  format: string;
  separator: string;
  includeSelf: boolean;
}

export interface CommandSpec {
  /** The spec file's path as given, and its folder (cwd of commands). */
  file: string;
  dir: string;
  /** sha256 of the file's bytes, for test.json. */
  sha256: string;
  /** The parsed JSON as written (test.json records it). */
  raw: unknown;
  name: string;
  client: { protocol: ClientProtocol };
  leader: LeaderSpec;
  ready: ReadyCheck;
  /** Start mode: the harness runs the nodes. */
  start?: StartSpec;
  peers: PeersSpec;
  peerLinksProxyable: boolean;
  /** Endpoints mode: a cluster that already runs, `host:port` of each node's client API by id n1..nN. */
  endpoints?: Map<string, { host: string; port: number }>;
  /** Shell commands (sh -c) for faults of a running cluster, by kind. */
  faults: Partial<Record<FaultCommand, string>>;
  /** One fault command gives up after this long. */
  faultTimeoutMs: number;
}

/** A spec file that cannot be used; the message names the file and the field. */
export class CommandSpecError extends Error {
  override readonly name = 'CommandSpecError';
}

const TOP_FIELDS = ['name', 'start', 'peers', 'ready', 'client', 'leader', 'peerLinksProxyable', 'endpoints', 'faults'];
const TIMEOUT_MS_MAX = 600_000;
const PLACEHOLDER = /\{([^{}]*)\}/g;
const HOST_PATTERN = /^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/;

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads and checks a spec file. Throws CommandSpecError naming the file and the field. */
export function loadCommandSpec(file: string): CommandSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CommandSpecError(`--db-spec ${file}: cannot read it: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CommandSpecError(`${file}: not valid JSON: ${(error as Error).message}`);
  }
  return parseCommandSpec(raw, file, createHash('sha256').update(text).digest('hex'));
}

/** Checks a parsed spec; `file` names it in messages and its folder is where relative paths start. */
export function parseCommandSpec(raw: unknown, file: string, sha256 = ''): CommandSpec {
  const fail = (field: string, message: string): never => {
    throw new CommandSpecError(`${file}: ${field}: ${message}`);
  };
  if (!isObject(raw)) fail('(top level)', `expected an object, got ${describe(raw)}`);
  const spec = raw as Record<string, unknown>;
  for (const key of Object.keys(spec)) if (!TOP_FIELDS.includes(key)) fail(key, `unknown field; the fields are ${TOP_FIELDS.join(', ')}`);
  const dir = dirname(resolve(file));

  const string = (field: string, value: unknown): string => {
    if (typeof value !== 'string' || value.length === 0) fail(field, `expected a non-empty string, got ${describe(value)}`);
    return value as string;
  };
  const timeout = (field: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > TIMEOUT_MS_MAX)
      fail(field, `expected an integer number of milliseconds from 1 to ${TIMEOUT_MS_MAX}, got ${describe(value)}`);
    return value as number;
  };
  const fields = (field: string, value: Record<string, unknown>, allowed: string[]) => {
    for (const key of Object.keys(value))
      if (!allowed.includes(key)) fail(`${field}.${key}`, `unknown field; the fields are ${allowed.join(', ')}`);
  };
  const placeholders = (field: string, text: string, known: readonly string[]) => {
    for (const match of text.matchAll(PLACEHOLDER))
      if (!known.includes(match[1])) fail(field, `unknown placeholder {${match[1]}}; known: ${known.map((k) => `{${k}}`).join(', ')}`);
  };

  const name = spec.name === undefined ? 'command' : string('name', spec.name);

  // client
  if (!isObject(spec.client))
    fail('client', `missing: expected an object {"protocol": ${CLIENT_PROTOCOLS.map((p) => `"${p}"`).join(' | ')}}`);
  const client = spec.client as Record<string, unknown>;
  fields('client', client, ['protocol']);
  if (!(CLIENT_PROTOCOLS as readonly unknown[]).includes(client.protocol))
    fail('client.protocol', `expected one of ${CLIENT_PROTOCOLS.join(', ')}, got ${describe(client.protocol)}`);
  const protocol = client.protocol as ClientProtocol;

  // leader
  let leader: LeaderSpec = { kind: 'protocol' };
  if (spec.leader === 'none' || spec.leader === 'protocol') leader = { kind: spec.leader };
  else if (isObject(spec.leader)) {
    fields('leader', spec.leader, ['path', 'field', 'termField']);
    const path = string('leader.path', spec.leader.path);
    if (!path.startsWith('/')) fail('leader.path', `expected a path starting with "/", got ${describe(path)}`);
    leader = {
      kind: 'http',
      path,
      field: string('leader.field', spec.leader.field),
      ...(spec.leader.termField !== undefined ? { termField: string('leader.termField', spec.leader.termField) } : {}),
    };
  } else if (spec.leader !== undefined)
    fail('leader', `expected "protocol", "none" or {"path", "field", "termField"?}, got ${describe(spec.leader)}`);

  // ready
  let ready: ReadyCheck = { kind: 'tcp', timeoutMs: 30_000 };
  if (spec.ready !== undefined) {
    if (!isObject(spec.ready))
      fail('ready', `expected {"http": PATH, "status"?: 200, "timeoutMs"?} or {"tcp": true, "timeoutMs"?}, got ${describe(spec.ready)}`);
    const r = spec.ready as Record<string, unknown>;
    fields('ready', r, ['http', 'status', 'tcp', 'timeoutMs']);
    const timeoutMs = timeout('ready.timeoutMs', r.timeoutMs, 30_000);
    if (r.http !== undefined && r.tcp !== undefined) fail('ready', 'give either "http" or "tcp", not both');
    if (r.http !== undefined) {
      const path = string('ready.http', r.http);
      if (!path.startsWith('/')) fail('ready.http', `expected a path starting with "/", got ${describe(path)}`);
      const status = r.status ?? 200;
      if (!Number.isSafeInteger(status) || (status as number) < 100 || (status as number) > 599)
        fail('ready.status', `expected an HTTP status from 100 to 599, got ${describe(r.status)}`);
      ready = { kind: 'http', path, status: status as number, timeoutMs };
    } else {
      if (r.tcp !== undefined && r.tcp !== true) fail('ready.tcp', `expected true, got ${describe(r.tcp)}`);
      if (r.status !== undefined) fail('ready.status', 'goes with "http" only');
      ready = { kind: 'tcp', timeoutMs };
    }
  }

  if (spec.peerLinksProxyable !== undefined && typeof spec.peerLinksProxyable !== 'boolean')
    fail('peerLinksProxyable', `expected true or false, got ${describe(spec.peerLinksProxyable)}`);

  const base = { file, dir, sha256, raw, name, client: { protocol }, leader, ready, faultTimeoutMs: 10_000 };
  if (spec.start !== undefined && spec.endpoints !== undefined)
    fail('(top level)', 'give either "start" (the harness runs the nodes) or "endpoints" (a cluster that already runs), not both');
  if (spec.start === undefined && spec.endpoints === undefined)
    fail('start', 'missing: give "start" (how to start one node) or "endpoints" (a cluster that already runs)');

  if (spec.start !== undefined) {
    if (spec.faults !== undefined)
      fail('faults', 'goes with "endpoints" only: with "start" the harness kills, pauses and partitions the nodes itself');
    if (!isObject(spec.start)) fail('start', `expected an object {"command": [...], "env"?, "cwd"?}, got ${describe(spec.start)}`);
    const start = spec.start as Record<string, unknown>;
    fields('start', start, ['command', 'env', 'cwd', 'stopGraceMs']);
    if (!Array.isArray(start.command) || start.command.length === 0)
      fail(
        'start.command',
        `missing: expected a non-empty array of strings (the program, then its arguments), got ${describe(start.command)}`,
      );
    const command = (start.command as unknown[]).map((item, i) => {
      if (typeof item !== 'string') fail(`start.command[${i}]`, `expected a string, got ${describe(item)}`);
      placeholders(`start.command[${i}]`, item as string, NODE_PLACEHOLDERS);
      return item as string;
    });
    if (command[0].length === 0) fail('start.command[0]', 'expected the program to run, got an empty string');
    const env: Record<string, string> = {};
    if (start.env !== undefined) {
      if (!isObject(start.env)) fail('start.env', `expected an object of NAME: string, got ${describe(start.env)}`);
      for (const [key, value] of Object.entries(start.env as Record<string, unknown>)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) fail(`start.env.${key}`, 'expected an environment variable name (letters, digits, _)');
        if (typeof value !== 'string') fail(`start.env.${key}`, `expected a string, got ${describe(value)}`);
        placeholders(`start.env.${key}`, value as string, NODE_PLACEHOLDERS);
        env[key] = value as string;
      }
    }
    if (start.cwd !== undefined) placeholders('start.cwd', string('start.cwd', start.cwd), NODE_PLACEHOLDERS);
    const cwd = start.cwd === undefined ? dir : resolve(dir, start.cwd as string);
    let peers: PeersSpec = { format: '{peerId}={peerHost}:{peerPort}', separator: ',', includeSelf: true };
    if (spec.peers !== undefined) {
      if (!isObject(spec.peers)) fail('peers', `expected {"format", "separator"?, "includeSelf"?}, got ${describe(spec.peers)}`);
      const p = spec.peers as Record<string, unknown>;
      fields('peers', p, ['format', 'separator', 'includeSelf']);
      const format = string('peers.format', p.format);
      placeholders('peers.format', format, PEER_PLACEHOLDERS);
      if (p.separator !== undefined && typeof p.separator !== 'string')
        fail('peers.separator', `expected a string, got ${describe(p.separator)}`);
      if (p.includeSelf !== undefined && typeof p.includeSelf !== 'boolean')
        fail('peers.includeSelf', `expected true or false, got ${describe(p.includeSelf)}`);
      peers = {
        format,
        separator: (p.separator as string | undefined) ?? ',',
        includeSelf: (p.includeSelf as boolean | undefined) ?? true,
      };
    }
    return {
      ...base,
      start: { command, env, cwd, stopGraceMs: timeout('start.stopGraceMs', start.stopGraceMs, 3000) },
      peers,
      peerLinksProxyable: (spec.peerLinksProxyable as boolean | undefined) ?? false,
      faults: {},
    };
  }

  // endpoints
  if (spec.peers !== undefined) fail('peers', 'goes with "start" only (it forms the {peers} placeholder)');
  if (spec.peerLinksProxyable !== undefined)
    fail('peerLinksProxyable', 'goes with "start" only: the harness cannot put proxies between the nodes of a cluster it did not start');
  if (!isObject(spec.endpoints) || Object.keys(spec.endpoints).length === 0)
    fail('endpoints', `expected an object {"n1": "HOST:PORT", "n2": ...}, got ${describe(spec.endpoints)}`);
  const endpoints = new Map<string, { host: string; port: number }>();
  const entries = Object.entries(spec.endpoints as Record<string, unknown>);
  entries.forEach(([id, value], i) => {
    if (id !== `n${i + 1}`)
      fail(
        `endpoints.${id}`,
        `the nodes must be named n1..n${entries.length} in order (the harness's node ids), got "${id}" at position ${i + 1}`,
      );
    const text = string(`endpoints.${id}`, value);
    const colon = text.lastIndexOf(':');
    const host = text.slice(0, colon);
    const port = Number(text.slice(colon + 1));
    if (colon <= 0 || !HOST_PATTERN.test(host) || !Number.isInteger(port) || port < 1 || port > 65535)
      fail(`endpoints.${id}`, `expected "HOST:PORT" (e.g. "127.0.0.1:2379"), got ${describe(text)}`);
    endpoints.set(id, { host: host.replace(/^\[|\]$/g, ''), port });
  });
  const faults: Partial<Record<FaultCommand, string>> = {};
  let faultTimeoutMs = base.faultTimeoutMs;
  if (spec.faults !== undefined) {
    if (!isObject(spec.faults))
      fail('faults', `expected an object of shell commands by fault (${FAULT_COMMANDS.join(', ')}), got ${describe(spec.faults)}`);
    const f = spec.faults as Record<string, unknown>;
    fields('faults', f, [...FAULT_COMMANDS, 'timeoutMs']);
    faultTimeoutMs = timeout('faults.timeoutMs', f.timeoutMs, faultTimeoutMs);
    for (const kind of FAULT_COMMANDS) {
      if (f[kind] === undefined) continue;
      const command = string(`faults.${kind}`, f[kind]);
      placeholders(`faults.${kind}`, command, kind === 'partition' || kind === 'heal' ? LINK_FAULT_PLACEHOLDERS : NODE_FAULT_PLACEHOLDERS);
      faults[kind] = command;
    }
    for (const [a, b] of [
      ['kill', 'start'],
      ['pause', 'resume'],
      ['partition', 'heal'],
    ] as const) {
      if ((faults[a] === undefined) !== (faults[b] === undefined))
        fail(
          `faults.${faults[a] === undefined ? a : b}`,
          `missing: "${a}" and "${b}" go together (the harness must undo every fault it injects)`,
        );
    }
  }
  return {
    ...base,
    endpoints,
    peers: { format: '', separator: ',', includeSelf: true },
    peerLinksProxyable: false,
    faults,
    faultTimeoutMs,
  };
}

/** Replaces every {name} in `text` by `values[name]` (every name was checked against the known list when the spec was read). */
export function expand(text: string, values: Readonly<Record<string, string | number>>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => (name in values ? String(values[name]) : whole));
}
