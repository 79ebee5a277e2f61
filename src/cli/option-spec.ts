/**
 * How an option is declared and checked: value parsers that name the option, the value and the valid range, and
 * `spec`, which makes one commander Option whose check, choices, default and help come from one place. What must
 * hold: a value outside its range is a UsageError (exit 2) naming option, value and range.
 */
import { Argument, Command, Option } from 'commander';
import { UsageError } from '../errors.js';

// ---------------------------------------------------------------------------------------------------------------
// Value checks: each names the option, the value and the valid range.

/** A closed range of numbers; `integer` also requires a safe integer. */
export interface Range {
  min: number;
  max: number;
  integer: boolean;
}

function rangeText(range: Range): string {
  const kind = range.integer ? 'an integer' : 'a number';
  if (range.max === Number.POSITIVE_INFINITY || range.max === Number.MAX_SAFE_INTEGER) {
    return range.min === Number.NEGATIVE_INFINITY ? kind : `${kind} ≥ ${range.min}`;
  }
  return `${kind} in ${range.min}..${range.max}`;
}

/** Parse `value` for option `name` within `range`, or throw a UsageError saying what is allowed. */
export function parseInRange(name: string, range: Range, value: string): number {
  const n = value.trim() === '' ? Number.NaN : Number(value);
  const ok = range.integer ? Number.isSafeInteger(n) : Number.isFinite(n);
  if (!ok || n < range.min || n > range.max) {
    const unsafe = range.integer && range.max === Number.MAX_SAFE_INTEGER && Number.isInteger(n) && !Number.isSafeInteger(n);
    throw new UsageError(`${name} must be ${rangeText(range)}${unsafe ? ' and at most 2^53 − 1 (9007199254740991)' : ''}, got "${value}"`);
  }
  return n;
}

export const int = (min: number, max = Number.MAX_SAFE_INTEGER): Range => ({ min, max, integer: true });
export const num = (min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): Range => ({ min, max, integer: false });

/** A parser for commander: `integer('--depth', 1)`. */
export function integer(name: string, min: number, max?: number) {
  return (value: string): number => parseInRange(name, int(min, max), value);
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** A size in bytes: a number with an optional binary unit K, M, G or T ("512M", "2G"); at least `min` bytes. */
export function byteSize(name: string, min: number) {
  return (value: string): number => {
    const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(value.trim());
    const bytes = match ? Math.floor(Number(match[1]) * BYTE_UNITS[match[2].toUpperCase()]) : Number.NaN;
    if (!Number.isFinite(bytes) || bytes < min) throw new UsageError(`${name} must be a size ≥ ${min} bytes (e.g. 512M, 2G), got "${value}"`);
    return bytes;
  };
}

/** How many weights, in words ("two" for the BM25 and dense pair). */
function countWord(n: number): string {
  return ['no', 'one', 'two', 'three', 'four', 'five'][n] ?? String(n);
}

/** "1,0.5" → [1, 0.5]: one non-negative weight per fused ranking (`inputs`, in order), not all zero. */
export function parseWeights(inputs: readonly string[]) {
  return (value: string): number[] => {
    const weights = value.split(',').map((part) => (part.trim() === '' ? Number.NaN : Number(part.trim())));
    if (weights.length !== inputs.length || weights.some((w) => !Number.isFinite(w) || w < 0) || weights.every((w) => w === 0)) {
      const none = inputs.length === 2 ? 'not both 0' : 'not all 0';
      throw new UsageError(`--rrf-weights must be ${countWord(inputs.length)} non-negative numbers "${inputs.join(',').toUpperCase()}", ${none} (e.g. 1,0.5), got "${value}"`);
    }
    return weights;
  };
}

export function nonEmpty(name: string) {
  return (value: string): string => {
    if (value.length === 0) throw new UsageError(`${name} must not be empty`);
    return value;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Declaring an option.

interface Spec {
  /** What it does; the default and range are appended from the fields below. */
  help: string;
  range?: Range;
  choices?: readonly string[];
  default?: unknown;
  /** How the default reads in --help when it is not a plain value (e.g. "no limit", "all cores"). */
  defaultHelp?: string;
  parse?: (value: string) => unknown;
  required?: boolean;
  /** The option names a path the command reads or writes: the write gate (src/cli/path-plan.ts) checks it. */
  path?: PathDecl;
}

/**
 * What a path option or argument names, declared where the option is, so that the write gate
 * (src/cli/path-plan.ts, src/io/path-safety.ts) checks every path of every command from one table, and a new path
 * option is checked (and tested, test/slow/write-gate.test.ts) without anything else to edit.
 */
export interface PathDecl {
  role: 'read' | 'write';
  /**
   * file (default): one file. dir: a directory written into (its other contents left alone: --index-dir,
   * --colbert-dir, --cache-dir). tree: a directory whose files are read (a model dir): nothing may be written inside.
   */
  kind?: 'file' | 'dir' | 'tree';
  /** Values that are names, not paths (--stopwords lucene): only other values are files. */
  names?: readonly string[];
  /** How messages name it, for an argument ("input"); default: the short flag, else the long one, else the argument's name. */
  label?: string;
}

const PATH_DECLS = new WeakMap<Option | Argument, PathDecl>();

/** Declare that `target` (an option or a command argument) names a path read or written; returns it. */
export function declarePath<T extends Option | Argument>(target: T, decl: PathDecl): T {
  PATH_DECLS.set(target, decl);
  return target;
}

/** What `target` was declared to name, if it names a path. */
export function pathDeclOf(target: Option | Argument): PathDecl | undefined {
  return PATH_DECLS.get(target);
}

/** One Option from its spec: check, choices, default and help generated together. */
export function spec(flags: string, heading: string, s: Spec): Option {
  const name = (flags.match(/--[\w-]+/) ?? [flags])[0];
  const rangeHelp = s.range ? ` (${rangeText(s.range).replace(/^an? /, '')})` : '';
  const option = new Option(flags, `${s.help}${rangeHelp}`).helpGroup(heading);
  if (s.range) {
    const range = s.range;
    option.argParser((value: string) => parseInRange(name, range, value));
  } else if (s.parse) option.argParser(s.parse);
  else if (flags.includes('<')) option.argParser(nonEmpty(name));
  if (s.choices) option.choices(s.choices);
  if (s.default !== undefined) option.default(s.default, s.defaultHelp);
  else if (flags.includes('<') && !s.required) option.description = `${option.description} (default: ${s.defaultHelp ?? 'none'})`;
  if (s.required) option.makeOptionMandatory(true);
  if (s.path) declarePath(option, s.path);
  return option;
}

export function add(command: Command, options: Option[]): Command {
  for (const option of options) command.addOption(option);
  return command;
}

/**
 * Declare on `command` what `declare` declares, less the options it already has (by long flag): a command that
 * offers several retrievers (eval) gets each shared option (--lang, --threads) once, from the first declaration.
 */
export function addOptionsOnce(command: Command, declare: (scratch: Command) => void): Command {
  const scratch = new Command();
  declare(scratch);
  for (const option of scratch.options) {
    if (!command.options.some((existing) => existing.long === option.long)) command.addOption(option);
  }
  return command;
}
