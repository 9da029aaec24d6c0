// Proxies on a worker thread. A proxied message would otherwise wait for the harness's own event loop,
// which is busy with clients and the recorder; on a worker it is forwarded at once (bench:harness).
// Each RemoteProxy is a LinkControl for the Net: set() is validated here, so a bad fault throws at the
// caller, and is applied by the worker in posting order, a fraction of a millisecond later.

import { Worker } from 'node:worker_threads';
import { validateLinkFault, type LinkFault, type ProxyMode, type ProxyStats } from './proxy.js';
import type { LinkControl } from './net.js';

export interface ProxySpec {
  name: string;
  targetHost: string;
  targetPort: number;
  mode: ProxyMode;
  /** Seed of the proxy's Random (jitter, drops). */
  seed: number;
}

/** @internal The worker protocol (proxy-worker.ts). */
export type HostRequest =
  | { type: 'start'; id: number; specs: ProxySpec[] }
  | { type: 'set'; index: number; fault: LinkFault }
  | { type: 'stats'; id: number }
  | { type: 'close'; id: number };

/** @internal */
export type HostReply =
  | { type: 'started'; id: number; ports: number[] }
  | { type: 'stats'; id: number; stats: ProxyStats[] }
  | { type: 'closed'; id: number }
  | { type: 'error'; id: number; message: string }
  | { type: 'failed'; message: string };

export class ProxyHostError extends Error {
  override readonly name = 'ProxyHostError';
}

export interface RemoteProxy extends LinkControl {
  readonly name: string;
  readonly port: number;
  readonly mode: ProxyMode;
  set(fault: LinkFault): void;
}

export interface ProxyHost {
  /** In the order of the specs. */
  proxies: RemoteProxy[];
  /** Each proxy's counters, in the order of the specs. */
  stats(): Promise<ProxyStats[]>;
  /** Closes every proxy and ends the worker. Idempotent. */
  close(): Promise<void>;
  /** The worker's failure, if it failed (it then forwards nothing). */
  failure(): Error | undefined;
}

/** Starts the proxies for these links: startProxyHost, or another relay (bench:harness --baseline). */
export type StartProxyHost = (specs: readonly ProxySpec[], onFailure?: (error: Error) => void) => Promise<ProxyHost>;

/** How long the worker may take to answer a request before the host gives up on it. */
const REPLY_TIMEOUT_MS = 10_000;

/** The worker: the compiled sibling in built code; from TypeScript source (tests, tsx), the .ts file through tsx. */
function spawnWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./proxy-worker.js', import.meta.url));
  const source = new URL('./proxy-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(code, { eval: true });
}

/** Starts a worker running one proxy per spec; resolves once every proxy listens. */
export async function startProxyHost(specs: readonly ProxySpec[], onFailure?: (error: Error) => void): Promise<ProxyHost> {
  const worker = spawnWorker();
  let failure: Error | undefined;
  let nextId = 1;
  const waiting = new Map<number, { resolve: (reply: HostReply) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  const fail = (error: Error) => {
    if (failure !== undefined) return;
    failure = error;
    for (const { reject, timer } of waiting.values()) {
      clearTimeout(timer);
      reject(error);
    }
    waiting.clear();
    onFailure?.(error);
  };
  worker.on('message', (reply: HostReply) => {
    if (reply.type === 'failed') return fail(new ProxyHostError(`proxy worker: ${reply.message}`));
    const entry = waiting.get(reply.id);
    if (entry === undefined) return;
    waiting.delete(reply.id);
    clearTimeout(entry.timer);
    if (reply.type === 'error') entry.reject(new ProxyHostError(reply.message));
    else entry.resolve(reply);
  });
  worker.on('error', (error) => fail(new ProxyHostError(`proxy worker crashed: ${error.message}`)));
  let exited = false;
  let closed = false;
  worker.on('exit', (code) => {
    exited = true;
    if (!closed) fail(new ProxyHostError(`proxy worker exited (code ${code})`));
  });
  const ask = (request: { type: 'start'; specs: ProxySpec[] } | { type: 'stats' } | { type: 'close' }): Promise<HostReply> => {
    if (failure !== undefined) return Promise.reject(failure);
    if (closed) return Promise.reject(new ProxyHostError('the proxy host is closed'));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new ProxyHostError(`proxy worker did not answer '${request.type}' within ${REPLY_TIMEOUT_MS} ms`));
      }, REPLY_TIMEOUT_MS);
      waiting.set(id, { resolve, reject, timer });
      worker.postMessage({ ...request, id });
    });
  };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      try {
        if (failure === undefined) await ask({ type: 'close' });
      } finally {
        closed = true;
        // The worker ends by itself after 'closed'; terminate it if it does not, or if close failed.
        if (!exited) {
          const timer = setTimeout(() => void worker.terminate(), failure === undefined ? 2000 : 0);
          await ended;
          clearTimeout(timer);
        }
      }
    })();
    return closing;
  };

  let ports: number[];
  try {
    const started = await ask({ type: 'start', specs: [...specs] });
    if (started.type !== 'started') throw new ProxyHostError(`proxy worker answered '${started.type}' to 'start'`);
    ports = started.ports;
  } catch (error) {
    closed = true;
    await worker.terminate();
    throw error;
  }
  const proxies = specs.map(
    (spec, index): RemoteProxy => ({
      name: spec.name,
      port: ports[index],
      mode: spec.mode,
      set(fault) {
        const valid = validateLinkFault(fault, `proxy ${spec.name}`);
        if (failure !== undefined) throw failure;
        if (closed) return; // the links are gone; nothing left to fault
        worker.postMessage({ type: 'set', index, fault: valid } satisfies HostRequest);
      },
    }),
  );
  // The worker must not keep the harness alive on its own.
  worker.unref();
  return {
    proxies,
    async stats() {
      const reply = await ask({ type: 'stats' });
      if (reply.type !== 'stats') throw new ProxyHostError(`proxy worker answered '${reply.type}' to 'stats'`);
      return reply.stats;
    },
    close,
    failure: () => failure,
  };
}
