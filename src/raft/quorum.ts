// Majority arithmetic over a voter set: vote tallies and the committed index of match indices.
// Pure functions; they know nothing of roles or terms.

import type { NodeId } from './types.js';

export function majority(votersCount: number): number {
  return Math.floor(votersCount / 2) + 1;
}

/** The largest index that a majority of voters has matched (missing voters count as 0). */
export function committedIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[majority(voters.length) - 1];
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** Won once a majority granted; lost once a majority can no longer be reached. */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const needed = majority(voters.length);
  if (granted >= needed) return 'won';
  if (voters.length - rejected < needed) return 'lost';
  return 'pending';
}
