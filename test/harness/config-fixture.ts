// A test.json for tests that render or analyze a run without running one; tests override what they need.

import type { TestConfig } from '../../src/harness/results.js';

export function testConfig(overrides: Partial<TestConfig> = {}): TestConfig {
  return {
    name: 'register-partition-kill',
    workload: 'register',
    workloadOptions: {},
    nemesis: 'partition,kill',
    nemesisIntervalMs: 2000,
    nodes: 5,
    concurrency: 5,
    timeLimitMs: 8000,
    seed: 42,
    unsafeBugs: ['stale-read'],
    nodeArgs: [],
    db: 'skepsis',
    dbOptions: {},
    dbVersion: 'this build',
    net: 'proxy',
    opTimeoutMs: 500,
    checkTimeoutMs: 60_000,
    command: 'npx skepsis test --nodes 5 --workload register --nemesis partition,kill --time-limit 8 --seed 42 --unsafe-bug stale-read',
    gitCommit: '0123456789abcdef0123456789abcdef01234567',
    startedAt: '2024-05-01T12:00:00.000Z',
    skepsisVersion: '0.1.0',
    ...overrides,
  };
}
