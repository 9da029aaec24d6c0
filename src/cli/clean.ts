// `skepsis clean`: removes what dead runs left behind under --net hosts (namespaces, links, bridges,
// the processes still on those hosts), and nothing else: a live run's network is never touched.

import type { Argv } from 'yargs';
import { cleanStaleHosts, LOCK_DIR } from '../../nemesis/hosts.js';
import type { Command } from './main.js';

export const cleanCommand: Command = {
  register(parser: Argv, setExit) {
    parser.command(
      'clean',
      "remove the network hosts (--net hosts) of runs whose harness died without removing them; live runs' are left alone",
      (command) => command,
      () => {
        const removed = cleanStaleHosts();
        for (const line of removed) process.stdout.write(`removed ${line}\n`);
        process.stdout.write(
          removed.length === 0 ? `nothing to clean (no dead run's network in ${LOCK_DIR})\n` : `${removed.length} network(s) removed\n`,
        );
        setExit(0);
      },
    );
  },
};
