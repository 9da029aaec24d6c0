// Property tests of the partition shapes: who can still send to whom, per shape, over random node
// counts and seeds (fast-check, fixed seed), plus determinism per seed and bad input.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bridge,
  canSend,
  type Grudge,
  GrudgeError,
  halves,
  isolateLeader,
  isolateOne,
  majoritiesRing,
  majority,
  makeGrudge,
  oneWay,
  PARTITION_SHAPES,
  type PartitionShape,
} from '../../nemesis/grudge.js';
import { Random } from '../../src/raft/random.js';

/** fast-check's own seed, so a failure replays: it prints the counterexample (node count, seed). */
const FC = { seed: 424242, numRuns: 100 };

function nodeIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

/** Nodes that can send to `to` (including itself). */
function hears(grudge: Grudge, nodes: string[], to: string): string[] {
  return nodes.filter((from) => canSend(grudge.cuts, from, to));
}

/** Groups of nodes that can all talk both ways to each other, assuming the relation is a partition. */
function cliques(grudge: Grudge, nodes: string[]): string[][] {
  const groups: string[][] = [];
  for (const node of nodes) {
    const group = groups.find((g) => canSend(grudge.cuts, g[0], node) && canSend(grudge.cuts, node, g[0]));
    if (group) group.push(node);
    else groups.push([node]);
  }
  return groups;
}

function checkWellFormed(grudge: Grudge, nodes: string[]): void {
  const keys = grudge.cuts.map(([a, b]) => `${a}>${b}`);
  expect(new Set(keys).size).toBe(keys.length);
  expect([...keys].sort()).toEqual(keys);
  const bad = grudge.cuts.filter(([from, to]) => !nodes.includes(from) || !nodes.includes(to) || from === to);
  expect(bad).toEqual([]);
  expect(grudge.description.startsWith(grudge.name)).toBe(true);
}

const sizes = (fewest: number) => fc.integer({ min: fewest, max: 9 });
const seeds = fc.integer({ min: 0, max: 2 ** 32 - 1 });

describe('grudges', () => {
  it('halves: two groups of floor(n/2) and ceil(n/2) that talk inside, never across', () => {
    fc.assert(
      fc.property(sizes(2), seeds, (n, seed) => {
        const nodes = nodeIds(n);
        const grudge = halves(nodes, new Random(seed));
        checkWellFormed(grudge, nodes);
        const groups = cliques(grudge, nodes).sort((a, b) => a.length - b.length);
        expect(groups.map((g) => g.length)).toEqual([Math.floor(n / 2), Math.ceil(n / 2)]);
        const [small, large] = groups;
        expect(large.some((a) => small.some((b) => canSend(grudge.cuts, a, b) || canSend(grudge.cuts, b, a)))).toBe(false);
        // With an odd count the larger side is a majority; the smaller never is.
        expect(small.length < majority(n)).toBe(true);
        expect(grudge.cuts.length).toBe(2 * small.length * large.length);
      }),
      FC,
    );
  });

  it('isolate-one and isolate-leader: one node hears and reaches no one; the rest are whole', () => {
    fc.assert(
      fc.property(sizes(2), seeds, fc.boolean(), (n, seed, knowLeader) => {
        const nodes = nodeIds(n);
        const random = new Random(seed);
        const leader = knowLeader ? random.pick(nodes) : undefined;
        for (const grudge of [isolateOne(nodes, random), isolateLeader(nodes, random, leader)]) {
          checkWellFormed(grudge, nodes);
          const groups = cliques(grudge, nodes).sort((a, b) => a.length - b.length);
          expect(groups.map((g) => g.length)).toEqual(n === 2 ? [1, 1] : [1, n - 1]);
          const alone = groups[0][0];
          expect(hears(grudge, nodes, alone)).toEqual([alone]);
          if (grudge.name === 'isolate-leader') {
            if (leader !== undefined && n > 2) expect(alone).toBe(leader);
            if (leader !== undefined) expect(grudge.cuts.some(([a, b]) => a === leader || b === leader)).toBe(true);
            expect(grudge.description.includes('no leader known')).toBe(leader === undefined);
          }
        }
      }),
      FC,
    );
  });

  it('majorities ring: every node hears a majority, and no two hear the same one', () => {
    fc.assert(
      fc.property(sizes(3), seeds, (n, seed) => {
        const nodes = nodeIds(n);
        const grudge = majoritiesRing(nodes, new Random(seed));
        checkWellFormed(grudge, nodes);
        const views = nodes.map((node) => hears(grudge, nodes, node));
        expect(views.map((v) => v.length)).toEqual(nodes.map(() => majority(n)));
        expect(new Set(views.map((v) => v.join(' '))).size).toBe(n);
        // No node hears everyone: each is cut off from someone.
        expect(views.every((v) => v.length < n)).toBe(true);
      }),
      FC,
    );
  });

  it('majorities ring: symmetric when the majority is odd (5 nodes: each pair either talks both ways or not at all)', () => {
    for (let seed = 0; seed < 50; seed++) {
      const nodes = nodeIds(5);
      const grudge = majoritiesRing(nodes, new Random(seed));
      for (const a of nodes) for (const b of nodes) expect(canSend(grudge.cuts, a, b)).toBe(canSend(grudge.cuts, b, a));
    }
  });

  it('bridge: one node talks to everyone; without it, two sides that cannot talk', () => {
    fc.assert(
      fc.property(sizes(3), seeds, (n, seed) => {
        const nodes = nodeIds(n);
        const grudge = bridge(nodes, new Random(seed));
        checkWellFormed(grudge, nodes);
        const bridges = nodes.filter((b) => nodes.every((x) => canSend(grudge.cuts, b, x) && canSend(grudge.cuts, x, b)));
        expect(bridges.length).toBe(1);
        const rest = nodes.filter((x) => x !== bridges[0]);
        const sides = cliques({ ...grudge }, rest);
        expect(sides.length).toBe(2);
        expect(Math.abs(sides[0].length - sides[1].length)).toBeLessThanOrEqual(1);
        expect(sides[0].some((a) => sides[1].some((b) => canSend(grudge.cuts, a, b) || canSend(grudge.cuts, b, a)))).toBe(false);
      }),
      FC,
    );
  });

  it('one-way: one node loses exactly all its incoming or all its outgoing links', () => {
    const kinds = new Set<string>();
    fc.assert(
      fc.property(sizes(2), seeds, (n, seed) => {
        const nodes = nodeIds(n);
        const grudge = oneWay(nodes, new Random(seed));
        checkWellFormed(grudge, nodes);
        expect(grudge.cuts.length).toBe(n - 1);
        const deaf = nodes.filter((x) => hears(grudge, nodes, x).length === 1);
        const mute = nodes.filter((x) => nodes.every((y) => y === x || !canSend(grudge.cuts, x, y)));
        expect(deaf.length + mute.length).toBeGreaterThanOrEqual(1);
        if (n > 2) expect(deaf.length + mute.length).toBe(1);
        expect([...deaf, ...mute].some((node) => grudge.description.includes(`one-way: ${node} `))).toBe(true);
        kinds.add(grudge.description.includes('can send but not receive') ? 'deaf' : 'mute');
      }),
      FC,
    );
    expect(kinds).toEqual(new Set(['deaf', 'mute']));
  });

  it('the same seed gives the same grudge; seeds vary it', () => {
    const nodes = nodeIds(5);
    for (const shape of PARTITION_SHAPES) {
      const outcomes = new Set<string>();
      for (let seed = 0; seed < 30; seed++) {
        const a = makeGrudge(shape, nodes, new Random(seed), 'n2');
        const b = makeGrudge(shape, nodes, new Random(seed), 'n2');
        expect(b).toEqual(a);
        outcomes.add(JSON.stringify(a));
      }
      expect(outcomes.size).toBeGreaterThan(shape === 'isolate-leader' ? 0 : 1);
    }
  });

  it('random picks every shape the node count allows', () => {
    const seen = new Map<number, Set<PartitionShape>>();
    for (const n of [2, 5]) {
      seen.set(n, new Set());
      for (let seed = 0; seed < 200; seed++) seen.get(n)!.add(makeGrudge('random', nodeIds(n), new Random(seed), 'n1').name);
    }
    expect(seen.get(5)!.size).toBe(6);
    expect([...seen.get(2)!].sort()).toEqual(['halves', 'isolate-leader', 'isolate-one', 'one-way']);
  });

  it('rejects too few nodes, duplicates, an unknown leader and an unknown shape', () => {
    expect(() => majoritiesRing(nodeIds(2), new Random(1))).toThrow(/at least 3 nodes, got 2/);
    expect(() => halves(['n1', 'n1'], new Random(1))).toThrow(GrudgeError);
    expect(() => isolateLeader(nodeIds(3), new Random(1), 'n7')).toThrow(/"n7"/);
    expect(() => makeGrudge('square' as never, nodeIds(3), new Random(1))).toThrow(/"square"; allowed: halves/);
  });
});
