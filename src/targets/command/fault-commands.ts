// Faults of a cluster the harness did not start (a command spec's `endpoints`), carried out by the
// user's own shell commands (`faults.kill`, `start`, `pause`, `resume`, `partition`, `heal`): a Db
// over the node commands and a Net whose peer-link cuts run the link commands, with client-link
// faults left to the harness's own Net (the client proxies). Every command runs as `sh -c` in the
// spec's folder with a time bound; a command that fails or times out is an error naming the field.

import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import type { LinkFault } from '../../../nemesis/proxy.js';
import { CLIENT, type Db, type Link, type Net, type NetCapability } from '../../../nemesis/types.js';
import { type CommandSpec, expand, type FaultCommand } from './spec.js';

/** Characters of a failed command's output quoted in its error. */
const OUTPUT_CHARS_MAX = 400;

/** A fault command that failed (non-zero exit, signal, or time bound). */
export class FaultCommandError extends Error {
  override readonly name = 'FaultCommandError';
}

/** How one fault command ended, whether it ran async (node faults) or sync (link cuts). */
interface CommandEnd {
  timedOut: boolean;
  /** Could not run at all. */
  error?: string;
  exitCode: number | null | undefined;
  signal: string | null | undefined;
  output: string;
}

/** Throws a FaultCommandError naming the field, unless the command exited 0. */
function checkEnd(spec: CommandSpec, kind: FaultCommand, command: string, end: CommandEnd): void {
  let how: string;
  if (end.timedOut) how = `no exit within ${spec.faultTimeoutMs} ms (faults.timeoutMs)`;
  else if (end.error !== undefined) how = end.error;
  else if (end.exitCode === 0) return;
  else how = end.signal ? `killed by ${end.signal}` : `exit ${end.exitCode}`;
  const tail = end.output.trim().slice(-OUTPUT_CHARS_MAX);
  throw new FaultCommandError(`faults.${kind} (${command}): ${how}${tail ? `: ${tail}` : ''}`);
}

/** The placeholder values of node `id`'s fault commands. */
function nodeValues(spec: CommandSpec, ids: readonly string[], id: string): Record<string, string | number> {
  const endpoint = spec.endpoints!.get(id)!;
  return { id, index: ids.indexOf(id) + 1, host: endpoint.host, port: endpoint.port };
}

/** Runs a node fault command (async, bounded). */
async function runNodeCommand(spec: CommandSpec, kind: FaultCommand, values: Record<string, string | number>): Promise<void> {
  const command = expand(spec.faults[kind]!, values);
  const result = await execa('sh', ['-c', command], {
    cwd: spec.dir,
    reject: false,
    timeout: spec.faultTimeoutMs,
    all: true,
    stdin: 'ignore',
  });
  checkEnd(spec, kind, command, {
    timedOut: result.timedOut,
    exitCode: result.exitCode,
    signal: result.signal,
    output: String(result.all ?? ''),
  });
}

/**
 * The Db of a running cluster: kill and start, pause and resume through the spec's commands. A node
 * counts as running until its kill command succeeded and again once its start command succeeded and
 * it passed the ready check. Kinds without a command are refused before the run (refuseNemesis).
 */
export function endpointsDb(
  spec: CommandSpec,
  ids: readonly string[],
  ready: (id: string) => Promise<void>,
  log: (line: string) => void,
): Db {
  const killed = new Set<string>();
  const paused = new Set<string>();
  const known = (id: string) => {
    if (!ids.includes(id)) throw new Error(`unknown node "${id}" (nodes: ${ids.join(', ')})`);
  };
  const run = (kind: FaultCommand, id: string) => runNodeCommand(spec, kind, nodeValues(spec, ids, id));
  return {
    nodes: ids,
    async kill(id) {
      known(id);
      if (killed.has(id)) return;
      await run('kill', id);
      killed.add(id);
      paused.delete(id);
      log(`${id} killed (faults.kill)`);
    },
    async start(id) {
      known(id);
      if (!killed.has(id)) return;
      await run('start', id);
      await ready(id);
      killed.delete(id);
      log(`${id} started (faults.start)`);
    },
    async pause(id) {
      known(id);
      if (killed.has(id) || paused.has(id)) return;
      await run('pause', id);
      paused.add(id);
    },
    async resume(id) {
      known(id);
      if (!paused.has(id)) return;
      await run('resume', id);
      paused.delete(id);
    },
    isRunning: (id) => !killed.has(id),
  };
}

const linkKey = (from: string, to: string) => `${from}->${to}`;

/**
 * A Net for a running cluster: cuts between nodes run `faults.partition` once per directed link (and
 * `faults.heal` once per link lifted), synchronously and bounded, as the Net interface is; links to
 * and from the clients go to `base` (the harness's client proxies, or nothing under --net direct).
 */
export function commandNet(spec: CommandSpec, ids: readonly string[], base: Net): Net {
  const cuts = new Set<string>();
  const hasCommands = spec.faults.partition !== undefined;
  const isClientLink = ([from, to]: Link) => from === CLIENT || to === CLIENT;
  const runLink = (kind: 'partition' | 'heal', [from, to]: Link) => {
    const a = spec.endpoints!.get(from)!;
    const b = spec.endpoints!.get(to)!;
    const command = expand(spec.faults[kind]!, {
      from,
      to,
      fromIndex: ids.indexOf(from) + 1,
      toIndex: ids.indexOf(to) + 1,
      fromHost: a.host,
      toHost: b.host,
      fromPort: a.port,
      toPort: b.port,
    });
    const result = spawnSync('sh', ['-c', command], {
      cwd: spec.dir,
      encoding: 'utf8',
      timeout: spec.faultTimeoutMs,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    checkEnd(spec, kind, command, {
      timedOut: (result.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT',
      error: result.error?.message,
      exitCode: result.status,
      signal: result.signal,
      output: `${result.stdout ?? ''}${result.stderr ?? ''}`,
    });
  };
  const checkPeer = ([from, to]: Link) => {
    if (!hasCommands) throw new FaultCommandError(`cannot cut ${linkKey(from, to)}: the spec gives no faults.partition`);
    for (const id of [from, to]) if (!ids.includes(id)) throw new FaultCommandError(`unknown node "${id}" (nodes: ${ids.join(', ')})`);
    if (from === to) throw new FaultCommandError(`link ${linkKey(from, to)} connects a node to itself`);
  };
  const net: Net = {
    capabilities: [
      ...new Set<NetCapability>([...base.capabilities.filter((c) => c.endsWith('-clients')), ...(hasCommands ? (['cut'] as const) : [])]),
    ],
    nodes: ids,
    cut(pairs) {
      const clientPairs = pairs.filter(isClientLink);
      for (const pair of pairs.filter((p) => !isClientLink(p))) {
        checkPeer(pair);
        if (cuts.has(linkKey(...pair))) continue;
        runLink('partition', pair);
        cuts.add(linkKey(...pair));
      }
      if (clientPairs.length > 0) base.cut(clientPairs);
    },
    uncut(pairs) {
      const clientPairs = pairs.filter(isClientLink);
      for (const pair of pairs.filter((p) => !isClientLink(p))) {
        if (!cuts.has(linkKey(...pair))) continue;
        runLink('heal', pair);
        cuts.delete(linkKey(...pair));
      }
      if (clientPairs.length > 0) base.uncut(clientPairs);
    },
    isolate(node, options = {}) {
      if (!ids.includes(node)) throw new FaultCommandError(`unknown node ${JSON.stringify(node)}; nodes: ${ids.join(', ')}`);
      const pairs: Link[] = ids.filter((other) => other !== node).flatMap((other) => [[node, other] as const, [other, node] as const]);
      if (options.clients) pairs.push([CLIENT, node], [node, CLIENT]);
      net.cut(pairs);
      return pairs;
    },
    flaky(fault: LinkFault, pairs?: readonly Link[]) {
      base.flaky(fault, pairs);
    },
    clearFlaky(pairs?: readonly Link[]) {
      base.clearFlaky(pairs);
    },
    heal() {
      // Every cut is lifted even when one heal command fails; the first failure is thrown afterwards.
      let first: unknown;
      for (const key of [...cuts]) {
        const [from, to] = key.split('->');
        try {
          runLink('heal', [from, to]);
          cuts.delete(key);
        } catch (error) {
          first ??= error;
        }
      }
      base.heal();
      if (first !== undefined) throw first;
    },
    describe() {
      const own = cuts.size > 0 ? `cut (faults.partition): ${[...cuts].sort().join(' ')}` : '';
      const other = base.describe();
      return own ? (other === 'healthy' ? own : `${own}\n${other}`) : other;
    },
  };
  return net;
}
