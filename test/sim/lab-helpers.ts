// Shared setup for the 6.824-style simulation tests: a seeded simulator plus the lab tester, with
// the replay command pointing at the test that failed.

import { LabTester } from '../../src/sim/lab-tester.js';
import { Simulator, type SimulatorOptions } from '../../src/sim/simulator.js';

export function makeLab(file: string, name: string, options: SimulatorOptions): { sim: Simulator; lab: LabTester } {
  const sim = new Simulator({ ...options, replayCommand: `npx vitest run ${file} -t "${name}"` });
  return { sim, lab: new LabTester(sim) };
}
