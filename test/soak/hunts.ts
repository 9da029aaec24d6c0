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
    // Client connections break on requests and replies; a client retries a write whose reply was
    // lost, and only the node's de-duplication keeps the retry from adding the element twice.
    name: 'no-dedup',
    args: ['--nodes', '5', '--workload', 'set', '--nemesis', 'flaky:clients', '--nemesis-interval', '3', '--unsafe-bug', 'no-dedup'],
  },
  {
    name: 'lying-fsync',
    args: ['--nodes', '3', '--workload', 'set', '--nemesis', 'kill:all', '--nemesis-interval', '3', '--unsafe-bug', 'lying-fsync'],
  },
  {
    // The chase nemesis cuts every new leader off (with a follower) moments after it takes office,
    // so entries of different terms pile up on minorities (Figure 8). The kv workload with appends
    // only, mostly reads and all clients on one key makes a committed-then-overwritten append show.
    name: 'commit-prior-term',
    args: [
      '--nodes',
      '5',
      '--workload',
      'kv',
      '--workload-opt',
      'put-weight=0',
      '--workload-opt',
      'get-weight=5',
      '--workload-opt',
      'threads-per-key=10',
      '--nemesis',
      'chase',
      '--nemesis-interval',
      '3',
      '--unsafe-bug',
      'commit-prior-term',
    ],
  },
  {
    // A leader cut off or killed every second, and 10 ms heartbeats (the node's own flag): the
    // followers' election timers all restart from nearly the same heartbeat, so they expire close
    // together and many elections are contested (two candidates of one term ask the same voters).
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
      '--node-arg=--heartbeat-interval-ms=10',
      '--unsafe-bug',
      'vote-twice',
    ],
  },
];

/** A hunt's command with the bug left out: what the correct node must pass under the same nemesis. */
function withoutBug(hunt: HuntSpec): HuntSpec {
  const at = hunt.args.indexOf('--unsafe-bug');
  if (at === -1) throw new Error(`hunt ${hunt.name} names no --unsafe-bug`);
  return { name: `correct: ${hunt.name} command`, args: hunt.args.filter((_, i) => i !== at && i !== at + 1) };
}

export const CORRECT_NODE_RUNS: HuntSpec[] = [
  // The nemeses made for three bugs (chase; kill and cut-off every second with 10 ms heartbeats;
  // client connections that break, so retries of applied writes reach the node).
  ...BUG_HUNTS.filter((hunt) => ['vote-twice', 'commit-prior-term', 'no-dedup'].includes(hunt.name)).map(withoutBug),
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
    args: ['--nodes', '5', '--workload', 'kv', '--nemesis', 'partition,flaky,flaky:clients,transfer,pause', '--nemesis-interval', '3'],
  },
];
