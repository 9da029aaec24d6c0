// One Maelstrom node: a user's program started with its stdin and stdout piped to the router and its
// stderr appended to its log. start() sends `init` and waits (bounded) for `init_ok`; kill is -9, a
// restart is a fresh process with a fresh init (in-memory state is lost); pause and resume are
// SIGSTOP and SIGCONT. Every process started is killed when the harness exits.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { NodeStartError } from '../../harness/launcher.js';
import type { Endpoint } from './router.js';
import { type MaelstromMessage, parseMessage, renderMessage } from './protocol.js';

/** The harness's own id when it sends `init` (Maelstrom uses a client id too). */
export const INIT_SOURCE = 'c0';

/** Bytes queued on a node's stdin at most (a paused or stuck node); past it messages are lost. */
const STDIN_BYTES_MAX = 8 * 1024 * 1024;

/** A line a node writes to stdout is at most this long; a longer one is dropped and counted malformed. */
export const LINE_BYTES_MAX = 1024 * 1024;

/**
 * Calls `onLine` for each line of `input` (without its newline). A line longer than `maxBytes` is not
 * held: its bytes are skipped up to the next newline and `onLine` gets `undefined` with its length.
 */
export function readLines(input: Readable, maxBytes: number, onLine: (line: string | undefined, bytes: number) => void): void {
  let parts: Buffer[] = [];
  let held = 0;
  let skipping = false;
  input.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      const bytes = held + piece.length;
      if (skipping || bytes > maxBytes) onLine(undefined, bytes);
      else
        onLine(
          Buffer.concat([...parts, piece])
            .toString('utf8')
            .replace(/\r$/, ''),
          bytes,
        );
      parts = [];
      held = 0;
      skipping = false;
      start = newline + 1;
    }
    const rest = chunk.subarray(start);
    held += rest.length;
    if (!skipping) {
      if (held > maxBytes) {
        skipping = true;
        parts = [];
      } else if (rest.length > 0) parts.push(rest);
    }
  });
}

const live = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

export interface MaelstromNodeOptions {
  id: string;
  nodeIds: readonly string[];
  bin: string;
  args: readonly string[];
  logFile: string;
  /** Every stdout line that is not the init reply. */
  onLine(line: string): void;
  /** Waiting for init_ok gives up after this long. Default 10 000. */
  initTimeoutMs?: number;
}

export class MaelstromNode implements Endpoint {
  private child: ChildProcessWithoutNullStreams | undefined;
  private exited: Promise<void> = Promise.resolve();
  private initMsgId = 0;
  private corked = false;
  /** How each incarnation ended, newest last. */
  readonly exits: string[] = [];

  constructor(private readonly options: MaelstromNodeOptions) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  deliver(message: MaelstromMessage, line?: string): boolean {
    return this.writeLine(line ?? renderMessage(message));
  }

  /** Writes one line to the node's stdin; false when it is down or over its bound. */
  writeLine(line: string): boolean {
    const child = this.child;
    if (child === undefined || child.stdin.writableLength > STDIN_BYTES_MAX) return false;
    // Lines written in one tick go out in one write (a syscall per message would cap the router).
    if (!this.corked) {
      this.corked = true;
      child.stdin.cork();
      process.nextTick(() => {
        this.corked = false;
        child.stdin.uncork();
      });
    }
    child.stdin.write(`${line}\n`);
    return true;
  }

  /** Spawns the program, sends init and resolves on init_ok; on failure nothing is left running and a NodeStartError carries the log's tail. */
  async start(): Promise<void> {
    if (this.child !== undefined) return;
    installExitHook();
    const { id, logFile } = this.options;
    appendFileSync(logFile, `--- skepsis: starting ${this.options.bin} ${this.options.args.join(' ')}\n`);
    const child = spawn(this.options.bin, [...this.options.args], { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(child);
    this.child = child;
    child.stdin.on('error', () => {}); // A node that dies mid-write: its exit is what counts.
    child.stderr.on('data', (chunk: Buffer) => appendFileSync(logFile, chunk));
    const msgId = ++this.initMsgId;
    let initDone: ((error?: string) => void) | undefined;
    const init = new Promise<string | undefined>((resolve) => {
      initDone = resolve;
    });
    readLines(child.stdout, LINE_BYTES_MAX, (line, bytes) => {
      if (line === undefined) {
        if (this.child === child) this.options.onLine(`<a line of ${bytes} bytes, over the ${LINE_BYTES_MAX}-byte bound>`);
        return;
      }
      if (initDone !== undefined && line.includes(`"${INIT_SOURCE}"`)) {
        const message = parseMessage(line);
        if (!('error' in message) && message.dest === INIT_SOURCE && message.body.in_reply_to === msgId) {
          const done = initDone;
          initDone = undefined;
          return done(message.body.type === 'init_ok' ? undefined : `it answered init with ${line.slice(0, 200)}`);
        }
      }
      if (this.child === child) this.options.onLine(line);
    });
    this.exited = new Promise((resolve) => {
      child.on('error', (error) => {
        appendFileSync(logFile, `--- skepsis: ${error.message}\n`);
        initDone?.(error.message);
      });
      child.on('close', (code, signal) => {
        live.delete(child);
        const how = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
        this.exits.push(how);
        appendFileSync(logFile, `--- skepsis: ${how}\n`);
        if (this.child === child) this.child = undefined;
        initDone?.(`it ${how} before answering init`);
        resolve();
      });
    });
    this.deliver({ src: INIT_SOURCE, dest: id, body: { type: 'init', msg_id: msgId, node_id: id, node_ids: [...this.options.nodeIds] } });
    const timeoutMs = this.options.initTimeoutMs ?? 10_000;
    const timer = setTimeout(() => initDone?.(`no init_ok within ${timeoutMs} ms`), timeoutMs);
    const failure = await init;
    clearTimeout(timer);
    if (failure !== undefined) {
      await this.kill();
      throw new NodeStartError(id, failure, tail(logFile));
    }
  }

  /** kill -9 (after SIGCONT, so a paused node dies too); resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    try {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
    await this.exited;
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '(no log)';
  }
}
