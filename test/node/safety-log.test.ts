// The KV service says a broken Raft invariant a peer shows it in the words the harness scans node
// logs for (SAFETY_VIOLATION_MARKER, src/harness/node-logs.ts): two leaders in one term (a vote cast
// twice or forgotten on restart), and entries that contradict committed ones. Once per peer, term
// and kind; ordinary refusals are logged without the marker.

import { describe, expect, it } from 'vitest';
import { KvService } from '../../src/node/kv-service.js';
import { SAFETY_VIOLATION_MARKER } from '../../src/node/errors.js';
import { MemoryStorage } from '../../src/raft/memory-storage.js';
import type { Message } from '../../src/raft/message.js';
import { Raft } from '../../src/raft/raft.js';
import { Random } from '../../src/raft/random.js';

function service(): { service: KvService; lines: string[] } {
  const storage = new MemoryStorage({ voters: ['n1', 'n2', 'n3'] });
  const raft = new Raft({ id: 'n1', storage, random: new Random(1), electionTimeoutTicks: 10 });
  const lines: string[] = [];
  const kv = new KvService({
    id: 'n1',
    raft,
    storage,
    timers: { after: () => () => {} },
    requestFlush: () => {},
    log: (line) => lines.push(line),
  });
  return { service: kv, lines };
}

const heartbeat = (from: string, term: number): Message => ({ type: 'Heartbeat', from, to: 'n1', term, commit: 0, context: '' });

describe('the KV service logs a safety violation', () => {
  it('when a second leader of one term shows itself, once per peer and term', () => {
    const { service: kv, lines } = service();
    kv.receive(heartbeat('n2', 4));
    kv.receive(heartbeat('n2', 4));
    expect(lines.filter((line) => line.includes(SAFETY_VIOLATION_MARKER))).toEqual([]);
    kv.receive(heartbeat('n3', 4));
    kv.receive(heartbeat('n3', 4));
    const violations = lines.filter((line) => line.includes(SAFETY_VIOLATION_MARKER));
    // The second heartbeat from n3 finds n3 followed: only n2's next one is a second leader again.
    expect(violations).toEqual([
      `${SAFETY_VIOLATION_MARKER}: n3 (term 4) acts as leader of a term in which this node already followed another leader`,
    ]);
    kv.receive(heartbeat('n2', 4));
    expect(lines.filter((line) => line.includes(SAFETY_VIOLATION_MARKER))).toHaveLength(2);
    // A later term's leader is no violation.
    kv.receive(heartbeat('n3', 5));
    expect(lines.filter((line) => line.includes(SAFETY_VIOLATION_MARKER))).toHaveLength(2);
  });
});
