// The nemesis schedule: quiet, fault, quiet, fault ... at a jittered interval, one fault at a time,
// the kind drawn per slot from a seeded Random, and always a full heal at the end. It does no I/O of
// its own: the Db, the Net and the clock are injected.

import { type Clock, type Db, type FaultRecord, type Nemesis, type NemesisContext, realClock } from './types.js';

export interface ScheduleOptions {
  /** The faults to choose from (createNemesis). Empty: a quiet run that still ends with the heal. */
  nemeses: readonly Nemesis[];
  /** ctx.random drives the schedule; each fault gets a fork of it, so what a nemesis draws (or how
   * often a transfer storm loops) never shifts later choices. */
  ctx: NemesisContext;
  /** Time between a fault's start and stop, and between a stop and the next start. Default 10 000 ms. */
  intervalMs?: number;
  /** Each wait is intervalMs * (1 +- jitterFraction), uniform. Default 0.25. */
  jitterFraction?: number;
  /** No fault starts after this; an active one is stopped at it. */
  timeLimitMs: number;
  /** Each record as it happens (start-*, stop-*, heal-all), for the history. Errors thrown here are logged, not raised. */
  onEvent?(record: FaultRecord): void;
  /** Default ctx.clock, else real time. Tests pass a virtual clock. */
  clock?: Clock;
  /** Fault windows at most; after that the schedule stays quiet until the time limit. Default 10 000. */
  faultsMax?: number;
}

export interface ScheduleResult {
  /** Everything passed to onEvent, in order. */
  records: FaultRecord[];
  /** Fault windows started. */
  faultsStarted: number;
  /** The signal aborted the schedule before its time limit. */
  aborted: boolean;
  /** What the final heal could not fix, e.g. `n3: did not start: ...`; empty when every node runs. */
  healProblems: string[];
}

/** Options that make no sense; the message quotes the bad value. */
export class ScheduleOptionsError extends Error {
  override readonly name = 'ScheduleOptionsError';
}

/**
 * Runs faults until the time limit or ctx.signal aborts, then always: stops the active fault, heals
 * the net, resumes every node and starts every node that is not running. Never throws for a fault
 * that fails; the failure is recorded in the fault's record (`error`) and the schedule moves on.
 */
export async function runSchedule(options: ScheduleOptions): Promise<ScheduleResult> {
  const intervalMs = options.intervalMs ?? 10_000;
  const jitterFraction = options.jitterFraction ?? 0.25;
  const faultsMax = options.faultsMax ?? 10_000;
  const { ctx, nemeses, timeLimitMs } = options;
  if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs) || intervalMs <= 0)
    throw new ScheduleOptionsError(`intervalMs must be a positive number, got ${JSON.stringify(options.intervalMs)}`);
  if (typeof jitterFraction !== 'number' || !(jitterFraction >= 0 && jitterFraction < 1))
    throw new ScheduleOptionsError(`jitterFraction must be in [0, 1), got ${JSON.stringify(options.jitterFraction)}`);
  if (typeof timeLimitMs !== 'number' || !Number.isFinite(timeLimitMs) || timeLimitMs < 0)
    throw new ScheduleOptionsError(`timeLimitMs must be a number >= 0, got ${JSON.stringify(timeLimitMs)}`);
  if (!Number.isSafeInteger(faultsMax) || faultsMax < 1)
    throw new ScheduleOptionsError(`faultsMax must be a positive integer, got ${JSON.stringify(options.faultsMax)}`);
  if (!Array.isArray(nemeses)) throw new ScheduleOptionsError(`nemeses must be an array, got ${JSON.stringify(nemeses)}`);

  const clock = options.clock ?? ctx.clock ?? realClock;
  const random = ctx.random;
  const signal = ctx.signal;
  const records: FaultRecord[] = [];
  const emit = (record: FaultRecord): void => {
    records.push(record);
    try {
      options.onEvent?.(record);
    } catch (error) {
      ctx.log(`nemesis: onEvent failed for ${record.f}: ${message(error)}`);
    }
  };
  const deadline = clock.now() + timeLimitMs;
  const waitMs = (): number => intervalMs * (1 + (random.nextFloat() * 2 - 1) * jitterFraction);
  /** Sleeps up to `ms`, never past the deadline; false when the schedule should end. */
  const pause = async (ms: number): Promise<boolean> => {
    const left = deadline - clock.now();
    if (left > 0 && !signal.aborted) await clock.sleep(Math.min(ms, left), signal);
    return !signal.aborted && clock.now() < deadline;
  };

  let faultsStarted = 0;
  let active: { nemesis: Nemesis; ctx: NemesisContext } | undefined;
  let failure: { error: unknown } | undefined;
  try {
    while (await pause(faultsStarted < faultsMax && nemeses.length > 0 ? waitMs() : Infinity)) {
      // A timer may wake a little before the deadline: with nothing (more) to start, wait again.
      if (nemeses.length === 0 || faultsStarted >= faultsMax) continue;
      const nemesis = random.pick(nemeses);
      const faultCtx: NemesisContext = { ...ctx, random: random.fork(), clock };
      active = { nemesis, ctx: faultCtx };
      faultsStarted++;
      emit(await attempt('start', nemesis, faultCtx));
      if (!(await pause(waitMs()))) break;
      active = undefined;
      emit(await attempt('stop', nemesis, faultCtx));
    }
  } catch (error) {
    // Only the injected clock can get here (nemesis failures are records); heal first, then rethrow.
    failure = { error };
  }
  // The heal runs even when aborted, with a signal of its own so that waits inside stop() proceed.
  const healSignal = new AbortController().signal;
  if (active !== undefined) emit(await attempt('stop', active.nemesis, { ...active.ctx, signal: healSignal }));
  const healProblems = await healEverything({ ...ctx, signal: healSignal, clock });
  emit({ f: 'heal-all', value: { problems: healProblems, net: ctx.net.describe() } });
  if (failure !== undefined) throw failure.error;
  return { records, faultsStarted, aborted: signal.aborted, healProblems };
}

/** Stops every fault there could be: heals the net, resumes every node, starts every stopped node. */
export async function healEverything(ctx: NemesisContext): Promise<string[]> {
  const problems: string[] = [];
  try {
    ctx.net.heal();
  } catch (error) {
    problems.push(`net: ${message(error)}`);
  }
  const db: Db = ctx.db;
  for (const node of db.nodes) {
    if (!db.isRunning(node)) continue;
    await db.resume(node).catch((error: unknown) => problems.push(`${node}: did not resume: ${message(error)}`));
  }
  await Promise.all(
    db.nodes
      .filter((node) => !db.isRunning(node))
      .map((node) => db.start(node).catch((error: unknown) => problems.push(`${node}: did not start: ${message(error)}`))),
  );
  for (const node of db.nodes) {
    if (!db.isRunning(node) && !problems.some((p) => p.startsWith(`${node}:`))) problems.push(`${node}: not running after the heal`);
  }
  ctx.log(problems.length === 0 ? 'nemesis: healed; every node running' : `nemesis: heal incomplete: ${problems.join('; ')}`);
  return problems;
}

/** Runs start or stop; a failure becomes the record (with `error`) instead of an exception. */
async function attempt(phase: 'start' | 'stop', nemesis: Nemesis, ctx: NemesisContext): Promise<FaultRecord> {
  try {
    return await nemesis[phase](ctx);
  } catch (error) {
    ctx.log(`nemesis: ${phase} ${nemesis.name} failed: ${message(error)}`);
    return { f: `${phase}-${nemesis.name.split(':')[0]}`, value: { nemesis: nemesis.name, error: message(error) } };
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
