// `skepsis check FILE`: reads a history in any supported format, checks it for linearizability and
// prints the verdict (text, or one JSON object with --json); optionally writes the HTML view.

import { writeFileSync } from 'node:fs';
import { checkHistory, inferModel, validateOperations } from '../../checker/check.js';
import { FORMATS, readHistoryFile, type Format } from '../../checker/format/index.js';
import { HistoryError } from '../../checker/history.js';
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
    // Loaded only when asked for: a plain check does not pay for the HTML view's code.
    const { renderHtml } = await import('../../checker/html.js');
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

const VALUE_FLAGS = new Set(['model', 'init', 'format', 'timeout', 'memory', 'workers', 'html']);
const NUMBER_FLAGS = new Set(['timeout', 'memory', 'workers']);
const BOOLEAN_FLAGS: Record<string, ['json' | 'quiet' | 'split', boolean]> = {
  json: ['json', true],
  quiet: ['quiet', true],
  split: ['split', true],
  'no-split': ['split', false],
};

/**
 * The arguments of a plain `skepsis check` (the file and known flags, each once, with values yargs
 * would accept as they are), or undefined for anything else: help, a bad or unknown flag, a repeated
 * one, a value that looks like a flag. Loading yargs costs about as long as starting Node, so a
 * plain check skips it; everything this declines goes through yargs, messages and all.
 */
export function plainCheckArgs(argv: string[]): CheckArgs | undefined {
  const args: CheckArgs = { file: '', format: 'auto', timeout: 120, memory: 2048, json: false, quiet: false, split: true };
  const seen = new Set<string>();
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-')) {
      if (file !== undefined) return undefined;
      file = arg;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') return undefined;
    const equals = arg.indexOf('=');
    const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
    if (seen.has(name)) return undefined;
    seen.add(name);
    if (Object.hasOwn(BOOLEAN_FLAGS, name)) {
      if (equals !== -1) return undefined;
      const [key, value] = BOOLEAN_FLAGS[name];
      if (seen.has(key === 'split' ? (value ? 'no-split' : 'split') : '')) return undefined;
      args[key] = value;
      continue;
    }
    if (!VALUE_FLAGS.has(name)) return undefined;
    const value = equals === -1 ? argv[++i] : arg.slice(equals + 1);
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    if (NUMBER_FLAGS.has(name)) {
      if (!/^\d+(\.\d+)?$/.test(value)) return undefined;
      (args as unknown as Record<string, number>)[name] = Number(value);
    } else if (name === 'model') {
      if (!MODEL_NAMES.includes(value)) return undefined;
      args.model = value;
    } else if (name === 'format') {
      if (!(FORMATS as readonly string[]).includes(value)) return undefined;
      args.format = value as Format;
    } else {
      (args as unknown as Record<string, string>)[name] = value;
    }
  }
  if (file === undefined) return undefined;
  args.file = file;
  return args;
}

/** Runs a plain `skepsis check` without yargs (see plainCheckArgs); undefined when argv is not one. */
export function runPlainCheck(argv: string[]): Promise<number> | undefined {
  const args = plainCheckArgs(argv);
  return args === undefined ? undefined : handle(args);
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
