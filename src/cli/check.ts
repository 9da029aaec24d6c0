// `skepsis check FILE`: reads a history in any supported format, checks it for linearizability and
// prints the verdict (text, or one JSON object with --json); optionally writes the HTML view.

import { writeFileSync } from 'node:fs';
import { checkHistory, inferModel, validateOperations } from '../../checker/check.js';
import { FORMATS, readHistoryFile, type Format } from '../../checker/format/index.js';
import { HistoryError } from '../../checker/history.js';
import { renderHtml } from '../../checker/html.js';
import { createModel, MODEL_NAMES } from '../../checker/models/index.js';
import { formatResultText, resultJson } from '../../checker/report.js';
import { EXIT_USAGE, exitCodeFor, UsageError } from './exit.js';
import type { Command } from './main.js';

interface CheckArgs {
  file: string;
  model?: string;
  init?: string;
  format: Format;
  timeout: number;
  memory: number;
  workers?: number;
  html?: string;
  json: boolean;
  quiet: boolean;
  split: boolean;
}

/** `--init` takes JSON (0, "a", null) or, failing that, a plain string; `nil` is null. */
export function parseInitValue(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  if (text === 'nil') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function positiveNumber(name: string, value: number, allowZero: boolean): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new UsageError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(value)}`);
  }
  return value;
}

async function handle(args: CheckArgs): Promise<number> {
  if (args.model !== undefined && !MODEL_NAMES.includes(args.model)) {
    throw new UsageError(`--model must be one of ${MODEL_NAMES.join(', ')}, got "${args.model}"`);
  }
  const timeoutSec = positiveNumber('timeout', args.timeout, true);
  const memoryMb = positiveNumber('memory', args.memory, false);
  if (args.workers !== undefined && (!Number.isInteger(args.workers) || args.workers < 0 || args.workers > 64)) {
    throw new UsageError(`--workers must be an integer from 0 to 64, got ${String(args.workers)}`);
  }
  let parsed;
  try {
    parsed = readHistoryFile(args.file, args.format);
  } catch (error) {
    if (error instanceof HistoryError) {
      process.stderr.write(`skepsis check: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  const { history } = parsed;
  const defaultModel =
    parsed.format === 'porcupine-etcd' ? 'cas-register' : parsed.format === 'porcupine-kv' ? 'kv' : inferModel(history.operations);
  const modelName = args.model ?? defaultModel;
  const modelOptions = { initial: parseInitValue(args.init), whole: !args.split };
  const model = createModel(modelName, modelOptions);
  try {
    validateOperations(history, model);
  } catch (error) {
    if (error instanceof HistoryError) {
      process.stderr.write(`skepsis check: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  const started = Date.now();
  let lastProgress = started;
  const result = await checkHistory(history.operations, {
    model: modelName,
    modelOptions,
    timeoutMs: timeoutSec === 0 ? undefined : timeoutSec * 1000,
    memoryBytesMax: memoryMb * 1024 * 1024,
    workers: args.workers,
    onProgress: (p) => {
      const now = Date.now();
      if (args.quiet || now - started < 1000 || now - lastProgress < 1000) return;
      lastProgress = now;
      process.stderr.write(`checking: ${p.partsDone}/${p.parts} parts decided, ${p.steps} steps, ${(p.elapsedMs / 1000).toFixed(1)} s\n`);
    },
  });
  if (args.html !== undefined) {
    writeFileSync(args.html, renderHtml({ history, result, model, title: args.file }));
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ file: args.file, format: parsed.format, ...resultJson(history, result, model) })}\n`);
  } else {
    const modelNote = args.model === undefined ? ` [model ${modelName} chosen from the operations; name one with --model]` : '';
    process.stdout.write(`${formatResultText(history, result, model)}\n`);
    if (modelNote && !args.quiet) process.stderr.write(`${modelNote.trim()}\n`);
    if (args.html !== undefined) process.stdout.write(`HTML view: ${args.html}\n`);
  }
  return exitCodeFor(result.valid);
}

export const checkCommand: Command = {
  register(parser, setExit) {
    parser.command(
      'check <file>',
      'Check a history for linearizability (exit 0 linearizable, 1 not, 2 unknown, 3 internal error, 254 bad input)',
      (y) =>
        y
          .positional('file', {
            type: 'string',
            describe: 'history file (JSON Lines, Jepsen EDN, or a Porcupine test log)',
            demandOption: true,
          })
          .option('model', { type: 'string', choices: MODEL_NAMES, describe: 'data type model; default: chosen from the operations' })
          .option('init', {
            type: 'string',
            describe: 'initial value (JSON, or a plain string; nil for absent); default: absent (register), "" (kv)',
          })
          .option('format', { type: 'string', choices: FORMATS, default: 'auto' as Format, describe: 'history format' })
          .option('timeout', {
            type: 'number',
            default: 120,
            describe: 'time budget in seconds; past it the verdict is unknown (0: no limit)',
          })
          .option('memory', {
            type: 'number',
            default: 2048,
            describe: 'memory ceiling for the search in MiB; past it the verdict is unknown',
          })
          .option('workers', {
            type: 'number',
            describe: 'worker threads for independent parts (0: this thread); default: the cores, for large histories',
          })
          .option('html', { type: 'string', describe: 'write a self-contained HTML view of the result to this file' })
          .option('split', {
            type: 'boolean',
            default: true,
            describe: 'split the history into independent parts by key (--no-split checks it whole)',
          })
          .option('json', { type: 'boolean', default: false, describe: 'print one JSON object instead of text' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no progress or notes on stderr' }),
      async (args) => {
        setExit(await handle(args as unknown as CheckArgs));
      },
    );
  },
};
