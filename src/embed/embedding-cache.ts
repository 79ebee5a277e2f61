/**
 * The embedding cache: vectors on disk keyed by (model fingerprint, role, sha256 of the text), so a re-run
 * with other mining parameters embeds nothing again. One directory per model fingerprint holds two
 * append-only files written in step (layout in FORMAT.md beside this file): `keys.bin` (32-byte text
 * hashes) and `vectors.bin` (float32 rows, each with its CRC-32). What must hold: only whole records count
 * (a crash mid-append loses at most the records being written, never corrupts earlier ones); a vector is
 * returned only when its checksum verifies; one process writes at a time (`writer.lock`), others only read.
 * Only the keys live in memory (16 bytes of hash each); vectors are read back by position on a hit.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, ftruncateSync, onPath, openSync, readFileSync, readFullSync, rmSync, writeAllSync, writeFileSync } from '../io/fs.js';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { log } from '../log.js';
import type { EmbedRole } from './embedder.js';
import { processAlive } from '../io/lease-lock.js';
import { makeDirs } from '../io/make-dirs.js';

/** Format version of keys.bin and vectors.bin (FORMAT.md). */
export const EMBEDDING_CACHE_VERSION = 1;
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
}

/** An open cache directory: lookups by text key, appends of new vectors. */
export class EmbeddingCache {
  readonly stats: EmbeddingCacheStats = { hits: 0, misses: 0, recordsAtOpen: 0, corruptRecords: 0 };
  /** False when another process holds the writer lock: lookups work, new vectors are not stored. */
  readonly writable: boolean;
  private readonly index = new Map<string, number>();
  private readonly keysFd: number;
  private readonly vectorsFd: number;
  private readonly recordBytes: number;
  private records: number;
  private readonly lockPath: string;
  private closed = false;

  /**
   * Open (creating if needed) the cache directory of one model fingerprint.
   * @param dir e.g. embeddingCacheDir(fingerprint)
   * @param dims the model's dimensionality; a cache holding other dims is started afresh
   */
  constructor(readonly dir: string, readonly dims: number) {
    makeDirs(dir);
    this.recordBytes = dims * 4 + 4;
    this.lockPath = join(dir, 'writer.lock');
    this.writable = this.takeLock();
    const keysPath = join(dir, 'keys.bin');
    const vectorsPath = join(dir, 'vectors.bin');
    const flags = this.writable ? 'a+' : 'r';
    if (this.writable) this.resetIfUnusable(keysPath, vectorsPath);
    if (!this.writable && (!existsSync(keysPath) || !existsSync(vectorsPath))) {
      // Nothing to read yet and no right to create: behave as an empty read-only cache.
      this.keysFd = -1;
      this.vectorsFd = -1;
      this.records = 0;
      return;
    }
    this.keysFd = openSync(keysPath, flags);
    this.vectorsFd = openSync(vectorsPath, flags);
    if (this.writable && fstatSync(this.keysFd).size === 0) {
      writeAllSync(this.keysFd, header(KEY_MAGIC, dims), keysPath);
      writeAllSync(this.vectorsFd, header(VECTOR_MAGIC, dims), vectorsPath);
    }
    const keyRecords = Math.floor((fstatSync(this.keysFd).size - HEADER_BYTES) / HASH_BYTES);
    const vectorRecords = Math.floor((fstatSync(this.vectorsFd).size - HEADER_BYTES) / this.recordBytes);
    this.records = Math.max(0, Math.min(keyRecords, vectorRecords));
    if (this.writable) {
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
    log().debug({ dir, records: this.records, writable: this.writable }, 'embedding cache opened');
  }

  /** Number of vectors stored. */
  get size(): number {
    return this.records;
  }

  private takeLock(): boolean {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(this.lockPath, String(process.pid), { flag: 'wx' });
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number.parseInt(readFileSync(this.lockPath, 'utf8'), 10);
        if (Number.isInteger(holder) && processAlive(holder)) {
          log().warn({ dir: this.dir, pid: holder }, 'another writer holds this embedding cache; reading it only (new vectors will not be cached)');
          return false;
        }
        rmSync(this.lockPath, { force: true });
      }
    }
    return false;
  }

  private resetIfUnusable(keysPath: string, vectorsPath: string): void {
    if (!existsSync(keysPath) && !existsSync(vectorsPath)) return;
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
    if (problems.length === 0) return;
    log().warn({ dir: this.dir, problems }, 'embedding cache unusable; starting it afresh');
    rmSync(keysPath, { force: true });
    rmSync(vectorsPath, { force: true });
  }

  /** The cached vector for a key, or undefined (a miss, or a record whose checksum fails). */
  get(key: Buffer): Float32Array | undefined {
    const record = this.index.get(key.toString('latin1', 0, LOOKUP_KEY_BYTES));
    if (record === undefined) return undefined;
    const bytes = Buffer.alloc(this.recordBytes);
    readFullSync(this.vectorsFd, bytes, 0, this.recordBytes, HEADER_BYTES + record * this.recordBytes, join(this.dir, 'vectors.bin'));
    if ((crc32(bytes.subarray(0, this.dims * 4)) >>> 0) !== bytes.readUInt32LE(this.dims * 4)) {
      this.stats.corruptRecords++;
      this.index.delete(key.toString('latin1', 0, LOOKUP_KEY_BYTES));
      return undefined;
    }
    return new Float32Array(bytes.buffer, bytes.byteOffset, this.dims).slice();
  }

  /** Append vectors (one write per file); a no-op on a read-only cache. */
  putMany(keys: readonly Buffer[], vectors: readonly Float32Array[]): void {
    if (!this.writable || keys.length === 0) return;
    const keyBytes = Buffer.alloc(keys.length * HASH_BYTES);
    const vectorBytes = Buffer.alloc(keys.length * this.recordBytes);
    for (let i = 0; i < keys.length; i++) {
      if (vectors[i].length !== this.dims) throw new Error(`embedding cache: vector of ${vectors[i].length} dims, cache holds ${this.dims}`);
      keys[i].copy(keyBytes, i * HASH_BYTES);
      const at = i * this.recordBytes;
      const raw = Buffer.from(vectors[i].buffer, vectors[i].byteOffset, this.dims * 4);
      raw.copy(vectorBytes, at);
      vectorBytes.writeUInt32LE(crc32(raw) >>> 0, at + this.dims * 4);
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
    if (this.writable) rmSync(this.lockPath, { force: true });
  }
}
