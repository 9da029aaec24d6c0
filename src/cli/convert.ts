// `skepsis convert FILE --to FORMAT`: rewrites a history in another format, e.g. to Jepsen EDN so
// Knossos can check a history recorded here, or an imported one to JSON Lines.

import { writeFileSync } from 'node:fs';
import { formatJepsenEdn } from '../../checker/format/jepsen-edn.js';
import { formatJsonlEvent } from '../../checker/format/jsonl.js';
import { FORMATS, readHistoryFile, type Format } from '../../checker/format/index.js';
import { HistoryError } from '../../checker/history.js';
import { EXIT_USAGE } from './exit.js';
import type { Command } from './main.js';

const TARGETS = ['jsonl', 'jepsen-edn'] as const;

export const convertCommand: Command = {
  register(parser, setExit) {
    parser.command(
      'convert <file>',
      'Convert a history to JSON Lines or Jepsen EDN (for Knossos)',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true, describe: 'history file' })
          .option('to', { type: 'string', choices: TARGETS, demandOption: true, describe: 'output format' })
          .option('format', { type: 'string', choices: FORMATS, default: 'auto' as Format, describe: 'input format' })
          .option('out', { type: 'string', describe: 'output file (default: stdout)' }),
      (args) => {
        let events;
        try {
          events = readHistoryFile(args.file as string, args.format as Format).events;
        } catch (error) {
          if (!(error instanceof HistoryError)) throw error;
          process.stderr.write(`skepsis convert: ${error.message}\n`);
          setExit(EXIT_USAGE);
          return;
        }
        const text = args.to === 'jepsen-edn' ? formatJepsenEdn(events) : events.map(formatJsonlEvent).join('\n') + '\n';
        if (args.out === undefined) process.stdout.write(text);
        else writeFileSync(args.out, text);
        setExit(0);
      },
    );
  },
};
