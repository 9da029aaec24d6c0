// Text rendering of a check result for the terminal, and its JSON form for `--json`: the verdict,
// and for each failing part the longest linearizable prefix, the model state after it and the
// operations that could not come next, with why.

import type { CheckResult, PartResult } from './check.js';
import { describeOperation, type History, type Operation } from './history.js';
import type { Model } from './model.js';

/** How many prefix operations the text shows before eliding older ones. */
const PREFIX_SHOWN_MAX = 12;

export function verdictText(valid: CheckResult['valid']): string {
  return valid === true ? 'linearizable' : valid === false ? 'NOT linearizable' : 'unknown';
}

function timeText(op: Operation): string {
  const ret = op.ret === Infinity ? '∞' : String(op.ret);
  return `[${op.call}, ${ret}]`;
}

function describeWithProcess(model: Model<any>, op: Operation): string {
  return describeOperation(op, { body: (o) => model.describeOp(o) });
}

/** How a part is named in the text: by its key, or as the whole history when it has none. */
function partTitle(part: PartResult): string {
  return part.key === undefined ? 'the history' : `key ${JSON.stringify(part.key)}`;
}

/** Bytes in the largest binary unit that leaves at least 1, e.g. `1.5 GiB`, `640 KiB`. */
export function bytesText(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 || value >= 100 ? Math.round(value) : Number(value.toPrecision(3))} ${units[unit]}`;
}

function formatFailingPart(part: PartResult, byId: Operation[], model: Model<any>): string[] {
  const lines: string[] = [];
  lines.push(`  ${partTitle(part)}: not linearizable (${part.ops} ops, ${part.steps} steps)`);
  const prefix = part.longestPrefix ?? [];
  lines.push(`    longest linearizable prefix: ${prefix.length} ops`);
  const shown = prefix.slice(-PREFIX_SHOWN_MAX);
  if (prefix.length > shown.length) lines.push(`      ... ${prefix.length - shown.length} earlier ops`);
  const firstShown = prefix.length - shown.length;
  shown.forEach((id, i) => {
    const op = byId[id];
    lines.push(`      ${String(firstShown + i + 1).padStart(4)}. ${describeWithProcess(model, op)}  ${timeText(op)}`);
  });
  lines.push(`    state after the prefix: ${part.stateAfterPrefix ?? '?'}`);
  lines.push('    could not come next:');
  for (const stuck of part.stuck ?? []) {
    const op = byId[stuck.opId];
    const why =
      stuck.reason === 'illegal'
        ? `impossible in state ${part.stateAfterPrefix ?? '?'}`
        : `possible (state becomes ${stuck.stateAfter}), but no order of the remaining ops works after it`;
    lines.push(`      ${describeWithProcess(model, op)}  ${timeText(op)}: ${why}`);
  }
  return lines;
}

/** The human-readable result, several lines, ending without a newline. */
export function formatResultText(history: History, result: CheckResult, model: Model<any>): string {
  const lines: string[] = [];
  const where = `${result.ops} ops, ${result.parts} part${result.parts === 1 ? '' : 's'}, model ${result.model}`;
  lines.push(`${verdictText(result.valid)} (${where}, ${result.elapsedMs.toFixed(1)} ms)`);
  if (result.valid === false) {
    const byId = history.operations;
    for (const part of result.results.filter((r) => r.verdict === 'illegal')) lines.push(...formatFailingPart(part, byId, model));
  } else if (result.valid === 'unknown') {
    const reasons = new Set(result.results.filter((r) => r.verdict === 'unknown').map((r) => r.reason ?? 'stopped'));
    const shown = result.undecided.slice(0, 20).map((k) => JSON.stringify(k));
    const more = result.undecided.length > shown.length ? ` and ${result.undecided.length - shown.length} more` : '';
    lines.push(`  undecided (${[...reasons].join(', ') || 'budget'}): ${shown.join(', ')}${more}`);
    const overMemory = result.results.filter((r) => r.memory !== undefined);
    for (const part of overMemory.slice(0, 20)) {
      const { bytes, bytesMax, statesMax } = part.memory!;
      if (statesMax !== undefined) {
        lines.push(
          `  ${partTitle(part)}: over the ${statesMax.toLocaleString('en-US')} states one search can hold (it held ${bytesText(bytes)})`,
        );
        continue;
      }
      // Worker threads split the ceiling between them.
      const share =
        bytesMax < result.memoryBytesMax ? `, its share of ${bytesText(result.memoryBytesMax)} across ${result.workers} threads` : '';
      lines.push(
        `  ${partTitle(part)}: over the memory ceiling of ${bytesText(bytesMax)}${share} (the search would hold ${bytesText(bytes)})`,
      );
    }
  }
  return lines.join('\n');
}

/** The `--json` object: stable field names for scripts. */
export function resultJson(history: History, result: CheckResult, model: Model<any>): Record<string, unknown> {
  const byId = history.operations;
  const describe = (id: number) => ({
    id,
    process: byId[id].process,
    op: model.describeOp(byId[id]),
    call: byId[id].call,
    ret: byId[id].ret === Infinity ? null : byId[id].ret,
  });
  return {
    valid: result.valid,
    model: result.model,
    ops: result.ops,
    parts: result.parts,
    elapsedMs: Math.round(result.elapsedMs * 1000) / 1000,
    steps: result.steps,
    workers: result.workers,
    undecided: result.undecided,
    failures: result.results
      .filter((r) => r.verdict === 'illegal')
      .map((r) => ({
        key: r.key ?? null,
        longestPrefix: (r.longestPrefix ?? []).map(describe),
        stateAfterPrefix: r.stateAfterPrefix,
        stuck: (r.stuck ?? []).map((s) => ({ ...describe(s.opId), reason: s.reason, stateAfter: s.stateAfter ?? null })),
      })),
    unknownReasons: [...new Set(result.results.filter((r) => r.verdict === 'unknown').map((r) => r.reason))],
    overMemory: result.results
      .filter((r) => r.memory !== undefined)
      .map((r) => ({ key: r.key ?? null, bytes: r.memory!.bytes, bytesMax: r.memory!.bytesMax })),
  };
}
