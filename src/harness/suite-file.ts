// The suite file of `skepsis suite` (JSON) and the built-in presets: a named matrix of tests, each
// with the options of `skepsis test` (kebab-case, as the flags are spelled) and the seeds it runs
// with. Validates the file's shape field by field; the values themselves are checked by the same
// code as `skepsis test`'s flags (src/cli/test.ts buildTestConfig).

/** One test of the matrix: `skepsis test` options by flag name, plus `name` and `seeds` or `runs`. */
export interface SuiteTestSpec {
  name: string;
  /** Explicit seeds: one run each. */
  seeds?: number[];
  /** Or this many runs, with seeds drawn from the suite's seed. Default 1. */
  runs?: number;
  nodes?: number;
  workload?: string;
  'workload-opt'?: Record<string, string>;
  nemesis?: string;
  'nemesis-interval'?: number;
  'time-limit'?: number;
  concurrency?: number;
  'unsafe-bug'?: string[];
  'node-arg'?: string[];
  db?: string;
  'db-opt'?: Record<string, string>;
  'db-spec'?: string;
  net?: string;
  bin?: string;
  'bin-arg'?: string[];
  'op-timeout-ms'?: number;
  'check-timeout'?: number;
}

export interface SuiteSpec {
  name: string;
  /** Seconds the whole suite may take (`--time-budget` overrides). */
  'time-budget'?: number;
  /**
   * Fit each test's faults to the store under test: leave out the fault kinds its target or net
   * cannot carry out (saying so) instead of refusing the suite, and leave out a test none of whose
   * faults remain. The presets set it, so one suite runs on every store.
   */
  adapt?: boolean;
  tests: SuiteTestSpec[];
}

/** A suite file that is not what it should be; the message names the file, the field and what was expected. */
export class SuiteFileError extends Error {
  override readonly name = 'SuiteFileError';
}

const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,60}$/;
const RUNS_MAX = 1000;

type FieldKind = 'string' | 'number' | 'integer' | 'string[]' | 'integer[]' | 'options';
const TEST_FIELDS: Record<keyof SuiteTestSpec, FieldKind> = {
  name: 'string',
  seeds: 'integer[]',
  runs: 'integer',
  nodes: 'integer',
  workload: 'string',
  'workload-opt': 'options',
  nemesis: 'string',
  'nemesis-interval': 'number',
  'time-limit': 'number',
  concurrency: 'integer',
  'unsafe-bug': 'string[]',
  'node-arg': 'string[]',
  db: 'string',
  'db-opt': 'options',
  'db-spec': 'string',
  net: 'string',
  bin: 'string',
  'bin-arg': 'string[]',
  'op-timeout-ms': 'number',
  'check-timeout': 'number',
};
const SUITE_FIELDS = ['name', 'time-budget', 'adapt', 'tests'];

const KIND_TEXT: Record<FieldKind, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  'string[]': 'an array of strings',
  'integer[]': 'an array of integers',
  options: 'an object of name: value (string, number or boolean)',
};

function kindMatches(kind: FieldKind, value: unknown): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isSafeInteger(value);
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'integer[]':
      return Array.isArray(value) && value.every((v) => Number.isSafeInteger(v));
    case 'options':
      return (
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.values(value).every((v) => ['string', 'number', 'boolean'].includes(typeof v))
      );
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a parsed suite's shape; `source` names it in messages (the file's path, or `preset NAME`).
 * Returns the suite with `workload-opt` and `db-opt` values turned into strings.
 */
export function validateSuite(value: unknown, source: string): SuiteSpec {
  const fail = (field: string, message: string): never => {
    throw new SuiteFileError(`${source}: ${field}: ${message}`);
  };
  if (!isObject(value)) fail('(top level)', `expected an object {"name", "tests": [...]}, got ${describe(value)}`);
  const suite = value as Record<string, unknown>;
  for (const key of Object.keys(suite))
    if (!SUITE_FIELDS.includes(key)) fail(key, `unknown field; the allowed fields are ${SUITE_FIELDS.join(', ')}`);
  if (typeof suite.name !== 'string' || !NAME_PATTERN.test(suite.name))
    fail('name', `expected a string of 1 to 60 letters, digits, "_", "." or "-", got ${describe(suite.name)}`);
  const budget = suite['time-budget'];
  if (budget !== undefined && (typeof budget !== 'number' || !(budget > 0) || budget > 7 * 24 * 3600))
    fail('time-budget', `expected a number of seconds from 1 to 604800, got ${describe(budget)}`);
  if (suite.adapt !== undefined && typeof suite.adapt !== 'boolean') fail('adapt', `expected true or false, got ${describe(suite.adapt)}`);
  if (!Array.isArray(suite.tests) || suite.tests.length === 0)
    fail('tests', `expected a non-empty array of tests, got ${describe(suite.tests)}`);
  const names = new Set<string>();
  const tests = (suite.tests as unknown[]).map((test, index) => {
    const at = `tests[${index}]`;
    if (!isObject(test)) return fail(at, `expected an object, got ${describe(test)}`);
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(test)) {
      const kind = (TEST_FIELDS as Record<string, FieldKind>)[key];
      if (kind === undefined) fail(`${at}.${key}`, `unknown field; the allowed fields are ${Object.keys(TEST_FIELDS).join(', ')}`);
      if (!kindMatches(kind, field)) fail(`${at}.${key}`, `expected ${KIND_TEXT[kind]}, got ${describe(field)}`);
      out[key] = kind === 'options' ? Object.fromEntries(Object.entries(field as object).map(([k, v]) => [k, String(v)])) : field;
    }
    if (typeof out.name !== 'string' || !NAME_PATTERN.test(out.name))
      fail(`${at}.name`, `expected a string of 1 to 60 letters, digits, "_", "." or "-", got ${describe(out.name)}`);
    if (names.has(out.name as string)) fail(`${at}.name`, `"${String(out.name)}" is the name of an earlier test too; names must differ`);
    names.add(out.name as string);
    if (out.seeds !== undefined && out.runs !== undefined) fail(at, 'give either "seeds" or "runs", not both');
    if (out.seeds !== undefined) {
      const seeds = out.seeds as number[];
      if (seeds.length === 0 || seeds.length > RUNS_MAX) fail(`${at}.seeds`, `expected 1 to ${RUNS_MAX} seeds, got ${seeds.length}`);
      if (seeds.some((s) => s < 0 || s > 2 ** 32 - 1)) fail(`${at}.seeds`, `expected seeds from 0 to ${2 ** 32 - 1}`);
    }
    if (out.runs !== undefined && ((out.runs as number) < 1 || (out.runs as number) > RUNS_MAX))
      fail(`${at}.runs`, `expected an integer from 1 to ${RUNS_MAX}, got ${String(out.runs)}`);
    return out as unknown as SuiteTestSpec;
  });
  return {
    name: suite.name as string,
    ...(budget !== undefined ? { 'time-budget': budget as number } : {}),
    ...(suite.adapt !== undefined ? { adapt: suite.adapt as boolean } : {}),
    tests,
  };
}

/** Parses a suite file's text (JSON); errors name the file and, for a syntax error, the line. */
export function parseSuiteText(text: string, path: string): SuiteSpec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const line = position ? text.slice(0, Number(position[1])).split('\n').length : undefined;
    throw new SuiteFileError(`${path}${line !== undefined ? `:${line}` : ''}: not valid JSON: ${message}`);
  }
  return validateSuite(value, path);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}
