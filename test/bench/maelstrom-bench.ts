// The Maelstrom router's speed: two real node processes (test/fixtures/maelstrom/bench-ping.cjs)
// ping-pong through the harness with `window` pings in flight. Each round runs two modes side by
// side: `router` (the real Router: parse, faults, counts, render) and `relay` (the same processes,
// each stdout line written to the other's stdin unparsed: the floor any router pays). Prints
// messages routed per second, round-trip latency p50 / p99 (two routed hops), and the harness's CPU
// per message, with medians over the rounds and the router/relay ratio. Not a test.
// Usage: npm run bench:maelstrom -- [--count N] [--window N] [--rounds N]

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Random } from '../../src/raft/random.js';
import { MaelstromRpcClient } from '../../src/targets/maelstrom/client.js';
import { MaelstromNode } from '../../src/targets/maelstrom/node-process.js';
import { parseMessage } from '../../src/targets/maelstrom/protocol.js';
import { Router } from '../../src/targets/maelstrom/router.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(process.argv[i + 1])}`);
  return value;
}

const COUNT = flag('count', 100_000);
const WINDOW = flag('window', 64);
const ROUNDS = flag('rounds', 5);
// From dist/test/bench (npm run bench:maelstrom) or test/bench (tsx).
const BIN = ['../../../test/fixtures/maelstrom/bench-ping.cjs', '../fixtures/maelstrom/bench-ping.cjs']
  .map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
  .find((path) => existsSync(path));
if (BIN === undefined) throw new Error('cannot find test/fixtures/maelstrom/bench-ping.cjs');

interface Sample {
  messagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerMessage: number;
}

async function round(mode: 'router' | 'relay', dir: string): Promise<Sample> {
  const ids = ['n1', 'n2'];
  const router = new Router({ nodes: ids, random: new Random(1), log: (line) => process.stderr.write(`${line}\n`) });
  const nodes = new Map<string, MaelstromNode>();
  // In relay mode only the bench's own request and answer (to or from c1) are parsed.
  let relayReply: ((line: string) => void) | undefined;
  for (const id of ids) {
    const other = id === 'n1' ? 'n2' : 'n1';
    nodes.set(
      id,
      new MaelstromNode({
        id,
        nodeIds: ids,
        bin: BIN!,
        args: [],
        logFile: join(dir, `${mode}-${id}.log`),
        onLine:
          mode === 'router'
            ? (line) => router.routeLine(id, line)
            : (line) => (line.includes('"dest":"c1"') ? relayReply?.(line) : nodes.get(other)!.writeLine(line)),
      }),
    );
  }
  for (const [id, node] of nodes) router.attachNode(id, node);
  try {
    for (const node of nodes.values()) await node.start();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const body = { type: 'bench', peer: 'n2', count: COUNT, window: WINDOW };
    let reply: Record<string, unknown>;
    if (mode === 'router') {
      const rpc = new MaelstromRpcClient(router, 'c1', 600_000);
      reply = await rpc.request('n1', body);
      rpc.close();
    } else {
      reply = await new Promise((resolve) => {
        relayReply = (line) => {
          const message = parseMessage(line);
          if (!('error' in message)) resolve(message.body);
        };
        nodes.get('n1')!.writeLine(JSON.stringify({ src: 'c1', dest: 'n1', body: { ...body, msg_id: 1 } }));
      });
    }
    const elapsedMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    if (reply.type !== 'bench_ok') throw new Error(`n1 answered ${JSON.stringify(reply)}`);
    const messages = 2 * COUNT;
    if (mode === 'router') {
      const delivered = router.stats().totals.nodes.delivered;
      if (delivered < messages) throw new Error(`the router delivered ${delivered} node messages, expected at least ${messages}`);
    }
    return {
      messagesPerSecond: messages / (elapsedMs / 1000),
      p50Ms: Number(reply.p50),
      p99Ms: Number(reply.p99),
      cpuUsPerMessage: (used.user + used.system) / messages,
    };
  } finally {
    await Promise.all([...nodes.values()].map((node) => node.kill()));
    router.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const dir = mkdtempSync(join(tmpdir(), 'skepsis-maelstrom-bench-'));
try {
  const samples: Record<'router' | 'relay', Sample[]> = { router: [], relay: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of ['router', 'relay'] as const) {
      const sample = await round(mode, dir);
      samples[mode].push(sample);
      console.log(
        `round ${r + 1} ${mode.padEnd(6)} ${sample.messagesPerSecond.toFixed(0)} msgs/s, round trip p50 ${sample.p50Ms.toFixed(3)} ms p99 ${sample.p99Ms.toFixed(3)} ms, harness CPU ${sample.cpuUsPerMessage.toFixed(2)} µs/msg`,
      );
    }
  }
  const m = (mode: 'router' | 'relay', key: keyof Sample) => median(samples[mode].map((s) => s[key]));
  console.log(`\nmedians over ${ROUNDS} rounds of ${COUNT} ping-pongs (${2 * COUNT} messages), ${WINDOW} in flight:`);
  for (const mode of ['router', 'relay'] as const)
    console.log(
      `  ${mode.padEnd(6)} ${m(mode, 'messagesPerSecond').toFixed(0)} msgs/s, round trip p50 ${m(mode, 'p50Ms').toFixed(3)} ms p99 ${m(mode, 'p99Ms').toFixed(3)} ms, harness CPU ${m(mode, 'cpuUsPerMessage').toFixed(2)} µs/msg`,
    );
  const ratios = samples.router.map((s, i) => s.messagesPerSecond / samples.relay[i].messagesPerSecond);
  console.log(`  router/relay throughput, median of per-round ratios: ${median(ratios).toFixed(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
