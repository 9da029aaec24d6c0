// `skepsis serve`: serves the store (`--store DIR`, default ./store) as a browsable index on
// localhost until Ctrl-C (or SIGTERM). It only reads the store; it binds 127.0.0.1 unless told otherwise.

import type { Argv } from 'yargs';
import { DEFAULT_SERVE_HOST, DEFAULT_SERVE_PORT, startStoreServer, StoreServerError } from '../harness/serve.js';
import { EXIT_USAGE, UsageError } from './exit.js';
import type { Command } from './main.js';

interface ServeArgs {
  store: string;
  port: number;
  host: string;
}

async function handle(args: ServeArgs): Promise<number> {
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) {
    throw new UsageError(`--port must be an integer from 0 to 65535, got ${String(args.port)}`);
  }
  if (typeof args.host !== 'string' || args.host.trim() === '')
    throw new UsageError(`--host must be a host name or address, got "${String(args.host)}"`);
  let server;
  try {
    server = await startStoreServer({ store: args.store, host: args.host, port: args.port });
  } catch (error) {
    if (error instanceof StoreServerError) {
      process.stderr.write(`skepsis serve: ${error.message}\n`);
      return EXIT_USAGE;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      process.stderr.write(`skepsis serve: cannot listen on ${args.host}:${args.port} (${code}); try another --port or --host\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  process.stdout.write(`skepsis serve: ${server.url}  (store: ${args.store}; Ctrl-C stops)\n`);
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    onSignal = resolve;
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.stdout.write(`skepsis serve: ${signal}; stopping\n`);
  await server.close();
  return 0;
}

export const serveCommand: Command = {
  register(parser: Argv, setExit) {
    parser.command(
      'serve',
      'serve the store as a browsable index of runs and reports on localhost (Ctrl-C stops)',
      (command) =>
        command
          .option('store', { type: 'string', default: 'store', describe: 'the store folder (as given to skepsis test --store)' })
          .option('port', { type: 'number', default: DEFAULT_SERVE_PORT, describe: 'port to listen on (0: any free port)' })
          .option('host', {
            type: 'string',
            default: DEFAULT_SERVE_HOST,
            describe: 'address to bind; the default keeps it on this machine',
          }),
      async (args) => setExit(await handle(args as unknown as ServeArgs)),
    );
  },
};
