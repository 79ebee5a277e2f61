/**
 * The BM25 part's on-disk format, in one place for the writer (index-writer.ts) and the reader (index-reader.ts):
 * file names, container kinds, format versions, the manifest, and the byte layout of each file (FORMAT.md beside
 * this file draws it). What must hold: no other module knows an offset in these files; encode and decode here are
 * exact inverses, and the bytes are those of format version 1 (test/index-format-compat.test.ts opens an index
 * written before this module existed).
 *
 *   terms.bin     TERM  u32 T | u32 0 | f64 postingStart[T+1] | f64 idf[T] | f32 maxImpact[T] | u32 termByteOffset[T+1] | term bytes
 *   postings.bin  POST  u32 doc[P] | code[P], each W bytes (version 3; versions 1 and 2: f32 impact[P])
 *   impacts.bin   IMPT  u32 T | u32 W | f64 tableStart[T+1] | f32 impactTable[tableStart[T]]   (version 3)
 *   lengths.bin   DLEN  u32 analyzedLength[N]
 *   bounds.bin    BNDS  u32 T | u32 windowCount | u32 rows | u32 0 | f64 blockStart[T+1] | f32 blockMax[B] | f32 minImpact[T]
 *                       | i32 windowRow[T] | f32 windowMax[rows·windowCount] | u32 windowFirst[rows·windowCount]   (version 2)
 */
import { join } from 'node:path';
import { IndexError } from '../errors.js';
import { ContainerReader, ContainerWriter, type ContainerVersions } from '../storage/container.js';
import { readPartManifest } from '../storage/manifest.js';
import { sharedArray } from './term-dictionary.js';
import type { PostingBounds } from './max-score.js';
import type { CodeArray, ImpactCodes } from './impact-codes.js';

/**
 * Format version written, and the oldest read. Version 2 added bounds.bin; an index of version 1 gets its bound
 * tables computed at open instead. Version 3 stores impact codes and per-term tables (impact-codes.ts) instead of
 * float32 impacts; an index of version 1 or 2 gets its codes made at open from its impacts.
 */
export const BM25_VERSIONS: ContainerVersions = { current: 3, oldestReadable: 1 };

/** The first format version with bounds.bin. */
export const BOUNDS_SINCE_VERSION = 2;

/** The first format version with impact codes (postings.bin) and impact tables (impacts.bin). */
export const CODES_SINCE_VERSION = 3;

/** The manifest's "format" value. */
export const BM25_MANIFEST_FORMAT = 'rare-mine-bm25';

/** Each file of the part: its name and container kind. */
export const BM25_FILES = {
  terms: { name: 'terms.bin', kind: 'TERM' },
  postings: { name: 'postings.bin', kind: 'POST' },
  lengths: { name: 'lengths.bin', kind: 'DLEN' },
  bounds: { name: 'bounds.bin', kind: 'BNDS' },
  impacts: { name: 'impacts.bin', kind: 'IMPT' },
} as const;

export interface Bm25Manifest {
  format: typeof BM25_MANIFEST_FORMAT;
  version: number;
  /** Identity of this build, also in the header of terms.bin, postings.bin and lengths.bin. */
  buildId: string;
  /** The build id of the doc store (docs/) whose ordinals this index uses. */
  docsBuildId: string;
  k1: number;
  b: number;
  variant: string;
  analyzer: string;
  docCount: number;
  averageDocLength: number;
  termCount: number;
  postingCount: number;
  corpusFingerprint: string;
  createdAt: string;
}

/**
 * The verified manifest of the BM25 index at `dir`; undefined when `dir` does not exist.
 * @throws IndexError when `dir` exists and its manifest is missing, damaged or of an older storage version
 */
export function readBm25Manifest(dir: string, rebuildHint: string): Bm25Manifest | undefined {
  return readPartManifest<Bm25Manifest>(dir, BM25_MANIFEST_FORMAT, rebuildHint);
}

/** The term table (terms.bin): per term its posting range, idf, largest impact and UTF-8 bytes. */
export interface TermTable {
  termCount: number;
  /** postingStart[t] .. postingStart[t+1] are term t's postings (f64: counts beyond 2^32). */
  starts: Float64Array;
  idf: Float64Array;
  maxImpact: Float32Array;
  termOffsets: Uint32Array;
  termBytes: Uint8Array;
}

function bytesOf(array: Uint8Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Write terms.bin into `dir`. */
export function writeTermTable(dir: string, buildId: string, table: TermTable): void {
  const file = new ContainerWriter(join(dir, BM25_FILES.terms.name), BM25_FILES.terms.kind, BM25_VERSIONS.current, buildId);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(table.termCount, 0);
  file.write(head);
  file.write(bytesOf(table.starts));
  file.write(bytesOf(table.idf));
  file.write(bytesOf(table.maxImpact));
  file.write(bytesOf(table.termOffsets));
  file.write(table.termBytes);
  file.finish();
}

/** Read and verify terms.bin into shared memory (search threads share it). */
export function readTermTable(dir: string, buildId: string, rebuildHint: string): TermTable {
  const file = new ContainerReader(join(dir, BM25_FILES.terms.name), BM25_FILES.terms.kind, BM25_VERSIONS, rebuildHint, buildId);
  const bytes = file.readAll();
  file.close();
  const termCount = bytes.readUInt32LE(0);
  let at = 8;
  const take = <T extends Uint8Array | Uint32Array | Float32Array | Float64Array>(
    Type: { new (buffer: SharedArrayBuffer, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number },
    count: number,
  ): T => {
    // Copied: the payload is not aligned for typed-array views.
    const out = sharedArray(Type, count);
    new Uint8Array(out.buffer).set(bytes.subarray(at, at + count * Type.BYTES_PER_ELEMENT));
    at += count * Type.BYTES_PER_ELEMENT;
    return out;
  };
  const starts = take(Float64Array, termCount + 1);
  const idf = take(Float64Array, termCount);
  const maxImpact = take(Float32Array, termCount);
  const termOffsets = take(Uint32Array, termCount + 1);
  const termBytes = take(Uint8Array, bytes.length - at);
  return { termCount, starts, idf, maxImpact, termOffsets, termBytes };
}

/**
 * Streams postings.bin: every doc ordinal first (term by term, docs ascending within a term), then every impact
 * code in the same order. finish() checks that both halves hold `postingCount` entries.
 */
export class PostingsFileWriter {
  private readonly file: ContainerWriter;
  private docs = 0;
  private codes = 0;

  constructor(dir: string, buildId: string) {
    this.file = new ContainerWriter(join(dir, BM25_FILES.postings.name), BM25_FILES.postings.kind, BM25_VERSIONS.current, buildId);
  }

  /** Append doc ordinals; all of them come before the first code. */
  writeDocs(docs: Uint32Array): void {
    if (this.codes > 0) throw new Error('postings.bin: doc ordinals written after impact codes');
    this.file.write(bytesOf(docs));
    this.docs += docs.length;
  }

  /** Append impact codes (all of one width), in the order of the doc ordinals written. */
  writeCodes(codes: CodeArray): void {
    this.file.write(bytesOf(codes));
    this.codes += codes.length;
  }

  finish(postingCount: number): void {
    if (this.docs !== postingCount || this.codes !== postingCount) {
      throw new Error(`postings.bin: ${this.docs} doc ordinals and ${this.codes} impact codes written for ${postingCount} postings`);
    }
    this.file.finish();
  }
}

/**
 * Read and verify postings.bin into shared memory: doc ordinals, then one value a posting (an f32 impact in formats 1
 * and 2, a code in format 3) into `values`, of `postingCount` entries, which the caller allocates.
 * @throws IndexError when it holds another number of postings than `postingCount` (the manifest's and the term table's)
 */
function readPostingsInto<T extends Float32Array | CodeArray>(dir: string, buildId: string, rebuildHint: string, postingCount: number, values: T): { docs: Uint32Array; values: T } {
  const file = new ContainerReader(join(dir, BM25_FILES.postings.name), BM25_FILES.postings.kind, BM25_VERSIONS, rebuildHint, buildId, { deferChecksum: true });
  const stored = file.payloadBytes / (4 + values.BYTES_PER_ELEMENT);
  if (stored !== postingCount) {
    file.close();
    throw new IndexError(`${dir}: ${BM25_FILES.postings.name} holds ${stored} postings, manifest says ${postingCount}`, { hint: `rebuild: ${rebuildHint} --rebuild` });
  }
  const docs = sharedArray(Uint32Array, postingCount);
  try {
    file.readWholePayload([Buffer.from(docs.buffer), Buffer.from(values.buffer)]);
  } finally {
    file.close();
  }
  return { docs, values };
}

/** postings.bin of format 1 or 2: doc ordinals and float32 impacts. */
export function readPostingImpacts(dir: string, buildId: string, rebuildHint: string, postingCount: number): { docs: Uint32Array; impacts: Float32Array } {
  const { docs, values } = readPostingsInto(dir, buildId, rebuildHint, postingCount, sharedArray(Float32Array, postingCount));
  return { docs, impacts: values };
}

/** postings.bin of format 3: doc ordinals and impact codes of `codeBytes` each (impacts.bin says which). */
export function readPostingCodes(dir: string, buildId: string, rebuildHint: string, postingCount: number, codeBytes: 2 | 4): { docs: Uint32Array; codes: CodeArray } {
  const codes: CodeArray = codeBytes === 2 ? sharedArray(Uint16Array, postingCount) : sharedArray(Uint32Array, postingCount);
  const { docs, values } = readPostingsInto(dir, buildId, rebuildHint, postingCount, codes);
  return { docs, codes: values };
}

/** Write impacts.bin: the code width and every term's table of distinct impacts (impact-codes.ts). */
export function writeImpactTables(dir: string, buildId: string, codeBytes: 2 | 4, tables: Pick<ImpactCodes, 'tableStart' | 'impactTable'>): void {
  const file = new ContainerWriter(join(dir, BM25_FILES.impacts.name), BM25_FILES.impacts.kind, BM25_VERSIONS.current, buildId);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(tables.tableStart.length - 1, 0);
  head.writeUInt32LE(codeBytes, 4);
  file.write(head);
  file.write(bytesOf(tables.tableStart));
  file.write(bytesOf(tables.impactTable));
  file.finish();
}

/**
 * Read and verify impacts.bin into shared memory.
 * @throws IndexError when its term count is not the index's, its width is not 2 or 4, or its tables do not add up
 */
export function readImpactTables(dir: string, buildId: string, rebuildHint: string, termCount: number): { codeBytes: 2 | 4; tableStart: Float64Array; impactTable: Float32Array } {
  const path = join(dir, BM25_FILES.impacts.name);
  const file = new ContainerReader(path, BM25_FILES.impacts.kind, BM25_VERSIONS, rebuildHint, buildId);
  const fail = (what: string) => {
    file.close();
    return new IndexError(`${path}: ${what}`, { hint: `rebuild: ${rebuildHint} --rebuild` });
  };
  const head = file.read(0, 8);
  const codeBytes = head.readUInt32LE(4);
  if (head.readUInt32LE(0) !== termCount) throw fail(`holds tables of ${head.readUInt32LE(0)} terms, the index has ${termCount}`);
  if (codeBytes !== 2 && codeBytes !== 4) throw fail(`code width ${codeBytes} (2 or 4 expected)`);
  const tableStart = sharedArray(Float64Array, termCount + 1);
  if (8 + tableStart.byteLength > file.payloadBytes) throw fail('is shorter than its table starts');
  file.read(8, tableStart.byteLength, Buffer.from(tableStart.buffer));
  for (let t = 0; t < termCount; t++) {
    if (!(tableStart[t + 1] >= tableStart[t])) throw fail(`term ${t}'s table ends before it starts`);
  }
  const entries = tableStart[termCount];
  if (tableStart[0] !== 0 || 8 + tableStart.byteLength + entries * 4 !== file.payloadBytes) throw fail(`holds ${file.payloadBytes} bytes, its tables say ${8 + tableStart.byteLength + entries * 4}`);
  const impactTable = sharedArray(Float32Array, entries);
  file.read(8 + tableStart.byteLength, impactTable.byteLength, Buffer.from(impactTable.buffer));
  file.close();
  return { codeBytes, tableStart, impactTable };
}

/** Write lengths.bin: the analyzed length of every document, in ordinal order. */
export function writeDocLengths(dir: string, buildId: string, lengths: Uint32Array): void {
  const file = new ContainerWriter(join(dir, BM25_FILES.lengths.name), BM25_FILES.lengths.kind, BM25_VERSIONS.current, buildId);
  file.write(bytesOf(lengths));
  file.finish();
}

/** Read and verify lengths.bin (`docCount` lengths) into shared memory. */
export function readDocLengths(dir: string, buildId: string, rebuildHint: string, docCount: number): Uint32Array {
  const file = new ContainerReader(join(dir, BM25_FILES.lengths.name), BM25_FILES.lengths.kind, BM25_VERSIONS, rebuildHint, buildId);
  const lengths = sharedArray(Uint32Array, docCount);
  file.read(0, docCount * 4, Buffer.from(lengths.buffer));
  file.close();
  return lengths;
}

/** Write bounds.bin: the bound tables MaxScore prunes with (max-score.ts PostingBoundsBuilder), computed at build. */
export function writeBounds(dir: string, buildId: string, bounds: PostingBounds): void {
  const file = new ContainerWriter(join(dir, BM25_FILES.bounds.name), BM25_FILES.bounds.kind, BM25_VERSIONS.current, buildId);
  const termCount = bounds.minImpact.length;
  const head = Buffer.alloc(16);
  head.writeUInt32LE(termCount, 0);
  head.writeUInt32LE(bounds.windowCount, 4);
  head.writeUInt32LE(bounds.windowMax.length / bounds.windowCount, 8);
  file.write(head);
  for (const array of [bounds.blockStart, bounds.blockMax, bounds.minImpact, bounds.windowRow, bounds.windowMax, bounds.windowFirst]) file.write(bytesOf(array));
  file.finish();
}

/**
 * Read and verify bounds.bin into shared memory.
 * @throws IndexError when its term count or window count is not the index's
 */
export function readBounds(dir: string, buildId: string, rebuildHint: string, termCount: number, windowCount: number): PostingBounds {
  const path = join(dir, BM25_FILES.bounds.name);
  const file = new ContainerReader(path, BM25_FILES.bounds.kind, BM25_VERSIONS, rebuildHint, buildId);
  const head = file.read(0, 16);
  const fail = (what: string) => {
    file.close();
    return new IndexError(`${path}: ${what}`, { hint: `rebuild: ${rebuildHint} --rebuild` });
  };
  if (head.readUInt32LE(0) !== termCount || head.readUInt32LE(4) !== windowCount) {
    throw fail(`holds bounds of ${head.readUInt32LE(0)} terms and ${head.readUInt32LE(4)} windows, the index has ${termCount} and ${windowCount}`);
  }
  const rows = head.readUInt32LE(8);
  let at = 16;
  const take = <T extends Int32Array | Uint32Array | Float32Array | Float64Array>(
    Type: { new (buffer: SharedArrayBuffer, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number },
    count: number,
  ): T => {
    const out = sharedArray(Type, count);
    if (at + out.byteLength > file.payloadBytes) throw fail('is shorter than its tables');
    file.read(at, out.byteLength, Buffer.from(out.buffer));
    at += out.byteLength;
    return out;
  };
  const blockStart = take(Float64Array, termCount + 1);
  const blockMax = take(Float32Array, blockStart[termCount]);
  const minImpact = take(Float32Array, termCount);
  const windowRow = take(Int32Array, termCount);
  const windowMax = take(Float32Array, rows * windowCount);
  const windowFirst = take(Uint32Array, rows * windowCount);
  if (at !== file.payloadBytes) throw fail(`holds ${file.payloadBytes - at} bytes after its tables`);
  file.close();
  return { blockStart, blockMax, minImpact, windowRow, windowMax, windowFirst, windowCount };
}
