// Each nemesis kind against a recording Db and a Net of fake proxies: what start does, that stop
// undoes it, and the spec parser's answers (including its error messages).

import { describe, expect, it } from 'vitest';
import {
  chaseNemesis,
  createNemesis,
  describeAllowedNemeses,
  NEMESIS_KINDS,
  NemesisSpecError,
  parseNemesisSpec,
  transferNemesis,
} from '../../nemesis/nemesis.js';
import type { Nemesis, NemesisContext } from '../../nemesis/types.js';
import { Random } from '../../src/raft/random.js';
import { allHealthy, FakeDb, fakeNet, VirtualClock } from './fakes.js';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];

function setup(seed = 1, clock?: VirtualClock) {
  const db = new FakeDb(NODES);
  const { net, faults } = fakeNet(NODES);
  const lines: string[] = [];
  const ctx: NemesisContext = {
    db,
    net,
    random: new Random(seed),
    log: (line) => lines.push(line),
    signal: new AbortController().signal,
    clock,
  };
  return { db, net, faults, ctx, lines };
}

function only(spec: string): Nemesis {
  const nemeses = createNemesis(spec);
  expect(nemeses.length).toBe(1);
  return nemeses[0];
}

describe('spec parsing', () => {
  it('parses kinds with default and explicit variants', () => {
    expect(parseNemesisSpec('partition,kill').map((s) => s.name)).toEqual(['partition:random', 'kill:random']);
    expect(parseNemesisSpec(' partition:halves , kill:leader,transfer,flaky,disk:garble,disk-synced').map((s) => s.name)).toEqual([
      'partition:halves',
      'kill:leader',
      'transfer',
      'flaky:both',
      'disk:garble',
      'disk-synced',
    ]);
    expect(parseNemesisSpec(['pause:minority', 'partition:majorities-ring,flaky:loss']).map((s) => s.name)).toEqual([
      'pause:minority',
      'partition:majorities-ring',
      'flaky:loss',
    ]);
    expect(parseNemesisSpec('none')).toEqual([]);
    expect(createNemesis('partition:bridge,kill:all').map((n) => n.name)).toEqual(['partition:bridge', 'kill:all']);
  });

  it('names the bad value and lists the allowed ones', () => {
    expect(() => parseNemesisSpec('partition,parttion')).toThrow(NemesisSpecError);
    expect(() => parseNemesisSpec('partition,parttion')).toThrow(`unknown nemesis "parttion"; allowed: ${NEMESIS_KINDS.join(', ')}`);
    expect(() => parseNemesisSpec('partition:square')).toThrow(
      'unknown partition variant "square" in "partition:square"; allowed: random, halves, isolate-one, isolate-leader, majorities-ring, bridge, one-way',
    );
    expect(() => parseNemesisSpec('kill:most')).toThrow(/"most".*allowed: random, one, minority, majority, all, leader/);
    expect(() => parseNemesisSpec('transfer:fast')).toThrow(/transfer takes no variant/);
    expect(() => parseNemesisSpec('')).toThrow(/empty nemesis spec/);
    expect(() => parseNemesisSpec('kill,,pause')).toThrow(/empty item/);
    expect(() => parseNemesisSpec('none,kill')).toThrow(/"none" cannot be combined/);
    expect(() => parseNemesisSpec('kill,kill:random')).toThrow(/"kill:random" is listed twice/);
    expect(() => createNemesis('transfer', { transferIntervalMs: 0 })).toThrow(/transferIntervalMs .* got 0/);
    expect(() => createNemesis('flaky', { flakyFault: { dropFraction: 3 } })).toThrow(/dropFraction .* got 3/);
    expect(() => createNemesis('flaky', { flakyFault: { cutForward: true } })).toThrow(/cannot cut/);
    expect(describeAllowedNemeses()).toContain('partition[:random|halves|isolate-one|isolate-leader|majorities-ring|bridge|one-way]');
    expect(describeAllowedNemeses()).toContain('transfer');
    expect(describeAllowedNemeses()).toContain('chase[:pair|alone]');
    expect(parseNemesisSpec('chase').map((s) => s.name)).toEqual(['chase:pair']);
    expect(() => parseNemesisSpec('chase:trio')).toThrow('unknown chase variant "trio" in "chase:trio"; allowed: pair, alone');
    expect(() => createNemesis('chase', { chasePollMs: 0 })).toThrow(/chasePollMs must be a number >= 1, got 0/);
    expect(() => createNemesis('chase', { chaseDelayMaxMs: -1 })).toThrow(/chaseDelayMaxMs must be an integer >= 0, got -1/);
    expect(() => createNemesis('chase', { chaseCutsMax: 1.5 })).toThrow(/chaseCutsMax must be a positive integer, got 1.5/);
  });
});

describe('nemeses', () => {
  it('kill: each target kills the right number of nodes and stop restarts exactly those', async () => {
    const counts = { one: 1, minority: 2, majority: 3, all: 5, leader: 1 };
    for (const [target, count] of Object.entries(counts)) {
      const { db, ctx } = setup(3);
      db.leaderNode = 'n4';
      const nemesis = only(`kill:${target}`);
      const started = await nemesis.start(ctx);
      const killed = db.calls.filter((c) => c.startsWith('kill')).map((c) => c.split(' ')[1]);
      expect(killed.length).toBe(count);
      expect(new Set(killed).size).toBe(count);
      if (target === 'leader') expect(killed).toEqual(['n4']);
      expect(started).toEqual({ f: 'start-kill', value: { target, nodes: killed, note: undefined } });
      expect(NODES.filter((n) => db.isRunning(n)).length).toBe(5 - count);
      const stopped = await nemesis.stop(ctx);
      expect(stopped).toEqual({ f: 'stop-kill', value: { nodes: killed } });
      expect(db.calls.filter((c) => c.startsWith('start')).map((c) => c.split(' ')[1])).toEqual(killed);
      expect(NODES.every((n) => db.isRunning(n))).toBe(true);
    }
  });

  it('kill:leader with no leader known kills a random node and says so', async () => {
    const { db, ctx } = setup(4);
    for (const node of NODES) db.paused.add(node);
    const record = await only('kill:leader').start(ctx);
    expect(record.value).toMatchObject({ target: 'leader', note: 'no leader known: a random node' });
  });

  it('pause: pauses then resumes the same nodes', async () => {
    const { db, ctx } = setup(5);
    const nemesis = only('pause:majority');
    const started = (await nemesis.start(ctx)) as { value: { nodes: string[] } };
    expect(started.value.nodes.length).toBe(3);
    expect([...db.paused].sort()).toEqual(started.value.nodes);
    expect(await nemesis.stop(ctx)).toEqual({ f: 'stop-pause', value: { nodes: started.value.nodes } });
    expect(db.paused.size).toBe(0);
  });

  it('partition:isolate-leader cuts the leader off both ways; stop lifts exactly those cuts', async () => {
    const { db, ctx, faults, net } = setup(6);
    db.leaderNode = 'n3';
    const nemesis = only('partition:isolate-leader');
    const record = (await nemesis.start(ctx)) as { f: string; value: { shape: string; cuts: Array<[string, string]> } };
    expect(record.f).toBe('start-partition');
    expect(record.value.shape).toBe('isolate-leader');
    expect(record.value.cuts.length).toBe(8);
    expect(record.value.cuts.every(([a, b]) => a === 'n3' || b === 'n3')).toBe(true);
    expect(faults.get('n3->n1')).toEqual({ cutForward: true, cutBackward: true });
    expect(faults.get('n1->n2')).toEqual({});
    expect(faults.get('client->n3')).toEqual({});
    net.cut([['n1', 'n2']]); // someone else's cut survives this nemesis's stop
    await nemesis.stop(ctx);
    expect(faults.get('n3->n1')).toEqual({});
    expect(faults.get('n1->n2')).toEqual({ cutForward: true });
  });

  it('partition:random draws several shapes across seeds', async () => {
    const shapes = new Set<string>();
    for (let seed = 0; seed < 60; seed++) {
      const { ctx } = setup(seed);
      const nemesis = only('partition');
      const record = (await nemesis.start(ctx)) as { value: { shape: string } };
      shapes.add(record.value.shape);
      await nemesis.stop(ctx);
    }
    expect(shapes.size).toBe(6);
  });

  it('flaky: every peer link gets the delay and loss, client links none; stop clears it', async () => {
    const { ctx, faults } = setup(7);
    const nemesis = createNemesis('flaky:both', { flakyFault: { delayMs: 5, jitterMs: 10, dropFraction: 0.2 } })[0];
    await nemesis.start(ctx);
    expect(faults.get('n1->n2')).toEqual({ delayMs: 5, jitterMs: 10, dropFraction: 0.2 });
    expect(faults.get('client->n1')).toEqual({});
    await nemesis.stop(ctx);
    expect(allHealthy(faults)).toBe(true);
    const loss = createNemesis('flaky:loss', { flakyFault: { delayMs: 5, dropFraction: 0.2 } })[0];
    await loss.start(ctx);
    expect(faults.get('n5->n4')).toEqual({ dropFraction: 0.2 });
  });

  it('flaky:clients: every client link gets the loss, peer links none; stop leaves peer flakiness alone', async () => {
    const { ctx, faults } = setup(7);
    const peers = createNemesis('flaky:delay', { flakyFault: { delayMs: 5, dropFraction: 0.3 } })[0];
    const clients = createNemesis('flaky:clients', { flakyFault: { delayMs: 5, dropFraction: 0.3 } })[0];
    expect(clients.name).toBe('flaky:clients');
    await peers.start(ctx);
    expect(await clients.start(ctx)).toEqual({ f: 'start-flaky', value: { variant: 'clients', fault: { dropFraction: 0.3 } } });
    for (const node of ['n1', 'n2', 'n3', 'n4', 'n5']) expect(faults.get(`client->${node}`)).toEqual({ dropFraction: 0.3 });
    expect(faults.get('n1->n2')).toEqual({ delayMs: 5 });
    await clients.stop(ctx);
    expect(faults.get('client->n3')).toEqual({});
    expect(faults.get('n1->n2')).toEqual({ delayMs: 5 });
    await clients.start(ctx);
    await peers.stop(ctx);
    expect(faults.get('n1->n2')).toEqual({});
    expect(faults.get('client->n3')).toEqual({ dropFraction: 0.3 });
    await clients.stop(ctx);
    expect(allHealthy(faults)).toBe(true);
  });

  it('disk: kills a node, damages only its unsynced tail, and reports recovery or a loud refusal on restart', async () => {
    for (const refuse of [false, true]) {
      const { db, ctx } = setup(8);
      const nemesis = only('disk:cut');
      const started = (await nemesis.start(ctx)) as { f: string; value: { node: string; how: string; damage: string } };
      const node = started.value.node;
      expect(started.f).toBe('start-disk');
      expect(started.value.how).toBe('cut');
      expect(started.value.damage).toMatch(/^cut \d+ bytes at the tail$/);
      expect(db.calls).toEqual([`kill ${node}`, `damage ${node} cut`]);
      if (refuse) db.refuseStart.add(node);
      const stopped = await nemesis.stop(ctx);
      expect(stopped.value).toMatchObject(
        refuse
          ? { node, outcome: 'refused', expected: 'recovered', error: `${node} refused to start: log checksum mismatch at the tail` }
          : { node, outcome: 'recovered', expected: 'recovered' },
      );
      expect(db.isRunning(node)).toBe(!refuse);
    }
  });

  it('disk-synced: damages synced data, expects a refusal, and never leaves fewer than a majority able to start', async () => {
    const { db, ctx } = setup(8);
    const nemesis = only('disk-synced');
    expect(nemesis.name).toBe('disk-synced');
    // A node that starts on damaged synced data is recorded against what was expected.
    const first = (await nemesis.start(ctx)) as { f: string; value: { node: string; how: string } };
    expect(first).toMatchObject({ f: 'start-disk-synced', value: { how: 'synced' } });
    expect(db.calls).toContain(`damage ${first.value.node} synced`);
    expect((await nemesis.stop(ctx)).value).toMatchObject({ node: first.value.node, outcome: 'recovered', expected: 'refused' });
    // Refusals keep the node down; with 5 nodes only 2 may be, so the third start damages nothing.
    for (let i = 0; i < 2; i++) {
      const started = (await nemesis.start(ctx)) as { value: { node: string } };
      db.refuseStart.add(started.value.node);
      expect((await nemesis.stop(ctx)).value).toMatchObject({ outcome: 'refused', expected: 'refused' });
    }
    const calls = db.calls.length;
    const third = await nemesis.start(ctx);
    expect(third).toEqual({
      f: 'start-disk-synced',
      value: { error: '2 node(s) already refused to start; another would leave no majority' },
    });
    expect(db.calls.length).toBe(calls);
  });

  it('transfer: a storm asks for a transfer every interval until stopped', async () => {
    const clock = new VirtualClock();
    const { db, ctx } = setup(9, clock);
    const nemesis = transferNemesis(1000, 100);
    const run = async (): Promise<unknown> => {
      await nemesis.start(ctx);
      await clock.sleep(5500);
      return nemesis.stop(ctx);
    };
    const stopped = (await clock.run(run())) as { f: string; value: { attempts: number; succeeded: number } };
    expect(stopped.f).toBe('stop-transfer');
    expect(stopped.value.attempts).toBe(6); // at 0, 1000, ..., 5000 ms
    expect(stopped.value.succeeded).toBe(6);
    const targets = db.calls.map((c) => c.split(' ')[1]);
    for (let i = 1; i < targets.length; i++) expect(targets[i]).not.toBe(targets[i - 1]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('transfer: the storm is bounded by transfersMax', async () => {
    const clock = new VirtualClock();
    const { ctx } = setup(10, clock);
    const nemesis = transferNemesis(10, 3);
    const run = async (): Promise<unknown> => {
      await nemesis.start(ctx);
      await clock.sleep(10_000);
      return nemesis.stop(ctx);
    };
    expect(((await clock.run(run())) as { value: { attempts: number } }).value.attempts).toBe(3);
  });

  /** Runs a chase for 1 s of virtual time while the leader moves n1 -> n3 -> n5 (and back to n1). */
  async function chase(variant: 'pair' | 'alone', seed: number) {
    const clock = new VirtualClock();
    const { db, faults, ctx, net } = setup(seed, clock);
    const nemesis = chaseNemesis(variant, { pollMs: 20, delayMaxMs: 50, cutsMax: 1000 });
    const cutsSeen: string[] = [];
    const run = async (): Promise<unknown> => {
      const started = await nemesis.start(ctx);
      expect(started).toMatchObject({ f: 'start-chase', value: { variant } });
      for (const [atMs, leader] of [
        [200, 'n3'],
        [500, 'n5'],
        [800, 'n1'],
      ] as const) {
        clock.at(atMs, () => {
          db.leaderNode = leader;
        });
      }
      for (const atMs of [150, 450, 750, 990]) clock.at(atMs, () => cutsSeen.push(net.describe()));
      await clock.sleep(1000);
      return nemesis.stop(ctx);
    };
    const stopped = (await clock.run(run())) as { f: string; value: { cutOffs: string[]; cutsLifted: number } };
    expect(allHealthy(faults)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    return { stopped, cutsSeen };
  }

  it('chase: cuts every new leader off (with one follower for pair), moving the cut; stop lifts it', async () => {
    const { stopped, cutsSeen } = await chase('pair', 11);
    expect(stopped.f).toBe('stop-chase');
    const islands = stopped.value.cutOffs.map((island) => island.split('+'));
    expect(islands.map((island) => island[0])).toEqual(['n1', 'n3', 'n5', 'n1']);
    for (const island of islands) {
      expect(island.length).toBe(2);
      expect(island[1]).not.toBe(island[0]);
    }
    // One island at a time: 2 x 3 nodes, both ways.
    expect(stopped.value.cutsLifted).toBe(12);
    for (const line of cutsSeen) expect(line.split('cut: ')[1]?.split(' ').length).toBe(12);
    // Client links are never cut.
    for (const line of cutsSeen) expect(line).not.toMatch(/client/);
    const alone = await chase('alone', 11);
    expect(alone.stopped.value.cutOffs).toEqual(['n1', 'n3', 'n5', 'n1']);
    expect(alone.stopped.value.cutsLifted).toBe(8);
  });

  it('chase: the same seed gives the same cut-offs, another seed may differ', async () => {
    const a = await chase('pair', 21);
    const b = await chase('pair', 21);
    expect(b.stopped.value.cutOffs).toEqual(a.stopped.value.cutOffs);
    expect(b.cutsSeen).toEqual(a.cutsSeen);
    const others = await Promise.all([22, 23, 24, 25].map((seed) => chase('pair', seed)));
    expect(others.some((o) => o.stopped.value.cutOffs.join() !== a.stopped.value.cutOffs.join())).toBe(true);
  });
});
