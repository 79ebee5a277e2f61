/**
 * BM25 index writer: analyzes each document once, collects (term, doc, tf) postings in chunked buffers, and at
 * finish lays postings out term by term (a counting sort, docs ascending within a term) with each posting's
 * precomputed impact = the variant's term score. Byte layout: FORMAT.md beside this file.
 * Invariant: the impacts written are exactly what the naive scorer computes, rounded to float32.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Analyzer } from '../text/analyzer.js';
import { ContainerWriter } from '../storage/container.js';
import { newBuildId, writePartManifest } from '../storage/manifest.js';
import { ChunkedUint32 } from './growable.js';
import { scoringVariant, type Bm25Params } from './scoring.js';

export const BM25_VERSIONS = { current: 1, oldestReadable: 1 };

export interface Bm25Settings extends Bm25Params {
  variant: string;
}

export interface Bm25Manifest {
  format: 'rare-mine-bm25';
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

/** The text a document is indexed by: title and text together. */
export function indexedText(title: string, text: string): string {
  return title.length > 0 ? `${title}\n${text}` : text;
}

export class Bm25IndexWriter {
  private readonly termIds = new Map<string, number>();
  private readonly terms: string[] = [];
  private readonly postingTerm = new ChunkedUint32();
  private readonly postingDoc = new ChunkedUint32();
  private readonly postingTf = new ChunkedUint32();
  private readonly docLengths = new ChunkedUint32();
  private totalLength = 0;
  private readonly buildId = newBuildId();

  constructor(readonly dir: string, readonly analyzer: Analyzer, readonly settings: Bm25Settings) {
    scoringVariant(settings.variant);
    mkdirSync(dir, { recursive: true });
  }

  get docCount(): number {
    return this.docLengths.length;
  }

  /** Index the next document (ordinal = number of documents added before it). */
  add(title: string, text: string): void {
    const docOrdinal = this.docLengths.length;
    const terms = this.analyzer.terms(indexedText(title, text));
    this.docLengths.push(terms.length);
    this.totalLength += terms.length;
    if (terms.length === 0) return;
    const ids = new Uint32Array(terms.length);
    for (let i = 0; i < terms.length; i++) {
      let id = this.termIds.get(terms[i]);
      if (id === undefined) {
        id = this.terms.length;
        this.termIds.set(terms[i], id);
        this.terms.push(terms[i]);
      }
      ids[i] = id;
    }
    ids.sort();
    let run = 1;
    for (let i = 1; i <= ids.length; i++) {
      if (i < ids.length && ids[i] === ids[i - 1]) {
        run++;
        continue;
      }
      this.postingTerm.push(ids[i - 1]);
      this.postingDoc.push(docOrdinal);
      this.postingTf.push(run);
      run = 1;
    }
  }

  /** Lay out and write terms.bin, postings.bin, lengths.bin and manifest.json. */
  finish(corpusFingerprint: string, docsBuildId: string): Bm25Manifest {
    const variant = scoringVariant(this.settings.variant);
    const docCount = this.docCount;
    const termCount = this.terms.length;
    const postingCount = this.postingTerm.length;
    const stats = { docCount, averageDocLength: docCount === 0 ? 0 : this.totalLength / docCount };

    const df = new Uint32Array(termCount);
    this.postingTerm.forEachChunk((chunk) => {
      for (let i = 0; i < chunk.length; i++) df[chunk[i]]++;
    });
    const starts = new Float64Array(termCount + 1);
    for (let t = 0; t < termCount; t++) starts[t + 1] = starts[t] + df[t];
    const idf = new Float64Array(termCount);
    for (let t = 0; t < termCount; t++) idf[t] = variant.idf(df[t], stats);

    const lengths = this.docLengths.toArray();
    const effectiveLength = new Float64Array(docCount);
    for (let d = 0; d < docCount; d++) effectiveLength[d] = variant.effectiveLength(lengths[d]);

    const docs = new Uint32Array(postingCount);
    const impacts = new Float32Array(postingCount);
    const maxImpact = new Float32Array(termCount);
    const fill = Float64Array.from(starts.subarray(0, termCount));
    // The three posting buffers are pushed in lockstep: walk their chunks together (no whole copies).
    const docChunks = this.postingDoc.chunksArray();
    const tfChunks = this.postingTf.chunksArray();
    let chunkIndex = 0;
    this.postingTerm.forEachChunk((chunk) => {
      const docChunk = docChunks[chunkIndex];
      const tfChunk = tfChunks[chunkIndex];
      chunkIndex++;
      for (let i = 0; i < chunk.length; i++) {
        const term = chunk[i];
        const doc = docChunk[i];
        const at = fill[term]++;
        docs[at] = doc;
        const impact = variant.termScore(idf[term], tfChunk[i], effectiveLength[doc], stats, this.settings);
        impacts[at] = impact;
        if (impacts[at] > maxImpact[term]) maxImpact[term] = impacts[at];
      }
    });

    const postings = new ContainerWriter(join(this.dir, 'postings.bin'), 'POST', BM25_VERSIONS.current, this.buildId);
    postings.write(new Uint8Array(docs.buffer));
    postings.write(new Uint8Array(impacts.buffer));
    postings.finish();

    const termBlob = Buffer.from(this.terms.join(''), 'utf8');
    const termOffsets = new Uint32Array(termCount + 1);
    let byteAt = 0;
    for (let t = 0; t < termCount; t++) {
      termOffsets[t] = byteAt;
      byteAt += Buffer.byteLength(this.terms[t], 'utf8');
    }
    termOffsets[termCount] = byteAt;
    const termsFile = new ContainerWriter(join(this.dir, 'terms.bin'), 'TERM', BM25_VERSIONS.current, this.buildId);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(termCount, 0);
    termsFile.write(head);
    termsFile.write(new Uint8Array(starts.buffer));
    termsFile.write(new Uint8Array(idf.buffer));
    termsFile.write(new Uint8Array(maxImpact.buffer));
    termsFile.write(new Uint8Array(termOffsets.buffer));
    termsFile.write(termBlob);
    termsFile.finish();

    const lengthsFile = new ContainerWriter(join(this.dir, 'lengths.bin'), 'DLEN', BM25_VERSIONS.current, this.buildId);
    lengthsFile.write(new Uint8Array(lengths.buffer));
    lengthsFile.finish();

    const manifest: Bm25Manifest = {
      format: 'rare-mine-bm25',
      version: BM25_VERSIONS.current,
      buildId: this.buildId,
      docsBuildId,
      k1: this.settings.k1,
      b: this.settings.b,
      variant: this.settings.variant,
      analyzer: this.analyzer.fingerprint,
      docCount,
      averageDocLength: stats.averageDocLength,
      termCount,
      postingCount,
      corpusFingerprint,
      createdAt: new Date().toISOString(),
    };
    return writePartManifest(this.dir, manifest);
  }
}
