// `skepsis analyze DIR`: re-checks a stored run (a folder under the store, or a test's `latest` link)
// and rewrites its results.json and report.html. Exit codes as for `skepsis test`.

import type { Argv } from 'yargs';
import { HistoryError } from '../../checker/history.js';
import { analyzeRun, RunFolderError } from '../harness/analyze.js';
import { EXIT_USAGE, exitCodeFor, UsageError } from './exit.js';
import type { Command } from './main.js';

interface AnalyzeArgs {
  dir: string;
  checkTimeout?: number;
}

async function handle(args: AnalyzeArgs): Promise<number> {
  if (args.checkTimeout !== undefined && !(args.checkTimeout > 0)) {
    throw new UsageError(`--check-timeout must be a positive number of seconds, got ${String(args.checkTimeout)}`);
  }
  try {
    const { results, text } = await analyzeRun(args.dir, {
      checkTimeoutMs: args.checkTimeout !== undefined ? args.checkTimeout * 1000 : undefined,
      progress: (line) => process.stderr.write(`${line}\n`),
    });
    if (results.valid !== true && text) process.stdout.write(`${text}\n`);
    for (const line of results.summary) process.stdout.write(`${line}\n`);
    process.stdout.write(`verdict: ${results.valid === true ? 'valid' : results.valid === false ? 'INVALID' : 'unknown'}\n`);
    process.stdout.write(`report: ${args.dir}/report.html\n`);
    return exitCodeFor(results.valid);
  } catch (error) {
    if (error instanceof RunFolderError || error instanceof HistoryError) {
      process.stderr.write(`skepsis analyze: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

export const analyzeCommand: Command = {
  register(parser: Argv, setExit) {
    parser.command(
      'analyze <dir>',
      're-check a stored run and rewrite its results and report',
      (command) =>
        command
          .positional('dir', { type: 'string', demandOption: true, describe: 'a run folder, e.g. store/register-partition_kill/latest' })
          .option('check-timeout', { type: 'number', describe: 'seconds for the linearizability check (default: as the run had)' }),
      async (args) => setExit(await handle(args as unknown as AnalyzeArgs)),
    );
  },
};
