/**
 * The doc store: every corpus document's id, title and text, on disk, addressed by doc ordinal.
 * Negatives' texts are read from disk by byte offset when written out, so a corpus of millions of passages
 * never lives in memory as JS strings; only the offset table (24 bytes a document) and the ids are loaded.
 * Writer, reader and byte layout (FORMAT.md in src/bm25/) follow the container convention of
 * src/storage/container.ts. Invariant: ordinals are 0..docCount-1 in corpus order, and every index built in
 * the same index dir (bm25/, dense/) uses these ordinals.
 */
import { mkdirSync, renameSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { IndexError } from '../errors.js';
import { ContainerReader, ContainerWriter } from '../storage/container.js';
import { newBuildId, readPartManifest, writePartManifest } from '../storage/manifest.js';
import { normalizedTextHash } from '../text/normalize.js';
import type { CorpusView } from '../mine/retriever.js';

export const DOC_STORE_VERSIONS = { current: 1, oldestReadable: 1 };

export interface CorpusDoc {
  id: string;
  title: string;
  text: string;
}

export interface DocStoreManifest {
  format: 'rare-mine-docs';
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

/** Growable typed arrays without quadratic copying. */
class GrowableBigUint64 {
  private data = new BigUint64Array(1024);
  length = 0;
  push(value: bigint): void {
    if (this.length === this.data.length) {
      const next = new BigUint64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }
  view(): BigUint64Array {
    return this.data.subarray(0, this.length);
  }
}

/** Streams documents into `<dir>` (texts.bin, titles.bin, table.bin, manifest.json). */
export class DocStoreWriter {
  private readonly texts: ContainerWriter;
  private readonly titles: ContainerWriter;
  private readonly textOffsets = new GrowableBigUint64();
  private readonly titleOffsets = new GrowableBigUint64();
  private readonly hashes = new GrowableBigUint64();
  private readonly ids: string[] = [];
  private readonly buildId = newBuildId();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.texts = new ContainerWriter(join(dir, 'texts.bin'), 'DTXT', DOC_STORE_VERSIONS.current, this.buildId);
    this.titles = new ContainerWriter(join(dir, 'titles.bin'), 'DTTL', DOC_STORE_VERSIONS.current, this.buildId);
    this.textOffsets.push(0n);
    this.titleOffsets.push(0n);
  }

  get docCount(): number {
    return this.hashes.length;
  }

  /** Append one document; returns its ordinal. */
  add(doc: CorpusDoc): number {
    this.texts.writeString(doc.text);
    this.titles.writeString(doc.title);
    this.textOffsets.push(BigInt(this.texts.payloadBytes));
    this.titleOffsets.push(BigInt(this.titles.payloadBytes));
    this.hashes.push(normalizedTextHash(doc.text));
    this.ids.push(doc.id);
    return this.hashes.length - 1;
  }

  finish(manifest: Pick<DocStoreManifest, 'corpusFingerprint' | 'source'>): DocStoreManifest {
    this.texts.finish();
    this.titles.finish();
    const table = new ContainerWriter(join(this.dir, 'table.bin'), 'DTBL', DOC_STORE_VERSIONS.current, this.buildId);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(this.docCount, 0);
    table.write(head);
    table.write(new Uint8Array(this.textOffsets.view().buffer, 0, this.textOffsets.length * 8));
    table.write(new Uint8Array(this.titleOffsets.view().buffer, 0, this.titleOffsets.length * 8));
    table.write(new Uint8Array(this.hashes.view().buffer, 0, this.hashes.length * 8));
    const idOffsets = new Uint32Array(this.ids.length + 1);
    for (let i = 0; i < this.ids.length; i++) idOffsets[i + 1] = idOffsets[i] + Buffer.byteLength(this.ids[i], 'utf8');
    table.write(new Uint8Array(idOffsets.buffer));
    for (const id of this.ids) table.writeString(id);
    table.finish();
    const full: DocStoreManifest = {
      format: 'rare-mine-docs',
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
 * The verified manifest of the doc store at `dir`; undefined when `dir` does not exist.
 * @throws IndexError when `dir` exists and its manifest is missing, damaged or of an older storage version
 */
export function readDocStoreManifest(dir: string, rebuildHint: string): DocStoreManifest | undefined {
  return readPartManifest<DocStoreManifest>(dir, 'rare-mine-docs', rebuildHint);
}

/** Read access to a finished doc store; texts and titles are read from disk on demand. */
export class DocStore implements CorpusView {
  readonly docCount: number;
  readonly manifest: DocStoreManifest;
  private readonly texts: ContainerReader;
  private readonly titles: ContainerReader;
  private readonly textOffsets: BigUint64Array;
  private readonly titleOffsets: BigUint64Array;
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
    this.texts = new ContainerReader(join(dir, 'texts.bin'), 'DTXT', DOC_STORE_VERSIONS, rebuildHint, manifest.buildId);
    this.titles = new ContainerReader(join(dir, 'titles.bin'), 'DTTL', DOC_STORE_VERSIONS, rebuildHint, manifest.buildId);
    const tableReader = new ContainerReader(join(dir, 'table.bin'), 'DTBL', DOC_STORE_VERSIONS, rebuildHint, manifest.buildId);
    const table = tableReader.readAll();
    tableReader.close();
    const n = table.readUInt32LE(0);
    if (n !== manifest.docCount) throw new IndexError(`${dir}: table holds ${n} documents, manifest says ${manifest.docCount}`, { hint: `rebuild: ${rebuildHint} --rebuild` });
    this.docCount = n;
    // Copy into aligned typed arrays (the Buffer may not be 8-byte aligned).
    let at = 8;
    const take64 = (count: number) => {
      const out = new BigUint64Array(count);
      Buffer.from(out.buffer).set(table.subarray(at, at + count * 8));
      at += count * 8;
      return out;
    };
    this.textOffsets = take64(n + 1);
    this.titleOffsets = take64(n + 1);
    this.hashes = take64(n);
    this.idOffsets = new Uint32Array(n + 1);
    Buffer.from(this.idOffsets.buffer).set(table.subarray(at, at + (n + 1) * 4));
    at += (n + 1) * 4;
    this.idBlob = Buffer.from(table.subarray(at));
  }

  text(docOrdinal: number): string {
    const start = Number(this.textOffsets[docOrdinal]);
    const end = Number(this.textOffsets[docOrdinal + 1]);
    return this.texts.read(start, end - start).toString('utf8');
  }

  title(docOrdinal: number): string {
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

  private hashMap?: Map<bigint, number>;

  ordinalOfText(text: string): number | undefined {
    if (!this.hashMap) {
      this.hashMap = new Map();
      for (let i = this.docCount - 1; i >= 0; i--) this.hashMap.set(this.hashes[i], i);
    }
    return this.hashMap.get(normalizedTextHash(text));
  }

  normalizedTextHash(docOrdinal: number): bigint {
    return this.hashes[docOrdinal];
  }

  close(): void {
    this.texts.close();
    this.titles.close();
  }
}

/** Build a doc store aside and move it into place, so readers never see a half-built one. */
export function replaceDir(finalDir: string, builtDir: string): void {
  const old = `${finalDir}.old-${process.pid}`;
  if (existsSync(finalDir)) renameSync(finalDir, old);
  renameSync(builtDir, finalDir);
  rmSync(old, { recursive: true, force: true });
}
