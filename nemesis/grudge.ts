// Partition shapes ("grudges", after Jepsen) as sets of directed cut links over node ids. Pure: the
// only inputs are the node ids, a seeded Random and the leader; nothing touches the network.

import type { Random } from '../src/raft/random.js';
import type { Link } from './types.js';

export type PartitionShape = 'halves' | 'isolate-one' | 'isolate-leader' | 'majorities-ring' | 'bridge' | 'one-way';
/** The shapes a spec may name; 'random' picks one of the others per start. */
export const PARTITION_SHAPES: readonly (PartitionShape | 'random')[] = [
  'halves',
  'isolate-one',
  'isolate-leader',
  'majorities-ring',
  'bridge',
  'one-way',
  'random',
];

export interface Grudge {
  /** The shape actually made (isolate-leader without a known leader says so in the description). */
  name: PartitionShape;
  /** Directed: messages from `from` to `to` are lost. Sorted, no duplicates. */
  cuts: Array<[from: string, to: string]>;
  /** One line, e.g. `halves: [n1 n4] | [n2 n3 n5]`. */
  description: string;
}

/** Bad node lists or a shape that cannot be made from them. */
export class GrudgeError extends Error {
  override readonly name = 'GrudgeError';
}

/** Smallest number of nodes that is more than half. */
export function majority(count: number): number {
  return Math.floor(count / 2) + 1;
}

/** Shuffles a copy (Fisher-Yates over the seeded random). */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random.nextInt(0, i + 1);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/** Every directed link between the two groups, both ways. */
export function cutBetween(a: readonly string[], b: readonly string[]): Array<[string, string]> {
  const cuts: Array<[string, string]> = [];
  for (const x of a) {
    for (const y of b) {
      if (x === y) continue;
      cuts.push([x, y], [y, x]);
    }
  }
  return normalize(cuts);
}

/** Random halves: a shuffled split into floor(n/2) and the rest; the halves cannot talk at all. */
export function halves(nodes: readonly string[], random: Random): Grudge {
  checkNodes(nodes, 2, 'halves');
  const order = shuffled(nodes, random);
  const small = order.slice(0, Math.floor(order.length / 2));
  const large = order.slice(small.length);
  return { name: 'halves', cuts: cutBetween(small, large), description: `halves: ${group(small)} | ${group(large)}` };
}

/** One node, chosen at random, can neither send to nor receive from any other. */
export function isolateOne(nodes: readonly string[], random: Random): Grudge {
  checkNodes(nodes, 2, 'isolate-one');
  return isolate(nodes, random.pick(nodes), 'isolate-one', '');
}

/** The leader is cut off from everyone; without a known leader, a random node is (and it says so). */
export function isolateLeader(nodes: readonly string[], random: Random, leader: string | undefined): Grudge {
  checkNodes(nodes, 2, 'isolate-leader');
  if (leader !== undefined && !nodes.includes(leader))
    throw new GrudgeError(`isolate-leader: leader ${JSON.stringify(leader)} is not one of ${nodes.join(', ')}`);
  if (leader === undefined) return isolate(nodes, random.pick(nodes), 'isolate-leader', ' (no leader known: a random node)');
  return isolate(nodes, leader, 'isolate-leader', ' (the leader)');
}

/**
 * Majorities ring (Jepsen's): nodes are shuffled into a ring and each hears only the majority-sized
 * window of the ring centred on it, so every node sees a majority and no two see the same one. With
 * an odd majority the windows are symmetric; otherwise (3 nodes, for instance) some cuts are one-way.
 */
export function majoritiesRing(nodes: readonly string[], random: Random): Grudge {
  checkNodes(nodes, 3, 'majorities-ring');
  const ring = shuffled(nodes, random);
  const n = ring.length;
  const m = majority(n);
  const cuts: Array<[string, string]> = [];
  const views: string[] = [];
  for (let start = 0; start < n; start++) {
    const window = Array.from({ length: m }, (_, k) => ring[(start + k) % n]);
    const hearer = window[Math.floor(m / 2)];
    for (const other of ring) if (!window.includes(other)) cuts.push([other, hearer]);
    views.push(`${hearer} hears ${group(window)}`);
  }
  return { name: 'majorities-ring', cuts: normalize(cuts), description: `majorities-ring: ${views.join(', ')}` };
}

/** Two halves that cannot talk, joined by one bridge node that talks to both. */
export function bridge(nodes: readonly string[], random: Random): Grudge {
  checkNodes(nodes, 3, 'bridge');
  const order = shuffled(nodes, random);
  const middle = order[0];
  const rest = order.slice(1);
  const a = rest.slice(0, Math.floor(rest.length / 2));
  const b = rest.slice(a.length);
  return { name: 'bridge', cuts: cutBetween(a, b), description: `bridge: ${group(a)} <- ${middle} -> ${group(b)}` };
}

/** A random node can send but not receive, or receive but not send (chosen at random). */
export function oneWay(nodes: readonly string[], random: Random): Grudge {
  checkNodes(nodes, 2, 'one-way');
  const node = random.pick(nodes);
  const deaf = random.chance(0.5);
  const others = nodes.filter((x) => x !== node);
  const cuts = others.map((other): [string, string] => (deaf ? [other, node] : [node, other]));
  const description = deaf ? `one-way: ${node} can send but not receive` : `one-way: ${node} can receive but not send`;
  return { name: 'one-way', cuts: normalize(cuts), description };
}

/** The shapes that can be made from this many nodes (majorities-ring and bridge need 3). */
export function shapesFor(nodeCount: number): PartitionShape[] {
  return PARTITION_SHAPES.filter(
    (s): s is PartitionShape => s !== 'random' && (nodeCount >= 3 || (s !== 'majorities-ring' && s !== 'bridge')),
  );
}

/** Makes the named shape; 'random' picks one of the others (those the node count allows). */
export function makeGrudge(shape: PartitionShape | 'random', nodes: readonly string[], random: Random, leader?: string): Grudge {
  switch (shape) {
    case 'halves':
      return halves(nodes, random);
    case 'isolate-one':
      return isolateOne(nodes, random);
    case 'isolate-leader':
      return isolateLeader(nodes, random, leader);
    case 'majorities-ring':
      return majoritiesRing(nodes, random);
    case 'bridge':
      return bridge(nodes, random);
    case 'one-way':
      return oneWay(nodes, random);
    case 'random':
      return makeGrudge(random.pick(shapesFor(nodes.length)), nodes, random, leader);
    default:
      throw new GrudgeError(`unknown partition shape ${JSON.stringify(shape)}; allowed: ${PARTITION_SHAPES.join(', ')}`);
  }
}

/** Whether a message from `from` can reach `to` under these cuts (a node always reaches itself). */
export function canSend(cuts: readonly Link[], from: string, to: string): boolean {
  if (from === to) return true;
  return !cuts.some(([a, b]) => a === from && b === to);
}

function isolate(nodes: readonly string[], node: string, name: PartitionShape, note: string): Grudge {
  const others = nodes.filter((x) => x !== node);
  return { name, cuts: cutBetween([node], others), description: `${name}: ${node}${note} | ${group(others)}` };
}

function checkNodes(nodes: readonly string[], fewest: number, shape: string): void {
  if (!Array.isArray(nodes) || nodes.some((x) => typeof x !== 'string' || x.length === 0))
    throw new GrudgeError(`${shape}: nodes must be non-empty strings, got ${JSON.stringify(nodes)}`);
  if (new Set(nodes).size !== nodes.length) throw new GrudgeError(`${shape}: duplicate node ids in ${JSON.stringify(nodes)}`);
  if (nodes.length < fewest)
    throw new GrudgeError(`${shape} needs at least ${fewest} nodes, got ${nodes.length} (${JSON.stringify(nodes)})`);
}

function normalize(cuts: Array<[string, string]>): Array<[string, string]> {
  const seen = new Map<string, [string, string]>();
  for (const cut of cuts) seen.set(`${cut[0]}\u0000${cut[1]}`, cut);
  return [...seen.values()].sort((x, y) => (x[0] === y[0] ? compare(x[1], y[1]) : compare(x[0], y[0])));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function group(nodes: readonly string[]): string {
  return `[${nodes.join(' ')}]`;
}
