// `skepsis node`: runs one member of the replicated key-value store in the foreground until SIGTERM
// or SIGINT. Flags are validated up front; a node that cannot start says why and exits 1.

import { NODE_DEFAULTS } from '../node/defaults.js';
import type { Argv } from 'yargs';
import { UNSAFE_BUGS, type UnsafeBug } from '../node/kv-node.js';
import { startNodeProcess, type HostPort } from '../node/main.js';
import { EXIT_USAGE, UsageError } from './exit.js';
import type { Command } from './main.js';

interface NodeArgs {
  id: string;
  dataDir: string;
  peerListen: string;
  clientListen: string;
  peers: string;
  clientUrls?: string;
  tickMs: number;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  snapshotEntries: number;
  requestTimeoutMs: number;
  fsync: boolean;
  preVote: boolean;
  checkQuorum: boolean;
  seed?: number;
  unsafeBug: string[];
}

/** `HOST:PORT` (port 0 = any free port). */
export function parseHostPort(flag: string, text: string): HostPort {
  const match = /^(.+):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) throw new UsageError(`--${flag} must be HOST:PORT (e.g. 127.0.0.1:7001), got "${text}"`);
  return { host: match[1], port };
}

/** `n1=HOST:PORT,n2=...` or, with `urls`, `n1=http://...,...`. */
export function parseMembers<T>(flag: string, text: string, parse: (value: string) => T): Map<string, T> {
  const members = new Map<string, T>();
  for (const item of text.split(',').filter((part) => part.trim() !== '')) {
    const at = item.indexOf('=');
    if (at <= 0) throw new UsageError(`--${flag} must be a list like n1=127.0.0.1:7001,n2=127.0.0.1:7002; "${item}" has no "id="`);
    const id = item.slice(0, at).trim();
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id))
      throw new UsageError(`--${flag}: node id "${id}" may only use letters, digits, "_", "." and "-"`);
    if (members.has(id)) throw new UsageError(`--${flag} names ${id} twice`);
    members.set(id, parse(item.slice(at + 1).trim()));
  }
  if (members.size === 0) throw new UsageError(`--${flag} is empty`);
  return members;
}

function positiveInteger(flag: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new UsageError(`--${flag} must be a positive integer, got ${String(value)}`);
  return value;
}

export function parseUnsafeBugs(values: string[]): UnsafeBug[] {
  for (const value of values) {
    if (!(UNSAFE_BUGS as readonly string[]).includes(value)) {
      throw new UsageError(`--unsafe-bug must be one of ${UNSAFE_BUGS.join(', ')}, got "${value}"`);
    }
  }
  return values as UnsafeBug[];
}

async function handle(args: NodeArgs): Promise<number> {
  const peers = parseMembers('peers', args.peers, (value) => parseHostPort('peers', value));
  if (!peers.has(args.id))
    throw new UsageError(`--peers must include this node (--id ${args.id}); it names ${[...peers.keys()].join(', ')}`);
  const clientUrls = args.clientUrls
    ? parseMembers('client-urls', args.clientUrls, (value) => {
        if (!/^https?:\/\/[^/]+$/.test(value)) throw new UsageError(`--client-urls: "${value}" must look like http://127.0.0.1:8001`);
        return value;
      })
    : undefined;
  const tickMs = positiveInteger('tick-ms', args.tickMs);
  const electionTimeoutMs = positiveInteger('election-timeout-ms', args.electionTimeoutMs);
  const heartbeatIntervalMs = positiveInteger('heartbeat-interval-ms', args.heartbeatIntervalMs);
  if (heartbeatIntervalMs >= electionTimeoutMs) {
    throw new UsageError(`--heartbeat-interval-ms (${heartbeatIntervalMs}) must be below --election-timeout-ms (${electionTimeoutMs})`);
  }
  if (tickMs > heartbeatIntervalMs)
    throw new UsageError(`--tick-ms (${tickMs}) must not exceed --heartbeat-interval-ms (${heartbeatIntervalMs})`);
  const options = {
    id: args.id,
    dataDir: args.dataDir,
    peerListen: parseHostPort('peer-listen', args.peerListen),
    clientListen: parseHostPort('client-listen', args.clientListen),
    peers,
    clientUrls,
    tickMs,
    electionTimeoutMs,
    heartbeatIntervalMs,
    snapshotEntries: positiveInteger('snapshot-entries', args.snapshotEntries),
    requestTimeoutMs: positiveInteger('request-timeout-ms', args.requestTimeoutMs),
    fsync: args.fsync,
    preVote: args.preVote,
    checkQuorum: args.checkQuorum,
    seed: args.seed,
    unsafeBugs: parseUnsafeBugs(args.unsafeBug),
  };
  const write = (line: string) => process.stderr.write(`${line}\n`);
  let running;
  try {
    running = await startNodeProcess(options, write);
  } catch (error) {
    write(`skepsis node ${args.id}: cannot start: ${(error as Error).message}`);
    return 1;
  }
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', id: args.id, peerPort: running.peerPort, clientPort: running.clientPort, pid: process.pid })}\n`,
  );
  const onSignal = (signal: string) => {
    write(`${new Date().toISOString()} ${args.id} ${signal}: stopping`);
    void running.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const error = await running.stopped;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  return error ? 1 : 0;
}

export const nodeCommand: Command = {
  register(parser: Argv, setExit) {
    parser.command(
      'node',
      'run one member of the Raft key-value store (foreground; SIGTERM stops it)',
      (command) =>
        command
          .option('id', { type: 'string', demandOption: true, describe: 'this node id, e.g. n1' })
          .option('data-dir', { type: 'string', demandOption: true, describe: 'directory for the WAL and snapshots (created if absent)' })
          .option('peer-listen', { type: 'string', demandOption: true, describe: 'HOST:PORT for peer connections (port 0: any)' })
          .option('client-listen', { type: 'string', default: '127.0.0.1:0', describe: 'HOST:PORT for the HTTP client API' })
          .option('peers', { type: 'string', demandOption: true, describe: 'every member at the address peers dial: n1=HOST:PORT,n2=...' })
          .option('client-urls', { type: 'string', describe: 'client URL of each member, for leader hints: n1=http://HOST:PORT,...' })
          .option('tick-ms', { type: 'number', default: 10, describe: 'milliseconds per Raft tick' })
          .option('election-timeout-ms', {
            type: 'number',
            default: NODE_DEFAULTS.electionTimeoutMs,
            describe: 'election timeout (randomized up to twice this)',
          })
          .option('heartbeat-interval-ms', {
            type: 'number',
            default: NODE_DEFAULTS.heartbeatIntervalMs,
            describe: 'leader heartbeat period',
          })
          .option('snapshot-entries', {
            type: 'number',
            default: NODE_DEFAULTS.snapshotEntries,
            describe: 'snapshot and compact after this many applied entries',
          })
          .option('request-timeout-ms', {
            type: 'number',
            default: 3000,
            describe: 'answer 504 timeout after this long without an outcome',
          })
          .option('fsync', { type: 'boolean', default: true, describe: 'fsync the WAL before acknowledging (--no-fsync to skip)' })
          .option('pre-vote', { type: 'boolean', default: true, describe: 'poll before campaigning (--no-pre-vote: campaign at once)' })
          .option('check-quorum', {
            type: 'boolean',
            default: true,
            describe: 'a leader that hears from no majority steps down (--no-check-quorum to disable)',
          })
          .option('seed', { type: 'number', describe: 'seed for election timeouts (default: random, logged)' })
          .option('unsafe-bug', {
            type: 'string',
            array: true,
            default: [],
            describe: `UNSAFE: enable a known bug class for harness testing: ${UNSAFE_BUGS.join(', ')}`,
          }),
      async (args) => {
        try {
          setExit(await handle(args as unknown as NodeArgs));
        } catch (error) {
          if (error instanceof UsageError) {
            process.stderr.write(`skepsis node: ${error.message}\n`);
            setExit(EXIT_USAGE);
            return;
          }
          throw error;
        }
      },
    );
  },
};
