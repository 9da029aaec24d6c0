// Who leads an etcd cluster, asked through each member's /v3/maintenance/status (the v3 JSON gateway):
// the answer with the highest raft term names the leader by etcd member id, which is mapped back to
// our node id from the members' own status headers. Used by the etcd target and by `--db command`
// specs that speak the etcd gateway.

import { controlJson, highestTermLeader } from '../process-db.js';

/** A POST to a member's gateway; the body of a 200 answer, else undefined. */
export async function postJson(address: string, path: string, body: unknown): Promise<Record<string, unknown> | undefined> {
  const reply = await controlJson(`http://${address}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return reply?.status === 200 ? reply.body : undefined;
}

export interface EtcdLeaderFinder {
  /** One member's status (undefined when it is down or paused, or did not answer); learns its member id. */
  statusOf(id: string): Promise<Record<string, unknown> | undefined>;
  /** The node the highest-term answer names as leader (undefined when none is known). */
  leader(): Promise<string | undefined>;
  /** etcd's member id (decimal text) of a node, once its status has been seen. */
  memberIdOf(id: string): string | undefined;
}

export function etcdLeaderFinder(
  ids: readonly string[],
  controlAddress: (id: string) => string,
  available: (id: string) => boolean,
): EtcdLeaderFinder {
  const memberIds = new Map<string, string>(); // etcd member id (decimal text) -> node id
  const statusOf = async (id: string) => {
    if (!available(id)) return undefined;
    const status = await postJson(controlAddress(id), '/v3/maintenance/status', {});
    const header = status?.header as Record<string, unknown> | undefined;
    if (typeof header?.member_id === 'string') memberIds.set(header.member_id, id);
    return status;
  };
  return {
    statusOf,
    async leader() {
      const answers = await Promise.all(ids.map(statusOf));
      // Leader 0: the member knows of no leader.
      const member = highestTermLeader(
        answers.map((status) =>
          status?.leader === '0' ? undefined : status && { leader: status.leader, term: Number(status.raftTerm ?? 0) },
        ),
      );
      return member === undefined ? undefined : memberIds.get(member);
    },
    memberIdOf: (id) => [...memberIds].find(([, node]) => node === id)?.[0],
  };
}
