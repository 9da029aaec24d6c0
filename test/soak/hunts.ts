// The documented `skepsis test` command for each unsafe bug class, and the runs of the correct node
// that must never be judged invalid. Shared by `npm run soak` and the CI test in test/harness.

export interface HuntSpec {
  name: string;
  /** Arguments after `skepsis test` (time limit, seed and store are added by the caller). */
  args: string[];
}

export const BUG_HUNTS: HuntSpec[] = [
  {
    name: 'stale-read',
    args: [
      '--nodes',
      '5',
      '--workload',
      'register',
      '--nemesis',
      'partition:isolate-leader',
      '--nemesis-interval',
      '3',
      '--unsafe-bug',
      'stale-read',
    ],
  },
  {
    name: 'no-dedup',
    args: [
      '--nodes',
      '5',
      '--workload',
      'set',
      '--nemesis',
      'kill:leader,partition:isolate-leader',
      '--nemesis-interval',
      '3',
      '--unsafe-bug',
      'no-dedup',
    ],
  },
  {
    name: 'lying-fsync',
    args: ['--nodes', '3', '--workload', 'set', '--nemesis', 'kill:all', '--nemesis-interval', '3', '--unsafe-bug', 'lying-fsync'],
  },
  {
    name: 'commit-prior-term',
    args: [
      '--nodes',
      '5',
      '--workload',
      'set',
      '--nemesis',
      'kill:leader,partition:isolate-leader',
      '--nemesis-interval',
      '2',
      '--unsafe-bug',
      'commit-prior-term',
    ],
  },
  {
    // Short election timeouts (the node's own flags) make followers time out close together, so
    // elections are often contested: two candidates of one term ask the same voters.
    name: 'vote-twice',
    args: [
      '--nodes',
      '5',
      '--workload',
      'register',
      '--nemesis',
      'kill:leader,partition:isolate-leader',
      '--nemesis-interval',
      '1',
      '--node-arg=--election-timeout-ms=50',
      '--node-arg=--heartbeat-interval-ms=10',
      '--unsafe-bug',
      'vote-twice',
    ],
  },
];

export const CORRECT_NODE_RUNS: HuntSpec[] = [
  {
    name: 'correct: vote-twice command',
    args: [
      '--nodes',
      '5',
      '--workload',
      'register',
      '--nemesis',
      'kill:leader,partition:isolate-leader',
      '--nemesis-interval',
      '1',
      '--node-arg=--election-timeout-ms=50',
      '--node-arg=--heartbeat-interval-ms=10',
    ],
  },
  {
    name: 'correct: register',
    args: ['--nodes', '5', '--workload', 'register', '--nemesis', 'partition,kill,pause', '--nemesis-interval', '3'],
  },
  {
    name: 'correct: set',
    args: [
      '--nodes',
      '5',
      '--workload',
      'set',
      '--nemesis',
      'kill:all,kill:leader,partition:isolate-leader,disk',
      '--nemesis-interval',
      '3',
    ],
  },
  {
    name: 'correct: kv',
    args: ['--nodes', '5', '--workload', 'kv', '--nemesis', 'partition,flaky,transfer,pause', '--nemesis-interval', '3'],
  },
];
