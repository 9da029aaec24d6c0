// `skepsis test`: the main job. Validates every flag before anything starts, runs one test (real
// nodes behind proxies, clients, nemesis, final reads), checks it, writes the store folder and exits
// 0 valid, 1 invalid, 2 unknown, 254 bad usage or a cluster that could not start.

import { randomInt } from 'node:crypto';
import type { Argv } from 'yargs';
import { describeAllowedNemeses, type NemesisSpec, NemesisSpecError, parseNemesisSpec, unsupportedNemeses } from '../../nemesis/nemesis.js';
import { HOSTS_NODES_MAX, hostsUnavailableReason } from '../../nemesis/hosts.js';
import { missingNetReason, netCapabilities } from '../harness/network.js';
import { getWorkload, isWorkloadName, parseWorkloadOptions, WORKLOAD_NAMES, WorkloadOptionsError } from '../../workloads/index.js';
import { resolve } from 'node:path';
import { CommandSpecError, loadCommandSpec } from '../targets/command/spec.js';
import { commandTarget } from '../targets/command/target.js';
import { getTarget, TARGET_NAMES, TARGETS } from '../targets/index.js';
import { NET_NAMES, type NetName, parseTargetOptions, type Target, TargetOptionError, TargetUnavailableError } from '../targets/types.js';
import { killAllNodes } from '../harness/launcher.js';
import { RunSetupError, runTest } from '../harness/run-test.js';
import { EXIT_USAGE, exitCodeFor, UsageError } from './exit.js';
import type { Command } from './main.js';
import { parseUnsafeBugs } from './node.js';

export interface TestArgs {
  nodes: number;
  workload: string;
  workloadOpt: string[];
  nemesis: string;
  nemesisInterval: number;
  timeLimit: number;
  concurrency?: number;
  seed?: number;
  store: string;
  name?: string;
  unsafeBug: string[];
  nodeArg: string[];
  proxy: boolean;
  db: string;
  dbOpt: string[];
  dbSpec?: string;
  net?: string;
  bin?: string;
  binArg: string[];
  opTimeoutMs: number;
  checkTimeout: number;
  quiet: boolean;
}

function requireRange(flag: string, value: number, low: number, high: number, integer = true): number {
  if (!Number.isFinite(value) || value < low || value > high || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${flag} must be ${integer ? 'an integer' : 'a number'} from ${low} to ${high}, got ${String(value)}`);
  }
  return value;
}

/** `--workload-opt rate-ops-per-second=100` (repeatable) -> { 'rate-ops-per-second': '100' }. */
function parseWorkloadOpts(values: string[]): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0) throw new UsageError(`--workload-opt must look like name=value, got "${value}"`);
    options[value.slice(0, at)] = value.slice(at + 1);
  }
  return options;
}

/** Quotes an argument for the "repeat this run" command line. */
function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The target and the net a run uses (--db, --net, --no-proxy); UsageError when they cannot go together. */
export function resolveTargetAndNet(args: Pick<TestArgs, 'db' | 'net' | 'proxy' | 'dbSpec'>): {
  target: Target;
  net: NetName;
  spec: ReturnType<typeof loadCommandSpec> | undefined;
} {
  if (!(TARGET_NAMES as readonly string[]).includes(args.db))
    throw new UsageError(`--db must be one of ${TARGET_NAMES.join(', ')}, got ${JSON.stringify(args.db)}`);
  if (args.dbSpec !== undefined && args.db !== 'command')
    throw new UsageError(`--db-spec describes a store for --db command, not --db ${args.db}`);
  if (args.db === 'command' && args.dbSpec === undefined)
    throw new UsageError(
      '--db command needs --db-spec FILE (a JSON description of the store: a start command or endpoints; see the README)',
    );
  let spec: ReturnType<typeof loadCommandSpec> | undefined;
  try {
    spec = args.dbSpec === undefined ? undefined : loadCommandSpec(args.dbSpec);
  } catch (error) {
    if (error instanceof CommandSpecError) throw new UsageError(error.message);
    throw error;
  }
  const target = spec ? commandTarget(spec) : getTarget(args.db);
  if (args.net !== undefined && !(NET_NAMES as readonly string[]).includes(args.net))
    throw new UsageError(`--net must be one of ${NET_NAMES.join(', ')}, got ${JSON.stringify(args.net)}`);
  if (args.net !== undefined && !args.proxy && args.net !== 'direct')
    throw new UsageError(`--no-proxy means --net direct; it cannot go with --net ${args.net}`);
  const net: NetName = (args.net as NetName | undefined) ?? (args.proxy || target.defaultNet === 'router' ? target.defaultNet : 'direct');
  if (target.defaultNet === 'router' && net !== 'router')
    throw new UsageError(
      `--db ${target.name} is its own network (--net router: every message passes the harness); --net ${net} / --no-proxy cannot go with it`,
    );
  if (target.defaultNet !== 'router' && net === 'router')
    throw new UsageError(
      `--net router is for targets whose messages the harness routes (${TARGETS.filter((t) => t.defaultNet === 'router')
        .map((t) => t.name)
        .join(', ')}), not --db ${target.name}`,
    );
  if (target.nets !== undefined && !target.nets.includes(net))
    throw new UsageError(
      `--net ${net} cannot go with --db ${target.name}: ${target.netsReason ?? `it runs on --net ${target.nets.join(', ')}`}`,
    );
  return { target, net, spec };
}

/**
 * Splits a --nemesis text into the faults the target and net of `args` can carry out and the reasons
 * for the others (what `skepsis test` would refuse). For suites that run on any store.
 */
export function fitNemesis(args: Pick<TestArgs, 'db' | 'net' | 'proxy' | 'dbSpec' | 'nemesis'>): { nemesis: string; leftOut: string[] } {
  const { target, net } = resolveTargetAndNet(args);
  const text = args.nemesis.trim() || 'none';
  const judged = judgeNemeses(text, target, net);
  const leftOut = judged.flatMap((j) => j.refused);
  if (leftOut.length === 0) return { nemesis: text, leftOut };
  const kept = judged.filter((j) => j.refused.length === 0).map((j) => j.spec.name);
  return { nemesis: kept.length > 0 ? kept.join(',') : 'none', leftOut };
}

/**
 * Each fault of a --nemesis text with the reasons the target and net cannot carry it out (none: it
 * can): the target's own refusals first (a command spec without the fault's commands), else what
 * the capabilities lack. The one judgement `skepsis test` refuses by and suites adapt by.
 */
function judgeNemeses(text: string, target: Target, net: NetName): { spec: NemesisSpec; refused: string[] }[] {
  let specs: NemesisSpec[];
  try {
    specs = text === 'none' ? [] : parseNemesisSpec(text);
  } catch (error) {
    if (error instanceof NemesisSpecError) throw new UsageError(`--nemesis: ${error.message}`);
    throw error;
  }
  const abilities = {
    db: target.capabilities,
    net: [...netCapabilities(net, target.peerLinks.proxyable), ...(target.ownNetCapabilities ?? [])],
    target: target.name,
    netName: net,
    netNote: (missing: Parameters<typeof missingNetReason>[1]) => missingNetReason(net, missing, target),
  };
  return specs.map((spec) => {
    const own = target.refuseNemesis?.(spec);
    return { spec, refused: own !== undefined ? [own] : unsupportedNemeses([spec], abilities) };
  });
}

export function buildTestConfig(args: TestArgs) {
  const nodes = requireRange('nodes', args.nodes, 1, 15);
  const timeLimitSec = requireRange('time-limit', args.timeLimit, 1, 24 * 3600, false);
  const intervalSec = requireRange('nemesis-interval', args.nemesisInterval, 0.1, 3600, false);
  const concurrency = requireRange('concurrency', args.concurrency ?? 2 * nodes, 1, 1024);
  const opTimeoutMs = requireRange('op-timeout-ms', args.opTimeoutMs, 100, 600_000);
  const checkTimeoutSec = requireRange('check-timeout', args.checkTimeout, 1, 24 * 3600, false);
  const seed = args.seed ?? randomInt(1, 2 ** 31);
  requireRange('seed', seed, 0, 2 ** 32 - 1);
  const unsafeBugs = parseUnsafeBugs(args.unsafeBug);
  const { target, net, spec } = resolveTargetAndNet(args);
  if (spec?.endpoints !== undefined && spec.endpoints.size !== nodes)
    throw new UsageError(
      `--nodes ${nodes}: ${args.dbSpec} gives ${spec.endpoints.size} endpoints; run with --nodes ${spec.endpoints.size}`,
    );
  if (target.workloads !== undefined && !target.workloads.includes(args.workload))
    throw new UsageError(`--db ${target.name} runs --workload ${target.workloads.join(', ')}, not ${args.workload}`);
  if (isWorkloadName(args.workload) && getWorkload(args.workload).messages !== undefined && target.workloads === undefined)
    throw new UsageError(
      `--workload ${args.workload} sends Maelstrom messages; it runs on --db ${TARGETS.filter((t) => t.workloads?.includes(args.workload))
        .map((t) => t.name)
        .join(', ')}, not --db ${target.name}`,
    );
  if ((args.bin !== undefined || args.binArg.length > 0) && target.name !== 'maelstrom')
    throw new UsageError(`--bin and --bin-arg are for --db maelstrom, not --db ${target.name}`);
  let dbOptions: Record<string, string>;
  let dbVersion: string;
  try {
    dbOptions = parseTargetOptions(target, args.dbOpt);
    dbVersion = target.validate(dbOptions, { unsafeBugs, nodeArgs: args.nodeArg, bin: args.bin }).version;
  } catch (error) {
    if (error instanceof TargetOptionError || error instanceof TargetUnavailableError) throw new UsageError(error.message);
    throw error;
  }
  const nemesis = args.nemesis.trim() || 'none';
  const refused = judgeNemeses(nemesis, target, net).flatMap((j) => j.refused);
  if (refused.length > 0) throw new UsageError(`--nemesis: ${refused.join('; ')}`);
  if (net === 'hosts') {
    const reason = hostsUnavailableReason();
    if (reason !== undefined) throw new UsageError(reason);
    if (nodes > HOSTS_NODES_MAX) throw new UsageError(`--net hosts takes at most ${HOSTS_NODES_MAX} nodes, got ${nodes}`);
  }
  let workloadOptions: Record<string, unknown>;
  try {
    workloadOptions = parseWorkloadOptions(args.workload, parseWorkloadOpts(args.workloadOpt));
  } catch (error) {
    if (error instanceof WorkloadOptionsError) throw new UsageError(`--workload-opt: ${error.message}`);
    throw error;
  }
  const name =
    args.name ??
    `${args.db === 'skepsis' ? '' : `${args.db}-`}${args.workload}-${nemesis.replace(/[^A-Za-z0-9_-]+/g, '_')}${unsafeBugs.length ? `-bug-${unsafeBugs.join('_')}` : ''}`;
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name)) throw new UsageError(`--name may only use letters, digits, "_", "." and "-", got "${name}"`);
  const command = [
    'npx skepsis test',
    ...(args.db === 'skepsis' ? [] : [`--db ${args.db}`]),
    ...(args.dbSpec !== undefined ? [`--db-spec ${shellQuote(args.dbSpec)}`] : []),
    ...args.dbOpt.map((o) => `--db-opt ${shellQuote(o)}`),
    ...(args.bin !== undefined ? [`--bin ${shellQuote(args.bin)}`] : []),
    ...args.binArg.map((arg) => `--bin-arg=${shellQuote(arg)}`),
    ...(net === target.defaultNet ? [] : [`--net ${net}`]),
    `--nodes ${nodes}`,
    `--workload ${args.workload}`,
    ...args.workloadOpt.map((o) => `--workload-opt ${shellQuote(o)}`),
    `--nemesis ${shellQuote(nemesis)}`,
    `--nemesis-interval ${intervalSec}`,
    `--time-limit ${timeLimitSec}`,
    `--concurrency ${concurrency}`,
    `--seed ${seed}`,
    ...unsafeBugs.map((bug) => `--unsafe-bug ${bug}`),
    ...args.nodeArg.map((arg) => `--node-arg=${shellQuote(arg)}`),
  ].join(' ');
  return {
    name,
    workload: args.workload,
    workloadOptions,
    nemesis,
    nemesisIntervalMs: Math.round(intervalSec * 1000),
    nodes,
    concurrency,
    timeLimitMs: Math.round(timeLimitSec * 1000),
    seed,
    unsafeBugs,
    nodeArgs: args.nodeArg,
    db: target.name,
    dbOptions,
    dbVersion,
    ...(spec ? { dbSpec: { file: resolve(spec.file), sha256: spec.sha256, spec: spec.raw } } : {}),
    net,
    ...(args.bin !== undefined ? { bin: args.bin, binArgs: args.binArg } : {}),
    opTimeoutMs,
    checkTimeoutMs: Math.round(checkTimeoutSec * 1000),
    command,
  };
}

async function handle(args: TestArgs): Promise<number> {
  const config = buildTestConfig(args);
  const progress = args.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  process.stderr.write(`skepsis test: ${config.command}\n`);
  const interrupt = listenForInterrupts('skepsis test');
  try {
    const outcome = await runTest({ config, store: args.store, progress, signal: interrupt.signal });
    const { results } = outcome;
    const out = (line: string) => process.stdout.write(`${line}\n`);
    if (results.valid !== true && outcome.text) out(outcome.text);
    out('');
    for (const line of results.summary) out(line);
    out(
      `ops: ${results.stats.operations} (ok ${results.stats.ok}, fail ${results.stats.fail}, info ${results.stats.info}); ` +
        `availability ${(results.availability.overall * 100).toFixed(1)}%` +
        (results.availability.duringFaults !== null ? `, during faults ${(results.availability.duringFaults * 100).toFixed(1)}%` : '') +
        `; faults: ${results.faults.length}; check took ${(results.checkElapsedMs / 1000).toFixed(2)} s`,
    );
    out(`verdict: ${results.valid === true ? 'valid' : results.valid === false ? 'INVALID' : 'unknown'}`);
    out(`report: ${outcome.dir}/report.html`);
    return exitCodeFor(results.valid);
  } catch (error) {
    if (error instanceof RunSetupError) {
      process.stderr.write(`skepsis test: the cluster could not start; nothing is left running.\n${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  } finally {
    interrupt.dispose();
  }
}

/**
 * Ctrl-C (or SIGTERM) once aborts `signal`: the run heals, stops its nodes and checks what was
 * recorded. A second one kills every node at once and exits 130. `dispose` stops listening.
 */
export function listenForInterrupts(command: string): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(
        `${command}: interrupted; healing, stopping the nodes and checking what was recorded (Ctrl-C again to kill everything now)\n`,
      );
      controller.abort();
    } else {
      killAllNodes();
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** The defaults of `skepsis test`; `skepsis suite` fills a run's unset options from them. */
export const TEST_DEFAULTS = {
  nodes: 5,
  workload: 'register',
  nemesis: 'partition,kill',
  nemesisInterval: 10,
  timeLimit: 60,
  store: 'store',
  proxy: true,
  db: 'skepsis',
  opTimeoutMs: 5000,
  checkTimeout: 120,
  quiet: false,
} as const;

/**
 * Adds every `skepsis test` flag to `command`. `skepsis suite` adds the same flags without their
 * defaults (`withDefaults` false), so a flag it sees set was given on its command line and applies
 * to every run; a flag added here reaches the suite too.
 */
export function addTestOptions(command: Argv, withDefaults: boolean): Argv {
  const d = <T>(value: T): T | undefined => (withDefaults ? value : undefined);
  return command
    .option('nodes', { type: 'number', default: d(TEST_DEFAULTS.nodes), describe: 'cluster size (1-15)' })
    .option('workload', {
      type: 'string',
      choices: [...WORKLOAD_NAMES],
      default: d(TEST_DEFAULTS.workload),
      describe: 'what the clients do',
    })
    .option('workload-opt', {
      type: 'string',
      array: true,
      default: [],
      describe: 'workload option name=value (repeatable), e.g. rate-ops-per-second=100',
    })
    .option('nemesis', {
      type: 'string',
      default: d(TEST_DEFAULTS.nemesis),
      describe: `faults, comma-separated: ${describeAllowedNemeses()}`,
    })
    .option('nemesis-interval', {
      type: 'number',
      default: d(TEST_DEFAULTS.nemesisInterval),
      describe: 'seconds between fault starts and stops (jittered)',
    })
    .option('time-limit', { type: 'number', default: d(TEST_DEFAULTS.timeLimit), describe: 'seconds of workload before the final heal' })
    .option('concurrency', { type: 'number', describe: 'client threads (default: 2 per node)' })
    .option('seed', { type: 'number', describe: 'seed for the schedule and client choices (default: random, printed)' })
    .option('store', { type: 'string', default: d(TEST_DEFAULTS.store), describe: 'root folder for runs (<store>/<name>/<time>/)' })
    .option('name', { type: 'string', describe: 'test name (default: workload-nemesis)' })
    .option('unsafe-bug', {
      type: 'string',
      array: true,
      default: [],
      describe: 'UNSAFE: run nodes with a known bug class, to see the harness catch it',
    })
    .option('node-arg', {
      type: 'string',
      array: true,
      default: [],
      describe: 'extra flag passed to every node (repeatable), e.g. --node-arg=--election-timeout-ms=300',
    })
    .option('db', {
      type: 'string',
      default: d(TEST_DEFAULTS.db),
      describe: `the store under test: ${TARGETS.map((t) => `${t.name} (${t.summary})`).join('; ')}`,
    })
    .option('db-opt', {
      type: 'string',
      array: true,
      default: [],
      describe: `target option NAME=VALUE (repeatable); ${TARGETS.filter((t) => t.options.length > 0)
        .map((t) => `${t.name}: ${t.options.map((o) => `${o.name}${o.default !== undefined ? ` (default ${o.default})` : ''}`).join(', ')}`)
        .join('; ')}`,
    })
    .option('db-spec', {
      type: 'string',
      describe:
        '--db command: a JSON file describing the store (its start command with placeholders, or the endpoints of a running cluster; its client protocol); see the README',
    })
    .option('net', {
      type: 'string',
      describe: `how links are made: proxy (relays the harness controls; no privileges), hosts (a network namespace per node, cuts at the IP level; root), direct (no network faults). Default: ${TARGETS.map((t) => `${t.defaultNet} for ${t.name}`).join(', ')}`,
    })
    .option('bin', { type: 'string', describe: '--db maelstrom: the node program (a Maelstrom-protocol binary)' })
    .option('bin-arg', {
      type: 'string',
      array: true,
      default: [],
      describe: '--db maelstrom: an argument for the node program (repeatable), e.g. --bin-arg=--verbose',
    })
    .option('proxy', {
      type: 'boolean',
      default: d(TEST_DEFAULTS.proxy),
      describe: '--no-proxy is --net direct',
    })
    .option('op-timeout-ms', {
      type: 'number',
      default: d(TEST_DEFAULTS.opTimeoutMs),
      describe: 'an operation without an answer after this long is recorded info',
    })
    .option('check-timeout', {
      type: 'number',
      default: d(TEST_DEFAULTS.checkTimeout),
      describe: 'seconds the linearizability check may take before answering unknown',
    })
    .option('quiet', { type: 'boolean', default: d(TEST_DEFAULTS.quiet), describe: 'no progress lines on stderr' });
}

export const testCommand: Command = {
  register(parser: Argv, setExit) {
    parser.command(
      'test',
      'run a cluster of real nodes behind proxies, clients and a nemesis; check the history; write a report',
      (command) => addTestOptions(command, true),
      async (args) => setExit(await handle(args as unknown as TestArgs)),
    );
  },
};
