// The `skepsis` command line: parses arguments with yargs and dispatches to one file per
// subcommand. Exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad usage or bad input.

import yargs, { type Argv } from 'yargs';
import { checkCommand } from './check.js';
import { convertCommand } from './convert.js';
import { EXIT_USAGE, UsageError } from './exit.js';
import { nodeCommand } from './node.js';
import { clusterCommand } from './cluster.js';
import { testCommand } from './test.js';
import { analyzeCommand } from './analyze.js';
import { serveCommand } from './serve.js';

/** A subcommand: adds itself to the parser; its handler reports the exit code through `setExit`. */
export interface Command {
  register(parser: Argv, setExit: (code: number) => void): void;
}

/** A flag or value yargs rejected before any handler ran. */
class CliUsageFailure extends Error {}

/** The flags that may be given several times and collect every value (both spellings yargs sets). */
const ARRAY_FLAGS = new Set(['unsafe-bug', 'unsafeBug', 'node-arg', 'nodeArg', 'workload-opt', 'workloadOpt']);

/** Runs the CLI on `argv` (without node and script); resolves to the exit code. */
export async function run(argv: string[]): Promise<number> {
  let exitCode = 0;
  let usageFailure: string | undefined;
  const parser = yargs(argv)
    .scriptName('skepsis')
    .usage('$0 <command> [options]\n\nDoes your replicated store stay linearizable when the network splits and nodes crash?')
    .strict()
    // Array flags (--node-arg, --workload-opt, --unsafe-bug) collect every occurrence; any other flag
    // given twice keeps the last value (so a node flag given later overrides a default). yargs's
    // 'duplicate-arguments-array': false would keep only the last occurrence of array flags too.
    .parserConfiguration({ 'duplicate-arguments-array': true })
    .middleware((args) => {
      for (const key of Object.keys(args)) {
        const value = args[key];
        if (key !== '_' && !ARRAY_FLAGS.has(key) && Array.isArray(value)) args[key] = value[value.length - 1];
      }
    }, true)
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .demandCommand(1, 'name a command (see --help)')
    .fail((message, error) => {
      // Errors thrown by a handler pass through; a validation message (unknown flag, bad choice)
      // must stop yargs before it runs the handler, so it is thrown too.
      if (error !== undefined && message == null) throw error;
      usageFailure = message ?? error?.message ?? 'bad usage';
      throw new CliUsageFailure(usageFailure);
    })
    .help()
    .alias('help', 'h')
    .version();
  checkCommand.register(parser, (code) => (exitCode = code));
  convertCommand.register(parser, (code) => (exitCode = code));
  nodeCommand.register(parser, (code) => (exitCode = code));
  clusterCommand.register(parser, (code) => (exitCode = code));
  testCommand.register(parser, (code) => (exitCode = code));
  analyzeCommand.register(parser, (code) => (exitCode = code));
  serveCommand.register(parser, (code) => (exitCode = code));
  try {
    await parser.parseAsync();
  } catch (error) {
    if (error instanceof CliUsageFailure) {
      process.stderr.write(`skepsis: ${error.message}\nRun "skepsis --help" for the commands and their options.\n`);
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`skepsis: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (usageFailure === undefined) throw error;
  }
  if (usageFailure !== undefined) {
    process.stderr.write(`skepsis: ${usageFailure}\nRun "skepsis --help" for the commands and their options.\n`);
    return EXIT_USAGE;
  }
  return exitCode;
}
