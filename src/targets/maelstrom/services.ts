// Maelstrom's services, offered by the harness itself so nodes that call them (many Gossip Glomers
// solutions) run: lin-kv, seq-kv and lww-kv (read / write / cas on JSON keys and values, with
// Maelstrom's error codes) and lin-tso (increasing timestamps). All four answer from one in-memory
// map each, at once: that is linearizable, which seq-kv's and lww-kv's weaker contracts allow, but
// unlike Maelstrom they never show a stale read, so a node that would break on one is not caught here.

import type { Endpoint } from './router.js';
import {
  ERROR_KEY_DOES_NOT_EXIST,
  ERROR_MALFORMED_REQUEST,
  ERROR_NOT_SUPPORTED,
  ERROR_PRECONDITION_FAILED,
  type MaelstromBody,
  type MaelstromMessage,
} from './protocol.js';

export const SERVICE_NAMES = ['lin-kv', 'seq-kv', 'lww-kv', 'lin-tso'] as const;

/** Keys held per service, at most (a runaway node cannot exhaust the harness). */
const KEYS_MAX = 1_000_000;

function error(code: number, text: string): Omit<MaelstromBody, 'in_reply_to'> {
  return { type: 'error', code, text };
}

/** What a key-value service answers to one request body (pure, on its map). */
export function kvServiceReply(data: Map<string, unknown>, body: MaelstromBody): Omit<MaelstromBody, 'in_reply_to'> {
  if (!('key' in body)) return error(ERROR_MALFORMED_REQUEST, `${body.type} needs a key`);
  const key = JSON.stringify(body.key);
  switch (body.type) {
    case 'read':
      return data.has(key) ? { type: 'read_ok', value: data.get(key) } : error(ERROR_KEY_DOES_NOT_EXIST, 'key does not exist');
    case 'write':
      if (!data.has(key) && data.size >= KEYS_MAX) return error(ERROR_MALFORMED_REQUEST, `more than ${KEYS_MAX} keys`);
      data.set(key, body.value);
      return { type: 'write_ok' };
    case 'cas': {
      if (!data.has(key)) {
        if (body.create_if_not_exists !== true) return error(ERROR_KEY_DOES_NOT_EXIST, 'key does not exist');
        if (data.size >= KEYS_MAX) return error(ERROR_MALFORMED_REQUEST, `more than ${KEYS_MAX} keys`);
        data.set(key, body.to);
        return { type: 'cas_ok' };
      }
      const current = data.get(key);
      if (JSON.stringify(current) !== JSON.stringify(body.from))
        return error(ERROR_PRECONDITION_FAILED, `expected ${JSON.stringify(body.from)}, but had ${JSON.stringify(current)}`);
      data.set(key, body.to);
      return { type: 'cas_ok' };
    }
    default:
      return error(ERROR_NOT_SUPPORTED, `${body.type} is not supported`);
  }
}

/** The services, each an Endpoint that answers through `reply`. */
export function createServices(reply: (message: MaelstromMessage) => void): Map<string, Endpoint> {
  const services = new Map<string, Endpoint>();
  const answer = (name: string, request: MaelstromMessage, body: Omit<MaelstromBody, 'in_reply_to'>) => {
    if (request.body.msg_id === undefined) return;
    reply({ src: name, dest: request.src, body: { ...body, in_reply_to: request.body.msg_id } as MaelstromBody });
  };
  for (const name of ['lin-kv', 'seq-kv', 'lww-kv']) {
    const data = new Map<string, unknown>();
    services.set(name, {
      deliver(message) {
        answer(name, message, kvServiceReply(data, message.body));
        return true;
      },
    });
  }
  let ts = 0;
  services.set('lin-tso', {
    deliver(message) {
      answer(
        'lin-tso',
        message,
        message.body.type === 'ts' ? { type: 'ts_ok', ts: ++ts } : error(ERROR_NOT_SUPPORTED, `${message.body.type} is not supported`),
      );
      return true;
    },
  });
  return services;
}
