// Wraps a per-key model so a whole multi-key history is checked as one part (no splitting by
// key): the state is every key's state. For comparing with a split check and for debugging;
// splitting is exponentially cheaper and gives the same verdict for independent keys.

import { hashString, type Model } from '../model.js';

type Keyed<S> = Readonly<Record<string, S>>;

export function wholeHistoryModel<S>(model: Model<S>): Model<Keyed<S>> {
  const initial = model.init();
  const get = (state: Keyed<S>, key: string): S => (Object.prototype.hasOwnProperty.call(state, key) ? state[key] : initial);
  return {
    ...model,
    name: model.name,
    summary: `${model.summary} (checked as one part)`,
    init: () => ({}),
    // Every state is an object of keys.
    primitiveStatesByValue: false,
    step(state, op) {
      const key = op.key ?? '';
      const after = model.step(get(state, key), op);
      if (after === undefined) return undefined;
      if (after === get(state, key)) return state;
      return { ...state, [key]: after };
    },
    hash(state) {
      // Order-independent, and keys still at the initial state do not count.
      let hash = 0;
      for (const key of Object.keys(state)) {
        if (model.equal(state[key], initial)) continue;
        hash = (hash + Math.imul(hashString(key), model.hash(state[key]) | 1)) >>> 0;
      }
      return hash;
    },
    stateBytes(state) {
      let bytes = 64;
      for (const key of Object.keys(state)) bytes += 16 + (model.stateBytes?.(state[key]) ?? 64);
      return bytes;
    },
    equal(a, b) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) if (!model.equal(get(a, key), get(b, key))) return false;
      return true;
    },
    partition: (ops) => (ops.length === 0 ? [] : [ops]),
    deadStates(ops) {
      // Dead when one key's state is dead for that key's ops.
      const tests = new Map<string, (state: S) => boolean>();
      for (const part of model.partition(ops)) {
        const test = model.deadStates?.(part);
        if (test !== undefined && part.length > 0) tests.set(part[0].key ?? '', test);
      }
      if (tests.size === 0) return undefined;
      return (state) => {
        for (const [key, test] of tests) if (test(get(state, key))) return true;
        return false;
      };
    },
    describeState(state) {
      const keys = Object.keys(state).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}: ${model.describeState(state[k])}`).join(', ')}}`;
    },
  };
}
