// The worker-thread side of ProxyHost (proxy-host.ts): runs the proxies on an event loop of their
// own, so the harness's clients, recorder and nemesis never delay a proxied message. It obeys the
// messages below, in the order they were posted, and answers the ones that carry an id.

import { parentPort } from 'node:worker_threads';
import { Random } from '../src/raft/random.js';
import { Proxy, type ProxyStats } from './proxy.js';
import type { HostRequest, HostReply } from './proxy-host.js';

if (parentPort === null) throw new Error('proxy-worker.ts runs only as a worker thread (see proxy-host.ts)');
const port = parentPort;
let proxies: Proxy[] = [];

const reply = (message: HostReply): void => port.postMessage(message);

port.on('message', (request: HostRequest) => {
  void handle(request).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if ('id' in request) reply({ type: 'error', id: request.id, message });
    else reply({ type: 'failed', message: `${request.type}: ${message}` });
  });
});

async function handle(request: HostRequest): Promise<void> {
  switch (request.type) {
    case 'start': {
      proxies = request.specs.map(
        (spec) =>
          new Proxy({
            name: spec.name,
            targetHost: spec.targetHost,
            targetPort: spec.targetPort,
            mode: spec.mode,
            random: new Random(spec.seed),
          }),
      );
      try {
        const ports: number[] = [];
        for (const proxy of proxies) ports.push((await proxy.start()).port);
        reply({ type: 'started', id: request.id, ports });
      } catch (error) {
        await Promise.all(proxies.map((proxy) => proxy.close()));
        throw error;
      }
      return;
    }
    case 'set':
      proxies[request.index].set(request.fault);
      return;
    case 'stats': {
      const stats: ProxyStats[] = proxies.map((proxy) => proxy.stats());
      reply({ type: 'stats', id: request.id, stats });
      return;
    }
    case 'close':
      await Promise.all(proxies.map((proxy) => proxy.close()));
      reply({ type: 'closed', id: request.id });
      // Nothing is left to keep the thread alive: it ends on its own (and writes its --cpu-prof).
      port.close();
      return;
  }
}
