// The fast path of `skepsis check`: bin/skepsis.cjs runs a plain check from one bundled CommonJS file
// with a V8 code cache (dist/checker/check-cli.cjs, written by src/build/check-bundle.ts in the
// pretest build). It must answer exactly as the ES modules do, and the bin must fall back to the
// modules whenever the bundle is missing, stale or turned off.

import { execa } from 'execa';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PORCUPINE_DIR } from '../checker/porcupine-histories.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'skepsis.cjs');
const BUNDLE = join(ROOT, 'dist', 'checker', 'check-cli.cjs');
const EXAMPLE = join(ROOT, 'checker', 'examples', 'stale-read.jsonl');

const TEMP = mkdtempSync(join(tmpdir(), 'skepsis-bundle-'));
afterAll(() => rmSync(TEMP, { recursive: true, force: true }));

function run(bin: string, args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [bin, ...args], { reject: false, timeout: 60_000, env: { ...process.env, FORCE_COLOR: '0', ...env } });
}

/** Elapsed times are the only thing two runs of one check may print differently. */
function maskTimes(text: string): string {
  return text.replace(/\d+(\.\d+)? ms\b/g, 'T ms').replace(/"elapsedMs":[\d.]+/g, '"elapsedMs":T');
}

describe('the check bundle', () => {
  const badLine = join(TEMP, 'bad-line.jsonl');
  writeFileSync(badLine, `${readFileSync(EXAMPLE, 'utf8').split('\n')[0]}\n{"process": 1, "type": "invoke"\n`);
  const cases: [string, string[]][] = [
    ['an invalid history', [EXAMPLE]],
    ['an invalid history, as JSON', [EXAMPLE, '--json']],
    ['a valid etcd log', [join(PORCUPINE_DIR, 'jepsen/etcd_002.log')]],
    ['a valid kv history in parallel workers', [join(PORCUPINE_DIR, 'kv/c10-ok.txt'), '--workers', '2', '--json']],
    ['an invalid kv history', [join(PORCUPINE_DIR, 'kv/c01-bad.txt')]],
    ['a missing file', [join(TEMP, 'nope.jsonl')]],
    ['a malformed line', [badLine]],
    ['an unknown model', [EXAMPLE, '--model', 'nope']],
    ['help, which the full CLI answers', ['--help']],
  ];
  it.each(cases)('answers %s as the modules do', async (_name, args) => {
    const [bundled, modules] = await Promise.all([
      run(BIN, ['check', ...args]),
      run(BIN, ['check', ...args], { SKEPSIS_NO_CHECK_BUNDLE: '1' }),
    ]);
    expect(bundled.exitCode, bundled.stderr).toBe(modules.exitCode);
    expect(maskTimes(bundled.stdout)).toBe(maskTimes(modules.stdout));
    expect(maskTimes(bundled.stderr)).toBe(maskTimes(modules.stderr));
    // Not vacuous: each case says something.
    expect(`${bundled.stdout}${bundled.stderr}`).not.toBe('');
  });

  it('writes the same HTML page as the modules do', async () => {
    const [a, b] = [join(TEMP, 'bundled.html'), join(TEMP, 'modules.html')];
    const bundled = await run(BIN, ['check', EXAMPLE, '--html', a]);
    const modules = await run(BIN, ['check', EXAMPLE, '--html', b], { SKEPSIS_NO_CHECK_BUNDLE: '1' });
    expect([bundled.exitCode, modules.exitCode]).toEqual([1, 1]);
    expect(maskTimes(readFileSync(a, 'utf8'))).toBe(maskTimes(readFileSync(b, 'utf8')));
  });

  it('comes with a code cache that this Node.js accepts', async () => {
    // As bin/skepsis.cjs compiles it, in a fresh process (V8 rejects a cache made with other flags).
    const probe = [
      "const vm = require('node:vm'), fs = require('node:fs'), Module = require('node:module');",
      `const file = ${JSON.stringify(BUNDLE)};`,
      "const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData: fs.readFileSync(file + '.cache') });",
      'process.stdout.write(String(script.cachedDataRejected));',
    ].join('\n');
    const result = await execa(process.execPath, ['-e', probe], { reject: false });
    expect(result.stdout, result.stderr).toBe('false');
  });
});

describe('bin/skepsis.cjs', () => {
  /** A copy of the bin beside a fake bundle and fake modules that say which of them ran. */
  function fakeInstall(): { bin: string; bundle: string; plainCheckJs: string } {
    const root = mkdtempSync(join(TEMP, 'install-'));
    for (const dir of ['bin', 'dist/checker', 'dist/src/cli']) mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
    const bin = join(root, 'bin', 'skepsis.cjs');
    copyFileSync(BIN, bin);
    const plainCheckJs = join(root, 'dist', 'src', 'cli', 'plain-check.js');
    writeFileSync(plainCheckJs, '// built from the same sources as the bundle\n');
    writeFileSync(
      join(root, 'dist', 'src', 'cli', 'main.js'),
      "export async function run(argv) { process.stdout.write(`modules ${argv.join(' ')}`); return 5; }\n",
    );
    const bundle = join(root, 'dist', 'checker', 'check-cli.cjs');
    writeFileSync(
      bundle,
      "exports.plainCheck = (args) => args[0] === '--help' ? undefined : Promise.resolve(process.stdout.write(`bundle ${args.join(' ')}`) && 6);\n",
    );
    // The bundle is built after the modules.
    const past = new Date(Date.now() - 60_000);
    utimesSync(plainCheckJs, past, past);
    return { bin, bundle, plainCheckJs };
  }

  it('runs a plain check from the bundle, and anything else from the modules', async () => {
    const { bin } = fakeInstall();
    const check = await run(bin, ['check', 'h.jsonl']);
    expect([check.stdout, check.exitCode]).toEqual(['bundle h.jsonl', 6]);
    const help = await run(bin, ['check', '--help']);
    expect([help.stdout, help.exitCode]).toEqual(['modules check --help', 5]);
    const test = await run(bin, ['test', '--nodes', '3']);
    expect([test.stdout, test.exitCode]).toEqual(['modules test --nodes 3', 5]);
  });

  it('uses the modules when the bundle is turned off, stale or missing', async () => {
    const off = fakeInstall();
    expect((await run(off.bin, ['check', 'h.jsonl'], { SKEPSIS_NO_CHECK_BUNDLE: '1' })).stdout).toBe('modules check h.jsonl');

    const stale = fakeInstall();
    const future = new Date(Date.now() + 60_000);
    utimesSync(stale.plainCheckJs, future, future);
    expect((await run(stale.bin, ['check', 'h.jsonl'])).stdout).toBe('modules check h.jsonl');

    const missing = fakeInstall();
    rmSync(missing.bundle);
    expect((await run(missing.bin, ['check', 'h.jsonl'])).stdout).toBe('modules check h.jsonl');
  });

  it('says to build when the compiled CLI is missing (exit 254), and a crash while loading is exit 3', async () => {
    const unbuilt = fakeInstall();
    rmSync(join(unbuilt.bin, '..', '..', 'dist'), { recursive: true });
    const result = await run(unbuilt.bin, ['check', 'h.jsonl']);
    expect(result.exitCode).toBe(254);
    expect(result.stderr).toContain('the compiled CLI is missing (dist/)');

    const broken = fakeInstall();
    writeFileSync(broken.bundle, "throw new Error('a bug while loading');\n");
    const crashed = await run(broken.bin, ['check', 'h.jsonl']);
    expect(crashed.exitCode).toBe(3);
    expect(crashed.stderr).toContain('skepsis: internal error, no verdict (exit 3): Error: a bug while loading');
  });
});
