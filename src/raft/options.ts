// The core's options with their defaults, validated up front. Times are in ticks: the driver
// decides how long a tick is (the simulator and the real node use the same core).

import type { Random } from './random.js';
import type { Storage } from './storage.js';
import type { NodeId } from './types.js';

/**
 * Deliberate protocol bugs, for proving that the simulator and the harness find them. Never enable
 * outside tests.
 * - commit-prior-term: a leader commits entries of earlier terms by counting replicas (breaks the
 *   Figure 8 rule, so a committed entry can later be overwritten). It also appends no no-op on
 *   taking office (with one, any acknowledgement after the election also covers a current-term
 *   entry, which masks the bug), and serves ReadIndex reads once its commit index covers the log
 *   it had when elected (instead of waiting for an entry of its own term to commit).
 * - vote-twice: a node grants a vote in a term although it already voted for another candidate in
 *   that term (two leaders can win one term).
 */
export type UnsafeBug = 'commit-prior-term' | 'vote-twice';
export const UNSAFE_BUGS: readonly UnsafeBug[] = ['commit-prior-term', 'vote-twice'];

export interface RaftOptions {
  id: NodeId;
  storage: Storage;
  /** Seeded randomness for election timeouts; the core draws from nothing else. */
  random: Random;
  /** A follower campaigns after a random timeout in [electionTimeoutTicks, 2 * electionTimeoutTicks). Default 10. */
  electionTimeoutTicks?: number;
  /** Leader heartbeat period; must be below electionTimeoutTicks. Default 1. */
  heartbeatIntervalTicks?: number;
  /** Poll before campaigning so a rejoining node cannot raise everyone's term. Default true. */
  preVote?: boolean;
  /** A leader that did not hear from a majority for an election timeout steps down; followers
   * that heard from a leader within that time ignore vote requests. Default true. */
  checkQuorum?: boolean;
  /** AppendEntries in flight per follower while replicating (pipelining window). Default 64. */
  inflightMessagesMax?: number;
  /** Bytes of entries per AppendEntries (at least one entry is always sent). Default 1 MiB. */
  messageBytesMax?: number;
  /** Bytes of data in one entry: propose refuses larger commands, and a follower rejects an
   * AppendEntries carrying a larger entry (or more than messageBytesMax + entryBytesMax + 16 bytes
   * of entries, what a correct leader can send). Default 1 MiB. */
  entryBytesMax?: number;
  /** Bytes per InstallSnapshot chunk. Default 64 KiB. */
  snapshotChunkBytes?: number;
  /** Largest snapshot a follower accepts. Default 256 MiB. */
  snapshotBytesMax?: number;
  /** Proposals are refused while this many entries are appended but not committed. Default 10 000. */
  uncommittedEntriesMax?: number;
  /** ReadIndex requests waiting for confirmation. Default 1024. */
  pendingReadsMax?: number;
  /** Bytes of committed entries per Ready. Default 16 MiB. */
  committedEntriesBytesMax?: number;
  /** On restart: the last index the application has already applied (default: the snapshot's). */
  appliedIndex?: number;
  /** Deliberate bugs for testing the testers (see UnsafeBug). Default none. */
  unsafeBugs?: readonly UnsafeBug[];
}

export type ResolvedRaftOptions = Required<Omit<RaftOptions, 'appliedIndex'>> & { appliedIndex: number | undefined };

/** Options that make no sense; the message quotes the bad value. */
export class RaftOptionsError extends Error {
  override readonly name = 'RaftOptionsError';
}

export function resolveOptions(options: RaftOptions): ResolvedRaftOptions {
  const resolved: ResolvedRaftOptions = {
    id: options.id,
    storage: options.storage,
    random: options.random,
    electionTimeoutTicks: options.electionTimeoutTicks ?? 10,
    heartbeatIntervalTicks: options.heartbeatIntervalTicks ?? 1,
    preVote: options.preVote ?? true,
    checkQuorum: options.checkQuorum ?? true,
    inflightMessagesMax: options.inflightMessagesMax ?? 64,
    messageBytesMax: options.messageBytesMax ?? 1024 * 1024,
    entryBytesMax: options.entryBytesMax ?? 1024 * 1024,
    snapshotChunkBytes: options.snapshotChunkBytes ?? 64 * 1024,
    snapshotBytesMax: options.snapshotBytesMax ?? 256 * 1024 * 1024,
    uncommittedEntriesMax: options.uncommittedEntriesMax ?? 10_000,
    pendingReadsMax: options.pendingReadsMax ?? 1024,
    committedEntriesBytesMax: options.committedEntriesBytesMax ?? 16 * 1024 * 1024,
    appliedIndex: options.appliedIndex,
    unsafeBugs: options.unsafeBugs ?? [],
  };
  if (typeof resolved.id !== 'string' || resolved.id.length === 0)
    throw new RaftOptionsError(`id must be a non-empty string, got ${JSON.stringify(resolved.id)}`);
  const positive: (keyof ResolvedRaftOptions)[] = [
    'electionTimeoutTicks',
    'heartbeatIntervalTicks',
    'inflightMessagesMax',
    'messageBytesMax',
    'entryBytesMax',
    'snapshotChunkBytes',
    'snapshotBytesMax',
    'uncommittedEntriesMax',
    'pendingReadsMax',
    'committedEntriesBytesMax',
  ];
  for (const key of positive) {
    const value = resolved[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new RaftOptionsError(`${key} must be a positive integer, got ${JSON.stringify(value)}`);
    }
  }
  if (!Array.isArray(resolved.unsafeBugs)) {
    throw new RaftOptionsError(`unsafeBugs must be an array of ${UNSAFE_BUGS.join(', ')}, got ${JSON.stringify(resolved.unsafeBugs)}`);
  }
  for (const bug of resolved.unsafeBugs) {
    if (!UNSAFE_BUGS.includes(bug)) {
      throw new RaftOptionsError(`unknown unsafe bug ${JSON.stringify(bug)} (expected one of: ${UNSAFE_BUGS.join(', ')})`);
    }
  }
  if (resolved.heartbeatIntervalTicks >= resolved.electionTimeoutTicks) {
    throw new RaftOptionsError(
      `heartbeatIntervalTicks (${resolved.heartbeatIntervalTicks}) must be below electionTimeoutTicks (${resolved.electionTimeoutTicks})`,
    );
  }
  return resolved;
}
