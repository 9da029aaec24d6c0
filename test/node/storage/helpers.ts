// Shared helpers for the storage tests: temporary data directories, entries, and one comparable view
// of any Storage (so DiskStorage can be checked against MemoryStorage as a model).

import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Storage } from '../../../src/raft/storage.js';
import type { Entry } from '../../../src/raft/types.js';

const encoder = new TextEncoder();

export const CONFIGURATION = { voters: ['n1', 'n2', 'n3'] };

/** Temporary directories made by this test file; `removeTempDirs` deletes them. */
const made: string[] = [];

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'skepsis-storage-'));
  made.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** A copy of `dir` in a fresh temporary directory: the disk as a kill -9 at this moment would leave it. */
export async function copyDir(dir: string): Promise<string> {
  const copy = await tempDir();
  await cp(dir, copy, { recursive: true });
  return copy;
}

export function entry(index: number, term: number, text = `e${index}t${term}`): Entry {
  return { index, term, data: encoder.encode(text) };
}

export function entries(first: number, last: number, term: number, text?: (index: number) => string): Entry[] {
  const list: Entry[] = [];
  for (let index = first; index <= last; index++) list.push(entry(index, term, text?.(index)));
  return list;
}

/** Segment file paths in order. */
export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'wal')))
    .filter((name) => name.endsWith('.wal'))
    .sort()
    .map((name) => join(dir, 'wal', name));
}

export async function snapshotFiles(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'snap'))).sort();
}

const hex = (data: Uint8Array): string => Buffer.from(data).toString('hex');

/** Everything the core can read from a Storage, as plain data for toEqual. */
export function view(storage: Storage): unknown {
  const first = storage.firstIndex();
  const last = storage.lastIndex();
  const held = last >= first ? storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER) : [];
  const terms: unknown[] = [];
  for (let index = Math.max(0, first - 2); index <= last + 1; index++) terms.push(storage.term(index));
  const snapshot = storage.snapshot();
  return {
    initialState: storage.initialState(),
    first,
    last,
    terms,
    entries: held === 'compacted' ? held : held.map((e) => ({ index: e.index, term: e.term, data: hex(e.data) })),
    snapshot: { metadata: snapshot.metadata, data: hex(snapshot.data) },
  };
}
