// Seeded long single-key histories (a soak against one key) for the bench and the tests: `count`
// operations by `clients` clients, each linearized at its own point inside its interval, results
// computed from those points, so the history is linearizable. About one op in `infoEvery` is an
// indeterminate write that took effect or not (its process is replaced, as in Jepsen).

import type { Operation } from '../../checker/history.js';
import { mulberry32 } from '../../checker/search.js';

export interface LongHistoryOptions {
  count: number;
  seed: number;
  /** 'register': read, write, cas (cas-register model); 'kv': get, append, and a put every `putEvery` ops (kv model). */
  kind: 'register' | 'kv';
  clients?: number;
  infoEvery?: number;
  putEvery?: number;
}

export function longSingleKeyHistory(options: LongHistoryOptions): Operation[] {
  const { count, kind } = options;
  const clients = options.clients ?? 10;
  const infoEvery = options.infoEvery ?? 2000;
  const putEvery = options.putEvery ?? 500;
  const next32 = mulberry32(options.seed);
  const random = (): number => next32() / 2 ** 32;
  // Op i takes effect at 100 * i; its interval reaches up to 40 either side, so a client's next op
  // (clients * 100 later) never overlaps its last one, while about one op in 1.25 overlaps the next.
  const spread = 40;
  let state: unknown = kind === 'kv' ? '' : null;
  let nextProcess = clients;
  const processOf = Array.from({ length: clients }, (_, c) => c);
  const built: Operation[] = [];
  for (let i = 0; i < count; i++) {
    const at = 100 * i;
    const call = at - Math.floor(random() * spread);
    const ret = at + 1 + Math.floor(random() * spread);
    const client = i % clients;
    const roll = random();
    const info = random() * infoEvery < 1;
    let f: string;
    let input: unknown;
    let output: unknown;
    let status: Operation['status'] = 'ok';
    let applies = true;
    if (kind === 'register') {
      if (roll < 0.5 && !info) {
        f = 'read';
        output = state;
      } else if (roll < 0.8 || info) {
        f = 'write';
        input = i;
      } else {
        f = 'cas';
        const from = random() < 0.7 ? state : -1;
        input = [from, i];
        if (from !== state) status = 'fail';
      }
      if (info) {
        status = 'info';
        applies = random() < 0.5;
      }
      if (applies && status !== 'fail') {
        if (f === 'write') state = input;
        else if (f === 'cas') state = i;
      }
    } else {
      if (i % putEvery === 0 && !info) {
        f = 'put';
        input = `p${i} `;
      } else if (roll < 0.3 && !info) {
        f = 'get';
        output = state;
      } else {
        f = 'append';
        input = `x ${client} ${i} y `;
      }
      if (info) {
        status = 'info';
        applies = random() < 0.5;
      }
      if (applies) {
        if (f === 'put') state = input;
        else if (f === 'append') state = `${state as string}${input as string}`;
      }
    }
    built.push({
      id: 0,
      process: processOf[client],
      f,
      key: 'k',
      input,
      output,
      status,
      error: status === 'fail' ? 'cas_mismatch' : undefined,
      call,
      ret: status === 'info' ? Infinity : ret,
      callIndex: 0,
      retIndex: 0,
      line: 0,
    });
    if (status === 'info') processOf[client] = nextProcess++;
  }
  built.sort((a, b) => a.call - b.call);
  built.forEach((op, id) => {
    op.id = id;
    op.callIndex = 2 * id;
    op.retIndex = op.ret === Infinity ? -1 : 2 * id + 1;
    op.line = id + 1;
  });
  return built;
}
