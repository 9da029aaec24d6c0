// The `skepsis` command line: parses arguments with yargs and dispatches to one file per
// subcommand. Exit codes: 0 valid, 1 invalid, 2 unknown, 3 internal error, 254 bad usage or bad input.

import type { Argv } from 'yargs';
import { EXIT_USAGE, exitForError, UsageError } from './exit.js';

/** A subcommand: adds itself to the parser; its handler reports the exit code through `setExit`. */
export interface Command {
  register(parser: Argv, setExit: (code: number) => void): void;
}

/**
 * Each command's module, loaded only when needed: `skepsis node` (started for every node, and again
 * at every restart by the kill nemesis) then loads neither the checker nor the harness nor the HTML
 * views: it starts in about 0.35 s instead of 0.55 s, with about 10 MB less memory. The top-level
 * help and an unknown command load them all.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  check: async () => (await import('./check.js')).checkCommand,
  convert: async () => (await import('./convert.js')).convertCommand,
  node: async () => (await import('./node.js')).nodeCommand,
  cluster: async () => (await import('./cluster.js')).clusterCommand,
  test: async () => (await import('./test.js')).testCommand,
  suite: async () => (await import('./suite.js')).suiteCommand,
  analyze: async () => (await import('./analyze.js')).analyzeCommand,
  serve: async () => (await import('./serve.js')).serveCommand,
  clean: async () => (await import('./clean.js')).cleanCommand,
};

/** The commands to register for `argv`: the one named first if it is one, otherwise all of them. */
async function commandsFor(argv: string[]): Promise<Command[]> {
  const first = argv[0];
  if (first !== undefined && Object.hasOwn(COMMANDS, first)) return [await COMMANDS[first]()];
  return Promise.all(Object.values(COMMANDS).map((load) => load()));
}

/** A flag or value yargs rejected before any handler ran. */
class CliUsageFailure extends Error {}

/** The flags that may be given several times and collect every value (both spellings yargs sets). */
const ARRAY_FLAGS = new Set([
  'unsafe-bug',
  'unsafeBug',
  'node-arg',
  'nodeArg',
  'workload-opt',
  'workloadOpt',
  'db-opt',
  'dbOpt',
  'bin-arg',
  'binArg',
]);

/**
 * Runs the CLI on `argv` (without node and script); resolves to the exit code. An error no command
 * turned into an exit code of its own is bad usage if a UsageError, else an internal error
 * (exitForError), reported with its stack: never a verdict.
 */
export async function run(argv: string[]): Promise<number> {
  try {
    return await parseAndRun(argv);
  } catch (error) {
    const command = argv[0] !== undefined && Object.hasOwn(COMMANDS, argv[0]) ? `skepsis ${argv[0]}` : 'skepsis';
    return exitForError(command, error);
  }
}

async function parseAndRun(argv: string[]): Promise<number> {
  if (argv[0] === 'check') {
    // A plain check (the file and known flags) skips yargs, which takes as long to load as Node.
    const plain = (await import('./plain-check.js')).plainCheck(argv.slice(1));
    if (plain !== undefined) return plain;
  }
  const { default: yargs } = await import('yargs');
  let exitCode = 0;
  let usageFailure: string | undefined;
  const parser = yargs(argv)
    .scriptName('skepsis')
    .usage('$0 <command> [options]\n\nDoes your replicated store stay linearizable when the network splits and nodes crash?')
    .strict()
    // Array flags (--node-arg, --workload-opt, --unsafe-bug, --db-opt) collect every occurrence; any other flag
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
  for (const command of await commandsFor(argv)) command.register(parser, (code) => (exitCode = code));
  try {
    await parser.parseAsync();
  } catch (error) {
    if (error instanceof CliUsageFailure) {
      process.stderr.write(`skepsis: ${error.message}\nRun "skepsis --help" for the commands and their options.\n`);
      return EXIT_USAGE;
    }
    // A command's UsageError goes to run(), which says it as bad usage.
    if (error instanceof UsageError || usageFailure === undefined) throw error;
  }
  if (usageFailure !== undefined) {
    process.stderr.write(`skepsis: ${usageFailure}\nRun "skepsis --help" for the commands and their options.\n`);
    return EXIT_USAGE;
  }
  return exitCode;
}
