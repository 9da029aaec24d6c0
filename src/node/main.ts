// Starts one member of the replicated key-value store as this process: opens the data directory,
// starts the peer transport and the client API, runs the node loop, and stops cleanly on SIGTERM or
// SIGINT. Prints one JSON line on stdout when ready (the launcher parses it); logs go to stderr.

import { randomInt } from 'node:crypto';
import type { NodeId } from '../raft/types.js';
import { startHttpApi, type HttpApi } from './http-api.js';
import { KvNode, type UnsafeBug } from './kv-node.js';
import { DiskStorage } from './storage/disk-storage.js';
import { TcpTransport } from './transport/tcp-transport.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface NodeProcessOptions {
  id: NodeId;
  dataDir: string;
  peerListen: HostPort;
  clientListen: HostPort;
  /** Every member, this one included, at the address its peers dial (possibly a proxy). */
  peers: Map<NodeId, HostPort>;
  clientUrls?: Map<NodeId, string>;
  tickMs: number;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  snapshotEntries: number;
  requestTimeoutMs: number;
  fsync: boolean;
  /** Core switches (default on). */
  preVote?: boolean;
  checkQuorum?: boolean;
  seed?: number;
  unsafeBugs: UnsafeBug[];
}

export interface RunningNode {
  node: KvNode;
  peerPort: number;
  clientPort: number;
  /** Resolves when the node stopped, with the fatal error if it died. */
  stopped: Promise<Error | undefined>;
  stop(): Promise<void>;
}

function timestamp(): string {
  return new Date().toISOString();
}

export async function startNodeProcess(options: NodeProcessOptions, write: (line: string) => void): Promise<RunningNode> {
  const log = (line: string) => write(`${timestamp()} ${options.id} ${line}`);
  for (const bug of options.unsafeBugs) log(`WARNING: UNSAFE BUG ENABLED: ${bug}. This node is deliberately incorrect.`);
  const seed = options.seed ?? randomInt(0, 2 ** 31);
  const storage = await DiskStorage.open({
    dir: options.dataDir,
    configuration: { voters: [...options.peers.keys()] },
    fsync: options.fsync,
    lyingFsync: options.unsafeBugs.includes('lying-fsync'),
    log,
  });
  log(`opened ${options.dataDir}: ${JSON.stringify(storage.recovery)}`);
  const peers = new Map([...options.peers].filter(([id]) => id !== options.id));
  let node: KvNode | undefined;
  const transport = new TcpTransport({
    id: options.id,
    listenHost: options.peerListen.host,
    listenPort: options.peerListen.port,
    peers,
    onMessage: (message) => node?.receive(message),
    log,
  });
  let resolveStopped!: (error: Error | undefined) => void;
  const stopped = new Promise<Error | undefined>((resolve) => (resolveStopped = resolve));
  let api: HttpApi | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (error?: Error): Promise<void> => {
    stopping ??= (async () => {
      node?.stop();
      await api?.close();
      await transport.close();
      await storage.close();
      resolveStopped(error);
    })();
    return stopping;
  };
  node = new KvNode(
    {
      id: options.id,
      storage,
      transport,
      tickMs: options.tickMs,
      electionTimeoutMs: options.electionTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      snapshotEntries: options.snapshotEntries,
      requestTimeoutMs: options.requestTimeoutMs,
      seed,
      unsafeBugs: options.unsafeBugs,
      raft: { preVote: options.preVote ?? true, checkQuorum: options.checkQuorum ?? true },
      log,
    },
    (error) => {
      log(`FATAL: ${error.stack ?? error.message}`);
      void stop(error);
    },
  );
  try {
    const { port: peerPort } = await transport.start();
    api = await startHttpApi({
      node,
      host: options.clientListen.host,
      port: options.clientListen.port,
      clientUrls: options.clientUrls,
      log,
    });
    node.start();
    log(
      `serving: peers on ${options.peerListen.host}:${peerPort}, clients on http://${options.clientListen.host}:${api.port}, seed ${seed}`,
    );
    return { node, peerPort, clientPort: api.port, stopped, stop: () => stop() };
  } catch (error) {
    await stop(error as Error);
    throw error;
  }
}
