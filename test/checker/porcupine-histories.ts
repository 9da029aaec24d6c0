// Locates Porcupine's test histories in the repository (test/fixtures/porcupine) and their known
// verdicts, as listed in that folder's README.md. Missing data is an error, never a skip.

import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** The checkout's root: the nearest folder above this file with a package.json (works from dist/ too). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the project root (package.json) above the tests');
    dir = parent;
  }
  return dir;
}

export const PORCUPINE_DIR = join(projectRoot(), 'test', 'fixtures', 'porcupine');

/** The etcd logs Porcupine's test-suite asserts linearizable; every other non-empty one is not. */
export const ETCD_LINEARIZABLE = new Set(
  '002 005 007 018 025 031 038 045 048 049 051 053 056 067 075 076 080 087 092 098 100 101 102'.split(' '),
);

export function etcdFiles(): { file: string; path: string; expected: boolean }[] {
  const dir = join(PORCUPINE_DIR, 'jepsen');
  if (!existsSync(dir)) throw new Error(`Porcupine histories not found at ${dir}: see test/fixtures/porcupine/README.md`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((file) => {
      const number = file.slice(5, 8);
      // etcd_095.log is empty: an empty history is linearizable.
      return { file, path: join(dir, file), expected: number === '095' || ETCD_LINEARIZABLE.has(number) };
    });
}

export function kvFiles(): { file: string; path: string; expected: boolean }[] {
  return ['c01-ok', 'c01-bad', 'c10-ok', 'c10-bad'].map((name) => ({
    file: `${name}.txt`,
    path: join(PORCUPINE_DIR, 'kv', `${name}.txt`),
    expected: name.endsWith('-ok'),
  }));
}
