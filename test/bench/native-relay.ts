// bench:harness --baseline: a ProxyHost (nemesis/proxy-host.ts) whose links go through
// native-relay.c, the cheapest relay there can be (epoll, read and write, nothing else). Running the
// bench's load through it, beside the real proxies and direct links, separates what relaying over
// loopback costs on this machine from what our proxies add to that. It cannot inject faults.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxyHost, ProxySpec, RemoteProxy } from '../../nemesis/proxy-host.js';
import type { LinkFault } from '../../nemesis/proxy.js';

/** The relay's C source: beside this file in the source tree (the build does not copy it). */
function sourcePath(): string {
  for (const relative of ['./native-relay.c', '../../../test/bench/native-relay.c']) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('native-relay.c not found beside test/bench/native-relay.ts');
}

/** Compiles the relay once per source version; throws with the compiler's message if it cannot. */
export function buildNativeRelay(): string {
  const source = sourcePath();
  const dir = join(tmpdir(), 'skepsis-native-relay');
  mkdirSync(dir, { recursive: true });
  const binary = join(dir, `relay-${Math.round(statSync(source).mtimeMs)}`);
  if (!existsSync(binary)) {
    try {
      execFileSync('cc', ['-O2', '-o', binary, source], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
      throw new Error(`--baseline needs a C compiler (cc) to build ${source}: ${stderr || (error as Error).message}`);
    }
  }
  return binary;
}

/** Starts one relay process for all the links; close() kills it (so does this process's exit). */
export async function startNativeRelayHost(
  binary: string,
  specs: readonly ProxySpec[],
  onFailure?: (error: Error) => void,
): Promise<ProxyHost> {
  const child = spawn(
    binary,
    specs.map((spec) => String(spec.targetPort)),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  let failure: Error | undefined;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const ports = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('native relay: no ports within 10 s')), 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n').filter((line) => line !== '');
      if (lines.length >= specs.length) {
        clearTimeout(timer);
        resolve(lines.slice(0, specs.length).map(Number));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      failure = new Error(`native relay exited (${code ?? signal}): ${stderr.trim()}`);
      reject(failure);
    });
  }).catch((error: unknown) => {
    killChild();
    throw error;
  });
  let closing = false;
  child.once('exit', (code, signal) => {
    if (closing) return;
    failure = new Error(`native relay exited (${code ?? signal}): ${stderr.trim()}`);
    onFailure?.(failure);
  });
  const proxies: RemoteProxy[] = specs.map((spec, i) => ({
    name: spec.name,
    port: ports[i],
    mode: spec.mode,
    set(fault: LinkFault) {
      if (Object.keys(fault).length > 0)
        throw new Error(`the native relay cannot inject faults (asked ${JSON.stringify(fault)} on ${spec.name})`);
    },
  }));
  return {
    proxies,
    // It counts nothing; zeros would read as "no traffic" in results.json, so the run records none.
    stats: () => Promise.reject(new Error('the native relay keeps no counters')),
    close: async () => {
      closing = true;
      process.off('exit', killChild);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        killChild();
        await exited;
      }
    },
    failure: () => failure,
  };
}
