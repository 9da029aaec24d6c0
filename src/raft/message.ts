// The peer messages of the protocol, and the check that turns untrusted input into a Message or a
// reason to reject it. Validation looks at shape only; protocol rules live in the role handlers.

import { ENTRY_OVERHEAD_BYTES } from './storage.js';
import type { Configuration, Entry, NodeId } from './types.js';

interface Envelope {
  from: NodeId;
  to: NodeId;
  /** The sender's term (for a granted PreVoteResponse: the term the pre-candidate asked about). */
  term: number;
}

/** Asks for a vote. With `transfer`, the voter skips its leader lease (the leader asked for this). */
export interface RequestVote extends Envelope {
  type: 'RequestVote';
  lastLogIndex: number;
  lastLogTerm: number;
  transfer: boolean;
}

export interface RequestVoteResponse extends Envelope {
  type: 'RequestVoteResponse';
  granted: boolean;
}

/** A non-binding poll at `term` (the sender's term + 1), sent before a real election. */
export interface PreVote extends Envelope {
  type: 'PreVote';
  lastLogIndex: number;
  lastLogTerm: number;
}

export interface PreVoteResponse extends Envelope {
  type: 'PreVoteResponse';
  granted: boolean;
}

/**
 * Entries after prev (possibly none); the commit index rides along, and so may the context of a
 * ReadIndex read being confirmed (as a heartbeat would carry it): the answer echoes it.
 */
export interface AppendEntries extends Envelope {
  type: 'AppendEntries';
  prevLogIndex: number;
  prevLogTerm: number;
  entries: Entry[];
  commit: number;
  context?: string;
}

/**
 * On success, `matchIndex` is the last index known to match the leader's log. On rejection,
 * `rejectedIndex` echoes the prev index that did not match, and (hintIndex, hintTerm) point at the
 * last entry of the follower's log at or below it whose term is <= the leader's prev term, so the
 * leader can skip a whole term per round trip (fast backup).
 */
export interface AppendEntriesResponse extends Envelope {
  type: 'AppendEntriesResponse';
  success: boolean;
  matchIndex: number;
  rejectedIndex: number;
  hintIndex: number;
  hintTerm: number;
  /** The AppendEntries' read context, echoed. */
  context?: string;
}

/** Keeps followers from campaigning; carries the commit (capped at the follower's match) and,
 * for ReadIndex, the context of the read being confirmed. */
export interface Heartbeat extends Envelope {
  type: 'Heartbeat';
  commit: number;
  context: string;
}

export interface HeartbeatResponse extends Envelope {
  type: 'HeartbeatResponse';
  context: string;
}

/** One chunk of the leader's snapshot, at byte `offset`; `done` on the last chunk. */
export interface InstallSnapshot extends Envelope {
  type: 'InstallSnapshot';
  snapshotIndex: number;
  snapshotTerm: number;
  configuration: Configuration;
  /** Total size of the snapshot data in bytes. */
  sizeBytes: number;
  offset: number;
  data: Uint8Array;
  done: boolean;
}

/** How many bytes of the snapshot the follower holds contiguously from offset 0. */
export interface InstallSnapshotResponse extends Envelope {
  type: 'InstallSnapshotResponse';
  snapshotIndex: number;
  bytesReceived: number;
}

/** Tells the transfer target to campaign at once (leader transfer). */
export interface TimeoutNow extends Envelope {
  type: 'TimeoutNow';
}

export type Message =
  | RequestVote
  | RequestVoteResponse
  | PreVote
  | PreVoteResponse
  | AppendEntries
  | AppendEntriesResponse
  | Heartbeat
  | HeartbeatResponse
  | InstallSnapshot
  | InstallSnapshotResponse
  | TimeoutNow;

export type MessageType = Message['type'];

/** Size bounds on an incoming AppendEntries, from the receiver's own options. */
export interface MessageLimits {
  /** Entries in one message. */
  entriesMax: number;
  /** Bytes of data in one entry. */
  entryBytesMax: number;
  /** Bytes of all entries in one message, counting 16 bytes of overhead per entry (entryBytes). */
  entriesBytesMax: number;
}

const INDEX_MAX = Number.MAX_SAFE_INTEGER;

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= INDEX_MAX;
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 256;
}

/** 'optional-string': absent, or a non-empty string (so a context has one representation). */
const FIELDS: Record<
  MessageType,
  Record<string, 'count' | 'bool' | 'string' | 'optional-string' | 'bytes' | 'entries' | 'configuration'>
> = {
  RequestVote: { lastLogIndex: 'count', lastLogTerm: 'count', transfer: 'bool' },
  RequestVoteResponse: { granted: 'bool' },
  PreVote: { lastLogIndex: 'count', lastLogTerm: 'count' },
  PreVoteResponse: { granted: 'bool' },
  AppendEntries: { prevLogIndex: 'count', prevLogTerm: 'count', entries: 'entries', commit: 'count', context: 'optional-string' },
  AppendEntriesResponse: {
    success: 'bool',
    matchIndex: 'count',
    rejectedIndex: 'count',
    hintIndex: 'count',
    hintTerm: 'count',
    context: 'optional-string',
  },
  Heartbeat: { commit: 'count', context: 'string' },
  HeartbeatResponse: { context: 'string' },
  InstallSnapshot: {
    snapshotIndex: 'count',
    snapshotTerm: 'count',
    configuration: 'configuration',
    sizeBytes: 'count',
    offset: 'count',
    data: 'bytes',
    done: 'bool',
  },
  InstallSnapshotResponse: { snapshotIndex: 'count', bytesReceived: 'count' },
  TimeoutNow: {},
};
/** FIELDS as lists, built once: validation runs on every incoming message. */
const FIELD_LISTS = Object.fromEntries(Object.entries(FIELDS).map(([type, fields]) => [type, Object.entries(fields)])) as Record<
  MessageType,
  [string, (typeof FIELDS)[MessageType][string]][]
>;

/**
 * Returns undefined when `input` is a well-formed message addressed to `self` within `limits`,
 * otherwise a short reason (used as the key of the rejected-message counter). Never throws.
 */
export function validateMessage(input: unknown, self: NodeId, limits: MessageLimits): string | undefined {
  if (typeof input !== 'object' || input === null) return 'not-an-object';
  const m = input as Record<string, unknown>;
  const type = m.type;
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type)) return 'unknown-type';
  if (!isId(m.from) || !isId(m.to)) return 'bad-address';
  if (m.to !== self) return 'wrong-recipient';
  if (m.from === self) return 'from-self';
  if (!isCount(m.term) || m.term === 0) return 'bad-term';
  for (const [field, kind] of FIELD_LISTS[type as MessageType]) {
    const value = m[field];
    const ok =
      kind === 'count'
        ? isCount(value)
        : kind === 'bool'
          ? typeof value === 'boolean'
          : kind === 'string'
            ? typeof value === 'string' && value.length <= 1024
            : kind === 'optional-string'
              ? value === undefined || (typeof value === 'string' && value.length > 0 && value.length <= 1024)
              : kind === 'bytes'
                ? value instanceof Uint8Array
                : kind === 'configuration'
                  ? isConfiguration(value)
                  : Array.isArray(value) && value.length <= limits.entriesMax;
    if (!ok) return `bad-${field}`;
  }
  if (type === 'AppendEntries') return checkEntries(m as unknown as AppendEntries, limits);
  if (type === 'InstallSnapshot') {
    const s = m as unknown as InstallSnapshot;
    if (s.snapshotTerm > s.term || s.snapshotIndex === 0) return 'bad-snapshot';
    if (s.offset + s.data.length > s.sizeBytes) return 'bad-offset';
    if (s.done !== (s.offset + s.data.length === s.sizeBytes)) return 'bad-done';
  }
  return undefined;
}

function isConfiguration(value: unknown): value is Configuration {
  if (typeof value !== 'object' || value === null) return false;
  const voters = (value as Configuration).voters;
  return Array.isArray(voters) && voters.length > 0 && voters.length <= 64 && voters.every(isId);
}

/** Entries must follow prev without gaps, with terms between prev's term and the message term,
 * and stay within the size a correct leader sends. */
function checkEntries(m: AppendEntries, limits: MessageLimits): string | undefined {
  if (m.prevLogTerm > m.term) return 'bad-prevLogTerm';
  let previousTerm = m.prevLogTerm;
  let bytes = 0;
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i] as unknown as Record<string, unknown>;
    if (typeof e !== 'object' || e === null) return 'bad-entry';
    if (!isCount(e.term) || !isCount(e.index) || !(e.data instanceof Uint8Array)) return 'bad-entry';
    if (e.index !== m.prevLogIndex + 1 + i) return 'bad-entry-index';
    if ((e.term as number) < previousTerm || (e.term as number) > m.term) return 'bad-entry-term';
    previousTerm = e.term as number;
    const size = (e.data as Uint8Array).length;
    if (size > limits.entryBytesMax) return 'entry-too-large';
    bytes += size + ENTRY_OVERHEAD_BYTES;
    if (bytes > limits.entriesBytesMax) return 'entries-too-large';
  }
  return undefined;
}
