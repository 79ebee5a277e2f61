/**
 * What a mining run was — command line, rare-mine version, retriever and its identity (analyzer or model), corpus,
 * index dir, options, timings — as the `run` section of --stats-json, which `rare-mine report` shows.
 * What must hold: only JSON scalars and lists of them, so the section round-trips; it never changes what is mined.
 */
import type { RetrieverDescription } from './retriever.js';

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
