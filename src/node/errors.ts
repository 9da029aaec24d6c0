// The answers a node gives besides a state machine result, and whether each one is definite (the
// operation surely did not happen) or indefinite (it may or may not have applied).

import type { KvResult } from '../kv/index.js';

/**
 * - not_leader: refused before proposing (definite); `leader` is a hint when known.
 * - leadership_lost: proposed, then leadership was lost before the outcome was known (indefinite).
 * - overwritten: the entry applied at the proposed index was another one (definite: ours is gone).
 * - busy: too many uncommitted entries or pending reads (definite).
 * - timeout: no outcome within the request timeout (indefinite).
 * - too_large: the command is bigger than one entry may be (definite).
 * - stopping: the node is shutting down (indefinite if already proposed).
 */
export type NodeErrorCode = 'not_leader' | 'leadership_lost' | 'overwritten' | 'busy' | 'timeout' | 'too_large' | 'stopping';

export interface NodeError {
  ok: false;
  error: NodeErrorCode;
  /** Whether the operation may still have applied. */
  indefinite: boolean;
  leader?: string;
}

export type NodeAnswer = KvResult | NodeError;

export function nodeError(error: NodeErrorCode, indefinite: boolean, leader?: string): NodeError {
  return leader ? { ok: false, error, indefinite, leader } : { ok: false, error, indefinite };
}

export function isNodeError(answer: NodeAnswer): answer is NodeError {
  return !answer.ok && 'indefinite' in answer;
}

/** Starts a node log line that reports a broken Raft invariant; `skepsis test` fails a run whose node logs have one. */
export const SAFETY_VIOLATION_MARKER = 'SAFETY VIOLATION';
