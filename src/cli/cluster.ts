// `skepsis cluster`: a local cluster of node processes in the foreground, for hand use. Prints each
// node's client URL; Ctrl-C (or SIGTERM) stops all of it and leaves no process behind.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { killAllNodes, NodeStartError } from '../harness/launcher.js';
import { startLocalCluster } from '../targets/skepsis/local-cluster.js';
import { UsageError } from './exit.js';
import type { Command } from './main.js';
import { parseUnsafeBugs } from './node.js';

interface ClusterArgs {
  nodes: number;
  dataDir?: string;
  unsafeBug: string[];
  fsync: boolean;
}

async function handle(args: ClusterArgs): Promise<number> {
  if (!Number.isInteger(args.nodes) || args.nodes < 1 || args.nodes > 15) {
    throw new UsageError(`--nodes must be an integer from 1 to 15, got ${String(args.nodes)}`);
  }
  const bugs = parseUnsafeBugs(args.unsafeBug);
  const dir = args.dataDir ? resolve(args.dataDir) : mkdtempSync(join(tmpdir(), 'skepsis-cluster-'));
  const extraArgs = [...bugs.flatMap((bug) => ['--unsafe-bug', bug]), ...(args.fsync ? [] : ['--no-fsync'])];
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let cluster;
  // Listeners stay installed until the end (not `once`): execa's cleanup hook re-raises a signal
  // that has no other listener, which would kill this process before it stops the nodes.
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const interrupted = new Promise<string>((resolve) => (onSignal = (signal) => resolve(signal)));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    cluster = await startLocalCluster({ nodes: args.nodes, dir, extraArgs });
  } catch (error) {
    killAllNodes();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (error instanceof NodeStartError) {
      process.stderr.write(`skepsis cluster: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  out(`skepsis cluster: ${args.nodes} node(s), data and logs in ${dir}`);
  for (const id of cluster.ids) out(`  ${id}  ${cluster.clientUrls.get(id)}  (log: ${cluster.logFile(id)})`);
  const first = cluster.clientUrls.get(cluster.ids[0]);
  out(`try:  curl -X PUT -d '{"value":"1"}' ${first}/kv/x  &&  curl ${first}/kv/x  &&  curl ${first}/status`);
  out('Ctrl-C stops every node.');
  const exits = cluster.ids.map(async (id) => {
    const node = cluster.nodes.get(id)!;
    await node.waitExit();
    return `${id} exited (${node.exits.at(-1)})`;
  });
  const reason = await Promise.race([interrupted, ...exits]);
  out(`skepsis cluster: ${reason}; stopping every node`);
  await cluster.stop();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return 0;
}

export const clusterCommand: Command = {
  register(parser: Argv, setExit) {
    parser.command(
      'cluster',
      'run a local cluster of nodes in the foreground (Ctrl-C stops all of it)',
      (command) =>
        command
          .option('nodes', { type: 'number', default: 3, describe: 'how many nodes (1-15)' })
          .option('data-dir', { type: 'string', describe: 'where data and logs go (default: a new temporary directory)' })
          .option('fsync', { type: 'boolean', default: true, describe: 'fsync WALs (--no-fsync to skip)' })
          .option('unsafe-bug', { type: 'string', array: true, default: [], describe: 'UNSAFE: enable a known bug class on every node' }),
      async (args) => setExit(await handle(args as unknown as ClusterArgs)),
    );
  },
};
