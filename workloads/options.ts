// Workload options: each workload lists its options (kind, default, bounds, one line of help), and
// one validator fills in defaults and rejects bad values with a message quoting them. No I/O.

/** One option of a workload. Numbers are bounded; the default must satisfy the bounds. */
export interface OptionSpec<O extends object = Record<string, unknown>> {
  /** The option's name in the options object (camelCase); `--kebab-case` on the command line. */
  name: keyof O & string;
  kind: 'integer' | 'number' | 'string';
  default: number | string;
  /** Inclusive bounds for numbers. */
  min?: number;
  max?: number;
  summary: string;
}

/** A bad workload name or option value; the message names the value and what is allowed. CLI exit 254. */
export class WorkloadOptionsError extends Error {
  override readonly name = 'WorkloadOptionsError';
}

/** `rateOpsPerSecond` -> `rate-ops-per-second`. */
export function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `rate-ops-per-second` -> `rateOpsPerSecond`. */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The full options object: `given` checked against `specs` (unknown names, wrong kinds, out of
 * bounds all throw WorkloadOptionsError), defaults for what is missing. Names may be camelCase or
 * kebab-case; numbers may be given as decimal text (from the command line).
 */
export function resolveOptions<O extends object>(
  workload: string,
  specs: readonly OptionSpec<O>[],
  given: Partial<O> | Record<string, unknown> | undefined,
): O {
  const byName = new Map<string, OptionSpec<O>>(specs.map((spec) => [spec.name, spec]));
  const resolved: Record<string, unknown> = {};
  for (const spec of specs) resolved[spec.name] = spec.default;
  for (const [rawName, rawValue] of Object.entries(given ?? {})) {
    const name = camelCase(rawName);
    const spec = byName.get(name);
    if (spec === undefined) {
      const allowed = specs.map((s) => kebabCase(s.name)).join(', ') || '(none)';
      throw new WorkloadOptionsError(`workload ${workload} has no option "${rawName}" (allowed: ${allowed})`);
    }
    if (rawValue === undefined) continue;
    resolved[name] = checkValue(workload, spec, rawValue);
  }
  return resolved as O;
}

function checkValue<O extends object>(workload: string, spec: OptionSpec<O>, raw: unknown): number | string {
  const flag = `--${kebabCase(spec.name)}`;
  if (spec.kind === 'string') {
    if (typeof raw !== 'string' || raw === '') {
      throw new WorkloadOptionsError(`workload ${workload}: ${flag} must be a non-empty string, got ${JSON.stringify(raw)}`);
    }
    return raw;
  }
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  const what = spec.kind === 'integer' ? 'an integer' : 'a number';
  const bounds = describeBounds(spec);
  if (typeof value !== 'number' || !Number.isFinite(value) || (spec.kind === 'integer' && !Number.isInteger(value))) {
    throw new WorkloadOptionsError(`workload ${workload}: ${flag} must be ${what}${bounds}, got ${JSON.stringify(raw)}`);
  }
  if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
    throw new WorkloadOptionsError(`workload ${workload}: ${flag} must be ${what}${bounds}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function describeBounds(spec: { min?: number; max?: number }): string {
  if (spec.min !== undefined && spec.max !== undefined) return ` from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return ` >= ${spec.min}`;
  if (spec.max !== undefined) return ` <= ${spec.max}`;
  return '';
}

/** One line per option, for `--help`. */
export function describeOptions(specs: readonly OptionSpec<any>[]): string[] {
  return specs.map((spec) => `--${kebabCase(spec.name)} (${spec.kind}${describeBounds(spec)}, default ${spec.default}): ${spec.summary}`);
}

/** Throws unless some weight is > 0: a workload whose weights are all 0 could never issue an op. */
export function requireSomeWeight(workload: string, weights: Record<string, number>): void {
  if (Object.values(weights).some((weight) => weight > 0)) return;
  const flags = Object.keys(weights).map((name) => `--${kebabCase(name)}`);
  throw new WorkloadOptionsError(`workload ${workload}: at least one of ${flags.join(', ')} must be > 0, got all 0`);
}
