// The nemeses (partition, kill, pause, flaky, disk, transfer, chase) as plain Nemesis objects, and the
// spec parser behind `--nemesis partition:halves,kill`. Scheduling lives in schedule.ts.

import { cutBetween, makeGrudge, majority, PARTITION_SHAPES, type PartitionShape, shapesFor, shuffled } from './grudge.js';
import { type LinkFault, ProxyOptionsError, validateLinkFault } from './proxy.js';
import type { Random } from '../src/raft/random.js';
import {
  CLIENT,
  type Clock,
  type DbCapability,
  type Link,
  type Nemesis,
  type NemesisContext,
  type NetCapability,
  realClock,
} from './types.js';

export type NemesisKind = 'partition' | 'kill' | 'pause' | 'flaky' | 'disk' | 'disk-synced' | 'transfer' | 'chase';
/** Every kind a spec may name; 'none' means no faults at all. */
export const NEMESIS_KINDS: readonly (NemesisKind | 'none')[] = [
  'none',
  'partition',
  'kill',
  'pause',
  'flaky',
  'disk',
  'disk-synced',
  'transfer',
  'chase',
];

export type NodeTarget = 'one' | 'minority' | 'majority' | 'all' | 'leader';
/** Targets for kill and pause; 'random' picks one per start. */
export const NODE_TARGETS: readonly (NodeTarget | 'random')[] = ['one', 'minority', 'majority', 'all', 'leader', 'random'];

/** What `disk` does to the tail after the synced prefix: a write cut short, or garbage (never synced data). */
export type DiskDamage = 'cut' | 'garble';
export const DISK_DAMAGES: readonly (DiskDamage | 'random')[] = ['cut', 'garble', 'random'];

/** Who the chase cuts off with each new leader: one follower (`pair`) or nobody (`alone`). */
export type ChaseVariant = 'pair' | 'alone';
export const CHASE_VARIANTS: readonly ChaseVariant[] = ['pair', 'alone'];

/** 'both', 'delay', 'loss': on the peer links. 'clients': on the client links, connections break. */
export type FlakyVariant = 'delay' | 'loss' | 'both' | 'clients';
export const FLAKY_VARIANTS: readonly FlakyVariant[] = ['delay', 'loss', 'both', 'clients'];

/** The variants each kind accepts after a colon, the first being the default. */
export const NEMESIS_VARIANTS: Readonly<Record<NemesisKind | 'none', readonly string[]>> = {
  none: [],
  partition: ['random', ...PARTITION_SHAPES.filter((s) => s !== 'random')],
  kill: ['random', ...NODE_TARGETS.filter((t) => t !== 'random')],
  pause: ['random', ...NODE_TARGETS.filter((t) => t !== 'random')],
  flaky: ['both', 'delay', 'loss', 'clients'],
  disk: ['random', 'cut', 'garble'],
  'disk-synced': [],
  transfer: [],
  chase: [...CHASE_VARIANTS],
};

/** One parsed spec item, e.g. `kill:leader` -> { kind: 'kill', variant: 'leader' }. */
export interface NemesisSpec {
  kind: NemesisKind;
  variant: string;
  /** The canonical text, e.g. `kill:leader`, `transfer`. */
  name: string;
}

export interface NemesisOptions {
  /** The flaky fault's delay and loss. Default { delayMs: 20, jitterMs: 30, dropFraction: 0.1 }; the
   * 'delay' variant uses only the delay fields, 'loss' only dropFraction. */
  flakyFault?: LinkFault;
  /** Time between leadership transfers in a transfer storm. Default 1000 ms. */
  transferIntervalMs?: number;
  /** Transfers per storm window at most. Default 100. */
  transfersMax?: number;
  /** How often the chase asks who leads. Default 20 ms. */
  chasePollMs?: number;
  /** The chase cuts a new leader off after a random delay in [0, chaseDelayMaxMs]. Default 250 ms. */
  chaseDelayMaxMs?: number;
  /** Cut-offs per chase window at most. Default 1000. */
  chaseCutsMax?: number;
}

/** A bad spec or option; the message names the bad value and lists the allowed ones. */
export class NemesisSpecError extends Error {
  override readonly name = 'NemesisSpecError';
}

/** One line for --help and error messages: every kind with its variants. */
export function describeAllowedNemeses(): string {
  return NEMESIS_KINDS.map((kind) => {
    const variants = NEMESIS_VARIANTS[kind];
    return variants.length === 0 ? kind : `${kind}[:${variants.join('|')}]`;
  }).join(', ');
}

/**
 * Parses `partition,kill:leader` (or an array of items, each of which may hold commas). Items are
 * trimmed; `none` alone gives no nemeses; duplicates are an error.
 */
export function parseNemesisSpec(spec: string | readonly string[]): NemesisSpec[] {
  const items = (typeof spec === 'string' ? [spec] : [...spec]).flatMap((s) => String(s).split(',')).map((s) => s.trim());
  if (items.length === 0 || items.every((s) => s.length === 0))
    throw new NemesisSpecError(`empty nemesis spec ${JSON.stringify(spec)}; allowed: ${describeAllowedNemeses()}`);
  const specs: NemesisSpec[] = [];
  let none = false;
  for (const item of items) {
    if (item.length === 0)
      throw new NemesisSpecError(`empty item in nemesis spec ${JSON.stringify(spec)}; allowed: ${describeAllowedNemeses()}`);
    const colon = item.indexOf(':');
    const kind = colon === -1 ? item : item.slice(0, colon);
    const variant = colon === -1 ? undefined : item.slice(colon + 1);
    if (!(NEMESIS_KINDS as readonly string[]).includes(kind))
      throw new NemesisSpecError(`unknown nemesis ${JSON.stringify(kind)}; allowed: ${NEMESIS_KINDS.join(', ')}`);
    const allowed = NEMESIS_VARIANTS[kind as NemesisKind | 'none'];
    if (variant !== undefined && !allowed.includes(variant)) {
      const list = allowed.length === 0 ? `${kind} takes no variant` : `allowed: ${allowed.join(', ')}`;
      throw new NemesisSpecError(`unknown ${kind} variant ${JSON.stringify(variant)} in ${JSON.stringify(item)}; ${list}`);
    }
    if (kind === 'none') {
      none = true;
      continue;
    }
    const chosen = variant ?? allowed[0] ?? '';
    const name = chosen === '' ? kind : `${kind}:${chosen}`;
    if (specs.some((s) => s.name === name))
      throw new NemesisSpecError(`nemesis ${JSON.stringify(name)} is listed twice in ${JSON.stringify(spec)}`);
    specs.push({ kind: kind as NemesisKind, variant: chosen, name });
  }
  if (none && specs.length > 0) throw new NemesisSpecError(`"none" cannot be combined with other nemeses in ${JSON.stringify(spec)}`);
  return specs;
}

/** What a nemesis needs of the target's Db and of the Net. */
export interface NemesisNeeds {
  db: DbCapability[];
  net: NetCapability[];
}

/** The capabilities a spec item needs (a random variant uses the leader when there is one, and needs none). */
export function requiredCapabilities(spec: NemesisSpec): NemesisNeeds {
  switch (spec.kind) {
    case 'partition':
      return { db: spec.variant === 'isolate-leader' ? ['leader'] : [], net: ['cut'] };
    case 'kill':
    case 'pause':
      return { db: spec.variant === 'leader' ? ['leader'] : [], net: [] };
    case 'flaky':
      return { db: [], net: [spec.variant === 'clients' ? 'flaky-clients' : 'flaky'] };
    case 'disk':
    case 'disk-synced':
      return { db: ['damage-log'], net: [] };
    case 'transfer':
      return { db: ['transfer'], net: [] };
    case 'chase':
      return { db: ['leader'], net: ['cut'] };
  }
}

/**
 * One message per spec item the target or the net cannot carry out, naming the item and what is
 * missing (empty when all can run). `target` and `net` name them for the message, e.g. `etcd`, `hosts`.
 */
export function unsupportedNemeses(
  specs: readonly NemesisSpec[],
  has: {
    db: readonly DbCapability[];
    net: readonly NetCapability[];
    target: string;
    netName: string;
    netNote?: (missing: NetCapability) => string | undefined;
  },
): string[] {
  const problems: string[] = [];
  for (const spec of specs) {
    const needs = requiredCapabilities(spec);
    const db = needs.db.filter((c) => !has.db.includes(c));
    const net = needs.net.filter((c) => !has.net.includes(c));
    if (db.length > 0)
      problems.push(`${spec.name} needs ${db.map((c) => CAPABILITY_TEXT[c]).join(' and ')}, which target ${has.target} does not offer`);
    for (const missing of net) {
      const note = has.netNote?.(missing);
      problems.push(
        `${spec.name} needs ${CAPABILITY_TEXT[missing]}, which --net ${has.netName} cannot do for target ${has.target}${note ? `: ${note}` : ''}`,
      );
    }
  }
  return problems;
}

const CAPABILITY_TEXT: Record<DbCapability | NetCapability, string> = {
  leader: 'to know the leader',
  transfer: 'leadership transfer',
  'damage-log': 'log damage',
  cut: 'cuts between nodes',
  'cut-clients': 'cuts between clients and nodes',
  flaky: 'delay and loss on peer links',
  'flaky-clients': 'broken client connections',
};

/** The leader, when the target can tell (undefined otherwise: the caller picks at random). */
function leaderOf(ctx: NemesisContext): Promise<string | undefined> {
  return ctx.db.leader ? ctx.db.leader() : Promise.resolve(undefined);
}

/** Nemeses for a spec (see parseNemesisSpec); options are validated here, before anything runs. */
export function createNemesis(spec: string | readonly string[], options: NemesisOptions = {}): Nemesis[] {
  const resolved = resolveNemesisOptions(options);
  return parseNemesisSpec(spec).map((item) => {
    switch (item.kind) {
      case 'partition':
        return partitionNemesis(item.variant as PartitionShape | 'random');
      case 'kill':
        return killNemesis(item.variant as NodeTarget | 'random');
      case 'pause':
        return pauseNemesis(item.variant as NodeTarget | 'random');
      case 'flaky':
        return flakyNemesis(item.variant as FlakyVariant, resolved.flakyFault);
      case 'disk':
        return diskNemesis(item.variant as DiskDamage | 'random');
      case 'disk-synced':
        return diskNemesis('synced');
      case 'transfer':
        return transferNemesis(resolved.transferIntervalMs, resolved.transfersMax);
      case 'chase':
        return chaseNemesis(item.variant as ChaseVariant, {
          pollMs: resolved.chasePollMs,
          delayMaxMs: resolved.chaseDelayMaxMs,
          cutsMax: resolved.chaseCutsMax,
        });
    }
  });
}

interface ResolvedNemesisOptions {
  flakyFault: LinkFault;
  transferIntervalMs: number;
  transfersMax: number;
  chasePollMs: number;
  chaseDelayMaxMs: number;
  chaseCutsMax: number;
}

function resolveNemesisOptions(options: NemesisOptions): ResolvedNemesisOptions {
  let flakyFault: LinkFault;
  try {
    flakyFault = validateLinkFault(options.flakyFault ?? { delayMs: 20, jitterMs: 30, dropFraction: 0.1 }, 'flakyFault');
  } catch (error) {
    if (error instanceof ProxyOptionsError) throw new NemesisSpecError(error.message);
    throw error;
  }
  if (flakyFault.cutForward || flakyFault.cutBackward)
    throw new NemesisSpecError(`flakyFault cannot cut links, got ${JSON.stringify(options.flakyFault)}`);
  const resolved = {
    flakyFault,
    transferIntervalMs: options.transferIntervalMs ?? 1000,
    transfersMax: options.transfersMax ?? 100,
    chasePollMs: options.chasePollMs ?? 20,
    chaseDelayMaxMs: options.chaseDelayMaxMs ?? 250,
    chaseCutsMax: options.chaseCutsMax ?? 1000,
  };
  if (typeof resolved.transferIntervalMs !== 'number' || !Number.isFinite(resolved.transferIntervalMs) || resolved.transferIntervalMs < 1)
    throw new NemesisSpecError(`transferIntervalMs must be a number >= 1, got ${JSON.stringify(options.transferIntervalMs)}`);
  if (!Number.isSafeInteger(resolved.transfersMax) || resolved.transfersMax < 1)
    throw new NemesisSpecError(`transfersMax must be a positive integer, got ${JSON.stringify(options.transfersMax)}`);
  if (typeof resolved.chasePollMs !== 'number' || !Number.isFinite(resolved.chasePollMs) || resolved.chasePollMs < 1)
    throw new NemesisSpecError(`chasePollMs must be a number >= 1, got ${JSON.stringify(options.chasePollMs)}`);
  if (!Number.isSafeInteger(resolved.chaseDelayMaxMs) || resolved.chaseDelayMaxMs < 0)
    throw new NemesisSpecError(`chaseDelayMaxMs must be an integer >= 0, got ${JSON.stringify(options.chaseDelayMaxMs)}`);
  if (!Number.isSafeInteger(resolved.chaseCutsMax) || resolved.chaseCutsMax < 1)
    throw new NemesisSpecError(`chaseCutsMax must be a positive integer, got ${JSON.stringify(options.chaseCutsMax)}`);
  return resolved;
}

/** Partition: cuts the links of a grudge on start, lifts exactly those cuts on stop. */
export function partitionNemesis(shape: PartitionShape | 'random'): Nemesis {
  let active: Link[] = [];
  let shapeMade: string | undefined;
  return {
    name: `partition:${shape}`,
    async start(ctx) {
      const chosen = shape === 'random' ? ctx.random.pick(shapesFor(ctx.db.nodes.length)) : shape;
      const leader = chosen === 'isolate-leader' ? await leaderOf(ctx) : undefined;
      const grudge = makeGrudge(chosen, ctx.db.nodes, ctx.random, leader);
      active = grudge.cuts;
      shapeMade = grudge.name;
      ctx.net.cut(grudge.cuts);
      ctx.log(`nemesis: start partition ${grudge.description}`);
      return { f: 'start-partition', value: { shape: grudge.name, cuts: grudge.cuts, description: grudge.description } };
    },
    async stop(ctx) {
      const healed = active;
      ctx.net.uncut(healed);
      active = [];
      ctx.log(`nemesis: stop partition (${healed.length} cuts lifted)`);
      return { f: 'stop-partition', value: { shape: shapeMade, cutsLifted: healed.length } };
    },
  };
}

/** The nodes a target names, in db order; the leader target asks the db (a random node if none). */
async function chooseTargets(
  target: NodeTarget | 'random',
  ctx: NemesisContext,
): Promise<{ target: NodeTarget; nodes: string[]; note?: string }> {
  const chosen: NodeTarget = target === 'random' ? ctx.random.pick(NODE_TARGETS.filter((t): t is NodeTarget => t !== 'random')) : target;
  const all = ctx.db.nodes;
  const inDbOrder = (picked: string[]): string[] => all.filter((n) => picked.includes(n));
  switch (chosen) {
    case 'one':
      return { target: chosen, nodes: [ctx.random.pick(all)] };
    case 'minority':
      // Strictly fewer than half; at least one node.
      return { target: chosen, nodes: inDbOrder(shuffled(all, ctx.random).slice(0, Math.max(1, Math.floor((all.length - 1) / 2)))) };
    case 'majority':
      return { target: chosen, nodes: inDbOrder(shuffled(all, ctx.random).slice(0, majority(all.length))) };
    case 'all':
      return { target: chosen, nodes: [...all] };
    case 'leader': {
      const leader = await leaderOf(ctx);
      if (leader !== undefined && all.includes(leader)) return { target: chosen, nodes: [leader] };
      return { target: chosen, nodes: [ctx.random.pick(all)], note: 'no leader known: a random node' };
    }
  }
}

/** Kill (kill -9) on start, restart on stop. Restarts run in parallel: a majority may need each other. */
export function killNemesis(target: NodeTarget | 'random'): Nemesis {
  let killed: string[] = [];
  return {
    name: `kill:${target}`,
    async start(ctx) {
      const choice = await chooseTargets(target, ctx);
      const errors: string[] = [];
      for (const node of choice.nodes) {
        if (!ctx.db.isRunning(node)) continue;
        killed.push(node);
        await ctx.db.kill(node).catch((error: unknown) => errors.push(`${node}: ${message(error)}`));
      }
      ctx.log(`nemesis: start kill ${choice.target}: ${killed.join(' ')}${choice.note ? ` (${choice.note})` : ''}`);
      return { f: 'start-kill', value: withErrors({ target: choice.target, nodes: [...killed], note: choice.note }, errors) };
    },
    async stop(ctx) {
      const nodes = killed;
      killed = [];
      const errors: string[] = [];
      await Promise.all(nodes.map((node) => ctx.db.start(node).catch((error: unknown) => errors.push(`${node}: ${message(error)}`))));
      ctx.log(`nemesis: stop kill: restarted ${nodes.join(' ')}${errors.length ? `; failed: ${errors.join('; ')}` : ''}`);
      return { f: 'stop-kill', value: withErrors({ nodes }, errors) };
    },
  };
}

/** Pause (SIGSTOP) on start, resume (SIGCONT) on stop. */
export function pauseNemesis(target: NodeTarget | 'random'): Nemesis {
  let paused: string[] = [];
  return {
    name: `pause:${target}`,
    async start(ctx) {
      const choice = await chooseTargets(target, ctx);
      const errors: string[] = [];
      for (const node of choice.nodes) {
        if (!ctx.db.isRunning(node)) continue;
        paused.push(node);
        await ctx.db.pause(node).catch((error: unknown) => errors.push(`${node}: ${message(error)}`));
      }
      ctx.log(`nemesis: start pause ${choice.target}: ${paused.join(' ')}${choice.note ? ` (${choice.note})` : ''}`);
      return { f: 'start-pause', value: withErrors({ target: choice.target, nodes: [...paused], note: choice.note }, errors) };
    },
    async stop(ctx) {
      const nodes = paused;
      paused = [];
      const errors: string[] = [];
      for (const node of nodes) await ctx.db.resume(node).catch((error: unknown) => errors.push(`${node}: ${message(error)}`));
      ctx.log(`nemesis: stop pause: resumed ${nodes.join(' ')}`);
      return { f: 'stop-pause', value: withErrors({ nodes }, errors) };
    },
  };
}

/**
 * While active: delay and/or loss on every peer link ('both', 'delay', 'loss'), or, for 'clients',
 * broken connections on every client link. A client link's proxy carries raw HTTP, so its loss is
 * per chunk: with probability dropFraction a request or a reply breaks its connection. A reply lost
 * that way belongs to a request the node may have applied; the client retries it (same client id
 * and sequence number), which only the node's de-duplication keeps from applying twice.
 */
export function flakyNemesis(variant: FlakyVariant, fault: LinkFault): Nemesis {
  const applied: LinkFault =
    variant === 'delay'
      ? { delayMs: fault.delayMs, jitterMs: fault.jitterMs, bytesPerSecond: fault.bytesPerSecond }
      : variant === 'loss' || variant === 'clients'
        ? { dropFraction: fault.dropFraction }
        : { ...fault };
  for (const key of Object.keys(applied) as (keyof LinkFault)[]) if (applied[key] === undefined) delete applied[key];
  let links: Link[] | undefined;
  return {
    name: `flaky:${variant}`,
    async start(ctx) {
      links = variant === 'clients' ? ctx.net.nodes.map((node): Link => [CLIENT, node]) : undefined;
      ctx.net.flaky(applied, links);
      ctx.log(`nemesis: start flaky ${variant}: ${JSON.stringify(applied)}`);
      return { f: 'start-flaky', value: { variant, fault: applied } };
    },
    async stop(ctx) {
      ctx.net.clearFlaky(links);
      links = undefined;
      ctx.log('nemesis: stop flaky');
      return { f: 'stop-flaky', value: { variant } };
    },
  };
}

/**
 * Disk: start kills one running node and damages its log; stop restarts it. `disk` (cut, garble)
 * loses only what was never synced: the node must recover, with nothing it acknowledged lost.
 * `disk-synced` flips a bit in a durable record: the node must refuse to start, loudly; starting on
 * that log is recorded as a violation (`expected: refused`), which fails the run (analyze.ts). A
 * refused node stays down, so disk-synced damages no more nodes than leave a majority running.
 */
export function diskNemesis(damage: DiskDamage | 'random' | 'synced'): Nemesis {
  const kind = damage === 'synced' ? 'disk-synced' : 'disk';
  let victim: string | undefined;
  let how: DiskDamage | 'synced' | undefined;
  const refused = new Set<string>();
  return {
    name: damage === 'synced' ? kind : `disk:${damage}`,
    async start(ctx) {
      const running = ctx.db.nodes.filter((n) => ctx.db.isRunning(n));
      if (running.length === 0) return { f: `start-${kind}`, value: { error: 'no running node to damage' } };
      if (damage === 'synced' && refused.size + 1 > Math.floor((ctx.db.nodes.length - 1) / 2))
        return {
          f: `start-${kind}`,
          value: { error: `${refused.size} node(s) already refused to start; another would leave no majority` },
        };
      const node = ctx.random.pick(running);
      how = damage === 'random' ? ctx.random.pick(['cut', 'garble'] as const) : damage;
      victim = node;
      await ctx.db.kill(node);
      let description: string;
      try {
        if (!ctx.db.damageLog) throw new Error('this target cannot damage logs');
        description = await ctx.db.damageLog(node, how, ctx.random);
      } catch (error) {
        description = `damage failed: ${message(error)}`;
      }
      ctx.log(`nemesis: start ${kind} ${how} ${node}: ${description}`);
      return { f: `start-${kind}`, value: { node, how, damage: description } };
    },
    async stop(ctx) {
      const node = victim;
      victim = undefined;
      if (node === undefined) return { f: `stop-${kind}`, value: { outcome: 'nothing to restart' } };
      const expected = damage === 'synced' ? 'refused' : 'recovered';
      try {
        await ctx.db.start(node);
        ctx.log(`nemesis: stop ${kind}: ${node} started after ${how}${expected === 'refused' ? ' (it should have refused)' : ''}`);
        return { f: `stop-${kind}`, value: { node, how, outcome: 'recovered', expected } };
      } catch (error) {
        if (damage === 'synced') refused.add(node);
        ctx.log(`nemesis: stop ${kind}: ${node} refused to start after ${how}: ${message(error)}`);
        return { f: `stop-${kind}`, value: { node, how, outcome: 'refused', expected, error: message(error) } };
      }
    },
  };
}

/**
 * Leadership transfer storm: while active, asks for a transfer to a random non-leader every
 * intervalMs (at most transfersMax per window). Stop ends the loop and waits for it.
 */
export function transferNemesis(intervalMs: number, transfersMax: number): Nemesis {
  const none = () => ({ attempts: 0, succeeded: 0, errors: 0 });
  let stopLoop: (() => Promise<ReturnType<typeof none>>) | undefined;
  return {
    name: 'transfer',
    async start(ctx) {
      stopLoop = startLoop(ctx, async (signal, clock, random) => {
        const counts = none();
        while (!signal.aborted && counts.attempts < transfersMax) {
          try {
            const leader = await leaderOf(ctx);
            const candidates = ctx.db.nodes.filter((n) => n !== leader && ctx.db.isRunning(n));
            if (candidates.length > 0 && !signal.aborted) {
              const to = random.pick(candidates);
              counts.attempts++;
              if (await ctx.db.transferLeader?.(to)) counts.succeeded++;
            }
          } catch {
            counts.errors++;
          }
          await clock.sleep(intervalMs, signal);
        }
        return counts;
      });
      ctx.log(`nemesis: start transfer storm every ${intervalMs} ms`);
      return { f: 'start-transfer', value: { intervalMs } };
    },
    async stop(ctx) {
      const counts = stopLoop === undefined ? none() : await stopLoop();
      stopLoop = undefined;
      ctx.log(`nemesis: stop transfer storm: ${counts.succeeded}/${counts.attempts} transfers succeeded`);
      return { f: 'stop-transfer', value: counts };
    },
  };
}

/**
 * Runs `body` in the background until the returned stop function (or the run's signal) aborts it;
 * stop resolves with what the body returned. The body gets the abort signal, the clock and its own
 * fork of the seeded random.
 */
function startLoop<T>(ctx: NemesisContext, body: (signal: AbortSignal, clock: Clock, random: Random) => Promise<T>): () => Promise<T> {
  const controller = new AbortController();
  const done = body(AbortSignal.any([controller.signal, ctx.signal]), ctx.clock ?? realClock, ctx.random.fork());
  return () => {
    controller.abort();
    return done;
  };
}

/**
 * Leader chase (the shapes of Raft's Figure 8): while active, asks who leads every pollMs; each time
 * a leader appears that is not the one already cut off, it waits a random 0..delayMaxMs, then cuts
 * that leader (with one random follower for `pair`, alone for `alone`) off from the rest, lifting
 * the previous cut. Each leader so gets a moment to commit and serve, then keeps its later entries
 * on a minority while the majority elects the next one, over and over: entries of different terms
 * pile up on minorities at the same indices. Client links stay up. Stop lifts the last cut.
 */
export function chaseNemesis(variant: ChaseVariant, options: { pollMs: number; delayMaxMs: number; cutsMax: number }): Nemesis {
  let stopLoop: (() => Promise<{ cutOff: string[]; errors: number }>) | undefined;
  let active: Link[] = [];
  return {
    name: `chase:${variant}`,
    async start(ctx) {
      const all = ctx.db.nodes;
      stopLoop = startLoop(ctx, async (signal, clock, random) => {
        const counts = { cutOff: [] as string[], errors: 0 };
        let chased: string | undefined;
        while (!signal.aborted && counts.cutOff.length < options.cutsMax) {
          try {
            const leader = await leaderOf(ctx);
            if (leader !== undefined && leader !== chased && all.includes(leader) && !signal.aborted) {
              await clock.sleep(random.nextInt(0, options.delayMaxMs + 1), signal);
              if (signal.aborted) break;
              const followers = all.filter((n) => n !== leader);
              const island = variant === 'pair' ? [leader, random.pick(followers)] : [leader];
              const cuts = cutBetween(
                island,
                all.filter((n) => !island.includes(n)),
              );
              ctx.net.uncut(active);
              ctx.net.cut(cuts);
              active = cuts;
              chased = leader;
              counts.cutOff.push(island.join('+'));
            }
          } catch {
            counts.errors++;
          }
          await clock.sleep(options.pollMs, signal);
        }
        return counts;
      });
      ctx.log(`nemesis: start chase ${variant}: every new leader cut off${variant === 'pair' ? ' with one follower' : ''}`);
      return { f: 'start-chase', value: { variant, pollMs: options.pollMs, delayMaxMs: options.delayMaxMs } };
    },
    async stop(ctx) {
      const counts = stopLoop === undefined ? { cutOff: [], errors: 0 } : await stopLoop();
      stopLoop = undefined;
      const healed = active;
      ctx.net.uncut(healed);
      active = [];
      ctx.log(`nemesis: stop chase: ${counts.cutOff.length} cut-offs (${counts.cutOff.join(' ')})`);
      return { f: 'stop-chase', value: { variant, cutOffs: counts.cutOff, errors: counts.errors, cutsLifted: healed.length } };
    },
  };
}

function withErrors<T extends object>(value: T, errors: string[]): T & { errors?: string[] } {
  return errors.length === 0 ? value : { ...value, errors };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
