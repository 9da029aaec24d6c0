// The nemesis's Db over a local cluster of `skepsis node` processes: kill -9, restart, pause and
// resume, the current leader, leadership transfer and damage to a killed node's WAL (wal-damage.ts). Control
// calls go to the nodes directly (never through the proxies), each with a time bound.

import type { Db } from '../../../nemesis/types.js';
import type { Random } from '../../raft/random.js';
import type { LocalCluster } from './local-cluster.js';
import { controlJson, highestTermLeader, pollFor, processDb } from '../process-db.js';
import { damageSynced, damageUnsynced } from './wal-damage.js';

export { newestWalSegment } from './wal-damage.js';

/** The node among `ids` that says it leads at the highest term, asking every running, unpaused one. */
export async function leaderAmong(cluster: LocalCluster, ids: readonly string[]): Promise<string | undefined> {
  const answers = await Promise.all(
    ids
      .filter((id) => cluster.nodes.get(id)?.running && !cluster.nodes.get(id)?.isPaused)
      .map(async (id) => (await controlJson(`${cluster.clientUrls.get(id)}/status`))?.body),
  );
  return highestTermLeader(
    answers.map((status) => (status?.role === 'leader' ? { leader: status.id, term: Number(status.term) } : undefined)),
  );
}

/** Polls until some node among `among` (default: all) leads; undefined after `timeoutMs` or on abort. */
export async function waitForLeader(
  cluster: LocalCluster,
  options: { timeoutMs: number; among?: readonly string[]; signal?: AbortSignal },
): Promise<string | undefined> {
  return pollFor(() => leaderAmong(cluster, options.among ?? cluster.ids), options, 50);
}

export function createClusterDb(cluster: LocalCluster, log: (line: string) => void = () => {}): Db {
  const node = (id: string) => {
    const process = cluster.nodes.get(id);
    if (!process) throw new Error(`unknown node "${id}" (nodes: ${cluster.ids.join(', ')})`);
    return process;
  };
  const db: Db = {
    ...processDb(cluster.ids, cluster.nodes, log),
    leader: () => leaderAmong(cluster, cluster.ids),
    async transferLeader(to) {
      const leader = await leaderAmong(cluster, cluster.ids);
      if (leader === undefined || leader === to) return false;
      const reply = await controlJson(`${cluster.clientUrls.get(leader)}/admin/transfer-leader`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to }),
      });
      return reply?.status === 200;
    },
    async damageLog(id, how, random: Random) {
      if (node(id).running) throw new Error(`damageLog: ${id} is running; kill it first`);
      if (how !== 'synced') return damageUnsynced(id, cluster.dataDir(id), how, random);
      return (await damageSynced(id, cluster.dataDir(id), random)) ?? `${id}: the WAL holds no synced record but its last; nothing done`;
    },
  };
  return db;
}
