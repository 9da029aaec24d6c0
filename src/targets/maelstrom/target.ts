// Any Maelstrom-protocol node (a program that speaks JSON lines on stdin and stdout) as a target,
// with Skepsis as its network: the router delivers every message by `dest` and the nemeses' Net acts
// at delivery (cuts of any shape, one-way included; delay, jitter and loss). Kill -9 and restart with
// a fresh init; SIGSTOP/SIGCONT for pause. Clients are in-harness Maelstrom clients.

import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { Random } from '../../raft/random.js';
import { processDb } from '../process-db.js';
import { type Target, TargetOptionError } from '../types.js';
import { MaelstromRpcClient, maelstromKvStore, maelstromMessageClient } from './client.js';
import { MaelstromNode } from './node-process.js';
import { Router } from './router.js';
import { createServices } from './services.js';

/** The workloads this target's clients can run. */
export const MAELSTROM_WORKLOADS = ['lin-kv', 'g-set', 'broadcast', 'g-counter', 'pn-counter', 'unique-ids', 'echo'] as const;

/** Why `bin` cannot be run, or undefined. */
export function binProblem(bin: string | undefined): string | undefined {
  if (bin === undefined || bin === '') return '--db maelstrom needs --bin PATH (the node program to run)';
  try {
    if (!statSync(bin).isFile()) return `--bin ${bin}: not a file`;
    accessSync(bin, constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return `--bin ${bin}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not executable (chmod +x it)' : (error as Error).message}`;
  }
  return undefined;
}

export const maelstromTarget: Target = {
  name: 'maelstrom',
  summary: 'any Maelstrom-protocol node program (--bin PATH), with Skepsis as its network',
  options: [],
  capabilities: [],
  peerLinks: { proxyable: false, reason: 'a Maelstrom node has no sockets: the router (--net router) is its network' },
  defaultNet: 'router',
  nodeLogCheck: false,
  workloads: MAELSTROM_WORKLOADS,
  validate(_options, extra) {
    const problem = binProblem(extra.bin);
    if (problem !== undefined) throw new TargetOptionError(problem);
    if (extra.unsafeBugs.length > 0 || extra.nodeArgs.length > 0)
      throw new TargetOptionError('--unsafe-bug and --node-arg are for --db skepsis; give a Maelstrom node its arguments with --bin-arg');
    return { version: extra.bin! };
  },
  async prepare(setup) {
    const bin = setup.bin!;
    const random = new Random(setup.seed ^ 0x6d61656c);
    let router: Router;
    const services = createServices((message) => router.send(message));
    router = new Router({ nodes: setup.ids, services, random, log: (line) => setup.log(`router: ${line}`) });
    const nodes = new Map(
      setup.ids.map((id) => [
        id,
        new MaelstromNode({
          id,
          nodeIds: setup.ids,
          bin,
          args: setup.binArgs ?? [],
          logFile: join(setup.dir, `${id}.log`),
          onLine: (line) => router.routeLine(id, line),
        }),
      ]),
    );
    for (const [id, node] of nodes) router.attachNode(id, node);
    const base = processDb(setup.ids, nodes, setup.log);
    const killAll = async () => {
      await Promise.all([...nodes.values()].map((node) => node.kill()));
      router.close();
    };
    return {
      db: {
        ...base,
        // Restarted nodes get a fresh init: a node that kept its state in memory has lost it.
        async start(id) {
          await base.start(id);
          setup.log(`${id} restarted with a fresh init (in-memory state lost)`);
        },
      },
      net: router.net,
      messages: () => router.stats(),
      async start() {
        try {
          for (const node of nodes.values()) await node.start();
          if (setup.workload === 'broadcast') await sendTopology(router, setup.ids, setup.log);
        } catch (error) {
          await killAll();
          throw error;
        }
      },
      // No leader to wait for: a node that answered init is up.
      waitForLeader: async () => setup.ids[0],
      messageClient: (codec, processId, home, timing) =>
        maelstromMessageClient(codec, new MaelstromRpcClient(router, `c${processId + 1}`, timing.deadlineMs), home),
      client: (processId, home, timing) => maelstromKvStore(new MaelstromRpcClient(router, `c${processId + 1}`, timing.deadlineMs), home),
      stop: killAll,
      kill: killAll,
      nodeExits: () => Object.fromEntries(setup.ids.map((id) => [id, [...nodes.get(id)!.exits]])),
    };
  },
};

/** Maelstrom's broadcast workload tells each node its neighbours first; here every other node (Maelstrom's `total` topology). */
async function sendTopology(router: Router, ids: readonly string[], log: (line: string) => void): Promise<void> {
  const topology = Object.fromEntries(ids.map((id) => [id, ids.filter((other) => other !== id)]));
  const rpc = new MaelstromRpcClient(router, 'c0', 5000);
  try {
    for (const id of ids) {
      const reply = await rpc
        .request(id, { type: 'topology', topology })
        .catch((error: Error) => ({ type: `no answer (${error.message})` }));
      if (reply.type !== 'topology_ok') log(`${id} answered topology with ${reply.type}`);
    }
  } finally {
    rpc.close();
  }
}
