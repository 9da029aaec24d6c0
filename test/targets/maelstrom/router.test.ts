// The Maelstrom router without processes: delivery by dest, cuts of every direction (one-way
// included) and client links, loss and delay, the in-harness services, and bad traffic (malformed
// lines, unknown dests, replies to nothing, a node speaking for another) logged and counted, never thrown.

import { afterEach, describe, expect, it } from 'vitest';
import { Random } from '../../../src/raft/random.js';
import { MaelstromRpcClient } from '../../../src/targets/maelstrom/client.js';
import type { MaelstromMessage } from '../../../src/targets/maelstrom/protocol.js';
import { parseMessage } from '../../../src/targets/maelstrom/protocol.js';
import { type Endpoint, Router } from '../../../src/targets/maelstrom/router.js';
import { createServices, kvServiceReply } from '../../../src/targets/maelstrom/services.js';

const routers: Router[] = [];
afterEach(() => {
  for (const router of routers.splice(0)) router.close();
});

function setup(seed = 1) {
  const inbox = new Map<string, MaelstromMessage[]>();
  const logs: string[] = [];
  let router: Router;
  const services = createServices((message) => router.send(message));
  router = new Router({ nodes: ['n1', 'n2', 'n3'], services, random: new Random(seed), log: (line) => logs.push(line) });
  routers.push(router);
  for (const id of ['n1', 'n2', 'n3']) {
    const box: MaelstromMessage[] = [];
    inbox.set(id, box);
    const endpoint: Endpoint = { deliver: (m) => (box.push(m), true) };
    router.attachNode(id, endpoint);
  }
  return { router, inbox, logs };
}

const line = (src: string, dest: string, body: Record<string, unknown>) => JSON.stringify({ src, dest, body });

describe('Router', () => {
  it('delivers by dest and counts per link', () => {
    const { router, inbox } = setup();
    router.routeLine('n1', line('n1', 'n2', { type: 'gossip', msg_id: 1 }));
    router.routeLine('n2', line('n2', 'n1', { type: 'gossip_ok', in_reply_to: 1 }));
    expect(inbox.get('n2')!.map((m) => m.body.type)).toEqual(['gossip']);
    expect(inbox.get('n1')!.map((m) => m.body.type)).toEqual(['gossip_ok']);
    const stats = router.stats();
    expect(stats.links['n1->n2']).toEqual({ sent: 1, delivered: 1, cut: 0, dropped: 0, undeliverable: 0 });
    expect(stats.totals.nodes.delivered).toBe(2);
  });

  it('cuts one way only: n1->n2 is lost while n2->n1 still arrives', () => {
    const { router, inbox } = setup();
    router.net.cut([['n1', 'n2']]);
    router.routeLine('n1', line('n1', 'n2', { type: 'a' }));
    router.routeLine('n2', line('n2', 'n1', { type: 'b' }));
    expect(inbox.get('n2')).toEqual([]);
    expect(inbox.get('n1')!.map((m) => m.body.type)).toEqual(['b']);
    expect(router.stats().links['n1->n2'].cut).toBe(1);
    router.net.heal();
    router.routeLine('n1', line('n1', 'n2', { type: 'a' }));
    expect(inbox.get('n2')!.length).toBe(1);
  });

  it('cuts client links too, requests and replies apart', async () => {
    const { router, inbox } = setup();
    const rpc = new MaelstromRpcClient(router, 'c1', 200);
    router.net.cut([['client', 'n1']]);
    await expect(rpc.request('n1', { type: 'read', key: 1 })).rejects.toThrow(/no reply from n1/);
    expect(inbox.get('n1')).toEqual([]);
    router.net.heal();
    router.net.cut([['n1', 'client']]);
    const pending = rpc.request('n1', { type: 'read', key: 1 });
    const request = inbox.get('n1')![0];
    router.routeLine('n1', line('n1', 'c1', { type: 'read_ok', value: 1, in_reply_to: request.body.msg_id }));
    await expect(pending).rejects.toThrow(/no reply/);
    expect(router.stats().links['n1->client'].cut).toBe(1);
    rpc.close();
  });

  it('drops with a flaky link and delays with latency', async () => {
    const { router, inbox } = setup();
    router.net.flaky({ dropFraction: 1 }, [['n1', 'n2']]);
    for (let i = 0; i < 5; i++) router.routeLine('n1', line('n1', 'n2', { type: 'x' }));
    expect(router.stats().links['n1->n2'].dropped).toBe(5);
    router.net.heal();
    router.net.flaky({ delayMs: 30, jitterMs: 10 }, [['n2', 'n3']]);
    router.routeLine('n2', line('n2', 'n3', { type: 'y' }));
    expect(inbox.get('n3')).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(inbox.get('n3')!.length).toBe(1);
  });

  it('logs and counts bad traffic without throwing', () => {
    const { router, logs } = setup();
    router.routeLine('n1', 'not json');
    router.routeLine('n1', '{"src":"n1","dest":"n2"}');
    router.routeLine('n1', line('n2', 'n3', { type: 'spoof' }));
    router.routeLine('n1', line('n1', 'n9', { type: 'x' }));
    router.routeLine('n1', line('n1', 'c7', { type: 'read_ok', in_reply_to: 3 }));
    router.routeLine('n1', '');
    const stats = router.stats();
    expect(stats.malformed).toBe(3);
    expect(stats.unknownDest).toBe(1);
    expect(stats.repliesToNothing).toBe(1);
    expect(logs.join('\n')).toMatch(/malformed line \(not JSON/);
    expect(logs.join('\n')).toMatch(/field body: expected an object/);
    expect(logs.join('\n')).toMatch(/unknown dest "n9"/);
    expect(logs.join('\n')).toMatch(/reply to nothing/);
  });

  it('answers lin-kv, seq-kv, lww-kv and lin-tso from the harness', () => {
    const { router, inbox } = setup();
    router.routeLine('n1', line('n1', 'lin-kv', { type: 'write', key: 'k', value: 1, msg_id: 1 }));
    router.routeLine('n1', line('n1', 'lin-kv', { type: 'cas', key: 'k', from: 2, to: 3, msg_id: 2 }));
    router.routeLine('n1', line('n1', 'seq-kv', { type: 'read', key: 'k', msg_id: 3 }));
    router.routeLine('n1', line('n1', 'lin-tso', { type: 'ts', msg_id: 4 }));
    router.routeLine('n1', line('n1', 'lin-tso', { type: 'ts', msg_id: 5 }));
    expect(inbox.get('n1')!.map((m) => [m.src, m.body.type, m.body.in_reply_to, m.body.code ?? m.body.ts ?? null])).toEqual([
      ['lin-kv', 'write_ok', 1, null],
      ['lin-kv', 'error', 2, 22],
      ['seq-kv', 'error', 3, 20],
      ['lin-tso', 'ts_ok', 4, 1],
      ['lin-tso', 'ts_ok', 5, 2],
    ]);
    expect(router.stats().totals.services.sent).toBe(10);
  });
});

describe('kvServiceReply', () => {
  it('follows Maelstrom lin-kv: read, write, cas with create_if_not_exists, errors 20 and 22', () => {
    const data = new Map<string, unknown>();
    expect(kvServiceReply(data, { type: 'read', key: 1 })).toMatchObject({ type: 'error', code: 20 });
    expect(kvServiceReply(data, { type: 'cas', key: 1, from: 0, to: 1 })).toMatchObject({ type: 'error', code: 20 });
    expect(kvServiceReply(data, { type: 'cas', key: 1, from: 0, to: 1, create_if_not_exists: true })).toEqual({ type: 'cas_ok' });
    expect(kvServiceReply(data, { type: 'cas', key: 1, from: 0, to: 2 })).toMatchObject({ type: 'error', code: 22 });
    expect(kvServiceReply(data, { type: 'write', key: 1, value: [1, 2] })).toEqual({ type: 'write_ok' });
    expect(kvServiceReply(data, { type: 'read', key: 1 })).toEqual({ type: 'read_ok', value: [1, 2] });
    expect(kvServiceReply(data, { type: 'frob', key: 1 })).toMatchObject({ type: 'error', code: 10 });
    expect(kvServiceReply(data, { type: 'read' })).toMatchObject({ type: 'error', code: 12 });
  });
});

describe('parseMessage', () => {
  it('names the bad field', () => {
    expect(parseMessage('[]')).toEqual({ error: 'not a JSON object' });
    expect(parseMessage('{"src":"a","dest":"b","body":{"type":"x","msg_id":"1"}}')).toEqual({
      error: 'field body.msg_id: expected an integer',
    });
    expect(parseMessage('{"src":"a","dest":"b","body":{}}')).toEqual({ error: 'field body.type: expected a string' });
  });
});
