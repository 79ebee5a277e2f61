/**
 * Model fingerprints: sha256 over the ONNX graph's bytes, tokenizer.json's bytes and every setting that
 * changes a vector (pooling, prefixes, max length). What must hold: equal fingerprints mean equal vectors
 * for equal texts, so the embedding cache and index manifests can trust them.
 * File digests are remembered in `<cache root>/file-digests.json` by (real path, size, mtime), so a
 * 1 GB model is hashed once, not on every run.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from '../io/fs.js';
import { dirname, join } from 'node:path';
import { log } from '../log.js';
import type { ModelDirConfig } from './model-dir.js';
import { rareMineCacheRoot } from './cache-paths.js';
import { checkModelFile } from './model-files.js';
import { makeDirs } from '../io/make-dirs.js';

interface DigestMemoEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** Hex sha256 of a file's bytes, streamed. */
export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 22);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n <= 0) break;
      hash.update(chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

function memoPath(): string {
  return join(rareMineCacheRoot(), 'file-digests.json');
}

/**
 * sha256 of a model file, from the memo when the file's size and mtime are unchanged.
 * @throws ModelError when the file is not a regular file within its bound (model-files.ts)
 */
export function memoizedFileDigest(path: string): string {
  const { realPath } = checkModelFile(path);
  const stat = statSync(realPath);
  let memo: Record<string, DigestMemoEntry> = {};
  try {
    memo = JSON.parse(readFileSync(memoPath(), 'utf8')) as Record<string, DigestMemoEntry>;
  } catch {
    // No memo yet, or an unreadable one: it is only a cache, start afresh.
  }
  const known = memo[realPath];
  if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs) return known.sha256;
  const started = performance.now();
  const sha256 = sha256File(realPath);
  log().debug({ path: realPath, bytes: stat.size, ms: Math.round(performance.now() - started) }, 'hashed model file');
  memo[realPath] = { size: stat.size, mtimeMs: stat.mtimeMs, sha256 };
  try {
    makeDirs(dirname(memoPath()));
    const partial = `${memoPath()}.${process.pid}.partial`;
    writeFileSync(partial, JSON.stringify(memo));
    renameSync(partial, memoPath());
  } catch (cause) {
    log().debug({ err: cause }, 'could not save the file digest memo');
  }
  return sha256;
}

/** The settings besides the files that a fingerprint covers. */
export interface FingerprintSettings {
  pooling: string;
  queryPrefix: string;
  docPrefix: string;
  maxLength: number;
  normalize: boolean;
}

/** Hex sha256 over the ONNX graph, tokenizer.json and the settings of a model directory. */
export function modelFingerprint(config: ModelDirConfig): string {
  const settings: FingerprintSettings = {
    pooling: config.pooling,
    queryPrefix: config.queryPrefix,
    docPrefix: config.docPrefix,
    maxLength: config.maxLength,
    normalize: true,
  };
  return createHash('sha256')
    .update('rare-mine-model-fingerprint-v1\n')
    .update(`onnx ${memoizedFileDigest(config.onnxPath)}\n`)
    .update(`tokenizer ${memoizedFileDigest(config.tokenizerPath)}\n`)
    .update(JSON.stringify(settings))
    .digest('hex');
}
