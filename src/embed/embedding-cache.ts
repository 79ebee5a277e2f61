/**
 * The embedding cache: vectors on disk keyed by (model fingerprint, role, sha256 of the text), so a re-run
 * with other mining parameters embeds nothing again. One directory per model fingerprint holds two
 * append-only files written in step (layout in FORMAT.md beside this file): `keys.bin` (32-byte text
 * hashes) and `vectors.bin` (rows of the text hash they were written for and the float32 vector, with a CRC-32
 * of both). What must hold: only whole records count (a crash mid-append loses at most the records being
 * written, never corrupts earlier ones); a vector is returned only when its checksum verifies AND its row names
 * the key asked for (files that went out of step — two writers — give misses, logged, never another text's
 * vector); one process writes at a time, under `writer.lock`, a lease lock (src/io/lease-lock.ts: host, PID
 * namespace, heartbeat), so a run in another container sharing the cache volume only reads, and a writer whose
 * lock was taken over stops writing. Only the keys live in memory (16 bytes of hash each); vectors are read back
 * by position on a hit.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, ftruncateSync, onPath, openSync, readFullSync, rmSync, writeAllSync } from '../io/fs.js';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { log } from '../log.js';
import type { EmbedRole } from './embedder.js';
import { describeHolder, LeaseLock } from '../io/lease-lock.js';
import { makeDirs } from '../io/make-dirs.js';

/** Format version of keys.bin and vectors.bin (FORMAT.md). */
export const EMBEDDING_CACHE_VERSION = 2;
const HEADER_BYTES = 32;
const KEY_MAGIC = 'RMEMBKEY';
const VECTOR_MAGIC = 'RMEMBVEC';
const HASH_BYTES = 32;
/** Bytes of the hash kept in memory as the lookup key; 128 bits make a collision negligible. */
const LOOKUP_KEY_BYTES = 16;

/** sha256 of a text in a role: the cache key. Queries and documents get different prefixes, hence the role. */
export function textKey(role: EmbedRole, text: string): Buffer {
  return createHash('sha256').update(role === 'query' ? 'q\u0000' : 'd\u0000').update(text).digest();
}

function header(magic: string, dims: number): Buffer {
  const bytes = Buffer.alloc(HEADER_BYTES);
  bytes.write(magic, 0, 'latin1');
  bytes.writeUInt16LE(EMBEDDING_CACHE_VERSION, 8);
  bytes.writeUInt32LE(dims, 12);
  bytes.writeUInt32LE(crc32(bytes.subarray(0, 28)) >>> 0, 28);
  return bytes;
}

/** Why a header is not usable, or undefined when it is. */
function headerProblem(bytes: Buffer, magic: string, dims: number): string | undefined {
  if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 8) !== magic) return 'bad magic';
  if ((crc32(bytes.subarray(0, 28)) >>> 0) !== bytes.readUInt32LE(28)) return 'header checksum mismatch';
  const version = bytes.readUInt16LE(8);
  if (version !== EMBEDDING_CACHE_VERSION) return `format version ${version}, this rare-mine writes ${EMBEDDING_CACHE_VERSION}`;
  const storedDims = bytes.readUInt32LE(12);
  if (storedDims !== dims) return `holds ${storedDims}-d vectors, the model gives ${dims}`;
  return undefined;
}

/** Counters of one open cache. */
export interface EmbeddingCacheStats {
  hits: number;
  misses: number;
  /** Records found on disk at open. */
  recordsAtOpen: number;
  /** Records whose checksum failed (recomputed and appended again). */
  corruptRecords: number;
  /** Records whose row was written for another key (the files went out of step): misses, recomputed. */
  foreignRecords: number;
}

/** An open cache directory: lookups by text key, appends of new vectors. */
export class EmbeddingCache {
  readonly stats: EmbeddingCacheStats = { hits: 0, misses: 0, recordsAtOpen: 0, corruptRecords: 0, foreignRecords: 0 };
  /** False when another process holds the writer lock (or took it over): lookups work, new vectors are not stored. */
  private canWrite: boolean;
  private readonly lock?: LeaseLock;
  private readonly index = new Map<string, number>();
  private readonly keysFd: number;
  private readonly vectorsFd: number;
  private readonly recordBytes: number;
  private records: number;
  private closed = false;

  /**
   * Open (creating if needed) the cache directory of one model fingerprint.
   * @param dir e.g. embeddingCacheDir(fingerprint)
   * @param dims the model's dimensionality; a cache holding other dims is started afresh
   */
  constructor(readonly dir: string, readonly dims: number) {
    makeDirs(dir);
    this.recordBytes = HASH_BYTES + dims * 4 + 4;
    this.lock = this.takeLock(join(dir, 'writer.lock'));
    this.canWrite = this.lock !== undefined;
    const keysPath = join(dir, 'keys.bin');
    const vectorsPath = join(dir, 'vectors.bin');
    const flags = this.canWrite ? 'a+' : 'r';
    const problems = this.headerProblems(keysPath, vectorsPath);
    if (this.canWrite && problems.length > 0) {
      log().warn({ dir: this.dir, problems }, 'embedding cache unusable; starting it afresh');
      rmSync(keysPath, { force: true });
      rmSync(vectorsPath, { force: true });
    }
    if (!this.canWrite && (!existsSync(keysPath) || !existsSync(vectorsPath) || problems.length > 0)) {
      // Nothing this version can read, and no right to create or reset: behave as an empty read-only cache.
      this.keysFd = -1;
      this.vectorsFd = -1;
      this.records = 0;
      return;
    }
    this.keysFd = openSync(keysPath, flags);
    this.vectorsFd = openSync(vectorsPath, flags);
    if (this.canWrite && fstatSync(this.keysFd).size === 0) {
      writeAllSync(this.keysFd, header(KEY_MAGIC, dims), keysPath);
      writeAllSync(this.vectorsFd, header(VECTOR_MAGIC, dims), vectorsPath);
    }
    const keyRecords = Math.floor((fstatSync(this.keysFd).size - HEADER_BYTES) / HASH_BYTES);
    const vectorRecords = Math.floor((fstatSync(this.vectorsFd).size - HEADER_BYTES) / this.recordBytes);
    this.records = Math.max(0, Math.min(keyRecords, vectorRecords));
    if (this.canWrite) {
      // Drop a torn tail so the next append starts on a record boundary in both files.
      onPath(keysPath, () => ftruncateSync(this.keysFd, HEADER_BYTES + this.records * HASH_BYTES));
      onPath(vectorsPath, () => ftruncateSync(this.vectorsFd, HEADER_BYTES + this.records * this.recordBytes));
    }
    const keys = Buffer.alloc(this.records * HASH_BYTES);
    if (keys.length > 0) readFullSync(this.keysFd, keys, 0, keys.length, HEADER_BYTES, keysPath);
    for (let record = 0; record < this.records; record++) {
      this.index.set(keys.toString('latin1', record * HASH_BYTES, record * HASH_BYTES + LOOKUP_KEY_BYTES), record);
    }
    this.stats.recordsAtOpen = this.records;
    log().debug({ dir, records: this.records, writable: this.canWrite }, 'embedding cache opened');
  }

  /** Number of vectors stored. */
  get size(): number {
    return this.records;
  }

  /** Whether this process appends new vectors: it holds the writer lock. */
  get writable(): boolean {
    return this.canWrite;
  }

  /** The writer lock, or undefined (read only) when a live holder — on this host or any other — has it. */
  private takeLock(path: string): LeaseLock | undefined {
    const lock = LeaseLock.tryAcquire(path, `writing the embedding cache ${this.dir}`);
    if (lock instanceof LeaseLock) return lock;
    log().warn({ dir: this.dir, holder: describeHolder(lock) }, 'another writer holds this embedding cache; reading it only (new vectors will not be cached)');
    return undefined;
  }

  /** Why the files cannot be read as this version's (another version, dims or magic), or [] (also when both are absent). */
  private headerProblems(keysPath: string, vectorsPath: string): string[] {
    if (!existsSync(keysPath) && !existsSync(vectorsPath)) return [];
    const problems: string[] = [];
    for (const [path, magic] of [[keysPath, KEY_MAGIC], [vectorsPath, VECTOR_MAGIC]] as const) {
      if (!existsSync(path)) {
        problems.push(`${path} missing`);
        continue;
      }
      const fd = openSync(path, 'r');
      const bytes = Buffer.alloc(HEADER_BYTES);
      const n = readFullSync(fd, bytes, 0, HEADER_BYTES, 0, path);
      closeSync(fd);
      const problem = headerProblem(bytes.subarray(0, n), magic, this.dims);
      if (problem) problems.push(`${path}: ${problem}`);
    }
    return problems;
  }

  /**
   * The cached vector for a key, or undefined: a miss, a record whose checksum fails, or a row written for another
   * key (logged: the files went out of step, e.g. two writers appended at once).
   */
  get(key: Buffer): Float32Array | undefined {
    const lookup = key.toString('latin1', 0, LOOKUP_KEY_BYTES);
    const record = this.index.get(lookup);
    if (record === undefined) return undefined;
    const bytes = Buffer.alloc(this.recordBytes);
    const got = readFullSync(this.vectorsFd, bytes, 0, this.recordBytes, HEADER_BYTES + record * this.recordBytes, join(this.dir, 'vectors.bin'));
    const vectorEnd = HASH_BYTES + this.dims * 4;
    if (got < this.recordBytes || (crc32(bytes.subarray(0, vectorEnd)) >>> 0) !== bytes.readUInt32LE(vectorEnd)) {
      this.stats.corruptRecords++;
      this.index.delete(lookup);
      return undefined;
    }
    if (!bytes.subarray(0, HASH_BYTES).equals(key.subarray(0, HASH_BYTES))) {
      if (this.stats.foreignRecords++ === 0) log().warn({ dir: this.dir, record }, 'embedding cache: a row was written for another text (keys.bin and vectors.bin out of step); treated as a miss');
      this.index.delete(lookup);
      return undefined;
    }
    return new Float32Array(bytes.buffer, bytes.byteOffset + HASH_BYTES, this.dims).slice();
  }

  /**
   * Append vectors (one write per file); a no-op on a read-only cache, and on one whose writer lock another process
   * took over (this one stops writing: the files are that writer's now).
   */
  putMany(keys: readonly Buffer[], vectors: readonly Float32Array[]): void {
    if (!this.canWrite || keys.length === 0) return;
    if (!this.lock!.stillHeld()) {
      this.canWrite = false;
      log().warn({ dir: this.dir }, 'embedding cache: another process took over its writer lock; new vectors are no longer stored');
      return;
    }
    const keyBytes = Buffer.alloc(keys.length * HASH_BYTES);
    const vectorBytes = Buffer.alloc(keys.length * this.recordBytes);
    for (let i = 0; i < keys.length; i++) {
      if (vectors[i].length !== this.dims) throw new Error(`embedding cache: vector of ${vectors[i].length} dims, cache holds ${this.dims}`);
      keys[i].copy(keyBytes, i * HASH_BYTES);
      const at = i * this.recordBytes;
      // The row names the key it was written for; the CRC covers the key and the floats.
      keys[i].copy(vectorBytes, at, 0, HASH_BYTES);
      Buffer.from(vectors[i].buffer, vectors[i].byteOffset, this.dims * 4).copy(vectorBytes, at + HASH_BYTES);
      const vectorEnd = at + HASH_BYTES + this.dims * 4;
      vectorBytes.writeUInt32LE(crc32(vectorBytes.subarray(at, vectorEnd)) >>> 0, vectorEnd);
    }
    // Vectors first: a crash between the two writes leaves vectors without keys, which open() drops.
    writeAllSync(this.vectorsFd, vectorBytes, join(this.dir, 'vectors.bin'));
    writeAllSync(this.keysFd, keyBytes, join(this.dir, 'keys.bin'));
    for (let i = 0; i < keys.length; i++) this.index.set(keys[i].toString('latin1', 0, LOOKUP_KEY_BYTES), this.records + i);
    this.records += keys.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.keysFd >= 0) closeSync(this.keysFd);
    if (this.vectorsFd >= 0) closeSync(this.vectorsFd);
    this.lock?.release();
  }
}

