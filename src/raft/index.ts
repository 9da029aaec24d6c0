// The public surface of the Raft core. Drivers (the simulator, the real node) import from here.

export { assert, RaftAssertionError } from './assert.js';
export { describeData, describeEntries, describeEntry, describeHardState, describeMessage, describeReady } from './describe.js';
export { MemoryStorage } from './memory-storage.js';
export type { Message, MessageLimits, MessageType } from './message.js';
export { validateMessage } from './message.js';
export { RaftOptionsError, UNSAFE_BUGS, type RaftOptions, type UnsafeBug } from './options.js';
export { Raft, type ProposeResult, type RaftStatus, type ReadIndexResult, type TransferResult } from './raft.js';
export { Random } from './random.js';
export type { Ready } from './ready.js';
export { COMPACTED, UNAVAILABLE, type InitialState, type Storage } from './storage.js';
export {
  NONE,
  type Configuration,
  type Entry,
  type HardState,
  type NodeId,
  type ReadState,
  type Role,
  type Snapshot,
  type SnapshotMetadata,
  type SoftState,
} from './types.js';
