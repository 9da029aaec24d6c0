// The targets `skepsis test --db NAME` can test, by name. `command` is resolved from its spec file
// (--db-spec), since its network and faults depend on what the spec describes.

import { parseCommandSpec } from './command/spec.js';
import { commandTarget } from './command/target.js';
import { etcdTarget } from './etcd/target.js';
import { maelstromTarget } from './maelstrom/target.js';
import { skepsisTarget } from './skepsis/target.js';
import { type Target, TargetOptionError } from './types.js';

/** `--db command` before its spec is read: listed for --help and --db; resolveTarget gives the real one. */
const commandEntry: Target = {
  name: 'command',
  summary: "the user's own store, described by a spec file (--db-spec FILE: start command or endpoints, client protocol)",
  options: [],
  capabilities: [],
  peerLinks: { proxyable: false, reason: 'set by the spec file (peerLinksProxyable)' },
  defaultNet: 'hosts',
  nodeLogCheck: false,
  validate() {
    throw new TargetOptionError('--db command needs --db-spec FILE (a JSON description of the store; see the README)');
  },
  prepare() {
    throw new TargetOptionError('--db command needs --db-spec FILE');
  },
};

export const TARGETS: readonly Target[] = [skepsisTarget, etcdTarget, maelstromTarget, commandEntry];
export const TARGET_NAMES: readonly string[] = TARGETS.map((t) => t.name);

/** The target named `name`; throws with the allowed names otherwise. */
export function getTarget(name: string): Target {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) throw new Error(`unknown target ${JSON.stringify(name)}; allowed: ${TARGET_NAMES.join(', ')}`);
  return target;
}

/** The spec of a `--db command` run as test.json records it: the file, its hash and its content. */
export interface RecordedDbSpec {
  file: string;
  sha256: string;
  spec: unknown;
}

/** The target of a run: by name, or for `command` from the spec the run recorded. */
export function resolveTarget(name: string, dbSpec?: RecordedDbSpec): Target {
  if (name === 'command' && dbSpec !== undefined) return commandTarget(parseCommandSpec(dbSpec.spec, dbSpec.file, dbSpec.sha256));
  return getTarget(name);
}
