// `skepsis check` as a user runs it: the real binary (compiled by `npm test`'s pretest build),
// exit codes 0/1/2/254, text and JSON output, the HTML file, and clear errors for bad input.

import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PORCUPINE_DIR } from '../checker/porcupine-histories.js';

const BIN = fileURLToPath(new URL('../../bin/skepsis.cjs', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../checker/examples/stale-read.jsonl', import.meta.url));

function skepsis(...args: string[]) {
  return execa('node', [BIN, ...args], { reject: false, timeout: 60_000 });
}

/** One folder for this file's temporary inputs and outputs, removed when its tests end. */
const TEMP = mkdtempSync(join(tmpdir(), 'skepsis-cli-'));
afterAll(() => rmSync(TEMP, { recursive: true, force: true }));

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(TEMP, 'case-')), name);
  writeFileSync(path, text);
  return path;
}

describe('skepsis check', () => {
  it('finds the bundled example not linearizable and explains why (exit 1)', async () => {
    const result = await skepsis('check', EXAMPLE);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^NOT linearizable \(6 ops, 1 part, model cas-register/);
    expect(result.stdout).toContain('could not come next:');
    expect(result.stdout).toMatch(/p2 read -> 2 .*impossible in state 3/);
    expect(result.stderr).toContain('model cas-register chosen from the operations');
  });

  it('says linearizable with exit 0 and prints one JSON object with --json', async () => {
    const result = await skepsis('check', join(PORCUPINE_DIR, 'jepsen/etcd_002.log'), '--json');
    expect(result.exitCode).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({ valid: true, model: 'cas-register', ops: 77, parts: 1, format: 'porcupine-etcd', failures: [] });
    expect(typeof json.elapsedMs).toBe('number');
  });

  it('answers unknown (exit 2) when the time budget runs out', async () => {
    const result = await skepsis('check', join(PORCUPINE_DIR, 'jepsen/etcd_080.log'), '--timeout', '0.000001', '--json');
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ valid: 'unknown', undecided: ['part 0'], unknownReasons: ['timeout'] });
  });

  it('answers unknown (exit 2) when a part would pass the memory ceiling, naming the part and the ceiling', async () => {
    // 3,900 puts one after another on key "big", each a new value: the search's tables (a state and
    // a cached configuration per put) would grow past 256 KiB; key "small" is decided.
    const events = ['big', 'small'].flatMap((key) =>
      Array.from({ length: key === 'big' ? 3900 : 3 }, (_, i) => [
        { process: key, type: 'invoke', f: 'put', key, value: `v${i}` },
        { process: key, type: 'ok', f: 'put', key, value: `v${i}` },
      ]).flat(),
    );
    const history = tempFile('puts.jsonl', events.map((event, index) => JSON.stringify({ index, ...event })).join('\n'));
    const result = await skepsis('check', history, '--model', 'kv-cas', '--memory', '0.25');
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stdout).toMatch(/^unknown \(3903 ops, 2 parts, model kv-cas/);
    expect(result.stdout).toContain('undecided (memory): "big"');
    expect(result.stdout).toMatch(/key "big": over the memory ceiling of 256 KiB \(the search would hold [\d.]+ (KiB|MiB)\)/);
  });

  it('checks a kv history split by key and writes the HTML view', async () => {
    const html = join(mkdtempSync(join(TEMP, 'html-')), 'view.html');
    const result = await skepsis('check', join(PORCUPINE_DIR, 'kv/c10-bad.txt'), '--html', html);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^NOT linearizable \(\d+ ops, 10 parts, model kv/);
    expect(result.stdout).toMatch(/key "\d": not linearizable/);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/i);
    expect(page).toContain('NOT linearizable');
  });

  it('rejects a malformed history with the file and line (exit 254, no verdict)', async () => {
    const bad = tempFile(
      'bad.jsonl',
      '{"index":0,"process":0,"type":"invoke","f":"read"}\n{"index":1,"process":0,"type":"okay","f":"read"}\n',
    );
    const result = await skepsis('check', bad);
    expect(result.exitCode).toBe(254);
    expect(result.stderr).toContain(`${bad}:2: field "type" must be one of invoke, ok, fail, info, got "okay"`);
    expect(result.stdout).toBe('');
  });

  it('rejects operations the model does not know, naming the line', async () => {
    const history = tempFile(
      'kv.jsonl',
      '{"index":0,"process":0,"type":"invoke","f":"get","key":"a"}\n{"index":1,"process":0,"type":"ok","f":"get","key":"a","value":"x"}\n',
    );
    const result = await skepsis('check', history, '--model', 'register');
    expect(result.exitCode).toBe(254);
    expect(result.stderr).toContain(`${history}:1: operation "get" is not one model register understands (expected one of: read, write)`);
  });

  it('rejects bad flags naming the allowed values (exit 254)', async () => {
    const model = await skepsis('check', EXAMPLE, '--model', 'queue');
    expect(model.exitCode).toBe(254);
    expect(model.stderr).toMatch(
      /--model must be one of register, cas-register, kv, kv-cas, got "queue"|Argument: model, Given: "queue", Choices: "register", "cas-register", "kv", "kv-cas"/,
    );
    const unknownFlag = await skepsis('check', EXAMPLE, '--tiemout', '5');
    expect(unknownFlag.exitCode).toBe(254);
    expect(unknownFlag.stderr).toMatch(/Unknown argument: tiemout/);
    const timeout = await skepsis('check', EXAMPLE, '--timeout', '-1');
    expect(timeout.exitCode).toBe(254);
    expect(timeout.stderr).toContain('--timeout must be a non-negative number, got -1');
    const missing = await skepsis('check', '/nonexistent/history.jsonl');
    expect(missing.exitCode).toBe(254);
    expect(missing.stderr).toContain('/nonexistent/history.jsonl:0: cannot read the file: ENOENT');
  });

  it('uses --init for the initial value', async () => {
    const history = tempFile(
      'init.jsonl',
      '{"index":0,"process":0,"type":"invoke","f":"read"}\n{"index":1,"process":0,"type":"ok","f":"read","value":0}\n',
    );
    expect((await skepsis('check', history)).exitCode).toBe(1);
    expect((await skepsis('check', history, '--init', '0')).exitCode).toBe(0);
  });

  it('shows every option with --help (exit 0)', async () => {
    const result = await skepsis('check', '--help');
    expect(result.exitCode).toBe(0);
    for (const flag of ['--model', '--init', '--format', '--timeout', '--memory', '--workers', '--html', '--json', '--split']) {
      expect(result.stdout).toContain(flag);
    }
  });
});

describe('skepsis convert', () => {
  it('exports a history to Jepsen EDN that checks the same', async () => {
    const out = join(mkdtempSync(join(TEMP, 'edn-')), 'history.edn');
    const converted = await skepsis('convert', join(PORCUPINE_DIR, 'jepsen/etcd_040.log'), '--to', 'jepsen-edn', '--out', out);
    expect(converted.exitCode).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^\[\{:index 0, :time 0, :process \d+, :type :invoke, :f :\w+/);
    // The etcd log's failed cas carry cas_mismatch, which the EDN keeps as :error.
    const checked = await skepsis('check', out, '--model', 'cas-register', '--json');
    expect(JSON.parse(checked.stdout).valid).toBe(false);
  });
});
