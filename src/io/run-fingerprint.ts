/**
 * The run fingerprint: what makes two runs (or a run and its resumption, or the shards of one run) write the same
 * bytes — the input's identity (absolute path, size, SHA-256 of its first and last MiB), every option that
 * changes output bytes, the identity of the index build (the corpus fingerprint its doc store manifest records),
 * the shard, and the rare-mine version. The resume journal, and through its checksums the partial output, carry
 * it (src/io/journal.ts); so does each shard's sidecar (`rare-mine merge` compares them).
 * Options are in the fingerprint unless listed in NOT_OUTPUT_OPTIONS: an option added later counts by default.
 */
import { createHash } from 'node:crypto';
import { fstatSync, readSync } from './fs.js';
import { resolve } from 'node:path';
import { withInputFile } from './line-reader.js';

/** Options that never change the bytes written (paths of side files, resources, logging, resume itself). */
export const NOT_OUTPUT_OPTIONS: Record<string, string> = {
  output: 'where the output goes, not what it holds',
  resume: 'how the run starts',
  shard: 'compared on its own (the `shard` field)',
  threads: 'speed only: search is exact and deterministic',
  batchSize: 'speed only: sampling is seeded by record line, not by batch',
  statsJson: 'a side file',
  rejects: 'a side file (each shard may have its own)',
  indexDir: 'where the index lives; its identity is the `index` field',
  corpus: 'the corpus path; its content is the `index` field',
  rebuild: 'whether the index is rebuilt; its content is the `index` field',
  logLevel: 'logging',
  logFormat: 'logging',
  debug: 'logging',
  progress: 'progress display',
};

const SAMPLE_BYTES = 1 << 20;

export interface InputIdentity {
  path: string;
  bytes: number;
  /** SHA-256 of the first and the last MiB (the whole file when it is at most 2 MiB). */
  headTailSha256: string;
}

export interface RunFingerprint {
  rareMine: string;
  command: string;
  input: InputIdentity;
  options: Record<string, unknown>;
  index: Record<string, unknown>;
  /** "I/N", or null for an unsharded run. */
  shard: string | null;
}

/** @throws InputError when the input cannot be opened (as reading it would) */
export function inputIdentity(path: string): InputIdentity {
  return withInputFile(path, (fd) => {
    const bytes = fstatSync(fd).size;
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(SAMPLE_BYTES);
    const ranges = bytes <= 2 * SAMPLE_BYTES ? [[0, bytes]] : [[0, SAMPLE_BYTES], [bytes - SAMPLE_BYTES, bytes]];
    for (const [start, end] of ranges) {
      for (let at = start; at < end; ) {
        const n = readSync(fd, buffer, 0, Math.min(buffer.length, end - at), at);
        if (n <= 0) break;
        hash.update(buffer.subarray(0, n));
        at += n;
      }
    }
    return { path: resolve(path), bytes, headTailSha256: hash.digest('hex') };
  });
}

/** The options that change output bytes, keys sorted, undefined values dropped. */
export function outputOptions(options: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(options)
      .filter(([key, value]) => !(key in NOT_OUTPUT_OPTIONS) && value !== undefined && typeof value !== 'function')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

/** Digest of everything but the shard: equal for every shard of one run. */
export function runDigest(fingerprint: RunFingerprint): string {
  const { shard: _shard, ...run } = fingerprint;
  void _shard;
  return createHash('sha256').update(JSON.stringify(run)).digest('hex');
}

/**
 * "--num-neg: 5 then, 2 now" for each field of `sections` that differs; empty when they are the same run.
 * `labels` name the two sides ("then"/"now" for a resume, the two files for merge).
 */
export function fingerprintDifferences(
  before: RunFingerprint,
  now: RunFingerprint,
  sections: (keyof RunFingerprint)[] = ['rareMine', 'command', 'input', 'options', 'index', 'shard'],
  labels: [string, string] = ['then', 'now'],
): string[] {
  const show = (value: unknown) => (value === undefined ? '(not set)' : JSON.stringify(value));
  const differences: string[] = [];
  for (const section of sections) {
    const a = before[section];
    const b = now[section];
    if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
      for (const key of keys) {
        const x = (a as Record<string, unknown>)[key];
        const y = (b as Record<string, unknown>)[key];
        if (JSON.stringify(x) === JSON.stringify(y)) continue;
        const name = section === 'options' ? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : `${section} ${key}`;
        differences.push(`${name}: ${show(x)} ${labels[0]}, ${show(y)} ${labels[1]}`);
      }
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      differences.push(`${section === 'rareMine' ? 'rare-mine version' : section}: ${show(a)} ${labels[0]}, ${show(b)} ${labels[1]}`);
    }
  }
  return differences;
}
