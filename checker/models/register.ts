// Single-value registers: `register` (read/write) and `cas-register` (read/write/cas, the model of
// the etcd logs). Operations with a key are split by key, one independent register per key.

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
  valueModelRole,
  type Model,
} from '../model.js';

export interface RegisterOptions {
  /** The value before any write; `null` means absent (the default). */
  initial?: unknown;
}

export { CAS_MISMATCH } from '../model.js';

function createRegister(name: string, withCas: boolean, options: RegisterOptions): Model<unknown> {
  const initial = options.initial ?? null;
  const operations = withCas ? ['read', 'write', 'cas'] : ['read', 'write'];
  const model: Model<unknown> = {
    name,
    summary: withCas
      ? 'a register with read, write and compare-and-set ([from, to]); one per key'
      : 'a register with read and write; one per key',
    operations,
    init: () => initial,
    step(state, op) {
      switch (op.f) {
        case 'read':
          return valueEqual(state, op.output ?? null) ? state : undefined;
        case 'write':
          return op.input ?? null;
        case 'cas':
          return casStep(state, op);
        default:
          return undefined;
      }
    },
    readOnly: (op) => op.f === 'read' || (op.f === 'cas' && op.status === 'fail'),
    role: (op) => valueModelRole(op, 'read'),
    validate(op) {
      const unknown = unknownOperation(model, op);
      if (unknown) return unknown;
      if (op.f === 'cas' && casPair(op.input) === undefined) {
        return `cas needs a [from, to] pair as its value, got ${describeValue(op.input)}`;
      }
      return undefined;
    },
    hash: hashValue,
    // valueEqual compares primitives by ===.
    primitiveStatesByValue: true,
    equal: valueEqual,
    partition: partitionByKey,
    unobserved: (ops) => unobservedWrites(ops, 'read', ['write']),
    describeOp(op: Operation) {
      const key = op.key === undefined ? '' : `${op.key} `;
      switch (op.f) {
        case 'read':
          return `read ${key}-> ${op.output === undefined ? '?' : describeValue(op.output)}`;
        case 'write':
          return `write ${key}${describeValue(op.input)}${op.status === 'info' ? ' (?)' : ''}`;
        default: {
          const pair = casPair(op.input);
          const outcome = op.status === 'fail' ? ' -> mismatch' : op.status === 'info' ? ' (?)' : '';
          return `cas ${key}${describeValue(pair?.from)}->${describeValue(pair?.to)}${outcome}`;
        }
      }
    },
    describeState: (state) => describeValue(state),
  };
  return model;
}

export const registerModel = (options: RegisterOptions = {}) => createRegister('register', false, options);
export const casRegisterModel = (options: RegisterOptions = {}) => createRegister('cas-register', true, options);
