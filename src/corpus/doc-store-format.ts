/**
 * The doc store's on-disk format, in one place for its writer and reader (doc-store.ts): file names, container
 * kinds, format versions, the manifest, and the layout of table.bin (src/bm25/FORMAT.md draws it). What must hold:
 * no other module knows an offset in these files; the bytes are those of format version 1
 * (test/index-format-compat.test.ts opens a doc store written before this module existed).
 *
 *   texts.bin   DTXT  UTF-8 of every text, concatenated in ordinal order
 *   titles.bin  DTTL  UTF-8 of every title, concatenated
 *   table.bin   DTBL  u32 N | u32 0 | u64 textOffset[N+1] | u64 titleOffset[N+1] | u64 normalizedTextHash[N] | u32 idOffset[N+1] | id bytes
 */
import { join } from 'node:path';
import { IndexError } from '../errors.js';
import { ContainerReader, ContainerWriter, type ContainerVersions } from '../storage/container.js';
import { readPartManifest } from '../storage/manifest.js';

/** Format version written, and the oldest read. */
export const DOC_STORE_VERSIONS: ContainerVersions = { current: 1, oldestReadable: 1 };

/** The manifest's "format" value. */
export const DOC_STORE_FORMAT = 'rare-mine-docs';

/** Each file of the part: its name and container kind. */
export const DOC_STORE_FILES = {
  texts: { name: 'texts.bin', kind: 'DTXT' },
  titles: { name: 'titles.bin', kind: 'DTTL' },
  table: { name: 'table.bin', kind: 'DTBL' },
} as const;
export type DocStoreFile = keyof typeof DOC_STORE_FILES;

export interface DocStoreManifest {
  format: typeof DOC_STORE_FORMAT;
  version: number;
  /** Identity of this build, also in the header of texts.bin, titles.bin and table.bin. */
  buildId: string;
  docCount: number;
  /** Fingerprint of the corpus source and the keys used to read it (see corpus-source.ts). */
  corpusFingerprint: string;
  source: string;
  textBytes: number;
  createdAt: string;
}

/**
 * The verified manifest of the doc store at `dir`; undefined when `dir` does not exist.
 * @throws IndexError when `dir` exists and its manifest is missing, damaged or of an older storage version
 */
export function readDocStoreManifest(dir: string, rebuildHint: string): DocStoreManifest | undefined {
  return readPartManifest<DocStoreManifest>(dir, DOC_STORE_FORMAT, rebuildHint);
}

/** A new container file of the doc store in `dir`. */
export function createDocStoreFile(dir: string, file: DocStoreFile, buildId: string): ContainerWriter {
  return new ContainerWriter(join(dir, DOC_STORE_FILES[file].name), DOC_STORE_FILES[file].kind, DOC_STORE_VERSIONS.current, buildId);
}

/** Open and verify a container file of the doc store in `dir`. */
export function openDocStoreFile(dir: string, file: DocStoreFile, buildId: string, rebuildHint: string): ContainerReader {
  return new ContainerReader(join(dir, DOC_STORE_FILES[file].name), DOC_STORE_FILES[file].kind, DOC_STORE_VERSIONS, rebuildHint, buildId);
}

/** table.bin's columns after its 8-byte head, in file order; the writer appends its columns in this order. */
export const TABLE_COLUMNS = ['textOffsets', 'titleOffsets', 'hashes', 'idOffsets', 'ids'] as const;
export type TableColumn = (typeof TABLE_COLUMNS)[number];

/** The 8-byte head of table.bin: the document count, then 4 zero bytes. */
export function tableHead(docCount: number): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(docCount, 0);
  return head;
}

/**
 * table.bin decoded: per document its text and title byte ranges, normalized-text hash and id. `titleOffsets` is
 * undefined when the caller said no document has a title (titles.bin empty: every offset is 0).
 */
export interface DocTable {
  docCount: number;
  textOffsets: BigUint64Array;
  titleOffsets?: BigUint64Array;
  hashes: BigUint64Array;
  idOffsets: Uint32Array;
  idBlob: Buffer;
}

/**
 * Read and decode table.bin, column by column straight into aligned arrays (no copy of the whole payload: at 8.8M
 * documents it is 300 MB). With `titles` false the title offsets are not read (all 0 when titles.bin is empty).
 * @throws IndexError when it holds another number of documents than the manifest's `docCount`, or is too short
 */
export function readDocTable(dir: string, buildId: string, rebuildHint: string, docCount: number, titles = true): DocTable {
  const file = openDocStoreFile(dir, 'table', buildId, rebuildHint);
  try {
    const n = file.read(0, 8).readUInt32LE(0);
    if (n !== docCount) throw new IndexError(`${dir}: table holds ${n} documents, manifest says ${docCount}`, { hint: `rebuild: ${rebuildHint} --rebuild` });
    const idStart = 8 + 2 * (n + 1) * 8 + n * 8 + (n + 1) * 4; // head, text and title offsets, hashes, id offsets
    if (idStart > file.payloadBytes) throw new IndexError(`${dir}: table is shorter than its ${n} documents' columns`, { hint: `rebuild: ${rebuildHint} --rebuild` });
    let at = 8;
    const take = <T extends BigUint64Array | Uint32Array>(out: T): T => {
      file.read(at, out.byteLength, Buffer.from(out.buffer));
      at += out.byteLength;
      return out;
    };
    const textOffsets = take(new BigUint64Array(n + 1));
    let titleOffsets: BigUint64Array | undefined;
    if (titles) titleOffsets = take(new BigUint64Array(n + 1));
    else at += (n + 1) * 8;
    const hashes = take(new BigUint64Array(n));
    const idOffsets = take(new Uint32Array(n + 1));
    return { docCount: n, textOffsets, titleOffsets, hashes, idOffsets, idBlob: file.read(at, file.payloadBytes - at) };
  } finally {
    file.close();
  }
}
