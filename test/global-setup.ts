// Run once around the whole test suite: every network namespace, link and bridge the tests create
// (`skepsis-<run>-<node>`, `sk<run>...`) must be gone when the suite ends. Names that existed before
// the suite began are not ours and are ignored. Where `ip` cannot list them (no iproute2), there is
// nothing to check: the hosts tests themselves fail with the reason.

import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** The suite's namespaces and interfaces (bridges, veth ends) now, or undefined without `ip`. */
function skepsisNetworkNames(): string[] | undefined {
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 });
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8', timeout: 10_000 });
  if (netns.status !== 0 || links.status !== 0) return undefined;
  const namespaces = netns.stdout
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => name.startsWith('skepsis-'));
  const interfaces = links.stdout
    .split('\n')
    .map((line) => /^\d+: ([^:@]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && /^sk[0-9a-f]{6}/.test(name));
  return [...namespaces.map((n) => `netns ${n}`), ...interfaces.map((n) => `link ${n}`)];
}

/** How long a detached reaper may still be removing a network after its test ended. */
const SETTLE_MS = 20_000;

export default function setup() {
  const before = new Set(skepsisNetworkNames() ?? []);
  return async function teardown() {
    let left: string[] = [];
    for (const start = Date.now(); Date.now() - start < SETTLE_MS; await sleep(500)) {
      const now = skepsisNetworkNames();
      if (now === undefined) return;
      left = now.filter((name) => !before.has(name));
      if (left.length === 0) return;
    }
    // Vitest reports an error thrown here but keeps its exit code, so the code is set too.
    process.exitCode = 1;
    throw new Error(
      `the test suite left network namespaces or links behind (${SETTLE_MS / 1000} s after it ended): ${left.join(', ')}; ` +
        '`npx skepsis clean` removes them',
    );
  };
}
