// A naive linearizability checker for tiny histories, to test the search against: tries every
// order of the operations that respects real time (and every subset of indeterminate ones), with
// no cache and no reductions.

import type { Operation } from '../../checker/history.js';
import type { Model } from '../../checker/model.js';

export function bruteForceLinearizable<S>(model: Model<S>, history: Operation[]): boolean {
  return model.partition(history).every((part) => bruteForcePart(model, part));
}

function bruteForcePart<S>(model: Model<S>, part: Operation[]): boolean {
  const ops = part.filter((op) => model.role(op) !== 'skip');
  const required = ops.map((op) => model.role(op) === 'required');
  const placed = new Array<boolean>(ops.length).fill(false);
  const search = (state: S, requiredLeft: number): boolean => {
    if (requiredLeft === 0) return true;
    for (let i = 0; i < ops.length; i++) {
      if (placed[i]) continue;
      // ops[i] may come next only if no unplaced required op returned before it was called.
      const blocked = ops.some((other, j) => !placed[j] && j !== i && required[j] && other.ret < ops[i].call);
      if (blocked) continue;
      const after = model.step(state, ops[i]);
      if (after === undefined) continue;
      placed[i] = true;
      const ok = search(after, requiredLeft - (required[i] ? 1 : 0));
      placed[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return search(model.init(), required.filter(Boolean).length);
}
