/**
 * `--shard I/N`: shard I of N (0-based) takes a contiguous byte range of the input, cut at line starts, so the
 * shards' outputs concatenated in shard order (`rare-mine merge`) equal one run over the whole input, byte for
 * byte. Line numbers stay those of the whole file (the range's first line number is counted), so errors,
 * rejects and seeded sampling are the same as in a single run. Each shard's output gets a sidecar saying which
 * run and shard wrote it and what it wrote (size, lines, SHA-256), so `merge` can refuse anything else.
 */
import { fstatSync, readSync } from './fs.js';
import { UsageError } from '../errors.js';
import { runDigest, type RunFingerprint } from './run-fingerprint.js';
import { withInputFile } from './line-reader.js';
import { writeFileAtomically } from './output.js';

export interface Shard {
  index: number;
  count: number;
}

export function parseShard(value: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!match) throw new UsageError(`--shard must look like I/N (e.g. 0/4), got "${value}"`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index >= count) throw new UsageError(`--shard ${value}: I must be in 0..N-1 (shards are 0-based)`);
  return { index, count };
}

export interface ShardRange {
  startByte: number;
  endByte: number;
  /** 1-based line number of the line at startByte. */
  startLine: number;
}

/** The first line start at or after `offset` (0 stays 0). */
function lineStartAtOrAfter(fd: number, offset: number, size: number): number {
  if (offset <= 0) return 0;
  if (offset >= size) return size;
  const buffer = Buffer.allocUnsafe(1 << 16);
  let at = offset - 1;
  while (at < size) {
    const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - at), at);
    if (n <= 0) break;
    const nl = buffer.subarray(0, n).indexOf(0x0a);
    if (nl !== -1) return at + nl + 1;
    at += n;
  }
  return size;
}

function countLines(fd: number, end: number): number {
  const buffer = Buffer.allocUnsafe(1 << 20);
  let lines = 0;
  for (let at = 0; at < end; ) {
    const n = readSync(fd, buffer, 0, Math.min(buffer.length, end - at), at);
    if (n <= 0) break;
    let from = 0;
    for (;;) {
      const nl = buffer.indexOf(0x0a, from);
      if (nl === -1 || nl >= n) break;
      lines++;
      from = nl + 1;
    }
    at += n;
  }
  return lines;
}

/** @throws InputError when the input cannot be opened */
export function shardRange(path: string, shard: Shard): ShardRange {
  return withInputFile(path, (fd) => {
    const size = fstatSync(fd).size;
    const startByte = lineStartAtOrAfter(fd, Math.floor((size * shard.index) / shard.count), size);
    const endByte = lineStartAtOrAfter(fd, Math.floor((size * (shard.index + 1)) / shard.count), size);
    return { startByte, endByte: Math.max(startByte, endByte), startLine: countLines(fd, startByte) + 1 };
  });
}

/** Format of the sidecar `<output>.shard.json` a `--shard` run writes beside its output (read by `rare-mine merge`). */
export const SHARD_SIDECAR_VERSION = 2;

export interface ShardSidecar {
  format: 'rare-mine-shard';
  version: number;
  shard: number;
  of: number;
  /** Everything but the shard is the same for every shard of one run (src/io/run-fingerprint.ts). */
  fingerprint: RunFingerprint;
  /** runDigest(fingerprint): compared across shards. */
  run: string;
  /** The input bytes this shard covered: shard I ends where shard I+1 starts. */
  range: ShardRange & { endByte: number };
  /** Size, newline count and SHA-256 of the output as the run wrote it. */
  bytes: number;
  lines: number;
  sha256: string;
  records: number;
  rejected: number;
}

export function shardSidecarPath(output: string): string {
  return `${output}.shard.json`;
}

export function writeShardSidecar(
  output: string,
  written: Pick<ShardSidecar, 'fingerprint' | 'range' | 'bytes' | 'lines' | 'sha256' | 'records' | 'rejected'> & { shard: Shard },
): void {
  const { shard, ...rest } = written;
  const sidecar: ShardSidecar = { format: 'rare-mine-shard', version: SHARD_SIDECAR_VERSION, shard: shard.index, of: shard.count, run: runDigest(written.fingerprint), ...rest };
  writeFileAtomically(shardSidecarPath(output), JSON.stringify(sidecar, null, 2) + '\n', `${shardSidecarPath(output)}.new`);
}
