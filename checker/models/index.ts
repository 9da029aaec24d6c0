// The registry of models, by the name used on the command line.

import type { Model } from '../model.js';
import { kvCasModel, kvModel } from './kv.js';
import { casRegisterModel, registerModel } from './register.js';
import { wholeHistoryModel } from './whole.js';

export interface ModelOptions {
  /** The initial value (`--init`), already parsed from JSON where it was JSON. */
  initial?: unknown;
  /** Check the history as one part instead of splitting it by key (`--no-split`). */
  whole?: boolean;
}

const factories: Record<string, (options: ModelOptions) => Model<any>> = {
  register: (o) => registerModel({ initial: o.initial }),
  'cas-register': (o) => casRegisterModel({ initial: o.initial }),
  kv: (o) => kvModel({ initial: o.initial as string | null | undefined }),
  'kv-cas': (o) => kvCasModel({ initial: o.initial as string | null | undefined }),
};

export const MODEL_NAMES = Object.keys(factories);

export function createModel(name: string, options: ModelOptions = {}): Model<any> {
  const factory = factories[name];
  if (factory === undefined) throw new Error(`unknown model "${name}" (expected one of: ${MODEL_NAMES.join(', ')})`);
  const model = factory(options);
  return options.whole ? wholeHistoryModel(model) : model;
}
