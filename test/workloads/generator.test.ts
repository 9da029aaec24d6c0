// The generator algebra: each combinator asked directly (pure values), and whole generators run on
// the virtual clock of simulateGenerator (determinism, limits, time limits, phases, rates, keys).

import { describe, expect, it } from 'vitest';
import { Random } from '../../src/raft/random.js';
import {
  delay,
  done,
  eachThread,
  fn,
  GeneratorError,
  limit,
  map,
  mix,
  once,
  perKey,
  phases,
  rate,
  repeat,
  sequence,
  sleep,
  stagger,
  stateful,
  timeLimit,
  untilOk,
  type Generator,
  type GeneratorContext,
} from '../../workloads/generator.js';
import { GeneratorInterpreter } from '../../workloads/interpreter.js';
import { simulateGenerator, type SimulatedOp } from '../../workloads/simulate.js';
import type { OpSpec } from '../../workloads/types.js';

function context(overrides: Partial<GeneratorContext> = {}): GeneratorContext {
  return { timeMs: 0, thread: 0, process: 0, threads: 1, inFlight: 0, random: new Random(1), ...overrides };
}

/** Asks a generator again and again with the same context, collecting ops until it is not an op. */
function drain(generator: Generator, ctx = context(), max = 1000): { ops: OpSpec[]; last: string } {
  const ops: OpSpec[] = [];
  let current = generator;
  for (let i = 0; i < max; i++) {
    const result = current.op(ctx);
    if (result.type !== 'op') return { ops, last: result.type };
    ops.push(result.op);
    current = result.next;
  }
  return { ops, last: 'max' };
}

const read: OpSpec = { f: 'read' };
const write = (value: number): OpSpec => ({ f: 'write', value });

function counter(): Generator {
  return stateful<number>(0, (n) => [write(n), n + 1]);
}

describe('basic generators', () => {
  it('once, sequence and done', () => {
    expect(drain(once(read))).toEqual({ ops: [read], last: 'done' });
    expect(drain(sequence(read, write(1), once(write(2))))).toEqual({ ops: [read, write(1), write(2)], last: 'done' });
    expect(drain(done)).toEqual({ ops: [], last: 'done' });
  });

  it('fn is endless until it returns undefined; stateful carries state', () => {
    let calls = 0;
    expect(drain(fn(() => (calls++ < 3 ? read : undefined))).ops).toHaveLength(3);
    expect(drain(limit(4, counter())).ops.map((op) => op.value)).toEqual([0, 1, 2, 3]);
  });

  it('generators are immutable values: asking an old one again gives the same answer', () => {
    const start = counter();
    const first = start.op(context());
    const again = start.op(context());
    expect(first.type === 'op' && first.op).toEqual(write(0));
    expect(again.type === 'op' && again.op).toEqual(write(0));
  });

  it('repeat restarts a finished generator, a bounded number of times', () => {
    expect(drain(repeat(sequence(write(1), write(2)), 3)).ops.map((op) => op.value)).toEqual([1, 2, 1, 2, 1, 2]);
    expect(drain(repeat(read), context(), 50).ops).toHaveLength(50);
    // A generator that is empty on restart ends the repetition instead of spinning.
    expect(drain(repeat(done))).toEqual({ ops: [], last: 'done' });
  });

  it('limit counts ops over all threads', () => {
    const result = simulateGenerator(limit(17, repeat(read)), { threads: 4, seed: 3 });
    expect(result.ops).toHaveLength(17);
    expect(new Set(result.ops.map((op) => op.thread)).size).toBe(4);
    expect(result.stopReason).toBe('done');
  });

  it('map rewrites ops', () => {
    expect(drain(map((op) => ({ ...op, key: 'x' }), limit(2, repeat(read)))).ops).toEqual([
      { f: 'read', key: 'x' },
      { f: 'read', key: 'x' },
    ]);
  });

  it('rejects bad arguments with the bad value in the message', () => {
    expect(() => limit(-1, done)).toThrow(/limit: count must be an integer >= 0, got -1/);
    expect(() => rate(0, done)).toThrow(/rate: opsPerSecond must be a finite number > 0, got 0/);
    expect(() => mix([done], [1, 2])).toThrow(GeneratorError);
    expect(() => mix([done, done], [1, -1])).toThrow(/weights must be finite numbers > 0, got \[1,-1\]/);
    expect(() => perKey({ threadsPerKey: 0 }, () => done)).toThrow(/threadsPerKey must be an integer >= 1, got 0/);
    expect(() => drain(fn(() => ({ f: '' })))).toThrow(/without a name f/);
  });
});

describe('mix', () => {
  const source = () => mix([repeat(read), repeat(write(1))], [3, 1]);

  it('is deterministic per seed and differs between seeds', () => {
    const names = (seed: number) =>
      simulateGenerator(limit(200, source()), { threads: 3, seed })
        .ops.map((op) => op.op.f)
        .join(',');
    expect(names(7)).toBe(names(7));
    expect(names(7)).not.toBe(names(8));
  });

  it('honors the weights', () => {
    const ops = simulateGenerator(limit(4000, source()), { threads: 2, seed: 11 }).ops;
    const reads = ops.filter((op) => op.op.f === 'read').length / ops.length;
    expect(reads).toBeGreaterThan(0.72);
    expect(reads).toBeLessThan(0.78);
  });

  it('drops members that are done and ends when all are', () => {
    const { ops } = drain(mix([limit(3, repeat(read)), limit(5, repeat(write(1)))]));
    expect(ops.filter((op) => op.f === 'read')).toHaveLength(3);
    expect(ops.filter((op) => op.f === 'write')).toHaveLength(5);
  });
});

describe('time', () => {
  it('timeLimit counts from the first ask, on the virtual clock', () => {
    const generator = timeLimit(100, repeat(read));
    const first = generator.op(context({ timeMs: 50 }));
    expect(first.type).toBe('op');
    if (first.type !== 'op') return;
    expect(first.next.op(context({ timeMs: 149 })).type).toBe('op');
    expect(first.next.op(context({ timeMs: 150 })).type).toBe('done');
  });

  it('timeLimit wakes a pending inner generator at the deadline', () => {
    const result = timeLimit(30, sleep(1000)).op(context({ timeMs: 0 }));
    expect(result).toMatchObject({ type: 'pending', untilMs: 30 });
  });

  it('a time-limited run issues ops only before the deadline, and lets them finish', () => {
    const result = simulateGenerator(timeLimit(1000, repeat(read)), { threads: 3, seed: 1, latencyMs: 10 });
    expect(result.ops).toHaveLength(300);
    expect(Math.max(...result.ops.map((op) => op.invokeMs))).toBe(990);
    expect(result.endMs).toBe(1000);
  });

  it('stagger and rate hold the total rate across threads, with randomized gaps', () => {
    const result = simulateGenerator(timeLimit(20_000, rate(50, repeat(read))), { threads: 5, seed: 5, latencyMs: 3 });
    // 50/s for 20 s: 1000 expected.
    expect(result.ops.length).toBeGreaterThan(900);
    expect(result.ops.length).toBeLessThan(1100);
    const gaps = new Set(result.ops.slice(1).map((op, i) => Math.round((op.invokeMs - result.ops[i].invokeMs) * 1000)));
    expect(gaps.size).toBeGreaterThan(100);
    expect(new Set(result.ops.map((op) => op.thread)).size).toBe(5);
  });

  it('stagger does not burst to catch up when clients are slower than the rate', () => {
    // 100/s asked of one client that takes 50 ms per op: about 20/s, never two at once.
    const result = simulateGenerator(timeLimit(2000, stagger(10, repeat(read))), { threads: 1, seed: 2, latencyMs: 50 });
    expect(result.ops.length).toBeGreaterThanOrEqual(38);
    expect(result.ops.length).toBeLessThanOrEqual(41);
  });

  it('delay spaces ops exactly', () => {
    const result = simulateGenerator(limit(5, delay(25, repeat(read))), { threads: 4, seed: 1, latencyMs: 1 });
    expect(result.ops.map((op) => op.invokeMs)).toEqual([0, 25, 50, 75, 100]);
  });

  it('sleep pauses a sequence', () => {
    const result = simulateGenerator(sequence(read, sleep(500), write(1)), { threads: 1, seed: 1, latencyMs: 1 });
    expect(result.ops.map((op) => op.invokeMs)).toEqual([0, 501]);
  });
});

describe('phases and sequence', () => {
  const latency = (op: OpSpec, random: Random) => (op.f === 'write' ? 10 + random.nextInt(0, 90) : 5);

  it('phases start the next phase only after every op in flight completed', () => {
    const result = simulateGenerator(phases(limit(8, repeat(write(1))), once(read)), { threads: 4, seed: 9, latencyMs: latency });
    const writes = result.ops.filter((op) => op.op.f === 'write');
    const readOp = result.ops.find((op) => op.op.f === 'read')!;
    expect(writes).toHaveLength(8);
    expect(readOp.invokeMs).toBe(Math.max(...writes.map((op) => op.completeMs)));
  });

  it('sequence does not wait (the contrast that shows the phases test can fail)', () => {
    const result = simulateGenerator(sequence(limit(8, repeat(write(1))), once(read)), { threads: 4, seed: 9, latencyMs: latency });
    const writes = result.ops.filter((op) => op.op.f === 'write');
    const readOp = result.ops.find((op) => op.op.f === 'read')!;
    expect(readOp.invokeMs).toBeLessThan(Math.max(...writes.map((op) => op.completeMs)));
  });
});

describe('eachThread', () => {
  it('gives every thread its own copy', () => {
    const result = simulateGenerator(eachThread(limit(3, counter())), { threads: 4, seed: 1 });
    expect(result.ops).toHaveLength(12);
    for (let thread = 0; thread < 4; thread++) {
      expect(result.ops.filter((op) => op.thread === thread).map((op) => op.op.value)).toEqual([0, 1, 2]);
    }
  });

  it('builds per-thread generators from a factory', () => {
    const result = simulateGenerator(
      eachThread((thread, threads) => once({ f: 'read', key: `${thread}/${threads}` })),
      { threads: 3, seed: 1 },
    );
    expect(result.ops.map((op) => `${op.thread}:${op.op.key}`).sort()).toEqual(['0:0/3', '1:1/3', '2:2/3']);
  });
});

describe('perKey', () => {
  const run = (threads: number, seed: number): SimulatedOp[] =>
    simulateGenerator(
      perKey({ threadsPerKey: 2, opsPerKey: 5, keysMax: 6 }, () => repeat(read)),
      { threads, seed, latencyMs: (_, random) => 1 + random.nextInt(0, 20) },
    ).ops;

  it('gives each key exactly opsPerKey ops from one group of threads, and fresh keys after', () => {
    const ops = run(4, 3);
    expect(ops).toHaveLength(30);
    const byKey = new Map<string, SimulatedOp[]>();
    for (const op of ops) byKey.set(op.op.key!, [...(byKey.get(op.op.key!) ?? []), op]);
    expect([...byKey.keys()].sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
    for (const keyOps of byKey.values()) {
      expect(keyOps).toHaveLength(5);
      const groups = new Set(keyOps.map((op) => Math.floor(op.thread / 2)));
      expect(groups.size).toBe(1);
    }
    // Both groups worked: keys were handed to the group that was free.
    expect(new Set(ops.map((op) => Math.floor(op.thread / 2))).size).toBe(2);
  });

  it('lets a smaller last group work when threads is not a multiple', () => {
    const ops = run(3, 4);
    expect(ops).toHaveLength(30);
    expect(ops.some((op) => op.thread === 2)).toBe(true);
  });

  it('gives the per-key generator the group context', () => {
    const seen: string[] = [];
    const generator = perKey({ threadsPerKey: 2, opsPerKey: 2, keysMax: 2 }, (key) =>
      fn((ctx) => {
        seen.push(`${key} thread=${ctx.thread} threads=${ctx.threads}`);
        return read;
      }),
    );
    simulateGenerator(generator, { threads: 3, seed: 1 });
    expect(seen.sort()).toEqual(['k0 thread=0 threads=2', 'k0 thread=1 threads=2', 'k1 thread=0 threads=1', 'k1 thread=0 threads=1']);
  });
});

describe('untilOk', () => {
  it('retries after fail and info, with backoff, until ok', () => {
    let attempts = 0;
    const result = simulateGenerator(untilOk(read, { attemptsMax: 10, backoffMs: 50 }), {
      threads: 1,
      seed: 1,
      latencyMs: 5,
      respond: () => {
        attempts++;
        return attempts === 1
          ? { type: 'fail', error: 'not_leader' }
          : attempts === 2
            ? { type: 'info', error: 'timeout' }
            : { type: 'ok', value: 1 };
      },
    });
    expect(result.ops.map((op) => op.completion.type)).toEqual(['fail', 'info', 'ok']);
    expect(result.ops.map((op) => op.invokeMs)).toEqual([0, 55, 110]);
    // The info retired the process: the third attempt runs as a new one.
    expect(result.ops.map((op) => op.process)).toEqual([0, 0, 1]);
  });

  it('gives up after attemptsMax', () => {
    const result = simulateGenerator(untilOk(read, { attemptsMax: 3, backoffMs: 0 }), {
      threads: 1,
      seed: 1,
      respond: () => ({ type: 'fail', error: 'x' }),
    });
    expect(result.ops).toHaveLength(3);
  });
});

describe('interpreter', () => {
  it('reports a generator that can never make progress', () => {
    const stuck: Generator = { name: 'stuck', op: () => ({ type: 'pending', next: stuck }) };
    expect(() => simulateGenerator(stuck, { threads: 2, seed: 1 })).toThrow(/generator stuck is stuck/);
  });

  it('rejects a bad thread count with the value', () => {
    expect(() => new GeneratorInterpreter({ generator: done, threads: 0, seed: 1 })).toThrow(/got 0/);
  });

  it('moves a thread to a new process after info, by the thread count', () => {
    const interpreter = new GeneratorInterpreter({ generator: repeat(read), threads: 3, seed: 1, firstProcess: 10 });
    const { dispatches } = interpreter.poll(0);
    expect(dispatches.map((d) => d.process).sort()).toEqual([10, 11, 12]);
    expect(interpreter.complete(1, { type: 'info', error: 'timeout' }, 1)).toBe(14);
    expect(interpreter.complete(0, { type: 'fail' }, 1)).toBe(10);
    expect(interpreter.nextProcess).toBe(15);
    expect(interpreter.processesUsed).toBe(4);
  });
});
