// A small swarm in `npm test`: random seeds with random faults; plus the determinism check (the
// same seed gives the same trace). More seeds: npm run sim -- --seeds N [--seed-start S].

import { describe, expect, it } from 'vitest';
import { runSwarmSeed } from '../../src/sim/swarm-run.js';

describe('swarm', () => {
  it('the same seed gives the same trace', () => {
    const a = runSwarmSeed({ seed: 7 });
    const b = runSwarmSeed({ seed: 7 });
    expect(a).toEqual(b);
    expect(runSwarmSeed({ seed: 8 }).traceHash).not.toBe(a.traceHash);
  });

  it('200 random seeds with faults: no invariant violation, progress after healing', () => {
    for (let seed = 1000; seed < 1200; seed++) runSwarmSeed({ seed });
  });
});
