// Peer transport throughput and latency on loopback: node A (this process) sends small AppendEntries
// to node B (a child process, as real nodes are) which answers each with an AppendEntriesResponse, as
// a follower does. For each window of messages in flight: messages/s and round-trip p50/p99. Not a test.
// Usage: npx tsx test/bench/transport-bench.ts [--messages N] [--entry-bytes B] [--runs N] [--windows 1,64,1024,16384]

import { type ChildProcess, fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { TcpTransport } from '../../src/node/transport/tcp-transport.js';
import type { Message } from '../../src/raft/message.js';

const HOST = '127.0.0.1';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(process.argv[i + 1])}`);
  return value;
}

/** Node B: answers every AppendEntries; reports its port, then runs until the parent goes away. */
async function child(): Promise<void> {
  const parentPort = Number(process.argv[process.argv.indexOf('--child') + 1]);
  const transport: TcpTransport = new TcpTransport({
    id: 'b',
    listenHost: HOST,
    listenPort: 0,
    peers: new Map([['a', { host: HOST, port: parentPort }]]),
    onMessage: (m) => {
      if (m.type !== 'AppendEntries') return;
      const last = m.prevLogIndex + m.entries.length;
      transport.send({
        type: 'AppendEntriesResponse',
        from: 'b',
        to: 'a',
        term: m.term,
        success: true,
        matchIndex: last,
        rejectedIndex: 0,
        hintIndex: 0,
        hintTerm: 0,
      });
    },
    log: (line) => process.stderr.write(`[b] ${line}\n`),
  });
  const { port } = await transport.start();
  process.send?.({ port });
  process.on('disconnect', () => void transport.close().then(() => process.exit(0)));
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

interface RunResult {
  messagesPerSecond: number;
  p50Us: number;
  p99Us: number;
}

async function main(): Promise<void> {
  const messages = flag('messages', 200_000);
  const entryBytes = flag('entry-bytes', 64);
  const runs = flag('runs', 3);
  const data = new Uint8Array(entryBytes).fill(7);
  const windowsFlag = process.argv.indexOf('--windows');
  const windows = (windowsFlag === -1 ? '1,64,1024,16384' : process.argv[windowsFlag + 1]).split(',').map(Number);
  if (!windows.every((w) => Number.isSafeInteger(w) && w > 0))
    throw new Error(`--windows must list positive integers, got ${JSON.stringify(process.argv[windowsFlag + 1])}`);

  // One run at a time: `onResponse` is swapped per run.
  let onResponse: (matchIndex: number) => void = () => {};
  const a = new TcpTransport({
    id: 'a',
    listenHost: HOST,
    listenPort: 0,
    peers: new Map(),
    onMessage: (m: Message) => {
      if (m.type === 'AppendEntriesResponse') onResponse(m.matchIndex);
    },
    log: (line) => process.stderr.write(`[a] ${line}\n`),
  });
  const { port: aPort } = await a.start();
  let childProcess: ChildProcess | undefined;
  try {
    childProcess = fork(fileURLToPath(import.meta.url), ['--child', String(aPort)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const bPort = await new Promise<number>((resolve, reject) => {
      childProcess!.once('message', (m) => resolve((m as { port: number }).port));
      childProcess!.once('exit', (code) => reject(new Error(`node b exited with ${code} before starting`)));
    });
    a.setPeer('b', { host: HOST, port: bPort });

    const send = (index: number): void =>
      a.send({
        type: 'AppendEntries',
        from: 'a',
        to: 'b',
        term: 1,
        prevLogIndex: index - 1,
        prevLogTerm: 1,
        commit: 0,
        entries: [{ term: 1, index, data }],
      });

    const run = (count: number, window: number): Promise<RunResult> =>
      new Promise((resolve) => {
        const sentAt = new Float64Array(count + 1);
        const rtt = new Float64Array(count);
        let sent = 0;
        let received = 0;
        const started = performance.now();
        onResponse = (matchIndex) => {
          rtt[received++] = performance.now() - sentAt[matchIndex];
          if (sent < count) {
            sent++;
            sentAt[sent] = performance.now();
            send(sent);
          }
          if (received === count) {
            const seconds = (performance.now() - started) / 1000;
            rtt.sort();
            resolve({ messagesPerSecond: count / seconds, p50Us: percentile(rtt, 0.5) * 1000, p99Us: percentile(rtt, 0.99) * 1000 });
          }
        };
        while (sent < Math.min(window, count)) {
          sent++;
          sentAt[sent] = performance.now();
          send(sent);
        }
      });

    await run(20_000, 256); // warm-up: JIT, connections, TCP windows
    const before = a.stats();
    console.log(`AppendEntries with one ${entryBytes}-byte entry, a -> b (child process) -> a; median of ${runs} runs`);
    console.log('window   messages     msg/s   rtt p50 us   rtt p99 us');
    for (const window of windows) {
      // Latency-bound runs get fewer messages so that each run stays short.
      const count = window === 1 ? Math.min(messages, 10_000) : messages;
      const results: RunResult[] = [];
      for (let r = 0; r < runs; r++) results.push(await run(count, window));
      results.sort((x, y) => x.messagesPerSecond - y.messagesPerSecond);
      const median = results[Math.floor(results.length / 2)];
      console.log(
        `${String(window).padStart(6)} ${String(count).padStart(10)} ${Math.round(median.messagesPerSecond).toString().padStart(9)} ${median.p50Us.toFixed(0).padStart(12)} ${median.p99Us.toFixed(0).padStart(12)}`,
      );
    }
    const after = a.stats();
    const frames = after.framesSent - before.framesSent;
    console.log(
      `a sent ${frames} frames, ${((after.bytesSent - before.bytesSent) / frames).toFixed(1)} bytes each; dropped ${after.dropped}, connects ${after.connects}, malformed ${after.malformed}`,
    );
  } finally {
    childProcess?.disconnect();
    await a.close();
  }
}

const entry = process.argv.includes('--child') ? child : main;
entry().catch((error) => {
  console.error(error);
  process.exit(1);
});
