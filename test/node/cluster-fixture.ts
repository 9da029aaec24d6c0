// Test fixture: a real cluster of node processes in a fresh temporary directory, killed when the
// test ends (also on failure), plus a recorder (the harness's) so runs can be judged by the checker.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHistory } from '../../checker/check.js';
import type { HistoryEvent } from '../../checker/history.js';
import { createModel } from '../../checker/models/index.js';
import { formatResultText } from '../../checker/report.js';
import { KvClient, type KvOutcome } from '../../src/client/kv-client.js';
import { waitForLeader } from '../../src/targets/skepsis/db.js';
import { Recorder as HistoryRecorder } from '../../src/harness/recorder.js';
import { prepareLocalCluster, startAll, type LocalCluster, type LocalClusterOptions } from '../../src/targets/skepsis/local-cluster.js';

export interface Fixture {
  cluster: LocalCluster;
  dir: string;
  client(options?: { deadlineMs?: number; attemptTimeoutMs?: number }): KvClient;
  status(id: string): Promise<Record<string, unknown>>;
  /** Waits until some node reports itself leader; returns its id. */
  leader(timeoutMs?: number, among?: string[]): Promise<string>;
  close(): Promise<void>;
}

/** Flags that make elections quick but stable on a busy 2-core machine. */
export const TEST_NODE_ARGS = ['--election-timeout-ms', '300', '--heartbeat-interval-ms', '50', '--request-timeout-ms', '2000'];

export async function startFixture(options: Partial<LocalClusterOptions> & { nodes: number }): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'skepsis-node-test-'));
  const cluster = await prepareLocalCluster({ dir, ...options, extraArgs: [...TEST_NODE_ARGS, ...(options.extraArgs ?? [])] });
  const clients: KvClient[] = [];
  try {
    await startAll(cluster);
  } catch (error) {
    await cluster.kill();
    throw error;
  }
  const fixture: Fixture = {
    cluster,
    dir,
    client(clientOptions = {}) {
      const client = new KvClient({ nodes: cluster.clientUrls, deadlineMs: 15_000, ...clientOptions });
      clients.push(client);
      return client;
    },
    async status(id) {
      const response = await fetch(`${cluster.clientUrls.get(id)}/status`, { signal: AbortSignal.timeout(2000) });
      return (await response.json()) as Record<string, unknown>;
    },
    async leader(timeoutMs = 20_000, among = cluster.ids) {
      const leader = await waitForLeader(cluster, { timeoutMs, among });
      if (leader === undefined) throw new Error(`no leader among ${among.join(', ')} within ${timeoutMs} ms`);
      return leader;
    },
    async close() {
      for (const client of clients) client.close();
      await cluster.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** Records client operations through the harness's recorder, and has the checker judge them. */
export class Recorder {
  private readonly recorder = new HistoryRecorder();

  get events(): readonly HistoryEvent[] {
    return this.recorder.events;
  }

  async run(process: number, f: string, key: string, value: unknown, call: () => Promise<KvOutcome>): Promise<KvOutcome> {
    const op = { f, key, value };
    this.recorder.invoke(process, op);
    const outcome = await call();
    // A write's completion repeats the value written; a get's carries the value read.
    if (outcome.type === 'ok') this.recorder.complete(process, op, { type: 'ok', value: f === 'get' ? (outcome.value ?? null) : value });
    else this.recorder.complete(process, op, { type: outcome.type, error: outcome.error });
    return outcome;
  }

  /** The checker's verdict on everything recorded (kv-cas model). */
  async check(): Promise<{ valid: boolean | 'unknown'; text: string }> {
    const history = this.recorder.history('test');
    const result = await checkHistory(history.operations, { model: 'kv-cas', timeoutMs: 60_000 });
    return { valid: result.valid, text: formatResultText(history, result, createModel('kv-cas')) };
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
