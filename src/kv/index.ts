// The pure KV state machine of the Raft KV node: commands and their codec, apply, client sessions
// (exactly-once writes) and the snapshot codec. No clock, no I/O, no randomness anywhere below.

export { KvAssertionError } from './assert.js';
export { ByteFormatError, utf8ByteLength } from './bytes.js';
export {
  CLIENT_ID_BYTES_MAX,
  COMMAND_BYTES_MAX,
  COMMAND_FORMAT_VERSION,
  commandProblem,
  decodeCommand,
  describeCommand,
  describeResult,
  encodeCommand,
  isWrite,
  KEY_BYTES_MAX,
  OP_NAMES,
  validateCommand,
  VALUE_BYTES_MAX,
  type KvCommand,
  type KvInvalid,
  type KvOp,
  type KvOpName,
  type KvResult,
} from './command.js';
export { crc32 } from './crc32.js';
export { SessionTable, type ClientSession, type KvWriteResult, type SessionVerdict } from './sessions.js';
export {
  decodeSnapshot,
  encodeSnapshot,
  KvSnapshotError,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_MAGIC,
  type DecodedKvSnapshot,
  type KvSnapshotState,
  type StoredValue,
} from './snapshot-codec.js';
export {
  KvOptionsError,
  KvStateMachine,
  SESSION_IDLE_ENTRIES_DEFAULT,
  SESSIONS_MAX_DEFAULT,
  type KvStateMachineOptions,
  type KvStateMachineSize,
} from './state-machine.js';
