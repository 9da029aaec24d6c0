// The built-in suites of `skepsis suite --preset NAME`. Each is one matrix for every store (no
// per-bug options): tests whose faults bite early (intervals of 1 to 3 s, leader-aware targets)
// and whose workloads show what a fault broke (registers read under leader cut-offs, sets under
// crashes and broken client connections, appends read back by many clients of one key). They adapt
// (`adapt`): on a store whose target or net cannot take a fault (etcd on --net hosts has no flaky
// links), that fault is left out and the report says so.

import type { SuiteSpec } from './suite-file.js';

/**
 * A snapshot every 100 entries (our node's and etcd's `snapshot-count`), so that even a 12 s run
 * compacts its log, restarts from snapshots and sends them to followers that fell behind.
 */
const SNAPSHOTS = { 'snapshot-count': '100' };

/** Leader cut off or killed every second; 10 ms heartbeats make elections contested (our node and etcd both take the option). */
const leaderFaults = {
  workload: 'register',
  nodes: 5,
  nemesis: 'kill:leader,partition:isolate-leader',
  'nemesis-interval': 1,
  'db-opt': { 'heartbeat-interval-ms': '10', ...SNAPSHOTS },
};
/** Isolated leaders that go on serving reads. */
const isolatedLeader = {
  workload: 'register',
  nodes: 5,
  nemesis: 'partition:isolate-leader',
  'nemesis-interval': 3,
  'db-opt': SNAPSHOTS,
};
/** Whole-cluster crashes: whatever was acknowledged must survive. */
const crashes = { workload: 'set', nodes: 3, nemesis: 'kill:all', 'nemesis-interval': 3, 'db-opt': SNAPSHOTS };
/** Client connections broken on requests and replies: retried writes must apply once. */
const brokenClients = { workload: 'set', nodes: 5, nemesis: 'flaky:clients', 'nemesis-interval': 3, 'db-opt': SNAPSHOTS };
/** Each new leader cut off moments after taking office (Raft's Figure 8); appends read by ten clients per key. */
const chase = {
  workload: 'kv',
  nodes: 5,
  'workload-opt': { 'put-weight': '0', 'get-weight': '5', 'threads-per-key': '10' },
  nemesis: 'chase',
  'nemesis-interval': 3,
  'db-opt': SNAPSHOTS,
};
/**
 * Paused leaders, crashed members restarting from their snapshots, and broken client connections
 * at once: retried appends after a restart, and a leader that wakes up believing it still leads.
 */
const restarts = {
  workload: 'kv',
  nodes: 5,
  'workload-opt': { 'rate-ops-per-second': '300' },
  nemesis: 'pause:leader,kill:random,flaky:clients',
  'nemesis-interval': 2,
  'db-opt': SNAPSHOTS,
};

export const SUITE_PRESETS: Record<string, SuiteSpec> = {
  /** About a minute: what a pull request can afford. */
  smoke: {
    name: 'smoke',
    adapt: true,
    'time-budget': 120,
    tests: [
      { name: 'isolated-leader', ...isolatedLeader, 'nemesis-interval': 2, 'time-limit': 12 },
      { name: 'leader-faults', ...leaderFaults, 'time-limit': 12 },
      { name: 'chase', ...chase, 'time-limit': 15 },
      {
        name: 'crashes-and-retries',
        workload: 'set',
        nodes: 3,
        nemesis: 'kill:all,flaky:clients',
        'nemesis-interval': 2,
        'time-limit': 12,
        'db-opt': SNAPSHOTS,
      },
    ],
  },
  /** At most five minutes on a 2-core machine: the gate for merges. */
  standard: {
    name: 'standard',
    adapt: true,
    'time-budget': 300,
    tests: [
      { name: 'isolated-leader', ...isolatedLeader, 'time-limit': 20 },
      { name: 'crashes', ...crashes, 'time-limit': 20 },
      { name: 'broken-clients', ...brokenClients, 'time-limit': 20 },
      { name: 'leader-faults', ...leaderFaults, 'time-limit': 20, runs: 2 },
      { name: 'chase', ...chase, 'time-limit': 20, runs: 2 },
      { name: 'restarts', ...restarts, 'time-limit': 20 },
    ],
  },
  /** Longer and more seeds of each, for a nightly job. */
  soak: {
    name: 'soak',
    adapt: true,
    'time-budget': 3600,
    tests: [
      { name: 'isolated-leader', ...isolatedLeader, 'time-limit': 60, runs: 5 },
      { name: 'crashes', ...crashes, 'time-limit': 60, runs: 5 },
      { name: 'broken-clients', ...brokenClients, 'time-limit': 60, runs: 5 },
      { name: 'leader-faults', ...leaderFaults, 'time-limit': 60, runs: 5 },
      { name: 'chase', ...chase, 'time-limit': 60, runs: 5 },
      { name: 'restarts', ...restarts, 'time-limit': 60, runs: 5 },
      {
        name: 'mixed',
        workload: 'kv',
        nodes: 5,
        nemesis: 'partition,kill,pause,flaky,transfer',
        'nemesis-interval': 3,
        'time-limit': 60,
        runs: 5,
        'db-opt': SNAPSHOTS,
      },
    ],
  },
};

export const SUITE_PRESET_NAMES = Object.keys(SUITE_PRESETS);
