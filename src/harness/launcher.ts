// Starts, stops, kills, pauses and restarts `skepsis node` processes, each with its data directory
// and a log file that survives restarts; waits for readiness with a bound. Every process started is
// tracked and killed when this process exits, so none is ever left behind.

import { execa, type ResultPromise } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** The CLI entry (bin/skepsis.cjs), found from this file in src/ or in dist/src/. */
export function skepsisBin(): string {
  for (const relative of ['../../bin/skepsis.cjs', '../../../bin/skepsis.cjs']) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('cannot find bin/skepsis.cjs next to the sources');
}

/** Ports for nodes are drawn below the kernel's ephemeral range (32768-60999 on Linux), so that the
 * outgoing connections of clients and tests, which take ephemeral ports, cannot grab them between
 * the choice and the node's listen. */
const NODE_PORT_LOW = 20_000;
const NODE_PORT_HIGH = 32_000;
const PORT_ATTEMPTS_MAX = 200;

function tryListen(port: number, host: string): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, host, () => resolve(server));
  });
}

/** Picks `count` distinct ports that are free now (bound and released again), at random below the ephemeral range. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    for (let attempt = 0; ports.length < count; attempt++) {
      if (attempt >= PORT_ATTEMPTS_MAX)
        throw new Error(`no ${count} free ports in ${NODE_PORT_LOW}-${NODE_PORT_HIGH} after ${attempt} attempts`);
      const port = NODE_PORT_LOW + Math.floor(Math.random() * (NODE_PORT_HIGH - NODE_PORT_LOW));
      if (ports.includes(port)) continue;
      const server = await tryListen(port, host);
      if (server === undefined) continue;
      held.push(server);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

export interface NodeProcessSpec {
  id: string;
  /** Arguments after `skepsis node`, or after `command` when given. */
  args: string[];
  /** Another program than `skepsis node` (e.g. etcd): its path. Its stdout and stderr both go to
   * the log file, and readiness is `probe`'s (there is no ready line). */
  command?: string;
  /** Polled every 100 ms until it answers true: the node is ready. Required with `command`. */
  probe?: () => Promise<boolean>;
  /** Prepended to the command line, e.g. `ip netns exec <ns>` to run the node on a host of its own
   * (the prefix must exec the command, so the pid is the node's own). */
  prefix?: string[];
  /** stderr of every incarnation is appended here. */
  logFile: string;
  /** Waiting for the ready line gives up after this long. Default 15 000. */
  readyTimeoutMs?: number;
  /** SIGTERM, then SIGKILL after this long. Default 3000. */
  stopGraceMs?: number;
  /** Extra environment variables (added to this process's), and the working directory (default: ours). */
  env?: Record<string, string>;
  cwd?: string;
}

export interface ReadyLine {
  event: 'ready';
  id: string;
  /** Absent for a node whose readiness was probed (no ready line). */
  peerPort?: number;
  clientPort?: number;
  pid: number;
}

const PROBE_INTERVAL_MS = 100;

/** A node that did not come up: carries the tail of its log. */
export class NodeStartError extends Error {
  override readonly name = 'NodeStartError';
  constructor(
    readonly id: string,
    readonly reason: string,
    readonly logExcerpt: string,
  ) {
    super(`node ${id} did not start: ${reason}\n--- last lines of its log ---\n${logExcerpt}`);
  }
}

const live = new Set<ResultPromise>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort: whatever way this process ends, its nodes end with it.
  process.on('exit', () => killAllNodes());
}

/** Kills every node process this process started (SIGKILL). */
export function killAllNodes(): void {
  for (const child of live) {
    try {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGCONT');
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

export function logExcerpt(logFile: string, lines = 30): string {
  try {
    return readFileSync(logFile, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return '(no log)';
  }
}

export class NodeProcess {
  readonly id: string;
  private readonly spec: NodeProcessSpec;
  private child: ResultPromise | undefined;
  private exited: Promise<void> | undefined;
  private paused = false;
  /** What the last incarnation printed when ready. */
  ready: ReadyLine | undefined;
  /** How each incarnation ended, newest last (exit code or signal). */
  readonly exits: string[] = [];

  constructor(spec: NodeProcessSpec) {
    this.id = spec.id;
    this.spec = spec;
    installExitHook();
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the node and waits for its ready line; on failure the process is gone and the error has its log. */
  async start(): Promise<ReadyLine> {
    if (this.child) throw new Error(`node ${this.id} is already running`);
    // SKEPSIS_NODE_FLAGS passes Node.js flags to every node process (e.g. --cpu-prof for profiling).
    const nodeFlags = (process.env.SKEPSIS_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const commandLine =
      this.spec.command === undefined
        ? [process.execPath, ...nodeFlags, skepsisBin(), 'node', ...this.spec.args]
        : [this.spec.command, ...this.spec.args];
    const [file, ...args] = [...(this.spec.prefix ?? []), ...commandLine];
    const log = { file: this.spec.logFile, append: true } as const;
    const child: ResultPromise = execa(file, args, {
      stdin: 'ignore',
      stdout: this.spec.command === undefined ? 'pipe' : log,
      stderr: log,
      reject: false,
      cleanup: true,
      buffer: false,
      ...(this.spec.env ? { env: this.spec.env } : {}),
      ...(this.spec.cwd ? { cwd: this.spec.cwd } : {}),
    });
    this.child = child;
    this.paused = false;
    live.add(child);
    const exited = child.then((result) => {
      live.delete(child);
      // A program that could not be spawned at all (not found, not executable) has no exit code: say why.
      this.exits.push(
        result.signal ?? (result.exitCode === undefined ? `not started: ${result.originalMessage}` : `exit ${result.exitCode}`),
      );
      if (this.child === child) {
        this.child = undefined;
        this.paused = false;
      }
    });
    this.exited = exited;
    const timeoutMs = this.spec.readyTimeoutMs ?? 15_000;
    try {
      this.ready = await new Promise<ReadyLine>((resolve, reject) => {
        let settled = false;
        const finish = (error: Error | undefined, ready?: ReadyLine) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (error) reject(error);
          else resolve(ready!);
        };
        const timer = setTimeout(
          () => finish(new NodeStartError(this.id, `not ready within ${timeoutMs} ms`, logExcerpt(this.spec.logFile))),
          timeoutMs,
        );
        void exited.then(() =>
          finish(new NodeStartError(this.id, `it exited (${this.exits.at(-1)}) before it was ready`, logExcerpt(this.spec.logFile))),
        );
        if (this.spec.probe === undefined) {
          createInterface({ input: child.stdout! }).on('line', (line) => {
            try {
              const parsed = JSON.parse(line) as ReadyLine;
              if (parsed.event === 'ready') finish(undefined, parsed);
            } catch {
              // Not ours; the node prints only JSON on stdout.
            }
          });
          return;
        }
        const probe = this.spec.probe;
        const poll = async (): Promise<void> => {
          while (!settled) {
            if (await probe().catch(() => false)) return finish(undefined, { event: 'ready', id: this.id, pid: child.pid ?? -1 });
            await new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS));
          }
        };
        void poll();
      });
      return this.ready;
    } catch (error) {
      await this.kill();
      throw error;
    }
  }

  /** Resolves when the current incarnation exits (at once when none runs). */
  waitExit(): Promise<void> {
    return this.child ? this.exited! : Promise.resolve();
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (this.paused && child.pid !== undefined) process.kill(child.pid, 'SIGCONT');
    child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after the grace period. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (this.paused) this.resume();
    child.kill('SIGTERM');
    const graceMs = this.spec.stopGraceMs ?? 3000;
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  pause(): void {
    if (!this.child || this.paused || this.child.pid === undefined) return;
    process.kill(this.child.pid, 'SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.child || !this.paused || this.child.pid === undefined) return;
    process.kill(this.child.pid, 'SIGCONT');
    this.paused = false;
  }
}
