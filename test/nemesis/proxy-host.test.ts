// Proxies on a worker thread (ProxyHost), with real loopback sockets: traffic passes, a fault set on
// the host side takes effect in the worker and is lifted again, stats come back, a bad fault throws
// at the caller, a port that cannot be listened on fails the start, and close ends the worker.

import { afterEach, describe, expect, it } from 'vitest';
import { ProxyOptionsError } from '../../nemesis/proxy.js';
import { startProxyHost, type ProxyHost } from '../../nemesis/proxy-host.js';
import { connect, FrameCollector, frame, Resources, sleep, startServer } from './sockets.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

async function host(targetPorts: number[]): Promise<ProxyHost> {
  const started = await startProxyHost(
    targetPorts.map((targetPort, i) => ({
      name: `n${i + 1}->t`,
      targetHost: '127.0.0.1',
      targetPort,
      mode: 'frames' as const,
      seed: i + 1,
    })),
  );
  resources.add(() => started.close());
  return started;
}

describe('ProxyHost', () => {
  it('forwards frames through a worker; a cut set on the host drops them until it is lifted', async () => {
    const server = await startServer(resources);
    const proxies = await host([server.port]);
    const [proxy] = proxies.proxies;
    const client = await connect(resources, proxy.port);
    const target = await server.accept();
    const frames = new FrameCollector(target);
    client.write(frame('handshake'));
    client.write(frame('one'));
    await frames.waitFor(2);

    proxy.set({ cutForward: true });
    // The worker applies messages in order: once stats answer, the cut is in place.
    await proxies.stats();
    client.write(frame('lost'));
    await sleep(50);
    const cutSeen = async () => (await proxies.stats())[0].forward.framesCut;
    for (let i = 0; i < 100 && (await cutSeen()) < 1; i++) await sleep(20);
    expect(await cutSeen()).toBe(1);

    proxy.set({});
    client.write(frame('two'));
    await frames.waitFor(3);
    expect(frames.texts()).toEqual(['handshake', 'one', 'two']);
    const [stats] = await proxies.stats();
    expect(stats.connectionsAccepted).toBe(1);
    expect(stats.forward.framesIn).toBe(4);
  });

  it('rejects a bad fault at the caller, naming the proxy and the field', async () => {
    const server = await startServer(resources);
    const [proxy] = (await host([server.port])).proxies;
    expect(() => proxy.set({ dropFraction: 2 })).toThrow(ProxyOptionsError);
    expect(() => proxy.set({ dropFraction: 2 })).toThrow(/n1->t.*dropFraction/);
  });

  it('serves many proxies with their own ports, and close ends the worker and frees the ports', async () => {
    const servers = await Promise.all([1, 2, 3].map(() => startServer(resources)));
    const proxies = await host(servers.map((server) => server.port));
    const ports = proxies.proxies.map((proxy) => proxy.port);
    expect(new Set(ports).size).toBe(3);
    await proxies.close();
    await proxies.close();
    expect(proxies.failure()).toBeUndefined();
    await expect(connect(resources, ports[0])).rejects.toThrow();
    await expect(proxies.stats()).rejects.toThrow(/closed|exited/);
  });
});
