// Builds operations for tests from a compact description.

import type { Operation, OperationStatus } from '../../checker/history.js';

export interface OpInit {
  process?: number | string;
  f: string;
  key?: string;
  input?: unknown;
  output?: unknown;
  status?: OperationStatus;
  error?: string;
  call: number;
  ret?: number;
}

export function ops(...inits: OpInit[]): Operation[] {
  return inits.map((init, id) => ({
    id,
    process: init.process ?? id,
    f: init.f,
    key: init.key,
    input: init.input,
    output: init.output,
    status: init.status ?? 'ok',
    error: init.error,
    call: init.call,
    ret: init.status === 'info' ? Infinity : (init.ret ?? init.call + 1),
    callIndex: id,
    retIndex: id,
    line: id + 1,
  }));
}
