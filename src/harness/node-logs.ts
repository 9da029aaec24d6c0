// The node-log check: like Jepsen's log-file-pattern checker, it scans every node's log for lines in
// which a node reports a broken Raft invariant (SAFETY_VIOLATION_MARKER). Such a line fails the run
// even when no client happened to observe the damage in the history.

import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SAFETY_VIOLATION_MARKER } from '../node/errors.js';

/** Lines kept in results.json (the count covers them all). */
const MATCHES_KEPT = 20;
/** A longer line is cut to this many characters in results.json. */
const LINE_CHARS_MAX = 500;

export interface NodeLogCheck {
  /** False when some node reported a safety violation. */
  valid: boolean;
  pattern: string;
  count: number;
  /** The first matches, in node order. */
  matches: { node: string; line: string }[];
  /** Why the scan did not run (a target whose nodes write no such lines). */
  skipped?: string;
}

/** Scans `<run>/nodes/<id>.log` (every incarnation of each node appends to its file). */
export async function checkNodeLogs(runDir: string): Promise<NodeLogCheck> {
  const dir = join(runDir, 'nodes');
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith('.log'))
        .sort()
    : [];
  const matches: NodeLogCheck['matches'] = [];
  let count = 0;
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(join(dir, file), 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.includes(SAFETY_VIOLATION_MARKER)) continue;
      count++;
      if (matches.length < MATCHES_KEPT) matches.push({ node: file.slice(0, -'.log'.length), line: line.slice(0, LINE_CHARS_MAX) });
    }
  }
  return { valid: count === 0, pattern: SAFETY_VIOLATION_MARKER, count, matches };
}
