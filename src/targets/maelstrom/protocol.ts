// Maelstrom's message shapes (jepsen-io/maelstrom doc/protocol.md): one JSON object per line,
// `{src, dest, body}`, with `body.type`, `msg_id` and `in_reply_to`; and its error codes, definite
// or not. Parsing only: no I/O.

/** A Maelstrom message body: `type` and whatever fields the type has. */
export interface MaelstromBody {
  type: string;
  msg_id?: number;
  in_reply_to?: number;
  [field: string]: unknown;
}

export interface MaelstromMessage {
  src: string;
  dest: string;
  body: MaelstromBody;
}

/** Error codes that mean the operation definitely did not happen; every other code is indefinite. */
export const DEFINITE_ERROR_CODES: ReadonlySet<number> = new Set([1, 10, 11, 12, 14, 20, 21, 22, 30]);

export const ERROR_NOT_SUPPORTED = 10;
export const ERROR_MALFORMED_REQUEST = 12;
export const ERROR_KEY_DOES_NOT_EXIST = 20;
export const ERROR_PRECONDITION_FAILED = 22;

/** Lines longer than this are refused as malformed (a runaway node cannot exhaust the harness). */
export const LINE_BYTES_MAX = 1_000_000;

/** A line's message, or why it is not one (for the log). */
export function parseMessage(line: string): MaelstromMessage | { error: string } {
  if (line.length > LINE_BYTES_MAX) return { error: `line of ${line.length} characters (at most ${LINE_BYTES_MAX})` };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { error: `not JSON (${(error as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'not a JSON object' };
  const { src, dest, body } = value as Record<string, unknown>;
  if (typeof src !== 'string' || src === '') return { error: 'field src: expected a non-empty string' };
  if (typeof dest !== 'string' || dest === '') return { error: 'field dest: expected a non-empty string' };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: 'field body: expected an object' };
  const b = body as Record<string, unknown>;
  if (typeof b.type !== 'string') return { error: 'field body.type: expected a string' };
  for (const field of ['msg_id', 'in_reply_to'] as const)
    if (b[field] !== undefined && !Number.isInteger(b[field])) return { error: `field body.${field}: expected an integer` };
  return { src, dest, body: b as MaelstromBody };
}

/** The message as one line (no newline). */
export function renderMessage(message: MaelstromMessage): string {
  return JSON.stringify(message);
}

/** One text form for logs: `c1->n1 read msg_id=3 {"key":"r0"}`. */
export function describeMessage(message: MaelstromMessage): string {
  const { type, msg_id, in_reply_to, ...rest } = message.body;
  const ids = `${msg_id !== undefined ? ` msg_id=${msg_id}` : ''}${in_reply_to !== undefined ? ` in_reply_to=${in_reply_to}` : ''}`;
  const fields = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest).slice(0, 200)}` : '';
  return `${message.src}->${message.dest} ${type}${ids}${fields}`;
}
