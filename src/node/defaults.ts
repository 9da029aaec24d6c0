// The node's timing and snapshot defaults, in one place: the node process (kv-node.ts), the KV
// service (kv-service.ts), `skepsis node`'s flags and the harness's `--db-opt`s for our node read
// them from here.

export const NODE_DEFAULTS = {
  electionTimeoutMs: 200,
  heartbeatIntervalMs: 40,
  /** Snapshot and compact after this many applied entries. */
  snapshotEntries: 10_000,
} as const;
