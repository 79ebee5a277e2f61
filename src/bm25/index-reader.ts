/**
 * BM25 index reader and exact top-k search. A query only sums precomputed impacts (term-at-a-time into a
 * dense accumulator) and selects the top k with a bounded heap; nothing is approximated, so results equal an
 * exhaustive scorer's (test/bm25-differential.test.ts). Ties rank the lower doc ordinal first.
 * Every file is checksum-verified on open (src/storage/container.ts).
 */
import { join } from 'node:path';
import { IndexError } from '../errors.js';
import type { Analyzer } from '../text/analyzer.js';
import type { Candidate } from '../mine/retriever.js';
import { ContainerReader } from '../storage/container.js';
import { readPartManifest } from '../storage/manifest.js';
import { BM25_VERSIONS, type Bm25Manifest } from './index-writer.js';
import { TopK } from './top-k.js';
import { scoringVariant } from './scoring.js';

function aligned<T extends Float64Array | Float32Array | Uint32Array>(
  Type: { new (length: number): T; BYTES_PER_ELEMENT: number },
  bytes: Buffer,
  at: number,
  count: number,
): T {
  const out = new Type(count);
  new Uint8Array(out.buffer).set(bytes.subarray(at, at + count * Type.BYTES_PER_ELEMENT));
  return out;
}

/**
 * The verified manifest of the BM25 index at `dir`; undefined when `dir` does not exist.
 * @throws IndexError when `dir` exists and its manifest is missing, damaged or of an older storage version
 */
export function readBm25Manifest(dir: string, rebuildHint: string): Bm25Manifest | undefined {
  return readPartManifest<Bm25Manifest>(dir, 'rare-mine-bm25', rebuildHint);
}

export class Bm25Index {
  readonly manifest: Bm25Manifest;
  readonly docCount: number;
  private readonly termIds = new Map<string, number>();
  private readonly starts: Float64Array;
  readonly idf: Float64Array;
  private readonly docs: Uint32Array;
  private readonly impacts: Float32Array;
  private readonly docLengths: Uint32Array;
  private readonly accumulator: Float64Array;
  private readonly touched: Uint32Array;

  /** Open and verify; when `docsBuildId` is given, the index must have been built over that doc store build. */
  constructor(readonly dir: string, readonly analyzer: Analyzer, rebuildHint: string, docsBuildId?: string) {
    const manifest = readBm25Manifest(dir, rebuildHint);
    if (!manifest) throw new IndexError(`${dir}: no BM25 manifest`, { hint: `build it: ${rebuildHint}` });
    if (manifest.version > BM25_VERSIONS.current || manifest.version < BM25_VERSIONS.oldestReadable) {
      throw new IndexError(`${dir}: BM25 index format ${manifest.version} is not readable by this rare-mine (reads ${BM25_VERSIONS.oldestReadable}..${BM25_VERSIONS.current})`, { hint: `rebuild: ${rebuildHint} --rebuild` });
    }
    if (manifest.analyzer !== analyzer.fingerprint) {
      throw new IndexError(`${dir}: index was built with analyzer "${manifest.analyzer}", not "${analyzer.fingerprint}"`, { hint: `rebuild: ${rebuildHint} --rebuild` });
    }
    if (docsBuildId !== undefined && manifest.docsBuildId !== docsBuildId) {
      throw new IndexError(`${dir}: index was built over another doc store (build ${manifest.docsBuildId}, docs/ is build ${docsBuildId})`, { hint: `rebuild: ${rebuildHint} --rebuild` });
    }
    this.manifest = manifest;
    this.docCount = manifest.docCount;

    const termsFile = new ContainerReader(join(dir, 'terms.bin'), 'TERM', BM25_VERSIONS, rebuildHint, manifest.buildId);
    const terms = termsFile.readAll();
    termsFile.close();
    const termCount = terms.readUInt32LE(0);
    let at = 8;
    this.starts = aligned(Float64Array, terms, at, termCount + 1);
    at += (termCount + 1) * 8;
    this.idf = aligned(Float64Array, terms, at, termCount);
    at += termCount * 8;
    at += termCount * 4; // max impacts (reserved for pruning)
    const termOffsets = aligned(Uint32Array, terms, at, termCount + 1);
    at += (termCount + 1) * 4;
    const blob = terms.subarray(at);
    for (let t = 0; t < termCount; t++) this.termIds.set(blob.toString('utf8', termOffsets[t], termOffsets[t + 1]), t);

    const postingsFile = new ContainerReader(join(dir, 'postings.bin'), 'POST', BM25_VERSIONS, rebuildHint, manifest.buildId);
    const postingCount = postingsFile.payloadBytes / 8;
    if (postingCount !== manifest.postingCount || this.starts[termCount] !== postingCount) {
      throw new IndexError(`${dir}: postings.bin holds ${postingCount} postings, manifest says ${manifest.postingCount}`, { hint: `rebuild: ${rebuildHint} --rebuild` });
    }
    this.docs = new Uint32Array(postingCount);
    this.impacts = new Float32Array(postingCount);
    postingsFile.read(0, postingCount * 4, Buffer.from(this.docs.buffer));
    postingsFile.read(postingCount * 4, postingCount * 4, Buffer.from(this.impacts.buffer));
    postingsFile.close();

    const lengthsFile = new ContainerReader(join(dir, 'lengths.bin'), 'DLEN', BM25_VERSIONS, rebuildHint, manifest.buildId);
    this.docLengths = new Uint32Array(this.docCount);
    lengthsFile.read(0, this.docCount * 4, Buffer.from(this.docLengths.buffer));
    lengthsFile.close();

    this.accumulator = new Float64Array(this.docCount);
    this.touched = new Uint32Array(this.docCount);
  }

  get termCount(): number {
    return this.termIds.size;
  }

  /** Analyzed document length (terms after stopwords), as indexed. */
  docLength(docOrdinal: number): number {
    return this.docLengths[docOrdinal];
  }

  /** Query terms → (term id, multiplicity). Unknown terms are dropped: they match nothing. */
  private queryTerms(query: string): Array<[number, number]> {
    const weights = new Map<number, number>();
    for (const term of this.analyzer.terms(query)) {
      const id = this.termIds.get(term);
      if (id !== undefined) weights.set(id, (weights.get(id) ?? 0) + 1);
    }
    return [...weights];
  }

  /** The exact top-k documents for `query`, best first. */
  search(query: string, k: number): Candidate[] {
    const acc = this.accumulator;
    const touched = this.touched;
    const { docs, impacts, starts } = this;
    let touchedCount = 0;
    for (const [term, weight] of this.queryTerms(query)) {
      const end = starts[term + 1];
      for (let i = starts[term]; i < end; i++) {
        const doc = docs[i];
        if (acc[doc] === 0) touched[touchedCount++] = doc;
        acc[doc] += weight * impacts[i];
      }
    }
    const top = new TopK(Math.min(k, touchedCount));
    for (let i = 0; i < touchedCount; i++) {
      const doc = touched[i];
      top.offer(doc, acc[doc]);
      acc[doc] = 0;
    }
    return top.sorted();
  }

  /**
   * The BM25 score `text` would get as a document of this collection (collection statistics unchanged): the
   * same formula and rounding as the index's impacts, so a corpus document scores the same either way.
   */
  scoreText(query: string, text: string): number {
    const variant = scoringVariant(this.manifest.variant);
    const terms = this.analyzer.terms(text);
    const tf = new Map<number, number>();
    for (const term of terms) {
      const id = this.termIds.get(term);
      if (id !== undefined) tf.set(id, (tf.get(id) ?? 0) + 1);
    }
    const stats = { docCount: this.docCount, averageDocLength: this.manifest.averageDocLength };
    const params = { k1: this.manifest.k1, b: this.manifest.b };
    const dl = variant.effectiveLength(terms.length);
    let score = 0;
    for (const [term, weight] of this.queryTerms(query)) {
      const freq = tf.get(term);
      if (freq !== undefined) score += weight * Math.fround(variant.termScore(this.idf[term], freq, dl, stats, params));
    }
    return score;
  }

  /** The BM25 score of each given document for `query` (0 when no query term occurs in it). */
  scoreDocuments(query: string, docOrdinals: readonly number[]): number[] {
    const scores = new Array<number>(docOrdinals.length).fill(0);
    for (const [term, weight] of this.queryTerms(query)) {
      const start = this.starts[term];
      const end = this.starts[term + 1];
      docOrdinals.forEach((doc, j) => {
        let lo = start;
        let hi = end - 1;
        while (lo <= hi) {
          const mid = Math.floor((lo + hi) / 2);
          const value = this.docs[mid];
          if (value === doc) {
            scores[j] += weight * this.impacts[mid];
            return;
          }
          if (value < doc) lo = mid + 1;
          else hi = mid - 1;
        }
      });
    }
    return scores;
  }
}
