/**
 * What a mining run was — command line, rare-mine version, retriever and its identity (analyzer or model), corpus,
 * index dir, options, timings — as the `run` section of --stats-json, which `rare-mine report` shows.
 * What must hold: only JSON scalars and lists of them, so the section round-trips; it never changes what is mined.
 * Read back by `rare-mine stats` and `report` (readRunStats), which take the keys and layout the run used from it.
 */
import { readFileSync } from '../io/fs.js';
import { InputError } from '../errors.js';
import { describe } from '../io/jsonl.js';
import type { RetrieverDescription } from '../retriever.js';
import type { StatisticsReport } from './statistics.js';

/** The `run` section of --stats-json. */
export interface RunInfo {
  /** The arguments after `rare-mine` (process.argv from the command on). */
  command: string[];
  version: string;
  /** ISO 8601, UTC. */
  started_at: string;
  retriever: string;
  /** The retriever's identity: analyzer and BM25 parameters, or model name, fingerprint and precision. */
  retriever_settings: RetrieverDescription;
  input: string;
  /** The -o file; null for stdout. */
  output: string | null;
  corpus: { source: string; documents: number };
  /** --index-dir; null for a temporary one. */
  index_dir: string | null;
  /** Every option the command received that has a value, by its camelCase name. */
  options: Record<string, string | number | boolean>;
  /** Seconds: index_seconds (open or build), mine_seconds, total_seconds. */
  timings: Record<string, number>;
}

export { rareMineVersion } from '../version.js';

/** The options that are JSON scalars (commander leaves unset ones undefined; lists are joined with commas). */
export function scalarOptions(options: object): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(options).sort((a, b) => a[0].localeCompare(b[0]))) {
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) out[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) out[key] = value.join(',');
  }
  return out;
}

/** A --stats-json file read back: the statistics, and the run section when a mining run wrote it. */
export type RunStats = Partial<StatisticsReport> & { run?: RunInfo };

/**
 * Read a --stats-json file (`option`: the flag that named it, for the hint). An InputError when it cannot be read,
 * is not JSON, or is not the statistics object a mining run (or `rare-mine stats --stats-json`) writes.
 */
export function readRunStats(file: string, option = '--stats-json'): RunStats {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(file, undefined, `cannot open (${(error as Error).message})`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(file, undefined, `malformed JSON (${(error as Error).message})`, { cause: error, hint: `${option} takes the file a mining run wrote with --stats-json` });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { records?: unknown }).records !== 'number') {
    throw new InputError(file, undefined, `expected the statistics object a mining run writes with --stats-json, found ${describe(value)}${typeof value === 'object' && value !== null && !Array.isArray(value) ? ' without "records"' : ''}`);
  }
  const run = (value as { run?: unknown }).run;
  if (run !== undefined && (typeof run !== 'object' || run === null || typeof (run as { options?: unknown }).options !== 'object' || (run as { options?: unknown }).options === null)) {
    throw new InputError(file, undefined, `its "run" section must be an object with "options", found ${describe(run)}`, { hint: `${option} takes the file a mining run wrote with --stats-json` });
  }
  return value as RunStats;
}
