// The store server: the index lists tests and runs newest first with their verdicts, reports and
// files are served with their content types, nothing outside the store is reachable (`..` plain or
// encoded, symlinks leading out), unknown paths are 404, and `skepsis serve` prints its URL and
// stops on Ctrl-C.

import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRequestPath, startStoreServer, StoreServerError, type StoreServer } from '../../src/harness/serve.js';

const SECRET = 'TOP SECRET: outside the store';
const OLD_RUN = '20240501-120000-000';
const NEW_RUN = '20240502-090000-000';

let dir: string;
let store: string;
let server: StoreServer;

function writeRun(
  test: string,
  run: string,
  options: { valid?: unknown; seed: number; operations: number; report?: boolean; results?: boolean },
): void {
  const runDir = join(store, test, run);
  mkdirSync(join(runDir, 'nodes'), { recursive: true });
  writeFileSync(
    join(runDir, 'test.json'),
    JSON.stringify({ name: test, workload: 'register', nemesis: 'partition,kill', seed: options.seed, startedAt: `${run}Z` }),
  );
  if (options.results !== false) {
    writeFileSync(
      join(runDir, 'results.json'),
      JSON.stringify({ valid: options.valid, stats: { operations: options.operations }, elapsedMs: 12_345, interrupted: false }),
    );
  }
  if (options.report !== false)
    writeFileSync(join(runDir, 'report.html'), `<!doctype html><title>report ${run}</title><p>report of ${test}/${run}</p>`);
  writeFileSync(join(runDir, 'history.jsonl'), '{"index":0,"time":0,"process":0,"type":"invoke","f":"read"}\n');
  writeFileSync(join(runDir, 'nodes', 'n1.log'), `n1 started ${run}\n`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skepsis-serve-'));
  store = join(dir, 'store');
  writeRun('register-partition', OLD_RUN, { valid: true, seed: 1, operations: 1000 });
  writeRun('register-partition', NEW_RUN, { valid: false, seed: 2, operations: 2000 });
  symlinkSync(NEW_RUN, join(store, 'register-partition', 'latest'));
  writeRun('set-kill', OLD_RUN, { valid: 'unknown', seed: 3, operations: 30, report: false });
  writeRun('set-kill', NEW_RUN, { seed: 4, operations: 0, results: false, report: false });
  writeRun('<b>odd name', OLD_RUN, { valid: true, seed: 5, operations: 5 });
  // Things outside the store, and links leading to them.
  writeFileSync(join(dir, 'secret.txt'), SECRET);
  symlinkSync(join(dir, 'secret.txt'), join(store, 'register-partition', NEW_RUN, 'escape.txt'));
  symlinkSync(dir, join(store, 'outside'));
  server = await startStoreServer({ store, port: 0 });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw GET: the path is sent exactly as given (fetch would normalize `..` away). */
function get(path: string, method = 'GET'): Promise<{ status: number; type: string; body: string; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
          location: res.headers.location,
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer for ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

describe('startStoreServer', () => {
  it('binds 127.0.0.1 and lists every test with its runs, newest first, with verdict and facts', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.type).toBe('text/html; charset=utf-8');
    const body = index.body;
    for (const test of ['register-partition', 'set-kill']) expect(body).toContain(`<a href="/${test}/">${test}</a>`);
    // Newest first, each linking to its report.
    const newer = body.indexOf(`href="/register-partition/${NEW_RUN}/report.html"`);
    const older = body.indexOf(`href="/register-partition/${OLD_RUN}/report.html"`);
    expect(newer).toBeGreaterThan(0);
    expect(older).toBeGreaterThan(newer);
    expect(body).not.toContain('/register-partition/latest/');
    const newRow = body.slice(newer, body.indexOf('</tr>', newer));
    expect(newRow).toContain('<span class="tag">latest</span>');
    expect(newRow).toContain('<b class="bad">INVALID</b>');
    expect(newRow).toMatch(/<td>register<\/td><td>partition,kill<\/td><td>2<\/td>/);
    expect(newRow).toContain('<td class="num">2000</td><td class="num">12.3 s</td>');
    const oldRow = body.slice(older, body.indexOf('</tr>', older));
    expect(oldRow).toContain('<b class="ok">valid</b>');
    expect(oldRow).not.toContain('latest');
    // Runs without a report link to their folder; runs without results say so.
    expect(body).toContain(`href="/set-kill/${OLD_RUN}/">${OLD_RUN}</a> <span class="dim">(no report)</span>`);
    expect(body).toContain('<b class="unknown">unknown</b>');
    expect(body).toContain('no results.json');
    // Names from the disk are escaped, and encoded in links.
    expect(body).not.toContain('<b>odd name');
    expect(body).toContain('&lt;b&gt;odd name');
    expect(body).toContain('href="/%3Cb%3Eodd%20name/"');
    // A symlink leading out of the store is not listed.
    expect(body).not.toContain('outside');
  });

  it('serves reports, histories, results and logs with their content types, through the latest link too', async () => {
    const report = await get(`/register-partition/${NEW_RUN}/report.html`);
    expect(report).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(report.body).toContain(`report of register-partition/${NEW_RUN}`);
    const latest = await get('/register-partition/latest/report.html');
    expect(latest.body).toBe(report.body);
    expect(await get(`/register-partition/${OLD_RUN}/history.jsonl`)).toMatchObject({ status: 200, type: 'text/plain; charset=utf-8' });
    expect(await get(`/register-partition/${OLD_RUN}/nodes/n1.log`)).toMatchObject({
      status: 200,
      type: 'text/plain; charset=utf-8',
      body: `n1 started ${OLD_RUN}\n`,
    });
    const results = await get(`/register-partition/${OLD_RUN}/results.json`);
    expect(results.type).toBe('application/json; charset=utf-8');
    expect(JSON.parse(results.body).valid).toBe(true);
    const encoded = await get(`/%3Cb%3Eodd%20name/${OLD_RUN}/report.html`);
    expect(encoded.status).toBe(200);
    const head = await get(`/register-partition/${NEW_RUN}/report.html`, 'HEAD');
    expect(head).toMatchObject({ status: 200, body: '' });
  });

  it('lists a run folder, and redirects a folder path without its slash', async () => {
    const folder = await get(`/register-partition/${NEW_RUN}/`);
    expect(folder.status).toBe(200);
    for (const name of ['history.jsonl', 'nodes/', 'report.html', 'results.json', 'test.json'])
      expect(folder.body).toContain(`>${name}</a>`);
    expect(folder.body).toContain(`href="/register-partition/${NEW_RUN}/nodes/"`);
    const redirect = await get(`/register-partition/${NEW_RUN}`);
    expect(redirect.status).toBe(301);
    expect(redirect.location).toBe(`/register-partition/${NEW_RUN}/`);
  });

  it('rejects path traversal, plain or encoded, and symlinks leading out of the store', async () => {
    const attempts = [
      '/../secret.txt',
      '/register-partition/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      `/register-partition/${NEW_RUN}/..%2f..%2f..%2fsecret.txt`,
      '/..%5csecret.txt',
      '/.%2e/.%2e/secret.txt',
      `/register-partition/${NEW_RUN}/escape.txt`,
      '/outside/secret.txt',
      '/outside/',
      '/secret.txt%00.html',
    ];
    for (const path of attempts) {
      const answer = await get(path);
      expect([400, 403, 404], `${path} -> ${answer.status}`).toContain(answer.status);
      expect(answer.body, path).not.toContain(SECRET);
    }
    expect((await get(`/register-partition/${NEW_RUN}/escape.txt`)).status).toBe(403);
    expect((await get('/%2e%2e/secret.txt')).status).toBe(403);
    expect((await get('/%E0%A4%A')).status).toBe(400);
  });

  it('answers 404 for unknown paths and 405 for writes', async () => {
    expect((await get('/no-such-test/')).status).toBe(404);
    expect((await get(`/register-partition/${NEW_RUN}/no-such-file.html`)).status).toBe(404);
    const post = await get('/', 'POST');
    expect(post.status).toBe(405);
  });

  it('refuses a missing store and bad options, quoting them', async () => {
    await expect(startStoreServer({ store: join(dir, 'nope'), port: 0 })).rejects.toThrow(StoreServerError);
    await expect(startStoreServer({ store: join(dir, 'nope'), port: 0 })).rejects.toThrow(/no store at ".*nope"/);
    await expect(startStoreServer({ store, port: 70000 })).rejects.toThrow('port must be an integer from 0 to 65535, got 70000');
    await expect(startStoreServer({ store: join(dir, 'secret.txt'), port: 0 })).rejects.toThrow(/is not a folder/);
  });
});

describe('resolveRequestPath', () => {
  it('decodes segments and refuses dot segments however they are spelled', () => {
    expect(resolveRequestPath('/a/b%20c/d.html?x=1')).toEqual({ ok: true, segments: ['a', 'b c', 'd.html'] });
    expect(resolveRequestPath('/')).toEqual({ ok: true, segments: [] });
    for (const bad of ['/a/../b', '/a/%2e%2e/b', '/a%2f..%2fb', '/./a', '/a/%2E'])
      expect(resolveRequestPath(bad)).toMatchObject({ ok: false, status: 403 });
    expect(resolveRequestPath('/%zz')).toMatchObject({ ok: false, status: 400 });
  });
});

describe('skepsis serve', () => {
  it('prints its URL, serves the index, and stops on SIGINT with exit 0', async () => {
    const serveModule = fileURLToPath(new URL('../../src/cli/serve.ts', import.meta.url));
    // The command as main.ts registers it, run in its own process so Ctrl-C can be sent to it.
    const script = [
      "import yargs from 'yargs';",
      `const { serveCommand } = await import(${JSON.stringify(serveModule)});`,
      'let code = -1;',
      'const parser = yargs(process.argv.slice(1)).strict().exitProcess(false);',
      'serveCommand.register(parser, (c) => (code = c));',
      'await parser.parseAsync();',
      'process.exitCode = code;',
    ].join('\n');
    const child = execa(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, 'serve', '--store', store, '--port', '0'],
      {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        reject: false,
        timeout: 30_000,
        forceKillAfterDelay: 1000,
        cleanup: true,
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no URL printed within 20 s: ${out}`)), 20_000);
        child.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /skepsis serve: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
        child.catch(reject);
      });
      const index = await fetch(url);
      expect(index.status).toBe(200);
      expect(await index.text()).toContain('register-partition');
      child.kill('SIGINT');
      const result = await child;
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain('SIGINT; stopping');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
