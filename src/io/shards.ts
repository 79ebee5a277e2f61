/**
 * `--shard I/N`: shard I of N (0-based) takes a contiguous byte range of the input, cut at line starts, so the
 * shards' outputs concatenated in shard order (`rare-mine merge`) equal one run over the whole input, byte for
 * byte. Line numbers stay those of the whole file (the range's first line number is counted), so errors,
 * rejects and seeded sampling are the same as in a single run. Each shard's output gets a sidecar saying which
 * run and shard wrote it and what it wrote (size, lines, SHA-256), so `merge` can refuse anything else.
 */
import { fstatSync, readFileSync, readSync } from './fs.js';
import { fileErrorFrom, InputError, UsageError } from '../errors.js';
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

/**
 * The sidecar at `path`, checked to be one: JSON, an object of this version, every field of the type `merge` uses
 * (a sidecar holding `null`, a list or a field of another type is an InputError naming it, exit 1; another version
 * a UsageError saying to mine again).
 */
export function readShardSidecar(path: string): ShardSidecar {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw fileErrorFrom(error, path) ?? error;
  }
  const hint = 'mine that shard again with --resume (or delete its output and mine it again) to rewrite it';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InputError(path, undefined, 'the shard sidecar is not valid JSON', { cause, hint });
  }
  const kind = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value;
  if (kind !== 'object') throw new InputError(path, undefined, `the shard sidecar holds ${kind}, not the object a --shard run writes`, { hint });
  const sidecar = value as Record<string, unknown>;
  const own = (key: string) => (Object.hasOwn(sidecar, key) ? sidecar[key] : undefined);
  if (own('format') !== 'rare-mine-shard' || own('version') !== SHARD_SIDECAR_VERSION) {
    throw new UsageError(`${path}: a shard sidecar of format ${String(own('format') ?? 'unknown')} version ${String(own('version') ?? 'unknown')}; this rare-mine merges version ${SHARD_SIDECAR_VERSION}`, {
      hint: 'mine every shard again with this rare-mine',
    });
  }
  const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const range = own('range') as Record<string, unknown> | undefined;
  const fingerprint = own('fingerprint') as Record<string, unknown> | undefined;
  const problems = [
    ...(['shard', 'bytes', 'lines', 'records', 'rejected'] as const).filter((key) => !isCount(own(key))).map((key) => `"${key}" is not a count`),
    ...(Number.isSafeInteger(own('of')) && (own('of') as number) >= 1 ? [] : ['"of" is not a shard count']),
    ...(['run', 'sha256'] as const).filter((key) => typeof own(key) !== 'string').map((key) => `"${key}" is not a string`),
    ...(isObject(range) && isCount(range!.startByte) && isCount(range!.endByte) ? [] : ['"range" is not a byte range']),
    ...(isObject(fingerprint) && isObject(fingerprint!.input) && isCount((fingerprint!.input as Record<string, unknown>).bytes) ? [] : ['"fingerprint" is not a run fingerprint']),
  ];
  if (problems.length > 0) throw new InputError(path, undefined, `not a shard sidecar rare-mine wrote: ${problems.join(', ')}`, { hint });
  return sidecar as unknown as ShardSidecar;
}

export function writeShardSidecar(
  output: string,
  written: Pick<ShardSidecar, 'fingerprint' | 'range' | 'bytes' | 'lines' | 'sha256' | 'records' | 'rejected'> & { shard: Shard },
): void {
  const { shard, ...rest } = written;
  const sidecar: ShardSidecar = { format: 'rare-mine-shard', version: SHARD_SIDECAR_VERSION, shard: shard.index, of: shard.count, run: runDigest(written.fingerprint), ...rest };
  writeFileAtomically(shardSidecarPath(output), JSON.stringify(sidecar, null, 2) + '\n', `${shardSidecarPath(output)}.new`);
}
