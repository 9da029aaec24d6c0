// fast-check arbitraries for every peer message type, valid by the core's validateMessage: field
// values span the whole range (0 to 2^53 - 1, unicode ids, empty and large data).

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { Message } from '../../../src/raft/message.js';
import type { Entry } from '../../../src/raft/types.js';

/** Property tests are seeded so that a run replays; SKEPSIS_SEED / SKEPSIS_PROPERTY_RUNS override. */
export const PROPERTY_SEED = Number(process.env.SKEPSIS_SEED ?? 20240604);
export const PROPERTY_RUNS = Number(process.env.SKEPSIS_PROPERTY_RUNS ?? 200);

const MAX = Number.MAX_SAFE_INTEGER;

/** Data of the given length with a recognizable pattern (cheaper than random bytes when large). */
export function patternBytes(length: number, salt = 0): Uint8Array {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = (i * 31 + salt) & 0xff;
  return data;
}

const id = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('n1', 'n2', 'n3', 'a-rather-long-node-name-17') },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 24, unit: 'grapheme' }).filter((s) => s.length <= 256) },
);

const addresses = fc.tuple(id, id).filter(([from, to]) => from !== to);

/** Small, medium and extreme values, so that every varint length is exercised. */
export const count = fc.oneof(
  fc.nat({ max: 200 }),
  fc.nat({ max: 2 ** 32 + 5 }),
  fc.integer({ min: MAX - 1000, max: MAX }),
  fc.constant(0),
  fc.constant(MAX),
);
const term = count.map((n) => Math.max(1, n));

const bytes = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 48 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 100_000 }).map((n) => patternBytes(n, n)) },
);

const context = fc.oneof(fc.constant(''), fc.string({ maxLength: 40, unit: 'grapheme' }), fc.constant('c'.repeat(1024)));

/** The read context an AppendEntries or its answer may carry: absent or non-empty. */
const readContext = fc.option(
  context.filter((c) => c !== ''),
  { nil: undefined },
);
const withReadContext = (context: string | undefined) => (context === undefined ? {} : { context });

const envelope = fc.record({ addresses, term });

function head(e: { addresses: [string, string]; term: number }): { from: string; to: string; term: number } {
  return { from: e.addresses[0], to: e.addresses[1], term: e.term };
}

const appendEntries = fc
  .record({
    e: envelope,
    prevLogIndex: fc.oneof(fc.nat({ max: 1000 }), fc.integer({ min: MAX - 100, max: MAX - 20 })),
    commit: count,
    readContext,
  })
  .chain(({ e, prevLogIndex, commit, readContext }) =>
    fc.integer({ min: 0, max: e.term }).chain((prevLogTerm) =>
      fc.array(fc.tuple(fc.integer({ min: prevLogTerm, max: e.term }), bytes), { maxLength: 12 }).map((raw): Message => {
        const terms = raw.map(([t]) => t).sort((a, b) => a - b);
        const entries: Entry[] = raw.map(([, data], i) => ({ term: terms[i], index: prevLogIndex + 1 + i, data }));
        return { type: 'AppendEntries', ...head(e), prevLogIndex, prevLogTerm, commit, entries, ...withReadContext(readContext) };
      }),
    ),
  );

const installSnapshot = fc
  .record({
    e: envelope,
    snapshotIndex: count.map((n) => Math.max(1, n)),
    voters: fc.array(id, { minLength: 1, maxLength: 7 }),
    offset: fc.oneof(fc.nat({ max: 1_000_000 }), fc.integer({ min: 2 ** 40, max: 2 ** 52 })),
    data: bytes,
    done: fc.boolean(),
    extra: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .chain((r) =>
    fc.integer({ min: 0, max: r.e.term }).map(
      (snapshotTerm): Message => ({
        type: 'InstallSnapshot',
        ...head(r.e),
        snapshotIndex: r.snapshotIndex,
        snapshotTerm,
        configuration: { voters: r.voters },
        sizeBytes: r.offset + r.data.length + (r.done ? 0 : r.extra),
        offset: r.offset,
        data: r.data,
        done: r.done,
      }),
    ),
  );

/** One arbitrary per message type, keyed by type, so each type is exercised on its own. */
export const messageByType: Record<Message['type'], fc.Arbitrary<Message>> = {
  RequestVote: fc
    .record({ e: envelope, lastLogIndex: count, lastLogTerm: count, transfer: fc.boolean() })
    .map(({ e, ...rest }) => ({ type: 'RequestVote', ...head(e), ...rest })),
  RequestVoteResponse: fc
    .record({ e: envelope, granted: fc.boolean() })
    .map(({ e, granted }) => ({ type: 'RequestVoteResponse', ...head(e), granted })),
  PreVote: fc
    .record({ e: envelope, lastLogIndex: count, lastLogTerm: count })
    .map(({ e, ...rest }) => ({ type: 'PreVote', ...head(e), ...rest })),
  PreVoteResponse: fc
    .record({ e: envelope, granted: fc.boolean() })
    .map(({ e, granted }) => ({ type: 'PreVoteResponse', ...head(e), granted })),
  AppendEntries: appendEntries,
  AppendEntriesResponse: fc
    .record({ e: envelope, success: fc.boolean(), matchIndex: count, rejectedIndex: count, hintIndex: count, hintTerm: count, readContext })
    .map(({ e, readContext, ...rest }) => ({ type: 'AppendEntriesResponse', ...head(e), ...rest, ...withReadContext(readContext) })),
  Heartbeat: fc.record({ e: envelope, commit: count, context }).map(({ e, ...rest }) => ({ type: 'Heartbeat', ...head(e), ...rest })),
  HeartbeatResponse: fc.record({ e: envelope, context }).map(({ e, context }) => ({ type: 'HeartbeatResponse', ...head(e), context })),
  InstallSnapshot: installSnapshot,
  InstallSnapshotResponse: fc
    .record({ e: envelope, snapshotIndex: count, bytesReceived: count })
    .map(({ e, ...rest }) => ({ type: 'InstallSnapshotResponse', ...head(e), ...rest })),
  TimeoutNow: envelope.map((e) => ({ type: 'TimeoutNow', ...head(e) })),
};

export const anyMessage: fc.Arbitrary<Message> = fc.oneof(...Object.values(messageByType));

/**
 * The message with each byte field replaced by its length and digest: comparing large typed arrays
 * element by element (as toEqual does) takes seconds, and a failure would print megabytes.
 */
export function canonical(value: unknown): unknown {
  if (value instanceof Uint8Array) return `${value.length} bytes sha256:${createHash('sha256').update(value).digest('hex').slice(0, 16)}`;
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canonical(v)]));
  return value;
}
