// A cluster of `skepsis node` processes on loopback: picks ports, lays out data directories and log
// files, starts every node and waits for all of them. Peers may be told to dial other addresses
// than the nodes' own (the harness's proxies). Used by `skepsis cluster`, the harness and tests.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, NodeProcess, type ReadyLine } from '../../harness/launcher.js';
import { nodeIds } from '../../harness/results.js';

export interface LocalClusterOptions {
  /** Node count; ids are n1..nN. */
  nodes: number;
  /** Each node gets DIR/<id>/data and DIR/<id>.log. */
  dir: string;
  /** Extra `skepsis node` flags for every node (e.g. tuning, --unsafe-bug). */
  extraArgs?: string[];
  /** Where node `from` dials node `to` (default: `to`'s real peer port). The harness passes its proxies here. */
  advertisedPeerPort?: (from: string, to: string) => number;
  /** Ports chosen in advance (default: free ports). */
  peerPorts?: Map<string, number>;
  clientPorts?: Map<string, number>;
  readyTimeoutMs?: number;
  /** Where every node listens. Default 127.0.0.1. */
  host?: string;
  /** Where each node listens, when nodes have hosts of their own (--net hosts); overrides `host`. */
  hostOf?: (id: string) => string;
  /** Prepended to each node's command line (e.g. `ip netns exec <ns>`). */
  spawnPrefix?: (id: string) => string[];
}

export interface LocalCluster {
  ids: string[];
  nodes: Map<string, NodeProcess>;
  peerPorts: Map<string, number>;
  clientPorts: Map<string, number>;
  /** Direct client URL of each node. */
  clientUrls: Map<string, string>;
  dataDir(id: string): string;
  logFile(id: string): string;
  /** Stops every node (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
  /** SIGKILLs every node. */
  kill(): Promise<void>;
}

/** Lays out the cluster and returns it without starting anything. */
export async function prepareLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const defaultHost = options.host ?? '127.0.0.1';
  const hostOf = options.hostOf ?? (() => defaultHost);
  const ids = nodeIds(options.nodes);
  const ports = options.peerPorts && options.clientPorts ? [] : await freePorts(ids.length * 2, defaultHost);
  const peerPorts = options.peerPorts ?? new Map(ids.map((id, i) => [id, ports[i]]));
  const clientPorts = options.clientPorts ?? new Map(ids.map((id, i) => [id, ports[ids.length + i]]));
  const advertised = options.advertisedPeerPort ?? ((_from: string, to: string) => peerPorts.get(to)!);
  const clientUrls = new Map(ids.map((id) => [id, `http://${hostOf(id)}:${clientPorts.get(id)}`]));
  // With proxies, every peer is dialled on loopback at its proxy's port; with hosts, at its own address.
  const peersFlag = (from: string) =>
    ids
      .map(
        (to) =>
          `${to}=${to === from || options.hostOf ? hostOf(to) : defaultHost}:${to === from ? peerPorts.get(to) : advertised(from, to)}`,
      )
      .join(',');
  const urlsFlag = ids.map((id) => `${id}=${clientUrls.get(id)}`).join(',');
  mkdirSync(options.dir, { recursive: true });
  const dataDir = (id: string) => join(options.dir, id, 'data');
  const logFile = (id: string) => join(options.dir, `${id}.log`);
  const nodes = new Map<string, NodeProcess>();
  for (const id of ids) {
    mkdirSync(dataDir(id), { recursive: true });
    const args = [
      '--id',
      id,
      '--data-dir',
      dataDir(id),
      '--peer-listen',
      `${hostOf(id)}:${peerPorts.get(id)}`,
      '--client-listen',
      `${hostOf(id)}:${clientPorts.get(id)}`,
      '--peers',
      peersFlag(id),
      '--client-urls',
      urlsFlag,
      ...(options.extraArgs ?? []),
    ];
    nodes.set(
      id,
      new NodeProcess({ id, args, logFile: logFile(id), readyTimeoutMs: options.readyTimeoutMs, prefix: options.spawnPrefix?.(id) }),
    );
  }
  return {
    ids,
    nodes,
    peerPorts,
    clientPorts,
    clientUrls,
    dataDir,
    logFile,
    stop: async () => {
      await Promise.all([...nodes.values()].map((node) => node.stop()));
    },
    kill: async () => {
      await Promise.all([...nodes.values()].map((node) => node.kill()));
    },
  };
}

/** Starts every node of a prepared cluster; if one fails, all are killed and the error is thrown. */
export async function startAll(cluster: LocalCluster): Promise<Map<string, ReadyLine>> {
  const results = await Promise.allSettled([...cluster.nodes.values()].map((node) => node.start()));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) {
    await cluster.kill();
    throw (failed as PromiseRejectedResult).reason;
  }
  return new Map(results.map((result, i) => [cluster.ids[i], (result as PromiseFulfilledResult<ReadyLine>).value]));
}

export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const cluster = await prepareLocalCluster(options);
  await startAll(cluster);
  return cluster;
}
