// The targets `skepsis test --db NAME` can test, by name.

import { etcdTarget } from './etcd/target.js';
import { maelstromTarget } from './maelstrom/target.js';
import { skepsisTarget } from './skepsis/target.js';
import type { Target } from './types.js';

export const TARGETS: readonly Target[] = [skepsisTarget, etcdTarget, maelstromTarget];
export const TARGET_NAMES: readonly string[] = TARGETS.map((t) => t.name);

/** The target named `name`; throws with the allowed names otherwise. */
export function getTarget(name: string): Target {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) throw new Error(`unknown target ${JSON.stringify(name)}; allowed: ${TARGET_NAMES.join(', ')}`);
  return target;
}
