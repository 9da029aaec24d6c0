// The Net: directed cuts, isolation, flakiness and heal on a 3-node mesh of real frame proxies,
// and the pair -> proxy-fault mapping (client links included) with recording fakes.

import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createNet, NetError, type LinkControl } from '../../nemesis/net.js';
import { type LinkFault, Proxy } from '../../nemesis/proxy.js';
import type { Net } from '../../nemesis/types.js';
import { Random } from '../../src/raft/random.js';
import { connect, FrameCollector, frame, Resources, sleep, startServer, waitUntil } from './sockets.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

const NODES = ['n1', 'n2', 'n3'];

/** A node that accepts peers (first frame: the peer's id) and dials every other node through its proxy. */
interface MeshNode {
  id: string;
  /** Frames received from each peer, on any connection, in arrival order. */
  received: Map<string, string[]>;
  /** The connection this node dialed to each peer (through the proxy). */
  outbound: Map<string, net.Socket>;
  /** The connection each peer dialed to this node. */
  inbound: Map<string, net.Socket>;
}

async function startMesh(): Promise<{ nodes: Map<string, MeshNode>; net: Net; proxies: Map<string, Proxy> }> {
  const nodes = new Map<string, MeshNode>();
  const ports = new Map<string, number>();
  for (const id of NODES) {
    const node: MeshNode = { id, received: new Map(), outbound: new Map(), inbound: new Map() };
    nodes.set(id, node);
    const server = await startServer(resources, (socket) => {
      const frames = new FrameCollector(socket);
      let peer: string | undefined;
      socket.on('data', () => {
        const texts = frames.texts();
        frames.frames.length = 0;
        for (const text of texts) {
          if (peer === undefined) {
            peer = text;
            node.inbound.set(peer, socket);
          } else {
            record(node, peer, text);
          }
        }
      });
    });
    ports.set(id, server.port);
  }
  const proxies = new Map<string, Proxy>();
  const links = [];
  const random = new Random(21);
  for (const from of NODES) {
    for (const to of NODES) {
      if (from === to) continue;
      const proxy = new Proxy({
        name: `${from}->${to}`,
        targetHost: '127.0.0.1',
        targetPort: ports.get(to)!,
        mode: 'frames',
        random: random.fork(),
      });
      resources.add(() => proxy.close());
      await proxy.start();
      proxies.set(`${from}->${to}`, proxy);
      links.push({ from, to, proxy });
    }
  }
  for (const from of NODES) {
    for (const to of NODES) {
      if (from === to) continue;
      const socket = await connect(resources, proxies.get(`${from}->${to}`)!.port);
      socket.write(frame(from));
      const replies = new FrameCollector(socket);
      socket.on('data', () => {
        const texts = replies.texts();
        replies.frames.length = 0;
        for (const text of texts) record(nodes.get(from)!, to, text);
      });
      nodes.get(from)!.outbound.set(to, socket);
    }
  }
  await waitUntil(
    () => [...nodes.values()].every((n) => n.inbound.size === 2),
    5000,
    () => 'every handshake',
  );
  return { nodes, net: createNet(links), proxies };
}

function record(node: MeshNode, from: string, text: string): void {
  const list = node.received.get(from) ?? [];
  list.push(text);
  node.received.set(from, list);
}

/**
 * Every node sends `tag` to every other node twice: on the connection it dialed (forward) and as a
 * reply on the connection the other dialed to it (backward). Returns what arrived, as `from->to:how`.
 */
async function exchange(nodes: Map<string, MeshNode>, tag: string, expected: number): Promise<Set<string>> {
  for (const node of nodes.values()) {
    for (const socket of node.outbound.values()) socket.write(frame(`${tag}:forward`));
    for (const socket of node.inbound.values()) socket.write(frame(`${tag}:backward`));
  }
  const arrived = (): Set<string> => {
    const set = new Set<string>();
    for (const node of nodes.values()) {
      for (const [from, texts] of node.received)
        for (const text of texts) if (text.startsWith(`${tag}:`)) set.add(`${from}->${node.id}:${text.slice(tag.length + 1)}`);
    }
    return set;
  };
  await waitUntil(
    () => arrived().size >= expected,
    5000,
    () => `${expected} deliveries of ${tag} (have ${[...arrived()].join(' ')})`,
  );
  await sleep(60);
  return arrived();
}

function all(pairs: Array<[string, string]>): string[] {
  return pairs.flatMap(([from, to]) => [`${from}->${to}:forward`, `${from}->${to}:backward`]).sort();
}

function everyPair(except: (from: string, to: string) => boolean = () => false): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const from of NODES) for (const to of NODES) if (from !== to && !except(from, to)) pairs.push([from, to]);
  return pairs;
}

describe('net over a 3-node mesh of proxies', () => {
  it('cut is directed, isolate cuts a node off, heal restores everything on the same connections', async () => {
    const { nodes, net } = await startMesh();
    expect(net.nodes).toEqual(NODES);
    expect([...(await exchange(nodes, 'a', 12))].sort()).toEqual(all(everyPair()));

    net.cut([['n1', 'n2']]);
    const cut = everyPair((from, to) => from === 'n1' && to === 'n2');
    expect([...(await exchange(nodes, 'b', 10))].sort()).toEqual(all(cut));
    expect(net.describe()).toBe('cut: n1->n2');

    net.heal();
    net.isolate('n3');
    const isolated = everyPair((from, to) => from === 'n3' || to === 'n3');
    expect([...(await exchange(nodes, 'c', 4))].sort()).toEqual(all(isolated));

    net.heal();
    expect(net.describe()).toBe('healthy');
    expect([...(await exchange(nodes, 'd', 12))].sort()).toEqual(all(everyPair()));
  });

  it('flaky with full loss on one link loses only that link; clearFlaky restores it', async () => {
    const { nodes, net, proxies } = await startMesh();
    net.flaky({ dropFraction: 1 }, [['n2', 'n3']]);
    // dropFraction acts on the whole n2->n3 proxy: both n2's messages to n3 and n3's replies on it
    // (the target's first frame is not a handshake by default, so it is dropped too).
    const lossy = everyPair((from, to) => (from === 'n2' && to === 'n3') || (from === 'n3' && to === 'n2'));
    const arrived = await exchange(nodes, 'e', 10);
    const expected = new Set([...all(lossy), 'n3->n2:forward', 'n2->n3:backward']);
    expect([...arrived].sort()).toEqual([...expected].sort());
    expect(proxies.get('n2->n3')!.stats().forward.framesDropped).toBeGreaterThan(0);
    net.clearFlaky();
    expect([...(await exchange(nodes, 'f', 12))].sort()).toEqual(all(everyPair()));
  });
});

describe('net mapping', () => {
  function fakeLinks(pairs: Array<[string, string]>): {
    links: Array<{ from: string; to: string; proxy: LinkControl }>;
    faults: Map<string, LinkFault[]>;
  } {
    const faults = new Map<string, LinkFault[]>();
    const links = pairs.map(([from, to]) => {
      const key = `${from}->${to}`;
      faults.set(key, []);
      return { from, to, proxy: { set: (fault: LinkFault) => faults.get(key)!.push(fault) } };
    });
    return { links, faults };
  }
  const last = (faults: Map<string, LinkFault[]>, key: string): LinkFault | undefined => faults.get(key)!.at(-1);

  it('a cut [a, b] cuts a->b forward and b->a backward; client links map the same way', () => {
    const { links, faults } = fakeLinks([...everyPair(), ['client', 'n1'], ['client', 'n2']]);
    const net = createNet(links);
    expect(net.nodes).toEqual(NODES);
    net.cut([['n1', 'n2']]);
    expect(last(faults, 'n1->n2')).toEqual({ cutForward: true });
    expect(last(faults, 'n2->n1')).toEqual({ cutBackward: true });
    expect(faults.get('n1->n3')!.length).toBe(1); // only the initial healthy set: unchanged proxies are left alone
    net.cut([['n1', 'client']]);
    expect(last(faults, 'client->n1')).toEqual({ cutBackward: true });
    net.cut([['client', 'n1']]);
    expect(last(faults, 'client->n1')).toEqual({ cutForward: true, cutBackward: true });
    net.uncut([['n1', 'client']]);
    expect(last(faults, 'client->n1')).toEqual({ cutForward: true });
    expect(net.isolate('n2', { clients: true })).toContainEqual(['client', 'n2']);
    expect(last(faults, 'client->n2')).toEqual({ cutForward: true, cutBackward: true });
    net.flaky({ delayMs: 5 });
    expect(last(faults, 'n1->n3')).toEqual({ delayMs: 5 });
    expect(last(faults, 'client->n2')).toEqual({ cutForward: true, cutBackward: true });
    net.heal();
    for (const list of faults.values()) expect(list.at(-1)).toEqual({});
  });

  it('rejects unknown pairs, duplicate links and cutting flaky faults with a message naming them', () => {
    const { links } = fakeLinks(everyPair());
    const net = createNet(links);
    expect(() => net.cut([['n1', 'n9']])).toThrow(NetError);
    expect(() => net.cut([['n1', 'n9']])).toThrow(/"n1" and "n9"/);
    expect(() => net.isolate('n9')).toThrow(/unknown node "n9"/);
    expect(() => net.flaky({ cutForward: true })).toThrow(/cannot cut/);
    expect(() => net.flaky({ dropFraction: 2 })).toThrow(/dropFraction .* got 2/);
    expect(() => createNet([...links, links[0]])).toThrow(/n1->n2 is listed twice/);
    expect(() => createNet([{ from: 'n1', to: 'n1', proxy: links[0].proxy }])).toThrow(/itself/);
  });
});
