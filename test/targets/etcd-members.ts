// Test helper: real etcd members (Debian's /usr/bin/etcd) on loopback, each with free ports and a data
// directory in one temporary folder; killed (SIGKILL) and removed by close(), and killed anyway when
// the test process exits. Not the harness's etcd Db: only what the client's tests need.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, logExcerpt } from '../../src/harness/launcher.js';

export const ETCD_BIN = '/usr/bin/etcd';

export interface EtcdMembers {
  /** Client URL of each member, in order m1, m2 ... */
  urls: string[];
  /** SIGKILLs member `index`; resolves once it is gone. */
  kill(index: number): Promise<void>;
  /** Kills every member and removes the folder. */
  close(): Promise<void>;
}

export interface EtcdMembersOptions {
  members: number;
  /** Waiting for every member to answer a linearizable range gives up after this long. Default 20 000. */
  readyTimeoutMs?: number;
}

const EXIT_WAIT_MS = 5000;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

export async function startEtcdMembers(options: EtcdMembersOptions): Promise<EtcdMembers> {
  if (!existsSync(ETCD_BIN)) throw new Error(`etcd is not installed at ${ETCD_BIN} (apt-get install -y etcd-server)`);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }
  const dir = mkdtempSync(join(tmpdir(), 'skepsis-etcd-client-'));
  const children: ChildProcess[] = [];
  const kill = async (child: ChildProcess): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, EXIT_WAIT_MS))]);
    }
    live.delete(child);
  };
  const close = async (): Promise<void> => {
    await Promise.all(children.map(kill));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports = await freePorts(options.members * 2);
    const names = ports.slice(0, options.members).map((_, index) => `m${index + 1}`);
    const peerUrl = (index: number) => `http://127.0.0.1:${ports[2 * index]}`;
    const urls = names.map((_, index) => `http://127.0.0.1:${ports[2 * index + 1]}`);
    const initialCluster = names.map((name, index) => `${name}=${peerUrl(index)}`).join(',');
    const token = `skepsis-client-test-${process.pid}-${ports[0]}`;
    names.forEach((name, index) => {
      const log = openSync(join(dir, `${name}.log`), 'a');
      // etcd's own timing is left at its defaults (heartbeat 100 ms, election 1000 ms): the tests
      // measure how it answers without a quorum, which those set.
      const child = spawn(
        ETCD_BIN,
        [
          ...['--name', name, '--data-dir', join(dir, name)],
          ...['--listen-peer-urls', peerUrl(index), '--initial-advertise-peer-urls', peerUrl(index)],
          ...['--listen-client-urls', urls[index], '--advertise-client-urls', urls[index]],
          ...['--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', token],
          ...['--logger', 'zap', '--log-outputs', 'stderr'],
        ],
        { stdio: ['ignore', 'ignore', log] },
      );
      closeSync(log);
      children.push(child);
      live.add(child);
    });
    const readyBy = Date.now() + (options.readyTimeoutMs ?? 20_000);
    await Promise.all(
      urls.map(async (url, index) => {
        while (!(await answersRange(url))) {
          const child = children[index];
          const log = () => logExcerpt(join(dir, `${names[index]}.log`), 15);
          if (child.exitCode !== null || child.signalCode !== null)
            throw new Error(`etcd ${names[index]} exited (${child.exitCode ?? child.signalCode}):\n${log()}`);
          if (Date.now() > readyBy) throw new Error(`etcd ${names[index]} did not answer a linearizable range at ${url}:\n${log()}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }),
    );
    return { urls, kill: (index) => kill(children[index]), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Whether a linearizable range answers: the member is up and its cluster has a leader. */
async function answersRange(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/v3/kv/range`, { method: 'POST', body: '{"key":"cmVhZHk="}', signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}
