// The part of a Db every process-based target shares: kill -9, restart, SIGSTOP and SIGCONT over a
// set of NodeProcesses. Targets add their optional capabilities (leader, transfer, log damage).

import type { Db } from '../../nemesis/types.js';
import type { NodeProcess } from '../harness/launcher.js';

/** What processDb needs of a node's process (a NodeProcess, or a Maelstrom node). */
export interface ManagedProcess {
  readonly running: boolean;
  start(): Promise<unknown>;
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
}

export function processDb(ids: readonly string[], nodes: ReadonlyMap<string, ManagedProcess>, log: (line: string) => void = () => {}): Db {
  const node = (id: string) => {
    const process = nodes.get(id);
    if (!process) throw new Error(`unknown node "${id}" (nodes: ${ids.join(', ')})`);
    return process;
  };
  return {
    nodes: ids,
    async kill(id) {
      await node(id).kill();
      log(`${id} killed`);
    },
    async start(id) {
      if (node(id).running) return;
      await node(id).start();
      log(`${id} started`);
    },
    async pause(id) {
      node(id).pause();
    },
    async resume(id) {
      node(id).resume();
    },
    isRunning: (id) => node(id).running,
  };
}

/** Control calls (who leads, transfer, readiness) give up after this long. */
const CONTROL_TIMEOUT_MS = 1000;

/** One control call to a node: its status and JSON body, or undefined when it did not answer in time. */
export async function controlJson(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** How each node's incarnations ended, newest last. */
export function processExits(ids: readonly string[], nodes: ReadonlyMap<string, NodeProcess>): Record<string, string[]> {
  return Object.fromEntries(ids.map((id) => [id, [...(nodes.get(id)?.exits ?? [])]]));
}

/**
 * The leader named by the answer with the highest term (each answer: who it says leads, at what
 * term; undefined for none). Our node, etcd and command specs all pick a leader this way.
 */
export function highestTermLeader(answers: readonly ({ leader: unknown; term: number } | undefined)[]): string | undefined {
  let best: { leader: string; term: number } | undefined;
  for (const answer of answers) {
    if (typeof answer?.leader !== 'string') continue;
    const term = Number.isFinite(answer.term) ? answer.term : 0;
    if (!best || term > best.term) best = { leader: answer.leader, term };
  }
  return best?.leader;
}

/** SIGTERM then SIGKILL every node; resolves when all are gone. */
export async function stopProcesses(nodes: ReadonlyMap<string, { stop(): Promise<unknown> }>): Promise<void> {
  await Promise.all([...nodes.values()].map((node) => node.stop()));
}

/** SIGKILLs every node; resolves when all are gone. */
export async function killProcesses(nodes: ReadonlyMap<string, ManagedProcess>): Promise<void> {
  await Promise.all([...nodes.values()].map((node) => node.kill()));
}

/** Starts every node at once; if one fails, all are killed and its error (a NodeStartError) is thrown. */
export async function startProcesses(nodes: ReadonlyMap<string, ManagedProcess>): Promise<void> {
  const results = await Promise.allSettled([...nodes.values()].map((node) => node.start()));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) {
    await killProcesses(nodes);
    throw (failed as PromiseRejectedResult).reason;
  }
}

/** Asks `find` every `intervalMs` until it names something; undefined after `timeoutMs` or on abort. */
export async function pollFor<T>(
  find: () => Promise<T | undefined>,
  options: { timeoutMs: number; signal?: AbortSignal },
  intervalMs: number,
): Promise<T | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline && !options.signal?.aborted) {
    const found = await find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return undefined;
}
