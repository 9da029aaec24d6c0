// The simulator catches the node's deliberate bugs: each scenario flags its bug on most seeds
// and flags nothing on the correct core with the same seeds (while reaching the risky shape).

import { describe, expect, it } from 'vitest';
import { runBugHunt, type HuntedBug } from '../../src/sim/bug-hunt.js';

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

describe.each<[HuntedBug, string]>([
  ['commit-prior-term', 'leader completeness'],
  ['vote-twice', 'voted for'],
  ['stale-read', 'linearizable reads'],
])('bug hunt: %s', (scenario, symptom) => {
  it('is caught on at least half of the seeds', () => {
    const detected = SEEDS.map((seed) => runBugHunt({ seed, scenario, unsafe: true })).filter((r) => r.detected);
    expect(detected.length).toBeGreaterThanOrEqual(SEEDS.length / 2);
    for (const result of detected) {
      expect(result.detail).toContain('invariant violated');
      expect(result.detail).toContain(symptom);
      expect(result.detail).toContain(`seed: ${result.seed}`);
    }
  });

  it('the correct core gets into the same shape on the same seeds and nothing is flagged', () => {
    let shaped = 0;
    for (const seed of SEEDS) {
      const result = runBugHunt({ seed, scenario, unsafe: false });
      expect(result.detected, result.detail).toBe(false);
      shaped += result.roundsShaped;
    }
    expect(shaped).toBeGreaterThanOrEqual(scenario === 'vote-twice' ? 4 : SEEDS.length * 2);
  });

  it('replays: the same seed gives the same run', () => {
    const a = runBugHunt({ seed: 3, scenario, unsafe: true });
    expect(runBugHunt({ seed: 3, scenario, unsafe: true })).toEqual(a);
  });
});
