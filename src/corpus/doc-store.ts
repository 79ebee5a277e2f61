/**
 * The doc store: every corpus document's id, title and text, on disk, addressed by doc ordinal.
 * Negatives' texts are read from disk by byte offset when written out, so a corpus of millions of passages
 * never lives in memory as JS strings; only the offset table (24 bytes a document) and the ids are loaded.
 * The writer streams: texts and titles go straight to their files and the table's columns to temporary files
 * that are copied into table.bin at the end, so building the store takes constant memory at any corpus size.
 * Writer and reader share one codec, doc-store-format.ts (the byte layout; FORMAT.md in src/bm25/ draws it). The
 * writer writes into the folder it is given; building aside and renaming is the index dir's (src/index/). Invariant: ordinals are 0..docCount-1 in corpus order, and every index built in
 * the same index dir (bm25/, dense/) uses these ordinals.
 */
import { closeSync, onPath, openSync, readFullSync, rmSync, writeAllSync } from '../io/fs.js';
import { join } from 'node:path';
import { IndexError } from '../errors.js';
import type { ContainerReader, ContainerWriter } from '../storage/container.js';
import { newBuildId, writePartManifest } from '../storage/manifest.js';
import { normalizedTextHash } from '../text/normalize.js';
import { TextHasher } from './text-hasher.js';
import type { CorpusView } from '../retriever.js';
import {
  createDocStoreFile,
  DOC_STORE_FORMAT,
  DOC_STORE_VERSIONS,
  openDocStoreFile,
  readDocStoreManifest,
  readDocTable,
  TABLE_COLUMNS,
  tableHead,
  type DocStoreManifest,
  type TableColumn,
} from './doc-store-format.js';
import { makeDirs } from '../io/make-dirs.js';

export type { DocStoreManifest } from './doc-store-format.js';
export { readDocStoreManifest } from './doc-store-format.js';

export interface CorpusDoc {
  id: string;
  title: string;
  text: string;
}

/**
 * A column of the table written while documents stream in: fixed-size values appended to a temporary file
 * through a small buffer, copied into table.bin at the end, so the writer's memory does not grow with the corpus.
 */
class SpillColumn {
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  private written = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w+');
  }

  private flush(): void {
    writeAllSync(this.fd, this.buffer.subarray(0, this.used), this.path, this.written);
    this.written += this.used;
    this.used = 0;
  }

  private room(bytes: number): void {
    if (this.used + bytes > this.buffer.length) this.flush();
  }

  pushU64(value: bigint): void {
    this.room(8);
    this.used = this.buffer.writeBigUInt64LE(value, this.used);
  }

  pushU32(value: number): void {
    this.room(4);
    this.used = this.buffer.writeUInt32LE(value, this.used);
  }

  pushString(text: string): number {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.buffer.length) {
      this.flush();
      writeAllSync(this.fd, Buffer.from(text, 'utf8'), this.path, this.written);
      this.written += bytes;
      return bytes;
    }
    this.room(bytes);
    this.used += this.buffer.write(text, this.used, 'utf8');
    return bytes;
  }

  /** Append the whole column to `out` and delete the temporary file. */
  copyInto(out: ContainerWriter): void {
    this.flush();
    for (let at = 0; at < this.written; ) {
      const want = Math.min(this.buffer.length, this.written - at);
      const n = readFullSync(this.fd, this.buffer, 0, want, at, this.path);
      if (n < want) throw new Error(`${this.path}: ended at byte ${at + n}, short of the ${this.written} bytes written to it`);
      out.write(this.buffer.subarray(0, n));
      at += n;
    }
    onPath(this.path, () => closeSync(this.fd));
    rmSync(this.path, { force: true });
  }
}

/** Streams documents into `<dir>` (texts.bin, titles.bin, table.bin, manifest.json) in constant memory. */
export class DocStoreWriter {
  private readonly texts: ContainerWriter;
  private readonly titles: ContainerWriter;
  private readonly columns: Record<TableColumn, SpillColumn>;
  private count = 0;
  private idBytes = 0;
  private readonly buildId = newBuildId();

  /** Hashing on a thread of its own (buildDocStore with threads > 1); otherwise each text is hashed in add(). */
  private hasher?: TextHasher;

  constructor(readonly dir: string) {
    makeDirs(dir);
    this.texts = createDocStoreFile(dir, 'texts', this.buildId);
    this.titles = createDocStoreFile(dir, 'titles', this.buildId);
    this.columns = Object.fromEntries(TABLE_COLUMNS.map((name) => [name, new SpillColumn(join(dir, `${name}.tmp`))])) as Record<TableColumn, SpillColumn>;
    this.columns.textOffsets.pushU64(0n);
    this.columns.titleOffsets.pushU64(0n);
    this.columns.idOffsets.pushU32(0);
  }

  get docCount(): number {
    return this.count;
  }

  /** Append one document; returns its ordinal. */
  add(doc: CorpusDoc): number {
    this.texts.writeString(doc.text);
    this.titles.writeString(doc.title);
    this.columns.textOffsets.pushU64(BigInt(this.texts.payloadBytes));
    this.columns.titleOffsets.pushU64(BigInt(this.titles.payloadBytes));
    if (this.hasher) this.hasher.add(doc.text);
    else this.columns.hashes.pushU64(normalizedTextHash(doc.text));
    this.idBytes += this.columns.ids.pushString(doc.id);
    this.columns.idOffsets.pushU32(this.idBytes);
    return this.count++;
  }

  /** From now on, texts are hashed on a thread of their own (hashThread: awaited before finish). */
  useHashThread(): TextHasher {
    const hasher = new TextHasher((hashes) => {
      for (let i = 0; i < hashes.length; i++) this.columns.hashes.pushU64(hashes[i]);
    });
    this.hasher = hasher;
    return hasher;
  }

  finish(manifest: Pick<DocStoreManifest, 'corpusFingerprint' | 'source'>): DocStoreManifest {
    this.texts.finish();
    this.titles.finish();
    const table = createDocStoreFile(this.dir, 'table', this.buildId);
    table.write(tableHead(this.docCount));
    for (const name of TABLE_COLUMNS) this.columns[name].copyInto(table);
    table.finish();
    const full: DocStoreManifest = {
      format: DOC_STORE_FORMAT,
      version: DOC_STORE_VERSIONS.current,
      buildId: this.buildId,
      docCount: this.docCount,
      corpusFingerprint: manifest.corpusFingerprint,
      source: manifest.source,
      textBytes: this.texts.payloadBytes,
      createdAt: new Date().toISOString(),
    };
    return writePartManifest(this.dir, full);
  }
}

/**
 * The doc store part's build: every document of `documents` (in corpus order) into a doc store at `dir`, with the
 * corpus's fingerprint and description in its manifest; `onDocument` is called with each one once it is stored
 * (progress: a count, and how far into the source's bytes the document ended).
 */
export async function buildDocStore<D extends CorpusDoc>(
  dir: string,
  documents: AsyncIterable<D>,
  corpus: Pick<DocStoreManifest, 'corpusFingerprint' | 'source'>,
  onDocument?: (doc: D) => void,
  threads = 1,
): Promise<DocStoreManifest> {
  const writer = new DocStoreWriter(dir);
  // With more than one thread, texts are hashed on a second one while this one reads, parses and writes.
  const hasher = threads > 1 ? writer.useHashThread() : undefined;
  for await (const doc of documents) {
    writer.add(doc);
    onDocument?.(doc);
    if (hasher?.full) await hasher.drain();
  }
  await hasher?.finish();
  return writer.finish(corpus);
}

/** Read access to a finished doc store; texts and titles are read from disk on demand. */
export class DocStore implements CorpusView {
  readonly docCount: number;
  readonly manifest: DocStoreManifest;
  private readonly texts: ContainerReader;
  private readonly titles: ContainerReader;
  private readonly textOffsets: BigUint64Array;
  /** Undefined when no document has a title (titles.bin empty). */
  private readonly titleOffsets?: BigUint64Array;
  private readonly hashes: BigUint64Array;
  private readonly idOffsets: Uint32Array;
  private readonly idBlob: Buffer;
  private idMap?: Map<string, number>;

  constructor(readonly dir: string, rebuildHint: string) {
    const manifest = readDocStoreManifest(dir, rebuildHint);
    if (!manifest) throw new IndexError(`${dir}: no doc store`, { hint: `build the index: ${rebuildHint}` });
    if (manifest.version > DOC_STORE_VERSIONS.current || manifest.version < DOC_STORE_VERSIONS.oldestReadable) {
      throw new IndexError(`${dir}: doc store format ${manifest.version} is not readable by this rare-mine`, { hint: `rebuild: ${rebuildHint} --rebuild` });
    }
    this.manifest = manifest;
    this.texts = openDocStoreFile(dir, 'texts', manifest.buildId, rebuildHint);
    this.titles = openDocStoreFile(dir, 'titles', manifest.buildId, rebuildHint);
    const table = readDocTable(dir, manifest.buildId, rebuildHint, manifest.docCount, this.titles.payloadBytes > 0);
    this.docCount = table.docCount;
    this.textOffsets = table.textOffsets;
    this.titleOffsets = table.titleOffsets;
    this.hashes = table.hashes;
    this.idOffsets = table.idOffsets;
    this.idBlob = table.idBlob;
  }

  text(docOrdinal: number): string {
    const start = Number(this.textOffsets[docOrdinal]);
    const end = Number(this.textOffsets[docOrdinal + 1]);
    return this.texts.read(start, end - start).toString('utf8');
  }

  /**
   * Every document's title and text in ordinal order, read sequentially in large chunks (an index build visits
   * each text once: one read per few thousand documents instead of one per document).
   */
  forEachDocument(visit: (title: string, text: string, docOrdinal: number) => void): void {
    const chunkBytes = 8 << 20;
    const total = Number(this.textOffsets[this.docCount]);
    let buffer = Buffer.allocUnsafe(Math.min(chunkBytes, total));
    let bufferStart = 0;
    let bufferEnd = 0;
    for (let ordinal = 0; ordinal < this.docCount; ordinal++) {
      const start = Number(this.textOffsets[ordinal]);
      const end = Number(this.textOffsets[ordinal + 1]);
      if (end > bufferEnd) {
        const length = Math.min(Math.max(chunkBytes, end - start), total - start);
        if (length > buffer.length) buffer = Buffer.allocUnsafe(length);
        this.texts.read(start, length, buffer);
        bufferStart = start;
        bufferEnd = start + length;
      }
      visit(this.title(ordinal), buffer.toString('utf8', start - bufferStart, end - bufferStart), ordinal);
    }
  }

  title(docOrdinal: number): string {
    if (!this.titleOffsets) return '';
    const start = Number(this.titleOffsets[docOrdinal]);
    const end = Number(this.titleOffsets[docOrdinal + 1]);
    return end === start ? '' : this.titles.read(start, end - start).toString('utf8');
  }

  id(docOrdinal: number): string {
    return this.idBlob.toString('utf8', this.idOffsets[docOrdinal], this.idOffsets[docOrdinal + 1]);
  }

  ordinalOfId(id: string): number | undefined {
    if (!this.idMap) {
      this.idMap = new Map();
      for (let i = 0; i < this.docCount; i++) this.idMap.set(this.id(i), i);
    }
    return this.idMap.get(id);
  }

  /**
   * Open-addressing table over the text hashes, built on first use: slot → ordinal + 1 (0: empty), and the hashes
   * as little-endian 32-bit words (hash d is words[2d], words[2d + 1]).
   */
  private textTable?: { slots: Uint32Array; words: Uint32Array };

  /** The lowest ordinal whose normalized text equals `text`'s (by hash), if any. */
  ordinalOfText(text: string): number | undefined {
    const table = (this.textTable ??= this.buildTextTable());
    const wanted = normalizedTextHash(text);
    const found = table.slots[probe(table, Number(wanted & 0xffffffffn), Number(wanted >> 32n))];
    return found === 0 ? undefined : found - 1;
  }

  /**
   * Linear probing on the hash's low word (an MD5 prefix: uniform), at most 5/8 full (at 8.8M documents 2^24 slots,
   * 64 MB, where at most half full took 2^25), inserted in ordinal order
   * so the lowest ordinal of equal texts is the one kept. A Map of 64-bit keys took seconds at millions of
   * documents; this takes milliseconds and 8–16 bytes a document.
   */
  private buildTextTable(): { slots: Uint32Array; words: Uint32Array } {
    const table = {
      slots: new Uint32Array(2 ** Math.max(4, Math.ceil(Math.log2(TEXT_TABLE_SLOTS_PER_DOC * this.docCount + 1)))),
      words: new Uint32Array(this.hashes.buffer, this.hashes.byteOffset, this.hashes.length * 2),
    };
    for (let ordinal = 0; ordinal < this.docCount; ordinal++) {
      const slot = probe(table, table.words[2 * ordinal], table.words[2 * ordinal + 1]);
      if (table.slots[slot] === 0) table.slots[slot] = ordinal + 1;
    }
    return table;
  }

  normalizedTextHash(docOrdinal: number): bigint {
    return this.hashes[docOrdinal];
  }

  close(): void {
    this.texts.close();
    this.titles.close();
  }
}

/** Slots a document needs at least in DocStore's text table: at most 5/8 full (linear probing stays short). */
const TEXT_TABLE_SLOTS_PER_DOC = 1.6;

/** The slot holding the hash (low, high) in a DocStore text table, or the empty slot where it would go. */
function probe({ slots, words }: { slots: Uint32Array; words: Uint32Array }, low: number, high: number): number {
  const mask = slots.length - 1;
  let slot = low & mask;
  for (; slots[slot] !== 0; slot = (slot + 1) & mask) {
    const ordinal = slots[slot] - 1;
    if (words[2 * ordinal] === low && words[2 * ordinal + 1] === high) break;
  }
  return slot;
}
