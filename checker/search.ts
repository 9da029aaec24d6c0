// The Wing-Gong/Lowe linearizability search for one independent part of a history, as in
// Porcupine: a time-ordered list of call and return entries, linearize and backtrack, and a cache of
// (set of linearized operations, model state) so that no configuration is explored twice.
//
// Beyond Porcupine:
// - States are interned to small integers and transitions memoized per (state, op), so the hot
//   loop does integer work only; the cache key is a pair of incremental (Zobrist) hashes of the
//   linearized set, checked against the stored bitset on a hit, so a hash collision never prunes.
// - Subsumption: a configuration is pruned when an explored one had the same state, the same
//   required ops placed and a subset of its optional (indeterminate) ops placed (see ConfigCache).
// - Read-only reduction: a read-only op (a read, a failed cas) that is callable and legal now is
//   linearized at once and never branched on: placing it now is as good as placing it later, so
//   if that fails the configuration fails.
// - Indeterminate ops are optional (they have no return entry): they are placed only where they
//   help, and the search ends as soon as every required op is placed.
// It does no I/O; budgets come in as a deadline, a memory ceiling and a stop flag. The memory
// ceiling is checked before any table grows, so a part that would pass it ends `unknown`.

import type { Operation } from './history.js';
import type { Model } from './model.js';

export interface SearchOptions {
  /** performance.now() value after which the search gives up with `unknown`. */
  deadlineMs?: number;
  /** Ceiling on the search's own memory (cache and interned states), in bytes. */
  memoryBytesMax?: number;
  /** Memory held beside this search (other parts' searches) that counts against the same ceiling. */
  memoryBytesElsewhere?: () => number;
  /** Polled every few thousand steps; returning true stops the search with `unknown`. */
  shouldStop?: () => boolean;
  /** Called about every `progressSteps` steps with the steps taken so far. */
  onProgress?: (steps: number) => void;
  progressSteps?: number;
  /** Disable the read-only reduction (the differential test checks it changes no verdict). */
  noReadOnlyReduction?: boolean;
}

export type SearchVerdict = 'ok' | 'illegal' | 'unknown';

/** Why an operation could not be placed next after the longest linearizable prefix. */
export interface StuckOp {
  opId: number;
  /** `illegal`: the model rejects it in that state; `dead-end`: legal, but nothing completes after it. */
  reason: 'illegal' | 'dead-end';
  /** The state it would lead to, for dead ends. */
  stateAfter?: string;
}

export interface SearchResult {
  verdict: SearchVerdict;
  /** For ok: op ids in linearization order (optional ops that were placed included). */
  linearization?: number[];
  /** For illegal/unknown: the longest linearizable prefix found (op ids). */
  longestPrefix?: number[];
  /** The model state after that prefix. */
  stateAfterPrefix?: string;
  /** For illegal: the ops that could not come next, with why. */
  stuck?: StuckOp[];
  /** For unknown: what ran out. */
  reason?: 'timeout' | 'memory' | 'stopped';
  /** For unknown over the memory ceiling: the bytes the search would have held, and the ceiling. */
  memory?: MemoryOverrun;
  steps: number;
  cacheSize: number;
  /** Ops the search took part in (required and optional; skipped ones excluded). */
  opsChecked: number;
}

/** How far the memory ceiling was passed: by the search alone, or with the parts searched beside it. */
export interface MemoryOverrun {
  bytes: number;
  bytesMax: number;
}

const CHECK_EVERY_STEPS = 4096;
/** Returned by the inner loop when its slice of steps is used up. */
const PAUSED: SearchResult = { verdict: 'unknown', steps: 0, cacheSize: 0, opsChecked: 0 };
const ILLEGAL = -1;

/**
 * The search's tables are typed arrays carved from shared 1 MiB chunks rather than each on an
 * ArrayBuffer of its own: on the small parts most histories split into, allocating some thirty
 * buffers outside the JS heap per part (and the garbage collections that external memory brings
 * on) cost more than the search itself. Chunks are never reused, so carved memory starts zeroed;
 * a chunk is freed once no table carved from it is alive. Big tables get a buffer of their own.
 */
const CHUNK_BYTES = 1 << 20;
/** Larger tables get a buffer of their own, so a chunk is never mostly wasted. */
const CARVED_BYTES_MAX = CHUNK_BYTES / 8;
let chunk = new ArrayBuffer(CHUNK_BYTES);
let chunkOffset = 0;

function carve(bytes: number): [ArrayBuffer, number] {
  // Plain arithmetic, not `(bytes + 7) & ~7`: bitwise operators work on 32 bits, so a table past
  // 2 GiB came out with a negative size and left the chunk offset negative for every later search.
  const aligned = Math.ceil(bytes / 8) * 8;
  if (aligned > CARVED_BYTES_MAX) return [new ArrayBuffer(aligned), 0];
  // The chunk state changes only once the new chunk exists: a failed allocation leaves it whole.
  if (chunkOffset + aligned > CHUNK_BYTES) {
    chunk = new ArrayBuffer(CHUNK_BYTES);
    chunkOffset = 0;
  }
  const at = chunkOffset;
  chunkOffset += aligned;
  return [chunk, at];
}

/** A zeroed Int32Array of `length`, carved as the search's tables are (exported for its tests). */
export function int32s(length: number): Int32Array {
  const [buffer, at] = carve(length * 4);
  return new Int32Array(buffer, at, length);
}

function uint32s(length: number): Uint32Array {
  const [buffer, at] = carve(length * 4);
  return new Uint32Array(buffer, at, length);
}

function float64s(length: number): Float64Array {
  const [buffer, at] = carve(length * 8);
  return new Float64Array(buffer, at, length);
}

/** Seeded 32-bit generator for the Zobrist keys (the search is deterministic); the tests' generators use it too. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Thrown inside the search when growing a table would pass the memory ceiling; the search ends unknown. */
class OverMemoryCeiling extends Error {
  override readonly name = 'OverMemoryCeiling';
  constructor(readonly overrun: MemoryOverrun) {
    super(`the search would hold ${overrun.bytes} bytes, over its ceiling of ${overrun.bytesMax}`);
  }
}

/**
 * The memory ceiling of one search, checked before a table grows: the tables double as they grow,
 * so a check between doublings would let one doubling jump far past it. The old table and the new
 * one are both alive while it is copied, so both count. The tables a search starts with are
 * checked once they are all set up (see `enforce`).
 */
class MemoryBudget {
  private readonly holders: { readonly bytes: number }[] = [];
  private enforcing = false;

  constructor(
    readonly bytesMax: number,
    private readonly bytesElsewhere: () => number,
  ) {}

  /** Counts `holder.bytes` against the ceiling from now on. */
  track(holder: { readonly bytes: number }): void {
    this.holders.push(holder);
  }

  /** Bytes held by the tracked tables and beside this search. */
  get bytes(): number {
    let bytes = this.bytesElsewhere();
    for (const holder of this.holders) bytes += holder.bytes;
    return bytes;
  }

  /** From now on, `reserve` throws past the ceiling. */
  enforce(): void {
    this.enforcing = true;
  }

  /** Throws OverMemoryCeiling when allocating `bytes` more now would pass the ceiling. */
  reserve(bytes: number): void {
    if (!this.enforcing) return;
    const total = this.bytes + bytes;
    if (total > this.bytesMax) throw new OverMemoryCeiling({ bytes: total, bytesMax: this.bytesMax });
  }
}

/** What an interned state is counted as against the memory ceiling when its model does not say (a rough guess). */
const STATE_BYTES = 64;

/**
 * Interns model states to integers and memoizes transitions per (state, op) in an open-addressing
 * hash table over typed arrays. Only the transitions the search asks for are stored: a dense
 * states-by-ops table (as before) grew with every new state times every op, and a model that makes
 * a new state on nearly every step (kv appends) spent most of its time filling and copying it.
 */
class StateSpace<S> {
  readonly states: S[] = [];
  private readonly byHash = new Map<number, number | number[]>();
  /** keyState[slot] (-1: empty) and keyOp[slot] name a transition; target[slot] is the next state or ILLEGAL. */
  private keyState: Int32Array;
  private keyOp: Int32Array;
  private target: Int32Array;
  private mask: number;
  private stored = 0;
  private stateBytes = 0;

  constructor(
    private readonly model: Model<S>,
    private readonly ops: Operation[],
    private readonly budget: MemoryBudget,
  ) {
    // About two slots per op to start: most small parts never grow it.
    let capacity = 16;
    while (capacity < ops.length * 2) capacity *= 2;
    this.keyState = int32s(capacity).fill(-1);
    this.keyOp = int32s(capacity);
    this.target = int32s(capacity);
    this.mask = capacity - 1;
  }

  get bytes(): number {
    return this.keyState.byteLength * 3 + this.stateBytes;
  }

  intern(state: S): number {
    const hash = this.model.hash(state);
    const found = this.byHash.get(hash);
    if (found !== undefined) {
      if (typeof found === 'number') {
        if (this.model.equal(this.states[found], state)) return found;
      } else {
        for (const id of found) if (this.model.equal(this.states[id], state)) return id;
      }
    }
    const id = this.states.length;
    // Counted before the state is added, so that a search stopped by the ceiling is left consistent.
    const bytes = this.model.stateBytes?.(state) ?? STATE_BYTES;
    this.budget.reserve(bytes);
    this.stateBytes += bytes;
    this.states.push(state);
    if (found === undefined) this.byHash.set(hash, id);
    else if (typeof found === 'number') this.byHash.set(hash, [found, id]);
    else found.push(id);
    return id;
  }

  /** The interned state after op in state, or ILLEGAL. */
  next(stateId: number, op: number): number {
    const mask = this.mask;
    let slot = (Math.imul(stateId, 0x9e3779b1) ^ Math.imul(op + 1, 0x85ebca6b)) & mask;
    for (;;) {
      const s = this.keyState[slot];
      if (s === -1) break;
      if (s === stateId && this.keyOp[slot] === op) return this.target[slot];
      slot = (slot + 1) & mask;
    }
    const after = this.model.step(this.states[stateId], this.ops[op]);
    const result = after === undefined ? ILLEGAL : this.intern(after);
    this.store(slot, stateId, op, result);
    return result;
  }

  private store(slot: number, stateId: number, op: number, result: number): void {
    if ((this.stored + 1) * 2 > this.keyState.length) {
      // Grown before the transition is stored (old and new tables are alive while it is copied).
      this.budget.reserve(this.keyState.byteLength * 3 * 2);
      this.grow();
      slot = this.slotOf(stateId, op);
    }
    this.keyState[slot] = stateId;
    this.keyOp[slot] = op;
    this.target[slot] = result;
    this.stored++;
  }

  private slotOf(stateId: number, op: number): number {
    const mask = this.mask;
    let slot = (Math.imul(stateId, 0x9e3779b1) ^ Math.imul(op + 1, 0x85ebca6b)) & mask;
    while (this.keyState[slot] !== -1) slot = (slot + 1) & mask;
    return slot;
  }

  private grow(): void {
    const oldState = this.keyState;
    const oldOp = this.keyOp;
    const oldTarget = this.target;
    const capacity = oldState.length * 2;
    this.keyState = int32s(capacity).fill(-1);
    this.keyOp = int32s(capacity);
    this.target = int32s(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < oldState.length; i++) {
      if (oldState[i] === -1) continue;
      const slot = this.slotOf(oldState[i], oldOp[i]);
      this.keyState[slot] = oldState[i];
      this.keyOp[slot] = oldOp[i];
      this.target[slot] = oldTarget[i];
    }
  }
}

/**
 * The configurations already explored: (required ops placed, optional ops placed, state). One
 * entry per (required set, state), found by open addressing over parallel typed arrays and
 * compared in full on a hash hit; each entry keeps an antichain of the optional sets explored with
 * it. A configuration is subsumed when an explored one has the same state and required set and a
 * subset of its optional set: fewer optional ops placed leaves more choices, so if that one failed
 * this one fails too. With no optional ops this is Porcupine's exact cache.
 *
 * A required set is stored as its window: the words from the first one not all ones (`low`) to the
 * last one not zero (`high`, exclusive); the words below are all ones and those above all zeros.
 * Ops are numbered in call order and only a few are open at a time, so the window stays a few words
 * long however long the history: a full bitset per entry made a long single-key history cost
 * time and memory quadratic in its length.
 */
class ConfigCache {
  private slots: Int32Array;
  private mask: number;
  private hashA: Uint32Array;
  private hashB: Uint32Array;
  private stateOf: Int32Array;
  private firstMask: Int32Array;
  /** Per entry: its window's first word, its offset in requiredArena, and its length in words. */
  private lowOf: Int32Array;
  private windowAt: Int32Array;
  private windowWords: Int32Array;
  private requiredArena: Uint32Array;
  private arenaUsed = 0;
  private optionalArena: Uint32Array;
  private nextMask: Int32Array;
  private entries = 0;
  private masks = 0;

  constructor(
    private readonly optionalWords: number,
    private readonly budget: MemoryBudget,
  ) {
    const capacity = 1 << 6;
    this.slots = int32s(capacity).fill(-1);
    this.mask = capacity - 1;
    const entries = capacity >> 1;
    this.hashA = uint32s(entries);
    this.hashB = uint32s(entries);
    this.stateOf = int32s(entries);
    this.firstMask = int32s(entries);
    this.lowOf = int32s(entries);
    this.windowAt = int32s(entries);
    this.windowWords = int32s(entries);
    this.requiredArena = uint32s(entries * 2);
    this.optionalArena = uint32s(entries * optionalWords);
    this.nextMask = int32s(entries);
  }

  /** Configurations stored. */
  get count(): number {
    return this.masks;
  }

  get bytes(): number {
    return (
      this.slots.byteLength +
      this.hashA.byteLength * 7 +
      this.requiredArena.byteLength +
      this.optionalArena.byteLength +
      this.nextMask.byteLength
    );
  }

  /**
   * Adds the configuration (the required set is `required`'s window [low, high), see above); false
   * if it is already there or subsumed.
   */
  insert(a: number, b: number, state: number, required: Uint32Array, low: number, high: number, optional: Uint32Array): boolean {
    const words = high - low;
    let slot = (a ^ Math.imul(state + 1, 0x9e3779b1)) & this.mask;
    let entry = -1;
    for (;;) {
      const candidate = this.slots[slot];
      if (candidate === -1) break;
      if (
        this.hashA[candidate] === a &&
        this.hashB[candidate] === b &&
        this.stateOf[candidate] === state &&
        this.lowOf[candidate] === low &&
        this.windowWords[candidate] === words
      ) {
        const base = this.windowAt[candidate] - low;
        let same = true;
        for (let w = low; w < high; w++) {
          if (this.requiredArena[base + w] !== required[w]) {
            same = false;
            break;
          }
        }
        if (same) {
          entry = candidate;
          break;
        }
      }
      slot = (slot + 1) & this.mask;
    }
    if (entry === -1) {
      if (this.entries >= this.hashA.length) this.growEntries();
      entry = this.entries++;
      this.hashA[entry] = a;
      this.hashB[entry] = b;
      this.stateOf[entry] = state;
      this.firstMask[entry] = -1;
      if (this.arenaUsed + words > this.requiredArena.length) this.growArena(words);
      this.lowOf[entry] = low;
      this.windowAt[entry] = this.arenaUsed;
      this.windowWords[entry] = words;
      this.requiredArena.set(required.subarray(low, high), this.arenaUsed);
      this.arenaUsed += words;
      this.slots[slot] = entry;
      if (this.entries * 2 > this.slots.length) this.rehash();
    } else if (this.subsumed(entry, optional)) {
      return false;
    }
    this.addMask(entry, optional);
    return true;
  }

  /** Whether a stored optional set of `entry` is a subset of `optional`; drops stored supersets. */
  private subsumed(entry: number, optional: Uint32Array): boolean {
    const words = this.optionalWords;
    let previous = -1;
    let m = this.firstMask[entry];
    while (m !== -1) {
      const base = m * words;
      let subset = true;
      let superset = true;
      for (let w = 0; w < words; w++) {
        const stored = this.optionalArena[base + w];
        const current = optional[w];
        if ((stored & ~current) !== 0) subset = false;
        if ((current & ~stored) !== 0) superset = false;
      }
      if (subset) return true;
      const following = this.nextMask[m];
      // A stored superset of this configuration is subsumed by it from now on: unlink it.
      if (superset) {
        if (previous === -1) this.firstMask[entry] = following;
        else this.nextMask[previous] = following;
      } else {
        previous = m;
      }
      m = following;
    }
    return false;
  }

  private addMask(entry: number, optional: Uint32Array): void {
    const m = this.masks;
    if (m >= this.nextMask.length) {
      this.budget.reserve((this.nextMask.length + this.nextMask.length * this.optionalWords) * 2 * 4);
      const grownNext = int32s(this.nextMask.length * 2);
      grownNext.set(this.nextMask);
      this.nextMask = grownNext;
      const grownArena = uint32s(this.nextMask.length * this.optionalWords);
      grownArena.set(this.optionalArena);
      this.optionalArena = grownArena;
    }
    this.masks++;
    this.optionalArena.set(optional, m * this.optionalWords);
    this.nextMask[m] = this.firstMask[entry];
    this.firstMask[entry] = m;
  }

  private growEntries(): void {
    const capacity = this.hashA.length * 2;
    // Seven arrays of one word per entry (hashA, hashB, stateOf, firstMask, lowOf, windowAt, windowWords).
    this.budget.reserve(capacity * 7 * 4);
    const grow = <T extends Uint32Array | Int32Array>(old: T, size: number, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.hashA = grow(this.hashA, capacity, uint32s);
    this.hashB = grow(this.hashB, capacity, uint32s);
    this.stateOf = grow(this.stateOf, capacity, int32s);
    this.firstMask = grow(this.firstMask, capacity, int32s);
    this.lowOf = grow(this.lowOf, capacity, int32s);
    this.windowAt = grow(this.windowAt, capacity, int32s);
    this.windowWords = grow(this.windowWords, capacity, int32s);
  }

  private growArena(words: number): void {
    let size = this.requiredArena.length * 2;
    while (size < this.arenaUsed + words) size *= 2;
    this.budget.reserve(size * 4);
    const grown = uint32s(size);
    grown.set(this.requiredArena.subarray(0, this.arenaUsed));
    this.requiredArena = grown;
  }

  private rehash(): void {
    const capacity = this.slots.length * 2;
    this.budget.reserve(capacity * 4);
    this.slots = int32s(capacity).fill(-1);
    this.mask = capacity - 1;
    for (let entry = 0; entry < this.entries; entry++) {
      let slot = (this.hashA[entry] ^ Math.imul(this.stateOf[entry] + 1, 0x9e3779b1)) & this.mask;
      while (this.slots[slot] !== -1) slot = (slot + 1) & this.mask;
      this.slots[slot] = entry;
    }
  }
}

/** Checks one part: is there a linearization of `part` under `model`? */
/** A search that runs in slices, so one hard part cannot hold back the others. */
export interface PartSearch {
  /** Runs up to about `stepsMax` more steps; the result once decided, else undefined. */
  run(stepsMax: number): SearchResult | undefined;
  /** Ends the search now as unknown (e.g. over the shared memory ceiling, by `memory`). */
  abandon(reason: NonNullable<SearchResult['reason']>, memory?: MemoryOverrun): SearchResult;
  readonly steps: number;
  /** Memory held by the cache and interned states. */
  readonly bytes: number;
}

/** Checks one part to the end: is there a linearization of `part` under `model`? */
export function searchPart<S>(model: Model<S>, part: Operation[], options: SearchOptions = {}): SearchResult {
  const search = createPartSearch(model, part, options);
  for (;;) {
    const result = search.run(Infinity);
    if (result !== undefined) return result;
  }
}

/**
 * Sets up the search of one part; nothing runs until `run`. When the model names indeterminate ops
 * nobody observed (`Model.unobserved`), the part is first searched without them; only if that
 * finds no linearization is the whole part searched (the verdict is always the whole part's).
 */
export function createPartSearch<S>(model: Model<S>, part: Operation[], options: SearchOptions = {}): PartSearch {
  const unobserved = model.unobserved?.(part);
  if (unobserved === undefined || unobserved.size === 0) return createOneSearch(model, part, options);
  let current = createOneSearch(
    model,
    part.filter((op) => !unobserved.has(op.id)),
    options,
  );
  let whole = false;
  let earlierSteps = 0;
  const withEarlierSteps = (result: SearchResult): SearchResult => ({ ...result, steps: result.steps + earlierSteps });
  return {
    run(stepsMax) {
      for (;;) {
        const result = current.run(stepsMax);
        if (result === undefined) return undefined;
        if (result.verdict !== 'illegal' || whole) return withEarlierSteps(result);
        // Without them there is no linearization; one of them may be what explains the history.
        // Go straight on, so a whole search whose tables pass the ceiling ends in this same call.
        earlierSteps = current.steps;
        current = createOneSearch(model, part, options);
        whole = true;
      }
    },
    abandon(reason, memory) {
      return withEarlierSteps(current.abandon(reason, memory));
    },
    get steps() {
      return earlierSteps + current.steps;
    },
    get bytes() {
      return current.bytes;
    },
  };
}

function createOneSearch<S>(model: Model<S>, part: Operation[], options: SearchOptions = {}): PartSearch {
  // Keep only the ops that constrain something; number them 0..n-1 locally.
  const ops: Operation[] = [];
  const roles: boolean[] = [];
  for (const op of part) {
    const role = model.role(op);
    if (role === 'skip') continue;
    ops.push(op);
    roles.push(role === 'required');
  }
  const n = ops.length;
  const memoryMax = options.memoryBytesMax ?? Infinity;
  const budget = new MemoryBudget(memoryMax, options.memoryBytesElsewhere ?? (() => 0));
  const space = new StateSpace(model, ops, budget);
  budget.track(space);
  const initialState = space.intern(model.init());
  let requiredCount = 0;
  for (let i = 0; i < n; i++) if (roles[i]) requiredCount++;
  const entryCount = n + requiredCount;
  const entryTime = float64s(entryCount);
  const isRequired = int32s(n);
  const readOnly = int32s(n);
  for (let i = 0; i < n; i++) {
    isRequired[i] = roles[i] ? 1 : 0;
    if (roles[i] && !options.noReadOnlyReduction && model.readOnly(ops[i])) readOnly[i] = 1;
  }

  // Entries: 0..n-1 are calls (entry i is op i's call), n.. are returns of required ops.
  const returnOf = int32s(n).fill(-1);
  const opOfEntry = int32s(entryCount);
  const isCall = int32s(entryCount);
  for (let i = 0, r = n; i < n; i++) {
    opOfEntry[i] = i;
    entryTime[i] = ops[i].call;
    isCall[i] = 1;
    if (isRequired[i] === 0) continue;
    returnOf[i] = r;
    opOfEntry[r] = i;
    entryTime[r] = ops[i].ret;
    r++;
  }
  // A plain array: V8 sorts one with a comparator several times faster than a typed array.
  const order: number[] = new Array<number>(entryCount);
  for (let e = 0; e < entryCount; e++) order[e] = e;
  // By time; on ties calls come first (equal timestamps overlap), then by op order.
  order.sort((x, y) => entryTime[x] - entryTime[y] || isCall[y] - isCall[x] || opOfEntry[x] - opOfEntry[y]);
  // Two doubly linked lists in time order, each with a sentinel head; -1 ends a list. The main
  // list holds required ops' calls and returns; the optional list holds optional ops' calls. The
  // scan tries required candidates first and optional ones after: an optional op is placed only
  // when required ops alone cannot go on. `rank` is the position in the merged time order.
  const headMain = entryCount;
  const headOptional = entryCount + 1;
  const next = int32s(entryCount + 2);
  const prev = int32s(entryCount + 2);
  const rank = int32s(entryCount);
  let lastMain = headMain;
  let lastOptional = headOptional;
  for (let position = 0; position < entryCount; position++) {
    const e = order[position];
    rank[e] = position;
    if (isCall[e] === 1 && isRequired[opOfEntry[e]] === 0) {
      next[lastOptional] = e;
      prev[e] = lastOptional;
      lastOptional = e;
    } else {
      next[lastMain] = e;
      prev[e] = lastMain;
      lastMain = e;
    }
  }
  next[lastMain] = -1;
  next[lastOptional] = -1;
  /** Rank of the first return entry in the main list: optional calls after it are not callable. */
  const horizonRank = (): number => {
    let e = next[headMain];
    while (e !== -1 && isCall[e] === 1) e = next[e];
    return e === -1 ? entryCount : rank[e];
  };

  const random = mulberry32(0x5eed);
  const zobristA = uint32s(n);
  const zobristB = uint32s(n);
  // Required and optional ops each have their own bitset; bitOf[i] is op i's bit in its set.
  // Optional ops do not enter the hash: configurations differing only in them share an entry.
  const bitOf = int32s(n);
  let requiredBit = 0;
  let optionalCount = 0;
  for (let i = 0; i < n; i++) {
    const a = random();
    const b = random();
    if (isRequired[i]) {
      bitOf[i] = requiredBit++;
      zobristA[i] = a;
      zobristB[i] = b;
    } else {
      bitOf[i] = optionalCount++;
    }
  }
  const requiredBits = uint32s((requiredCount + 31) >>> 5);
  const optionalBits = uint32s((optionalCount + 31) >>> 5);
  const cache = new ConfigCache(optionalBits.length, budget);
  const requiredWords = requiredBits.length;
  // requiredBits' window (see ConfigCache): words below `low` are all ones, words from `high` zeros.
  let low = 0;
  let high = 0;
  const setRequired = (word: number, bit: number): void => {
    requiredBits[word] |= bit;
    if (word >= high) high = word + 1;
    if (word === low) while (low < requiredWords && requiredBits[low] === 0xffffffff) low++;
  };
  const clearRequired = (word: number, bit: number): void => {
    requiredBits[word] &= ~bit;
    if (word < low) low = word;
    if (word === high - 1) while (high > low && requiredBits[high - 1] === 0) high--;
  };
  budget.track(cache);
  budget.enforce();

  const stackEntry = int32s(n);
  const stackState = int32s(n);
  let depth = 0;
  let requiredLeft = requiredCount;

  let state = initialState;
  let hashA = 0;
  let hashB = 0;
  let steps = 0;
  let nextCheck = CHECK_EVERY_STEPS;
  const progressSteps = options.progressSteps ?? 1 << 20;
  let nextProgress = progressSteps;
  let bestDepth = -1;
  let bestStack = int32s(0);
  let bestState = initialState;
  const deadline = options.deadlineMs ?? Infinity;

  const lift = (e: number): void => {
    next[prev[e]] = next[e];
    if (next[e] !== -1) prev[next[e]] = prev[e];
    const r = returnOf[opOfEntry[e]];
    if (r !== -1) {
      next[prev[r]] = next[r];
      if (next[r] !== -1) prev[next[r]] = prev[r];
    }
  };
  const unlift = (e: number): void => {
    const r = returnOf[opOfEntry[e]];
    if (r !== -1) {
      next[prev[r]] = r;
      if (next[r] !== -1) prev[next[r]] = r;
    }
    next[prev[e]] = e;
    if (next[e] !== -1) prev[next[e]] = e;
  };
  const finish = (verdict: SearchVerdict, reason?: SearchResult['reason'], memory?: MemoryOverrun): SearchResult => {
    const result: SearchResult = { verdict, steps, cacheSize: cache.count, opsChecked: n, reason };
    if (memory !== undefined) result.memory = memory;
    if (verdict === 'ok') {
      const linearization = new Array<number>(depth);
      for (let d = 0; d < depth; d++) linearization[d] = ops[opOfEntry[stackEntry[d]]].id;
      result.linearization = linearization;
      return result;
    }
    // The deepest configuration: the best recorded at a backtrack, or the current one if deeper.
    const prefix = Array.from(depth > bestDepth ? stackEntry.subarray(0, depth) : bestStack, (e) => opOfEntry[e]);
    result.longestPrefix = prefix.map((i) => ops[i].id);
    result.stateAfterPrefix = model.describeState(space.states[depth > bestDepth ? state : bestState]);
    if (verdict === 'illegal') result.stuck = explainStuck(prefix);
    return result;
  };
  /** Which ops could come right after `prefix`, and why none completes the history. */
  const explainStuck = (prefix: number[]): StuckOp[] => {
    const placed = new Uint8Array(n);
    let at = initialState;
    for (const i of prefix) {
      placed[i] = 1;
      at = space.next(at, i);
    }
    let horizon = Infinity;
    for (let i = 0; i < n; i++) if (!placed[i] && isRequired[i]) horizon = Math.min(horizon, ops[i].ret);
    const stuck: StuckOp[] = [];
    for (let i = 0; i < n; i++) {
      if (placed[i] || ops[i].call > horizon) continue;
      const after = space.next(at, i);
      if (after === ILLEGAL) stuck.push({ opId: ops[i].id, reason: 'illegal' });
      else stuck.push({ opId: ops[i].id, reason: 'dead-end', stateAfter: model.describeState(space.states[after]) });
    }
    return stuck;
  };

  let entry = next[headMain];
  let inOptional = false;
  let horizon = entryCount;
  let done: SearchResult | undefined;

  const run = (stepsMax: number): SearchResult => {
    const stopAt = steps + stepsMax;
    for (;;) {
      if (requiredLeft === 0) return finish('ok');
      if (steps >= nextCheck) {
        nextCheck = steps + CHECK_EVERY_STEPS;
        if (steps >= stopAt) return PAUSED;
        if (performance.now() > deadline) return finish('unknown', 'timeout');
        const bytes = budget.bytes;
        if (bytes > memoryMax) return finish('unknown', 'memory', { bytes, bytesMax: memoryMax });
        if (options.shouldStop?.()) return finish('unknown', 'stopped');
        if (steps >= nextProgress) {
          nextProgress = steps + progressSteps;
          options.onProgress?.(steps);
        }
      }
      if (!inOptional && (entry === -1 || isCall[entry] === 0)) {
        // Required candidates are exhausted up to the first return: go on with optional ones.
        horizon = entry === -1 ? entryCount : rank[entry];
        inOptional = true;
        entry = next[headOptional];
      }
      let backtrack = false;
      if (inOptional && (entry === -1 || rank[entry] > horizon)) {
        backtrack = true;
      } else {
        const op = opOfEntry[entry];
        steps++;
        const after = space.next(state, op);
        if (after !== ILLEGAL) {
          const required = isRequired[op] === 1;
          const word = bitOf[op] >>> 5;
          const bit = 1 << (bitOf[op] & 31);
          if (required) setRequired(word, bit);
          else optionalBits[word] |= bit;
          const nextA = (hashA ^ zobristA[op]) >>> 0;
          const nextB = (hashB ^ zobristB[op]) >>> 0;
          if (cache.insert(nextA, nextB, after, requiredBits, low, high, optionalBits)) {
            stackEntry[depth] = entry;
            stackState[depth] = state;
            depth++;
            state = after;
            hashA = nextA;
            hashB = nextB;
            requiredLeft -= isRequired[op];
            lift(entry);
            entry = next[headMain];
            inOptional = false;
            continue;
          }
          if (required) clearRequired(word, bit);
          else optionalBits[word] &= ~bit;
          // Placing a legal read-only op now was explored and failed: so does this configuration.
          if (readOnly[op] === 1) backtrack = true;
        }
        if (!backtrack) {
          entry = next[entry];
          continue;
        }
      }
      // Backtrack: undo the last placement and try the entries after it. A read-only op placed by
      // the reduction is never an alternative worth trying, so undo past it too. Record the
      // deepest configuration reached (only here, at a local maximum, so a search that never
      // backtracks copies nothing).
      if (depth > bestDepth) {
        bestDepth = depth;
        bestStack = stackEntry.slice(0, depth);
        bestState = state;
      }
      for (;;) {
        if (depth === 0) return finish('illegal');
        depth--;
        const e = stackEntry[depth];
        const op = opOfEntry[e];
        state = stackState[depth];
        hashA = (hashA ^ zobristA[op]) >>> 0;
        hashB = (hashB ^ zobristB[op]) >>> 0;
        if (isRequired[op] === 1) clearRequired(bitOf[op] >>> 5, 1 << (bitOf[op] & 31));
        else optionalBits[bitOf[op] >>> 5] &= ~(1 << (bitOf[op] & 31));
        requiredLeft += isRequired[op];
        unlift(e);
        if (readOnly[op] === 1) continue;
        entry = next[e];
        inOptional = isRequired[op] === 0;
        if (inOptional) horizon = horizonRank();
        break;
      }
    }
  };

  // A part whose tables pass the ceiling as they are set up ends at once, before its first step.
  const setUpBytes = budget.bytes;
  if (setUpBytes > memoryMax) done = finish('unknown', 'memory', { bytes: setUpBytes, bytesMax: memoryMax });

  return {
    run(stepsMax) {
      if (done === undefined) {
        let result: SearchResult;
        try {
          result = run(stepsMax);
        } catch (error) {
          // A table that would pass the ceiling was not grown; what was found so far still stands.
          if (!(error instanceof OverMemoryCeiling)) throw error;
          result = finish('unknown', 'memory', error.overrun);
        }
        if (result !== PAUSED) done = result;
      }
      return done;
    },
    abandon(reason, memory) {
      done ??= finish('unknown', reason, memory);
      return done;
    },
    get steps() {
      return steps;
    },
    get bytes() {
      return cache.bytes + space.bytes;
    },
  };
}
