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
  /** The most states the search interns (default STATES_MAX); past it the part is unknown, as at the ceiling. */
  statesMax?: number;
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
  /** Set when the search reached the most states it can number (STATES_MAX) before the ceiling. */
  statesMax?: number;
}

/**
 * The most states one search interns: a Map holds at most 2^24 entries (V8), and passing that threw
 * a RangeError (an internal error, no verdict) where short states fit under the byte ceiling (a
 * 2 GiB ceiling holds some 50 million 40-byte states). Past it the search ends unknown, as at the
 * ceiling.
 */
export const STATES_MAX = 16_000_000;

const CHECK_EVERY_STEPS = 4096;
const ILLEGAL = -1;

/**
 * The search's tables are typed arrays carved from shared 1 MiB chunks rather than each on an
 * ArrayBuffer of its own: on the small parts most histories split into, allocating some thirty
 * buffers outside the JS heap per part (and the garbage collections that external memory brings
 * on) cost more than the search itself. A table is a `subarray` of a view of the whole chunk,
 * which V8 makes several times faster than a new view on the buffer. Chunks are never reused, so
 * carved memory starts zeroed; a chunk is freed once no table carved from it is alive. Big tables
 * get a buffer of their own.
 */
const CHUNK_WORDS = 1 << 18;
/** Larger tables get a buffer of their own, so a chunk is never mostly wasted. */
const CARVED_WORDS_MAX = CHUNK_WORDS / 8;
let chunkInts = new Int32Array(CHUNK_WORDS);
let chunkUints = new Uint32Array(chunkInts.buffer);
let chunkOffset = 0;

/** Where a table of `length` 32-bit words starts in the current chunk (after a new chunk if needed). */
function carve(length: number): number {
  // The chunk state changes only once the new chunk exists: a failed allocation leaves it whole.
  if (chunkOffset + length > CHUNK_WORDS) {
    const ints = new Int32Array(CHUNK_WORDS);
    chunkUints = new Uint32Array(ints.buffer);
    chunkInts = ints;
    chunkOffset = 0;
  }
  const at = chunkOffset;
  chunkOffset += length;
  return at;
}

/** A zeroed Int32Array of `length`, carved as the search's tables are (exported for its tests). */
export function int32s(length: number): Int32Array {
  if (length > CARVED_WORDS_MAX) return new Int32Array(length);
  const at = carve(length);
  return chunkInts.subarray(at, at + length);
}

function uint32s(length: number): Uint32Array {
  if (length > CARVED_WORDS_MAX) return new Uint32Array(length);
  const at = carve(length);
  return chunkUints.subarray(at, at + length);
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
  /** Bytes `reserve` may still grant without counting (see there). */
  private headroom = 0;

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
    // Counting every holder for each new state cost as much as the state: what a count left free
    // is kept, and spent until it runs short. The holders grow by at most what they reserve, so
    // it never overstates what is free.
    if (bytes <= this.headroom) {
      this.headroom -= bytes;
      return;
    }
    const total = this.bytes + bytes;
    if (total > this.bytesMax) throw new OverMemoryCeiling({ bytes: total, bytesMax: this.bytesMax });
    this.headroom = this.bytesMax - total;
  }

  /** Counts again at the next `reserve`: the memory held beside this search may have changed. */
  recount(): void {
    this.headroom = 0;
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
  /** States by hash, made on first use (a Map costs as much to make as a small part's states). */
  private byHash: Map<number, number | number[]> | undefined;
  /** Primitive states by value, when the model says `===` is their equality (Model.primitiveStatesByValue). */
  private readonly byValue: Map<unknown, number> | undefined;
  /** keyState[slot] (-1: empty) and keyOp[slot] name a transition; target[slot] is the next state or ILLEGAL. */
  private keyState: Int32Array;
  private keyOp: Int32Array;
  private target: Int32Array;
  private mask: number;
  private stored = 0;
  private stateBytes = 0;

  /** States no linearization passes through (Model.deadStates): a step into one is illegal. */
  private readonly dead: ((state: S) => boolean) | undefined;

  constructor(
    private readonly model: Model<S>,
    private readonly ops: Operation[],
    private readonly budget: MemoryBudget,
    private readonly statesMax = STATES_MAX,
  ) {
    this.dead = model.deadStates?.(ops);
    if (model.primitiveStatesByValue === true) this.byValue = new Map();
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
    if (this.byValue !== undefined && (typeof state !== 'object' || state === null)) {
      // V8 hashes and compares the value natively (a kv value once, however long it grew).
      const found = this.byValue.get(state);
      if (found !== undefined) return found;
      const id = this.add(state);
      this.byValue.set(state, id);
      return id;
    }
    // As a signed 32-bit number: a Map keyed by small integers, not boxed doubles, is several times faster.
    const hash = this.model.hash(state) | 0;
    const byHash = (this.byHash ??= new Map());
    const found = byHash.get(hash);
    if (found !== undefined) {
      if (typeof found === 'number') {
        if (this.model.equal(this.states[found], state)) return found;
      } else {
        for (const id of found) if (this.model.equal(this.states[id], state)) return id;
      }
    }
    const id = this.add(state);
    if (found === undefined) byHash.set(hash, id);
    else if (typeof found === 'number') byHash.set(hash, [found, id]);
    else found.push(id);
    return id;
  }

  /** A new state's id; counted against the ceiling before it is added, so a search stopped by the ceiling is left consistent. */
  private add(state: S): number {
    const bytes = this.model.stateBytes?.(state) ?? STATE_BYTES;
    if (this.states.length >= this.statesMax)
      throw new OverMemoryCeiling({ bytes: this.budget.bytes + bytes, bytesMax: this.budget.bytesMax, statesMax: this.statesMax });
    this.budget.reserve(bytes);
    this.stateBytes += bytes;
    this.states.push(state);
    return this.states.length - 1;
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
    const before = this.states[stateId];
    const after = this.model.step(before, this.ops[op]);
    // A state already interned passed the dead test when it was made (reads return their state).
    const result = after === undefined || (after !== before && this.dead?.(after) === true) ? ILLEGAL : this.intern(after);
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

/** The most slots a configuration cache starts with (it doubles as it fills). */
const CACHE_START_SLOTS_MAX = 1 << 9;

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
  private hashA: Int32Array;
  private hashB: Int32Array;
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
    ops: number,
  ) {
    // About one entry per op to start (a search places each op about once when it does not
    // backtrack much), so a small part's cache never grows; at most CACHE_START_SLOTS_MAX.
    let capacity = 1 << 6;
    while (capacity < ops * 2 && capacity < CACHE_START_SLOTS_MAX) capacity *= 2;
    this.slots = int32s(capacity).fill(-1);
    this.mask = capacity - 1;
    const entries = capacity >> 1;
    this.hashA = int32s(entries);
    this.hashB = int32s(entries);
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
      // A loop, not set(subarray(...)): the window is a word or two, and a view costs more.
      const arena = this.requiredArena;
      const at = this.arenaUsed - low;
      for (let w = low; w < high; w++) arena[at + w] = required[w];
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
    const arena = this.optionalArena;
    const at = m * this.optionalWords;
    for (let w = 0; w < this.optionalWords; w++) arena[at + w] = optional[w];
    this.nextMask[m] = this.firstMask[entry];
    this.firstMask[entry] = m;
  }

  private growEntries(): void {
    const capacity = this.hashA.length * 2;
    // Seven arrays of one word per entry (hashA, hashB, stateOf, firstMask, lowOf, windowAt, windowWords).
    this.budget.reserve(capacity * 7 * 4);
    const grow = <T extends Int32Array>(old: T, size: number, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.hashA = grow(this.hashA, capacity, int32s);
    this.hashB = grow(this.hashB, capacity, int32s);
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
 * The result of a part never searched (another part decided the history first, or the time ran
 * out before its turn): unknown for `reason`, with the empty prefix in the initial state.
 */
export function unstartedResult<S>(model: Model<S>, part: Operation[], reason: NonNullable<SearchResult['reason']>): SearchResult {
  let opsChecked = 0;
  for (const op of part) if (model.role(op) !== 'skip') opsChecked++;
  return {
    verdict: 'unknown',
    reason,
    steps: 0,
    cacheSize: 0,
    opsChecked,
    longestPrefix: [],
    stateAfterPrefix: model.describeState(model.init()),
  };
}

/**
 * Sets up the search of one part; nothing runs until `run`. When the model names indeterminate ops
 * nobody observed (`Model.unobserved`), the part is first searched without them; only if that
 * finds no linearization is it searched again with them (the verdict is always the whole part's).
 */
export function createPartSearch<S>(model: Model<S>, part: Operation[], options: SearchOptions = {}): PartSearch {
  const unobserved = model.unobserved?.(part);
  return new OneSearch(model, part, options, unobserved !== undefined && unobserved.size > 0 ? unobserved : undefined);
}

// The search is a class, not an object literal with getters: V8 builds such a literal through
// the runtime each time (several microseconds), as long as a small part's whole search.

/** Moves past which `timeOrder` stops putting returns in order one by one and sorts them instead. */
const INSERTION_MOVES_PER_ENTRY_MAX = 8;

/**
 * The entries (0..n-1 the calls of `ops`, n.. the returns, in op order, of the ops `opOfEntry`
 * names) ordered by time; on ties calls come first (equal timestamps overlap), then by op order.
 * Ops come in call order and most return in about the order they were called, so the calls are
 * taken as they are and the returns put in order by insertion, then the two are merged: a sort
 * with a comparator cost more than the rest of a small part's set-up. A history unlike that (calls
 * out of time order, returns far out of order) is sorted in full.
 */
function timeOrder(ops: Operation[], opOfEntry: Int32Array, n: number, entryCount: number): Int32Array {
  const order = int32s(entryCount);
  const timeOf = (e: number): number => (e < n ? ops[e].call : ops[opOfEntry[e]].ret);
  let usual = true;
  for (let i = 1; i < n && usual; i++) usual = ops[i].call >= ops[i - 1].call;
  // The returns in time order, by insertion; equal times keep op order (a later one never passes).
  const returns = entryCount - n;
  const returnOrder = int32s(returns);
  const movesMax = INSERTION_MOVES_PER_ENTRY_MAX * entryCount;
  let moves = 0;
  for (let j = 0; j < returns && usual; j++) {
    const time = timeOf(n + j);
    let k = j;
    while (k > 0 && timeOf(returnOrder[k - 1]) > time) {
      returnOrder[k] = returnOrder[k - 1];
      k--;
    }
    returnOrder[k] = n + j;
    moves += j - k;
    usual = moves <= movesMax;
  }
  if (usual) {
    for (let position = 0, call = 0, ret = 0; position < entryCount; position++) {
      if (ret === returns || (call < n && ops[call].call <= timeOf(returnOrder[ret]))) order[position] = call++;
      else order[position] = returnOrder[ret++];
    }
    return order;
  }
  // A plain array: V8 sorts one with a comparator several times faster than a typed array.
  const sorted: number[] = new Array<number>(entryCount);
  for (let e = 0; e < entryCount; e++) sorted[e] = e;
  sorted.sort((x, y) => timeOf(x) - timeOf(y) || (x < n ? 0 : 1) - (y < n ? 0 : 1) || opOfEntry[x] - opOfEntry[y]);
  order.set(sorted);
  return order;
}

/** How a slice of the search ended (see OneSearch.search). */
const enum Outcome {
  Paused,
  Ok,
  Illegal,
  Timeout,
  Memory,
  Stopped,
}

/** One search of one set of ops: the tables, the search's position, and the loop. */
class OneSearch<S> implements PartSearch {
  steps = 0;
  private readonly ops: Operation[] = [];
  private readonly n: number;
  private readonly entryCount: number;
  private readonly budget: MemoryBudget;
  private readonly space: StateSpace<S>;
  /** Replaced when the withheld ops come in: what failed without them may not fail with them. */
  private cache: ConfigCache;
  private readonly initialState: number;
  private readonly memoryMax: number;
  private readonly deadline: number;
  private readonly progressSteps: number;
  // Per op (0..n-1): required (1) or optional (0); read-only and required (1); the entry of its
  // return (-1: none); its bit in its set (required or optional); its Zobrist keys (required ops).
  private readonly isRequired: Int32Array;
  private readonly readOnly: Int32Array;
  private readonly returnOf: Int32Array;
  private readonly bitOf: Int32Array;
  private readonly zobristA: Int32Array;
  private readonly zobristB: Int32Array;
  // Per entry (0..n-1 calls, n.. returns of required ops): its op, its position in time order, and
  // the two doubly linked lists with their sentinel heads (see the constructor).
  private readonly opOfEntry: Int32Array;
  private readonly rank: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly headMain: number;
  private readonly headOptional: number;
  /** All entries in time order (the lists are linked from it, again when withheld ops come in). */
  private readonly order: Int32Array;
  /**
   * Per op, 1 while it is withheld: an unobserved indeterminate op (Model.unobserved) left out of
   * the first pass. Most histories are linearizable without them, and each doubles the choices.
   * Undefined once none is withheld (or none ever was).
   */
  private withheld: Int32Array | undefined;
  private readonly requiredBits: Uint32Array;
  private readonly optionalBits: Uint32Array;
  // The placed entries and the state before each.
  private readonly stackEntry: Int32Array;
  private readonly stackState: Int32Array;
  // Where the search stands (saved by `search` when a slice ends).
  private depth = 0;
  private requiredLeft: number;
  private state: number;
  private hashA = 0;
  private hashB = 0;
  /** requiredBits' window (see ConfigCache): words below `low` are all ones, words from `high` zeros. */
  private low = 0;
  private high = 0;
  private entry = -1;
  private inOptional = false;
  private horizon = 0;
  private nextCheck = CHECK_EVERY_STEPS;
  private nextProgress: number;
  // The deepest configuration recorded at a backtrack.
  private bestDepth = -1;
  private bestStack: Int32Array | undefined;
  private bestState: number;
  private done: SearchResult | undefined;

  constructor(
    private readonly model: Model<S>,
    part: Operation[],
    private readonly options: SearchOptions,
    unobserved?: Set<number>,
  ) {
    // Keep only the ops that constrain something; number them 0..n-1 locally.
    const ops = this.ops;
    let requiredCount = 0;
    for (const op of part) {
      const role = model.role(op);
      if (role === 'skip') continue;
      ops.push(op);
      if (role === 'required') requiredCount++;
    }
    const n = ops.length;
    this.n = n;
    this.memoryMax = options.memoryBytesMax ?? Infinity;
    this.deadline = options.deadlineMs ?? Infinity;
    this.progressSteps = options.progressSteps ?? 1 << 20;
    this.nextProgress = this.progressSteps;
    const budget = new MemoryBudget(this.memoryMax, options.memoryBytesElsewhere ?? noBytes);
    this.budget = budget;
    this.space = new StateSpace(model, ops, budget, options.statesMax);
    this.initialState = this.space.intern(model.init());
    this.state = this.initialState;
    this.bestState = this.initialState;
    this.requiredLeft = requiredCount;

    const entryCount = n + requiredCount;
    this.entryCount = entryCount;
    const isRequired = (this.isRequired = int32s(n));
    const readOnly = (this.readOnly = int32s(n));
    // Entries: 0..n-1 are calls (entry i is op i's call), n.. are returns of required ops, in op order.
    const returnOf = (this.returnOf = int32s(n).fill(-1));
    const opOfEntry = (this.opOfEntry = int32s(entryCount));
    // Required and optional ops each have their own bitset; bitOf[i] is op i's bit in its set.
    // Optional ops do not enter the hash: configurations differing only in them share an entry.
    const bitOf = (this.bitOf = int32s(n));
    // Signed 32-bit keys and hashes: V8 keeps them as small integers, never boxed as doubles.
    const zobristA = (this.zobristA = int32s(n));
    const zobristB = (this.zobristB = int32s(n));
    const random = mulberry32(0x5eed);
    let optionalCount = 0;
    for (let i = 0, r = n; i < n; i++) {
      opOfEntry[i] = i;
      // Drawn for every op, so each op's keys do not depend on the roles of the others.
      const a = random();
      const b = random();
      if (model.role(ops[i]) !== 'required') {
        bitOf[i] = optionalCount++;
        continue;
      }
      isRequired[i] = 1;
      if (!options.noReadOnlyReduction && model.readOnly(ops[i])) readOnly[i] = 1;
      bitOf[i] = r - n;
      zobristA[i] = a;
      zobristB[i] = b;
      returnOf[i] = r;
      opOfEntry[r] = i;
      r++;
    }

    // Two doubly linked lists in time order, each with a sentinel head; -1 ends a list. The main
    // list holds required ops' calls and returns; the optional list holds optional ops' calls. The
    // scan tries required candidates first and optional ones after: an optional op is placed only
    // when required ops alone cannot go on. `rank` is the position in the merged time order.
    const order = (this.order = timeOrder(ops, opOfEntry, n, entryCount));
    this.headMain = entryCount;
    this.headOptional = entryCount + 1;
    this.next = int32s(entryCount + 2);
    this.prev = int32s(entryCount + 2);
    const rank = (this.rank = int32s(entryCount));
    for (let position = 0; position < entryCount; position++) rank[order[position]] = position;
    if (unobserved !== undefined) {
      let count = 0;
      const withheld = int32s(n);
      for (let i = 0; i < n; i++) {
        if (isRequired[i] === 0 && unobserved.has(ops[i].id)) {
          withheld[i] = 1;
          count++;
        }
      }
      if (count > 0) this.withheld = withheld;
    }
    this.linkLists();

    this.requiredBits = uint32s((requiredCount + 31) >>> 5);
    this.optionalBits = uint32s((optionalCount + 31) >>> 5);
    this.cache = new ConfigCache(this.optionalBits.length, budget, n);
    budget.track(this);
    budget.enforce();
    this.stackEntry = int32s(n);
    this.stackState = int32s(n);

    // A part whose tables pass the ceiling as they are set up ends at once, before its first step.
    const setUpBytes = budget.bytes;
    if (setUpBytes > this.memoryMax) this.done = this.finish('unknown', 'memory', { bytes: setUpBytes, bytesMax: this.memoryMax });
  }

  run(stepsMax: number): SearchResult | undefined {
    if (this.done !== undefined) return this.done;
    this.budget.recount();
    const stepsBefore = this.steps;
    let outcome: Outcome;
    try {
      outcome = this.search(stepsMax);
      // No linearization without the withheld ops: one of them may be what explains the history.
      // Go straight on with them, so a search whose tables pass the ceiling ends in this same call.
      while (outcome === Outcome.Illegal && this.withheld !== undefined) {
        this.releaseWithheld();
        outcome = this.search(Math.max(stepsMax - (this.steps - stepsBefore), 1));
      }
    } catch (error) {
      // A table that would pass the ceiling was not grown; what was found so far still stands.
      if (!(error instanceof OverMemoryCeiling)) throw error;
      this.done = this.finish('unknown', 'memory', error.overrun);
      return this.done;
    }
    switch (outcome) {
      case Outcome.Paused:
        return undefined;
      case Outcome.Ok:
        this.done = this.finish('ok');
        break;
      case Outcome.Illegal:
        this.done = this.finish('illegal');
        break;
      case Outcome.Timeout:
        this.done = this.finish('unknown', 'timeout');
        break;
      case Outcome.Memory: {
        const bytes = this.budget.bytes;
        this.done = this.finish('unknown', 'memory', { bytes, bytesMax: this.memoryMax });
        break;
      }
      case Outcome.Stopped:
        this.done = this.finish('unknown', 'stopped');
        break;
    }
    return this.done;
  }

  abandon(reason: NonNullable<SearchResult['reason']>, memory?: MemoryOverrun): SearchResult {
    this.done ??= this.finish('unknown', reason, memory);
    return this.done;
  }

  get bytes(): number {
    return this.cache.bytes + this.space.bytes;
  }

  /**
   * Runs up to about `stepsMax` steps. The position lives in locals while it runs (the loop does
   * integer work on them only) and is saved to the fields when it returns or throws.
   */
  private search(stepsMax: number): Outcome {
    const { n, entryCount, headMain, headOptional, space, cache, options } = this;
    const { isRequired, readOnly, returnOf, bitOf, zobristA, zobristB, opOfEntry, rank, next, prev } = this;
    const { requiredBits, optionalBits, stackEntry, stackState } = this;
    const requiredWords = requiredBits.length;
    let { steps, depth, requiredLeft, state, hashA, hashB, low, high, entry, inOptional, horizon, nextCheck } = this;
    const stopAt = steps + stepsMax;
    try {
      for (;;) {
        if (requiredLeft === 0) return Outcome.Ok;
        if (steps >= nextCheck) {
          nextCheck = steps + CHECK_EVERY_STEPS;
          if (steps >= stopAt) return Outcome.Paused;
          if (performance.now() > this.deadline) return Outcome.Timeout;
          if (this.budget.bytes > this.memoryMax) return Outcome.Memory;
          if (options.shouldStop?.()) return Outcome.Stopped;
          if (steps >= this.nextProgress) {
            this.nextProgress = steps + this.progressSteps;
            options.onProgress?.(steps);
          }
        }
        if (!inOptional && (entry === -1 || entry >= n)) {
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
            if (required) {
              requiredBits[word] |= bit;
              if (word >= high) high = word + 1;
              if (word === low) while (low < requiredWords && requiredBits[low] === 0xffffffff) low++;
            } else {
              optionalBits[word] |= bit;
            }
            const nextA = hashA ^ zobristA[op];
            const nextB = hashB ^ zobristB[op];
            if (cache.insert(nextA, nextB, after, requiredBits, low, high, optionalBits)) {
              stackEntry[depth] = entry;
              stackState[depth] = state;
              depth++;
              state = after;
              hashA = nextA;
              hashB = nextB;
              requiredLeft -= isRequired[op];
              // Lift the entry (and its return) out of the lists.
              next[prev[entry]] = next[entry];
              if (next[entry] !== -1) prev[next[entry]] = prev[entry];
              const r = returnOf[op];
              if (r !== -1) {
                next[prev[r]] = next[r];
                if (next[r] !== -1) prev[next[r]] = prev[r];
              }
              entry = next[headMain];
              inOptional = false;
              continue;
            }
            if (required) {
              requiredBits[word] &= ~bit;
              if (word < low) low = word;
              if (word === high - 1) while (high > low && requiredBits[high - 1] === 0) high--;
            } else {
              optionalBits[word] &= ~bit;
            }
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
        if (depth > this.bestDepth) {
          this.bestDepth = depth;
          const best = (this.bestStack ??= int32s(n));
          for (let d = 0; d < depth; d++) best[d] = stackEntry[d];
          this.bestState = state;
        }
        for (;;) {
          if (depth === 0) return Outcome.Illegal;
          depth--;
          const e = stackEntry[depth];
          const op = opOfEntry[e];
          state = stackState[depth];
          hashA ^= zobristA[op];
          hashB ^= zobristB[op];
          const word = bitOf[op] >>> 5;
          const bit = 1 << (bitOf[op] & 31);
          if (isRequired[op] === 1) {
            requiredBits[word] &= ~bit;
            if (word < low) low = word;
            if (word === high - 1) while (high > low && requiredBits[high - 1] === 0) high--;
          } else {
            optionalBits[word] &= ~bit;
          }
          requiredLeft += isRequired[op];
          // Put the entry (and its return) back in the lists.
          const r = returnOf[op];
          if (r !== -1) {
            next[prev[r]] = r;
            if (next[r] !== -1) prev[next[r]] = r;
          }
          next[prev[e]] = e;
          if (next[e] !== -1) prev[next[e]] = e;
          if (readOnly[op] === 1) continue;
          entry = next[e];
          inOptional = isRequired[op] === 0;
          if (inOptional) horizon = this.horizonRank();
          break;
        }
      }
    } finally {
      this.steps = steps;
      this.depth = depth;
      this.requiredLeft = requiredLeft;
      this.state = state;
      this.hashA = hashA;
      this.hashB = hashB;
      this.low = low;
      this.high = high;
      this.entry = entry;
      this.inOptional = inOptional;
      this.horizon = horizon;
      this.nextCheck = nextCheck;
    }
  }

  /**
   * Links the two doubly linked lists in time order, each with a sentinel head; -1 ends a list. The
   * main list holds required ops' calls and returns; the optional list holds optional ops' calls
   * (not the withheld ones). The scan tries required candidates first and optional ones after: an
   * optional op is placed only when required ops alone cannot go on. `rank` is the position in the
   * merged time order.
   */
  private linkLists(): void {
    const { order, next, prev, n, isRequired, withheld, headMain, headOptional } = this;
    let lastMain = headMain;
    let lastOptional = headOptional;
    for (let position = 0; position < this.entryCount; position++) {
      const e = order[position];
      if (e < n && isRequired[e] === 0) {
        if (withheld !== undefined && withheld[e] === 1) continue;
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
    this.entry = next[headMain];
    this.inOptional = false;
    this.horizon = this.entryCount;
  }

  /**
   * After the first pass found no linearization without the withheld ops: the search starts over
   * with them, on the same tables and transitions, with a new configuration cache (what failed
   * without them may not fail with them). The failed pass left nothing placed.
   */
  private releaseWithheld(): void {
    this.withheld = undefined;
    this.linkLists();
    this.cache = new ConfigCache(this.optionalBits.length, this.budget, this.n);
    this.bestDepth = -1;
    this.bestState = this.initialState;
  }

  /** Rank of the first return entry in the main list: optional calls after it are not callable. */
  private horizonRank(): number {
    const { next, n } = this;
    let e = next[this.headMain];
    while (e !== -1 && e < n) e = next[e];
    return e === -1 ? this.entryCount : this.rank[e];
  }

  private finish(verdict: SearchVerdict, reason?: SearchResult['reason'], memory?: MemoryOverrun): SearchResult {
    const { ops, opOfEntry, depth } = this;
    const result: SearchResult = { verdict, steps: this.steps, cacheSize: this.cache.count, opsChecked: this.n, reason };
    if (memory !== undefined) result.memory = memory;
    if (verdict === 'ok') {
      const linearization = new Array<number>(depth);
      for (let d = 0; d < depth; d++) linearization[d] = ops[opOfEntry[this.stackEntry[d]]].id;
      result.linearization = linearization;
      return result;
    }
    // The deepest configuration: the best recorded at a backtrack, or the current one if deeper.
    const current = depth > this.bestDepth;
    const stack = current ? this.stackEntry.subarray(0, depth) : this.bestStack!.subarray(0, this.bestDepth);
    const prefix = Array.from(stack, (e) => opOfEntry[e]);
    result.longestPrefix = prefix.map((i) => ops[i].id);
    result.stateAfterPrefix = this.model.describeState(this.space.states[current ? this.state : this.bestState]);
    if (verdict === 'illegal') result.stuck = this.explainStuck(prefix);
    return result;
  }

  /** Which ops could come right after `prefix`, and why none completes the history. */
  private explainStuck(prefix: number[]): StuckOp[] {
    const { ops, n, space, isRequired } = this;
    const placed = new Uint8Array(n);
    let at = this.initialState;
    for (const i of prefix) {
      placed[i] = 1;
      at = space.next(at, i);
    }
    let horizon = Infinity;
    for (let i = 0; i < n; i++) if (!placed[i] && isRequired[i]) horizon = Math.min(horizon, ops[i].ret);
    const stuck: StuckOp[] = [];
    for (let i = 0; i < n; i++) {
      if (placed[i] || ops[i].call > horizon) continue;
      // The model's own step: a state the search cut as dead (Model.deadStates) is a dead end, not illegal.
      const after = this.model.step(space.states[at], ops[i]);
      if (after === undefined) stuck.push({ opId: ops[i].id, reason: 'illegal' });
      else stuck.push({ opId: ops[i].id, reason: 'dead-end', stateAfter: this.model.describeState(after) });
    }
    return stuck;
  }
}

const noBytes = (): number => 0;
