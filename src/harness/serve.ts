// Serves a store folder over HTTP on localhost: an index of the tests and their runs (newest
// first, with verdict, workload, nemesis, seed, start time and ops), folder listings, and the files
// themselves. It serves nothing outside the store (no `..`, encoded or not, no symlink leading
// out), only reads (GET and HEAD), and streams files up to a size bound. It never writes.

import { createReadStream, type Dirent } from 'node:fs';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { escapeHtml } from '../../checker/view/text.js';

export interface StoreServerOptions {
  /** The store folder (`skepsis test --store DIR`); it must exist. */
  store: string;
  /** Default 127.0.0.1: the store is not meant for the network. */
  host?: string;
  /** Default 8080; 0 picks a free port (the tests do). */
  port?: number;
  /** Larger files are refused (413). Default 1 GiB: a bounded history is a few hundred MB at most. */
  fileBytesMax?: number;
}

export interface StoreServer {
  /** The port bound (useful with port 0). */
  port: number;
  /** The index's address, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  /** Stops listening and closes every open connection. */
  close(): Promise<void>;
}

/** A bad option, or a store that is not a folder; the message quotes the value. */
export class StoreServerError extends Error {
  override readonly name = 'StoreServerError';
}

export const DEFAULT_SERVE_PORT = 8080;
export const DEFAULT_SERVE_HOST = '127.0.0.1';
const DEFAULT_FILE_BYTES_MAX = 1024 * 1024 * 1024;
/** Runs listed per test, tests listed, and entries per folder listing. */
const RUNS_LISTED_MAX = 500;
const TESTS_LISTED_MAX = 500;
const ENTRIES_LISTED_MAX = 2000;
/** results.json / test.json larger than this are not parsed for the index. */
const SUMMARY_FILE_BYTES_MAX = 16 * 1024 * 1024;
/** Longest request path accepted. */
const PATH_CHARS_MAX = 4096;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.edn': 'text/plain; charset=utf-8',
  '.csv': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Starts the server; resolves once it listens. */
export async function startStoreServer(options: StoreServerOptions): Promise<StoreServer> {
  const host = options.host ?? DEFAULT_SERVE_HOST;
  const port = options.port ?? DEFAULT_SERVE_PORT;
  const fileBytesMax = options.fileBytesMax ?? DEFAULT_FILE_BYTES_MAX;
  if (typeof host !== 'string' || host.length === 0)
    throw new StoreServerError(`host must be a non-empty string, got ${JSON.stringify(host)}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new StoreServerError(`port must be an integer from 0 to 65535, got ${JSON.stringify(port)}`);
  if (!Number.isSafeInteger(fileBytesMax) || fileBytesMax < 1) {
    throw new StoreServerError(`fileBytesMax must be a positive integer, got ${JSON.stringify(options.fileBytesMax)}`);
  }
  if (typeof options.store !== 'string' || options.store.length === 0) {
    throw new StoreServerError(`store must be a folder path, got ${JSON.stringify(options.store)}`);
  }
  let root: string;
  try {
    root = await realpath(resolve(options.store));
    if (!(await stat(root)).isDirectory()) throw new StoreServerError(`the store ${JSON.stringify(options.store)} is not a folder`);
  } catch (error) {
    if (error instanceof StoreServerError) throw error;
    throw new StoreServerError(
      `no store at ${JSON.stringify(options.store)} (${(error as NodeJS.ErrnoException).code ?? String(error)}); run skepsis test first, or pass --store DIR`,
    );
  }
  const server = createServer((request, response) => {
    handle(root, fileBytesMax, request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', `internal error: ${String(error)}\n`);
      else response.destroy();
    });
  });
  await listen(server, port, host);
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    port: bound,
    url: `http://${shownHost}:${bound}/`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((done, fail) => {
    const onError = (error: Error) => fail(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      done();
    });
  });
}

/** What a request names: a path inside the store, or why not. */
type Resolved = { ok: true; segments: string[] } | { ok: false; status: number; reason: string };

/**
 * Splits the request path into decoded segments. Any `.` or `..` segment (whether written plainly,
 * percent-encoded or with encoded slashes), a NUL or a backslash is refused: such a path never
 * names a file of the store.
 */
export function resolveRequestPath(rawUrl: string | undefined): Resolved {
  const raw = (rawUrl ?? '/').split('?')[0].split('#')[0];
  if (raw.length > PATH_CHARS_MAX) return { ok: false, status: 414, reason: 'path too long' };
  if (!raw.startsWith('/')) return { ok: false, status: 400, reason: 'bad path' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return { ok: false, status: 400, reason: 'bad percent-encoding' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { ok: false, status: 403, reason: 'forbidden path' };
  const segments = decoded.split('/').filter((s) => s.length > 0);
  if (segments.some((s) => s === '.' || s === '..')) return { ok: false, status: 403, reason: 'forbidden path' };
  return { ok: true, segments };
}

async function handle(root: string, fileBytesMax: number, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    send(response, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n');
    return;
  }
  const resolved = resolveRequestPath(request.url);
  if (!resolved.ok) {
    send(response, resolved.status, 'text/plain; charset=utf-8', `${resolved.reason}\n`);
    return;
  }
  const { segments } = resolved;
  if (segments.length === 0) {
    send(response, 200, 'text/html; charset=utf-8', await renderIndex(root), request.method === 'HEAD');
    return;
  }
  const target = join(root, ...segments);
  // Symlinks are followed (`latest` is one), but the real path must stay inside the store.
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
    return;
  }
  if (real !== root && !real.startsWith(root + sep)) {
    send(response, 403, 'text/plain; charset=utf-8', 'outside the store\n');
    return;
  }
  const info = await stat(real);
  if (info.isDirectory()) {
    const path = (request.url ?? '/').split('?')[0];
    if (!path.endsWith('/')) {
      response.setHeader('Location', `${path}/`);
      send(response, 301, 'text/plain; charset=utf-8', 'moved\n');
      return;
    }
    send(response, 200, 'text/html; charset=utf-8', await renderFolder(real, segments), request.method === 'HEAD');
    return;
  }
  if (!info.isFile()) {
    send(response, 403, 'text/plain; charset=utf-8', 'not a regular file\n');
    return;
  }
  if (info.size > fileBytesMax) {
    send(
      response,
      413,
      'text/plain; charset=utf-8',
      `the file is ${info.size} bytes, over the ${fileBytesMax}-byte bound of this server\n`,
    );
    return;
  }
  const type = CONTENT_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream';
  response.writeHead(200, {
    'Content-Type': type,
    'Content-Length': info.size,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  await new Promise<void>((done, fail) => {
    const stream = createReadStream(real, { end: Math.max(0, info.size - 1) });
    stream.on('error', fail);
    response.on('close', () => {
      stream.destroy();
      done();
    });
    stream.pipe(response);
  });
}

function send(response: ServerResponse, status: number, type: string, body: string, headOnly = false): void {
  response.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
  });
  response.end(headOnly ? undefined : body);
}

// ---------------------------------------------------------------------------------------------
// The index

/** One run as the index shows it, read from its test.json and results.json. */
interface RunRow {
  name: string;
  href: string;
  latest: boolean;
  hasReport: boolean;
  valid: unknown;
  workload: string;
  nemesis: string;
  seed: string;
  startedAt: string;
  operations: string;
  elapsed: string;
  note: string;
}

async function renderIndex(root: string): Promise<string> {
  const tests = (await folders(root, root)).sort().slice(0, TESTS_LISTED_MAX);
  const sections: string[] = [];
  for (const test of tests) {
    const rows = await runsOf(root, test);
    sections.push(
      [
        `<h2><a href="${href([test])}/">${escapeHtml(test)}</a> <span class="dim">${rows.length} run${rows.length === 1 ? '' : 's'}</span></h2>`,
        rows.length === 0 ? '<p class="dim">no runs</p>' : runTable(rows),
      ].join('\n'),
    );
  }
  const body = sections.length === 0 ? '<p class="dim">The store is empty: run <code>skepsis test</code> first.</p>' : sections.join('\n');
  return page('Skepsis store', `<h1>Skepsis store</h1><p class="dim">${escapeHtml(root)}</p>${body}`);
}

async function runsOf(root: string, test: string): Promise<RunRow[]> {
  const testDir = join(root, test);
  let latestTarget: string | undefined;
  try {
    latestTarget = await realpath(join(testDir, 'latest'));
  } catch {
    latestTarget = undefined;
  }
  // Run folders are named by their start time, so newest first is reverse name order.
  const names = (await folders(root, testDir)).filter((name) => name !== 'latest');
  names.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  const rows: RunRow[] = [];
  for (const name of names.slice(0, RUNS_LISTED_MAX)) {
    const dir = join(testDir, name);
    const suite = await readSmallJson(join(dir, 'suite.json'));
    if (suite !== undefined) {
      rows.push(
        suiteRow(suite, name, href([test, name]), latestTarget !== undefined && (await realpath(dir).catch(() => dir)) === latestTarget),
      );
      continue;
    }
    const config = await readSmallJson(join(dir, 'test.json'));
    const results = await readSmallJson(join(dir, 'results.json'));
    const stats = field(results, 'stats');
    const hasReport = await isFile(join(dir, 'report.html'));
    rows.push({
      name,
      href: `${href([test, name])}/${hasReport ? 'report.html' : ''}`,
      latest: latestTarget !== undefined && (await realpath(dir).catch(() => dir)) === latestTarget,
      hasReport,
      valid: results === undefined ? undefined : field(results, 'valid'),
      workload: text(field(config, 'workload')),
      nemesis: text(field(config, 'nemesis')),
      seed: text(field(config, 'seed')),
      startedAt: text(field(config, 'startedAt')),
      operations: text(field(stats, 'operations')),
      elapsed: typeof field(results, 'elapsedMs') === 'number' ? `${((field(results, 'elapsedMs') as number) / 1000).toFixed(1)} s` : '',
      note:
        results === undefined
          ? 'no results.json (running, or interrupted before the check)'
          : field(results, 'interrupted') === true
            ? 'interrupted'
            : '',
    });
  }
  return rows;
}

/** A suite's folder (`skepsis suite`): its verdict from the exit code, its last line as the note. */
function suiteRow(suite: unknown, name: string, folder: string, latest: boolean): RunRow {
  const exitCode = field(suite, 'exitCode');
  const runs = field(suite, 'runs');
  return {
    name,
    href: `${folder}/suite.html`,
    latest,
    hasReport: true,
    valid: exitCode === 0 ? true : exitCode === 1 ? false : 'unknown',
    workload: 'suite',
    nemesis: `${Array.isArray(runs) ? runs.length : '?'} runs`,
    seed: '',
    startedAt: text(field(suite, 'startedAt')),
    operations: '',
    elapsed: typeof field(suite, 'elapsedMs') === 'number' ? `${((field(suite, 'elapsedMs') as number) / 1000).toFixed(1)} s` : '',
    note: text(field(suite, 'lastLine')),
  };
}

function runTable(rows: RunRow[]): string {
  const head =
    '<tr><th>run</th><th>verdict</th><th>workload</th><th>nemesis</th><th>seed</th><th>started</th><th>ops</th><th>took</th><th></th></tr>';
  const body = rows.map((row) => {
    const verdict =
      row.valid === true
        ? '<b class="ok">valid</b>'
        : row.valid === false
          ? '<b class="bad">INVALID</b>'
          : row.valid === 'unknown'
            ? '<b class="unknown">unknown</b>'
            : '<span class="dim">—</span>';
    const link = `<a href="${row.href}">${escapeHtml(row.name)}</a>${row.latest ? ' <span class="tag">latest</span>' : ''}${row.hasReport ? '' : ' <span class="dim">(no report)</span>'}`;
    return `<tr><td>${link}</td><td>${verdict}</td><td>${escapeHtml(row.workload)}</td><td>${escapeHtml(row.nemesis)}</td><td>${escapeHtml(row.seed)}</td><td>${escapeHtml(row.startedAt)}</td><td class="num">${escapeHtml(row.operations)}</td><td class="num">${escapeHtml(row.elapsed)}</td><td class="dim">${escapeHtml(row.note)}</td></tr>`;
  });
  return `<table>${head}${body.join('')}</table>`;
}

async function renderFolder(dir: string, segments: string[]): Promise<string> {
  let entries: Dirent[] = [];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    entries = [];
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const shown = entries.slice(0, ENTRIES_LISTED_MAX);
  const rows: string[] = [];
  for (const entry of shown) {
    let size = '';
    let folder = entry.isDirectory();
    try {
      const info = await stat(join(dir, entry.name));
      folder = info.isDirectory();
      size = folder ? '' : String(info.size);
    } catch {
      size = 'unreadable';
    }
    const name = `${entry.name}${folder ? '/' : ''}`;
    rows.push(
      `<tr><td><a href="${href([...segments, entry.name])}${folder ? '/' : ''}">${escapeHtml(name)}</a></td><td class="num">${escapeHtml(size)}</td></tr>`,
    );
  }
  const more = entries.length > shown.length ? `<p class="dim">${entries.length - shown.length} more entries not listed</p>` : '';
  const crumbs = [
    `<a href="/">store</a>`,
    ...segments.map((s, i) => `<a href="${href(segments.slice(0, i + 1))}/">${escapeHtml(s)}</a>`),
  ].join(' / ');
  return page(
    `Skepsis store: ${segments.join('/')}`,
    `<h1>${crumbs}</h1><table><tr><th>name</th><th>bytes</th></tr>${rows.join('')}</table>${more}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** The sub-folders of `dir`, symlinked ones only when they lead to a folder inside the store. */
async function folders(root: string, dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    const names: string[] = [];
    for (const entry of entries) {
      if (entry.isDirectory()) names.push(entry.name);
      else if (entry.isSymbolicLink() && (await insideFolder(root, join(dir, entry.name)))) names.push(entry.name);
    }
    return names;
  } catch {
    return [];
  }
}

async function insideFolder(root: string, path: string): Promise<boolean> {
  try {
    const real = await realpath(path);
    return (real === root || real.startsWith(root + sep)) && (await stat(real)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Parses a small JSON file; undefined when it is missing, too big or not JSON. */
async function readSmallJson(path: string): Promise<unknown> {
  try {
    const info = await lstat(path);
    if (!info.isFile() || info.size > SUMMARY_FILE_BYTES_MAX) return undefined;
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined;
}

function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return s.length > 120 ? `${s.slice(0, 119)}…` : s;
}

/** An absolute href for path segments, each percent-encoded. */
function href(segments: string[]): string {
  return `/${segments.map(encodeURIComponent).join('/')}`;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 20px 28px; color: #222; font-size: 14px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 22px 0 6px; }
table { border-collapse: collapse; } th, td { text-align: left; padding: 4px 14px 4px 0; border-bottom: 1px solid #eee; white-space: nowrap; }
th { color: #555; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
a { color: #1f5fa8; } .dim { color: #777; font-weight: 400; } code { background: #f2f2f2; padding: 0 4px; border-radius: 3px; }
.ok { color: #1a7f37; } .bad { color: #c62828; } .unknown { color: #a86400; }
.tag { background: #e3edf9; color: #1f5fa8; border-radius: 3px; padding: 0 5px; font-size: 12px; }
</style></head><body>
${body}
</body></html>
`;
}
