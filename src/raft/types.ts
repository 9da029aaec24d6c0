// The data the core exchanges with its driver: entries, hard state, snapshots, configuration,
// read states and the Ready batch. Plain values only; no behaviour lives here.

/** A node's name, e.g. "n1". Strings keep logs readable and suit the real node's addresses. */
export type NodeId = string;

/** No node: used for "no vote" and "no known leader". */
export const NONE: NodeId = '';

/** One log entry. An entry with empty `data` is the leader's no-op, appended on taking office. */
export interface Entry {
  term: number;
  index: number;
  data: Uint8Array;
}

/** What must be durable before any message produced in the same Ready is sent. */
export interface HardState {
  term: number;
  /** The candidate voted for in `term`, or NONE. */
  vote: NodeId;
  commit: number;
}

/** The voting members. Kept as a value (in snapshots and the initial state) so that membership
 * changes can be added later without reshaping the core. */
export interface Configuration {
  voters: NodeId[];
}

export interface SnapshotMetadata {
  /** Index and term of the last entry the snapshot covers. */
  index: number;
  term: number;
  configuration: Configuration;
}

/** The application's state up to `metadata.index`, as opaque bytes. */
export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

/** A linearizable read is safe once the application has applied `index`. */
export interface ReadState {
  index: number;
  context: string;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state the driver may want to show; never persisted. */
export interface SoftState {
  leader: NodeId;
  role: Role;
}
