// The registry of workloads by the name used on the command line (`--workload`), and parsing of
// their options from command-line text. Errors name the bad value and what is allowed.

import { kvWorkload } from './kv.js';
import { linKvWorkload } from './lin-kv.js';
import { broadcastWorkload, echoWorkload, gCounterWorkload, gSetWorkload, pnCounterWorkload, uniqueIdsWorkload } from './maelstrom.js';
import { describeOptions, resolveOptions, WorkloadOptionsError } from './options.js';
import { registerWorkload } from './register.js';
import { setWorkload } from './set.js';
import type { Workload } from './types.js';

export { WorkloadOptionsError } from './options.js';
export type { Workload } from './types.js';

export const WORKLOAD_NAMES = ['register', 'kv', 'set', 'lin-kv', 'g-set', 'broadcast', 'g-counter', 'pn-counter', 'unique-ids', 'echo'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

const workloads: Record<WorkloadName, Workload<any>> = {
  register: registerWorkload,
  kv: kvWorkload,
  set: setWorkload,
  'lin-kv': linKvWorkload,
  'g-set': gSetWorkload,
  broadcast: broadcastWorkload,
  'g-counter': gCounterWorkload,
  'pn-counter': pnCounterWorkload,
  'unique-ids': uniqueIdsWorkload,
  echo: echoWorkload,
};

export function isWorkloadName(name: string): name is WorkloadName {
  return (WORKLOAD_NAMES as readonly string[]).includes(name);
}

/** The workload called `name`; throws WorkloadOptionsError naming the allowed ones. */
export function getWorkload(name: string): Workload<any> {
  if (!isWorkloadName(name)) {
    throw new WorkloadOptionsError(`unknown workload ${JSON.stringify(name)} (allowed: ${WORKLOAD_NAMES.join(', ')})`);
  }
  return workloads[name];
}

/**
 * Options for workload `name` from command-line text: names in kebab-case or camelCase, numbers as
 * decimal text. Returns the full options (defaults filled in); throws WorkloadOptionsError.
 */
export function parseWorkloadOptions(name: string, raw: Record<string, unknown> = {}): Record<string, unknown> {
  const workload = getWorkload(name);
  const resolved = resolveOptions(name, workload.options, raw);
  // The workload's own checks (e.g. not every weight 0) run on the way through.
  workload.generator(resolved);
  return resolved;
}

/** Help text: each workload, its summary and its options. */
export function describeWorkloads(): string {
  const lines: string[] = [];
  for (const name of WORKLOAD_NAMES) {
    const workload = workloads[name];
    lines.push(`${name}: ${workload.summary} (model: ${workload.model ?? 'none; checked by the workload'})`);
    for (const option of describeOptions(workload.options)) lines.push(`  ${option}`);
  }
  return lines.join('\n');
}
