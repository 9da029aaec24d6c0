// Key-value models, split by key: `kv` (get/put/append, the 6.824 lab's model: every key starts as
// the empty string) and `kv-cas` (what the Skepsis node serves: get/put/append/cas/delete, keys start
// absent, a get of an absent key returns null).

import type { Operation } from '../history.js';
import {
  casPair,
  casStep,
  describeValue,
  hashValue,
  partitionByKey,
  unknownOperation,
  unobservedWrites,
  valueEqual,
  type Observer,
  valueModelRole,
  type Model,
} from '../model.js';

export interface KvOptions {
  /** Every key's value before any write: "" for kv, null (absent) for kv-cas. */
  initial?: string | null;
}

type KvState = string | null;

function asText(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

function createKv(name: string, full: boolean, options: KvOptions): Model<KvState> {
  const initial: KvState = options.initial !== undefined ? options.initial : full ? null : '';
  const model: Model<KvState> = {
    name,
    summary: full
      ? 'key-value store with get, put, append, cas ([from, to]) and delete; keys start absent (null)'
      : 'key-value store with get, put and append (6.824); keys start as ""',
    operations: full ? ['get', 'put', 'append', 'cas', 'delete'] : ['get', 'put', 'append'],
    init: () => initial,
    step(state, op) {
      switch (op.f) {
        case 'get':
          if (full) return valueEqual(state, op.output ?? null) ? state : undefined;
          return asText(state) === asText(op.output) ? state : undefined;
        case 'put':
          return full ? (op.input as KvState) : asText(op.input);
        case 'append':
          return asText(state) + asText(op.input);
        case 'delete':
          return null;
        case 'cas':
          return casStep(state, op);
        default:
          return undefined;
      }
    },
    readOnly: (op) => op.f === 'get' || (op.f === 'cas' && op.status === 'fail'),
    role: (op) => valueModelRole(op, 'get'),
    validate(op) {
      const unknown = unknownOperation(model, op);
      if (unknown) return unknown;
      if (op.key === undefined) return `${op.f} needs a key`;
      if (op.f === 'cas' && casPair(op.input) === undefined) {
        return `cas needs a [from, to] pair as its value, got ${describeValue(op.input)}`;
      }
      if ((op.f === 'put' || op.f === 'append') && op.input !== null && typeof op.input !== 'string') {
        return `${op.f} needs a string value, got ${describeValue(op.input)}`;
      }
      return undefined;
    },
    hash: hashValue,
    primitiveStatesByValue: true,
    // A value grows with every append and each is a state of its own (V8 keeps strings as UTF-16).
    stateBytes: (state) => 32 + 2 * (state?.length ?? 0),
    equal: (a, b) => a === b,
    partition: partitionByKey,
    unobserved: (ops) => unobservedWrites(ops, 'get', ['put', 'append'], observedInText),
    deadStates: (ops) => appendOnlyDeadStates(ops, model),
    describeOp(op: Operation) {
      const pending = op.status === 'info' ? ' (?)' : '';
      switch (op.f) {
        case 'get':
          return `get ${op.key} -> ${op.output === undefined ? '?' : describeValue(op.output)}`;
        case 'delete':
          return `delete ${op.key}${pending}`;
        case 'cas': {
          const pair = casPair(op.input);
          const outcome = op.status === 'fail' ? ' -> mismatch' : pending;
          return `cas ${op.key} ${describeValue(pair?.from)}->${describeValue(pair?.to)}${outcome}`;
        }
        default:
          return `${op.f} ${op.key} ${describeValue(op.input)}${pending}`;
      }
    },
    describeState: (state) => describeValue(state),
  };
  return model;
}

/**
 * Appends only grow a value. When nothing else that may have taken effect writes the key (no put,
 * delete or cas that may have succeeded), every state of a linearization is a prefix of the longest
 * value a completed get returned, or extends it: before that get the value grows towards it, after
 * it from it. A state that is neither leads nowhere. Cutting it at once, rather than at the read that
 * contradicts it, keeps the search to the order of appends the reads show: a pair of appends
 * pending for seconds (a partition) otherwise gets tried at every position in between, and a
 * 200-op key took 2 GiB and more than a minute to end unknown.
 */
function appendOnlyDeadStates(ops: Operation[], model: Model<KvState>): ((state: KvState) => boolean) | undefined {
  let longest: string | undefined;
  for (const op of ops) {
    const role = model.role(op);
    if (op.f === 'get') {
      if (role !== 'required') continue;
      const text = asText(op.output);
      if (longest === undefined || text.length > longest.length) longest = text;
    } else if (op.f !== 'append' && role !== 'skip' && !model.readOnly(op)) {
      return undefined;
    }
  }
  if (longest === undefined || longest === '') return undefined;
  const seen = longest;
  return (state) => {
    const text = asText(state);
    return text.length <= seen.length ? !seen.startsWith(text) : !text.startsWith(seen);
  };
}

/**
 * Characters scanned at most (candidates times observed text, after maximalTexts); beyond it
 * nothing is left out first. String#includes scans some 2.4 billion characters a second here, so
 * this costs at most about 0.2 s, against searches that take far longer without the cut: a
 * 200,000-op soak has 90 candidates and 1.7 million characters (155 million), and ran out of memory
 * when nothing was left out.
 */
const UNOBSERVED_SCAN_CHARS_MAX = 400_000_000;
/** Below this many (candidates times observed text) the texts are scanned as they are: reducing them costs more. */
const UNOBSERVED_REDUCE_CHARS_MIN = UNOBSERVED_SCAN_CHARS_MAX / 20;

/** Texts shorter than this are kept as they are; longer ones are grouped by their first this many characters. */
const TEXT_GROUP_PREFIX = 16;
/** Texts kept per group at most before the rest of it is kept without comparing (a bound, never a loss). */
const TEXT_GROUP_MAX = 64;

/**
 * The observed texts without those another one starts with: what a text contains, the longer one
 * contains too, so the same texts are found in what is left. A key's reads grow a value append by
 * append until the next put, so this leaves about one text per put: a 200,000-op soak's gets
 * return 42,000 distinct values (91 million characters), most of them prefixes of the next, and
 * this leaves 528 (1.7 million). Exported for its test.
 */
export function maximalTexts(texts: Iterable<string>): string[] {
  const kept: string[] = [];
  const groups = new Map<string, string[]>();
  for (const text of texts) {
    if (text.length < TEXT_GROUP_PREFIX) {
      kept.push(text);
      continue;
    }
    const head = text.slice(0, TEXT_GROUP_PREFIX);
    let group = groups.get(head);
    if (group === undefined) groups.set(head, (group = []));
    if (group.length >= TEXT_GROUP_MAX) {
      kept.push(text);
      continue;
    }
    let covered = false;
    for (let i = 0; i < group.length && !covered; i++) {
      const other = group[i];
      if (other.length >= text.length) covered = other.startsWith(text);
      else if (text.startsWith(other)) {
        // This text extends one kept before: it takes its place (and may extend others, left as they are).
        group[i] = text;
        covered = true;
      }
    }
    if (!covered) group.push(text);
  }
  for (const group of groups.values()) kept.push(...group);
  return kept;
}

function charsIn(texts: string[]): number {
  let chars = 0;
  for (const text of texts) chars += text.length + 1;
  return chars;
}

/**
 * Texts seen inside what gets returned: an append that took effect shows in every later read until
 * the next put, so a suffix no read contains (nor a put's value, nor a cas's new value) most likely
 * never happened. The empty text counts as seen.
 */
const observedInText: Observer = (observed, candidates) => {
  let texts = [...new Set(observed.map(asText))];
  let chars = charsIn(texts);
  if (candidates * chars > UNOBSERVED_REDUCE_CHARS_MIN) {
    texts = maximalTexts(texts);
    chars = charsIn(texts);
  }
  if (candidates * chars > UNOBSERVED_SCAN_CHARS_MAX) return undefined;
  return (written) => {
    const text = asText(written);
    return text === '' || texts.some((observedText) => observedText.includes(text));
  };
};

export const kvModel = (options: KvOptions = {}) => createKv('kv', false, options);
export const kvCasModel = (options: KvOptions = {}) => createKv('kv-cas', true, options);
