/**
 * BM25 index reader and exact top-k search. The index is loaded once into SharedArrayBuffers (postings,
 * bounds, the term dictionary), so search threads share one copy. A query only sums precomputed impacts;
 * `searchPruned` prunes with MaxScore (max-score.ts), `searchExhaustive` scores every posting and is the
 * reference the pruned path must equal exactly: same documents, same scores, same tie order (lower doc ordinal
 * first; test/bm25-differential.test.ts). `search`, what mining calls, picks one of the two per query. Every file
 * is checksum-verified on open (src/storage/container.ts); the bytes are decoded by format.ts, the one module that
 * knows the layout.
 */
import { IndexError } from '../errors.js';
import { log } from '../log.js';
import type { Analyzer } from '../text/analyzer.js';
import type { Candidate } from '../retriever.js';
import { BM25_VERSIONS, BOUNDS_SINCE_VERSION, CODES_SINCE_VERSION, readBm25Manifest, readBounds, readDocLengths, readImpactTables, readPostingCodes, readPostingImpacts, readTermTable, type Bm25Manifest } from './format.js';
import { encodeImpacts, type ImpactCodes } from './impact-codes.js';
import { TopK } from './top-k.js';
import { postingBounds, WINDOW, maxScoreTopK, MaxScoreScratch, MAX_POSTINGS, MAX_QUERY_TERMS, sumsAreExact, type BoundsAllocators, type PostingArrays, type PostingBounds, type SearchWork } from './max-score.js';
import { buildTermDictionary, sharedArray, TermDictionary, type TermDictionaryData } from './term-dictionary.js';
import { scoringVariant } from './scoring.js';

/**
 * Everything a loaded index consists of, as typed arrays over SharedArrayBuffers: loaded once, then handed to
 * any number of search threads (structured clone shares SharedArrayBuffers, it does not copy them).
 */
export interface Bm25IndexData {
  dir: string;
  manifest: Bm25Manifest;
  dictionary: TermDictionaryData;
  postings: PostingArrays;
  idf: Float64Array;
  docLengths: Uint32Array;
}

/** The bound tables of an index of format 1, computed at open into shared memory. */
const SHARED_ALLOCATORS: BoundsAllocators = {
  float32: (n) => sharedArray(Float32Array, n),
  float64: (n) => sharedArray(Float64Array, n),
  int32: (n) => sharedArray(Int32Array, n),
  uint32: (n) => sharedArray(Uint32Array, n),
};

/**
 * Read and verify an index dir into shared memory. When `docsBuildId` is given, the index must have been built
 * over that doc store build; every file must belong to the manifest's build.
 */
export function loadBm25IndexData(dir: string, analyzerFingerprint: string, rebuildHint: string, docsBuildId?: string): Bm25IndexData {
  const manifest = readBm25Manifest(dir, rebuildHint);
  if (!manifest) throw new IndexError(`${dir}: no BM25 manifest`, { hint: `build it: ${rebuildHint}` });
  if (manifest.version > BM25_VERSIONS.current || manifest.version < BM25_VERSIONS.oldestReadable) {
    throw new IndexError(`${dir}: BM25 index format ${manifest.version} is not readable by this rare-mine (reads ${BM25_VERSIONS.oldestReadable}..${BM25_VERSIONS.current})`, { hint: `rebuild: ${rebuildHint} --rebuild` });
  }
  if (manifest.analyzer !== analyzerFingerprint) {
    throw new IndexError(`${dir}: index was built with analyzer "${manifest.analyzer}", not "${analyzerFingerprint}"`, { hint: `rebuild: ${rebuildHint} --rebuild` });
  }
  if (docsBuildId !== undefined && manifest.docsBuildId !== docsBuildId) {
    throw new IndexError(`${dir}: index was built over another doc store (build ${manifest.docsBuildId}, docs/ is build ${docsBuildId})`, { hint: `rebuild: ${rebuildHint} --rebuild` });
  }

  const { termCount, starts, idf, maxImpact, termOffsets, termBytes } = readTermTable(dir, manifest.buildId, rebuildHint);
  if (starts[termCount] !== manifest.postingCount) {
    throw new IndexError(`${dir}: the term table holds ${starts[termCount]} postings, manifest says ${manifest.postingCount}`, { hint: `rebuild: ${rebuildHint} --rebuild` });
  }
  const docLengths = readDocLengths(dir, manifest.buildId, rebuildHint, manifest.docCount);
  const windowCount = Math.max(1, Math.ceil(manifest.docCount / WINDOW));
  let docs: Uint32Array;
  let codes: ImpactCodes;
  let bounds: PostingBounds;
  if (manifest.version >= CODES_SINCE_VERSION) {
    const { codeBytes, tableStart, impactTable } = readImpactTables(dir, manifest.buildId, rebuildHint, termCount);
    const postings = readPostingCodes(dir, manifest.buildId, rebuildHint, manifest.postingCount, codeBytes);
    docs = postings.docs;
    codes = { codes: postings.codes, tableStart, impactTable };
    bounds = readBounds(dir, manifest.buildId, rebuildHint, termCount, windowCount);
  } else {
    // Formats 1 and 2 hold float32 impacts: coded here (the tables in shared memory); format 1 also holds no
    // bound tables (bounds.bin), computed from one pass over the postings.
    log().info(
      { dir, format: manifest.version, postings: manifest.postingCount },
      `BM25 index format ${manifest.version}: its impacts are coded at every open (for a while the float32 impacts and the codes are both in memory, ~6 bytes a posting); rebuilding writes format ${BM25_VERSIONS.current}, which opens faster in less memory, with the same results: ${rebuildHint} --rebuild`,
    );
    const postings = readPostingImpacts(dir, manifest.buildId, rebuildHint, manifest.postingCount);
    docs = postings.docs;
    bounds =
      manifest.version >= BOUNDS_SINCE_VERSION
        ? readBounds(dir, manifest.buildId, rebuildHint, termCount, windowCount)
        : postingBounds(starts, docs, postings.impacts, manifest.docCount, SHARED_ALLOCATORS);
    const coded = encodeImpacts(starts, postings.impacts, (bytes, length) => (bytes === 2 ? sharedArray(Uint16Array, length) : sharedArray(Uint32Array, length)));
    const tableStart = sharedArray(Float64Array, coded.tableStart.length);
    tableStart.set(coded.tableStart);
    const impactTable = sharedArray(Float32Array, coded.impactTable.length);
    impactTable.set(coded.impactTable);
    codes = { codes: coded.codes, tableStart, impactTable };
  }
  return { dir, manifest, dictionary: buildTermDictionary(termBytes, termOffsets), postings: { starts, docs, ...codes, maxImpact, ...bounds }, idf, docLengths };
}

/**
 * Below this many postings over all its terms, a query is scored exhaustively rather than with MaxScore: where the
 * two cost the same, per query, on scale-mix at k = 100 (195k passages, SciFact claims) and on 2M generated
 * passages at k = 28 (20k–40k postings: 211 against 220 µs, and 385 against 432 µs).
 */
export const EXHAUSTIVE_BELOW = 32_000;

export class Bm25Index {
  readonly manifest: Bm25Manifest;
  readonly docCount: number;
  readonly dir: string;
  readonly idf: Float64Array;
  private readonly dictionary: TermDictionary;
  private readonly postings: PostingArrays;
  private readonly docLengths: Uint32Array;
  private readonly scratch = new MaxScoreScratch();
  /** The exhaustive scorer's accumulator, allocated on its first use (docCount × 8 bytes), and touched docs. */
  private accumulator?: Float64Array;
  private touched = new Uint32Array(1024);

  /** Search over loaded data (in this thread or a worker: the arrays are shared, not copied). */
  constructor(readonly data: Bm25IndexData, readonly analyzer: Analyzer) {
    if (data.manifest.analyzer !== analyzer.fingerprint) {
      throw new IndexError(`${data.dir}: index was built with analyzer "${data.manifest.analyzer}", not "${analyzer.fingerprint}"`);
    }
    this.manifest = data.manifest;
    this.docCount = data.manifest.docCount;
    this.dir = data.dir;
    this.idf = data.idf;
    this.dictionary = new TermDictionary(data.dictionary);
    this.postings = data.postings;
    this.docLengths = data.docLengths;
  }

  /** Open, verify and load an index dir. */
  static open(dir: string, analyzer: Analyzer, rebuildHint: string, docsBuildId?: string): Bm25Index {
    return new Bm25Index(loadBm25IndexData(dir, analyzer.fingerprint, rebuildHint, docsBuildId), analyzer);
  }

  get termCount(): number {
    return this.dictionary.termCount;
  }

  /** Analyzed document length (terms after stopwords), as indexed. */
  docLength(docOrdinal: number): number {
    return this.docLengths[docOrdinal];
  }

  /** Query terms → (term id, multiplicity). Unknown terms are dropped: they match nothing. */
  private queryTerms(query: string): Array<[number, number]> {
    const weights = new Map<number, number>();
    for (const term of this.analyzer.terms(query)) {
      const id = this.dictionary.lookup(term);
      if (id >= 0) weights.set(id, (weights.get(id) ?? 0) + 1);
    }
    return [...weights];
  }

  /**
   * The exact top-k documents for `query`, best first: what mining uses. A query whose terms have fewer than
   * EXHAUSTIVE_BELOW postings in all is scored exhaustively (cheaper than MaxScore's per-window work at that
   * size); any other with MaxScore pruning. Both give the same documents, scores and order.
   */
  search(query: string, k: number, work?: SearchWork): Candidate[] {
    const terms = this.queryTerms(query);
    const { starts } = this.postings;
    let postings = 0;
    for (const [term] of terms) postings += starts[term + 1] - starts[term];
    return postings < EXHAUSTIVE_BELOW ? this.exhaustiveTopK(terms, k, work) : this.prunedTopK(terms, k, work);
  }

  /**
   * The same top-k, found with MaxScore pruning (src/bm25/max-score.ts); for tests and benchmarks. A query whose
   * sums MaxScore cannot keep exact (sumsAreExact; none on a realistic index), or an index of more than
   * MAX_POSTINGS postings (2^31 − 1, ~16 GB of postings in memory), is scored exhaustively.
   */
  searchPruned(query: string, k: number, work?: SearchWork): Candidate[] {
    return this.prunedTopK(this.queryTerms(query), k, work);
  }

  private prunedTopK(terms: ReadonlyArray<readonly [number, number]>, k: number, work?: SearchWork): Candidate[] {
    if (terms.length > MAX_QUERY_TERMS || this.postings.docs.length > MAX_POSTINGS || !sumsAreExact(this.postings, terms)) return this.exhaustiveTopK(terms, k, work);
    return maxScoreTopK(this.postings, terms, k, work, this.scratch);
  }

  /**
   * The reference: the same top-k by scoring every posting of every query term (term-at-a-time into a dense
   * accumulator). Pruning is always checked against it (tests, benchmarks); mining uses it for short queries.
   */
  searchExhaustive(query: string, k: number, work?: SearchWork): Candidate[] {
    return this.exhaustiveTopK(this.queryTerms(query), k, work);
  }

  private exhaustiveTopK(queryTerms: ReadonlyArray<readonly [number, number]>, k: number, work?: SearchWork): Candidate[] {
    const acc = (this.accumulator ??= new Float64Array(this.docCount));
    const { docs, codes, impactTable, tableStart, starts } = this.postings;
    let total = 0;
    for (const [term] of queryTerms) total += starts[term + 1] - starts[term];
    if (this.touched.length < Math.min(total, this.docCount)) this.touched = new Uint32Array(Math.min(total, this.docCount));
    const touched = this.touched;
    let touchedCount = 0;
    let postingsScored = 0;
    for (const [term, weight] of queryTerms) {
      const end = starts[term + 1];
      const base = tableStart[term];
      postingsScored += end - starts[term];
      for (let i = starts[term]; i < end; i++) {
        const doc = docs[i];
        const sum = acc[doc];
        if (sum === 0) touched[touchedCount++] = doc;
        acc[doc] = sum + weight * impactTable[base + codes[i]];
      }
    }
    const top = new TopK(Math.min(k, touchedCount));
    // Once the top k is full, a score below its lowest cannot enter (an equal one may: a lower ordinal wins).
    let lowest = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < touchedCount; i++) {
      const doc = touched[i];
      const score = acc[doc];
      acc[doc] = 0;
      if (score < lowest) continue;
      top.offer(doc, score);
      if (top.size === top.k) lowest = top.minScore();
    }
    if (work) {
      work.postingsScored += postingsScored;
      work.documentsScored += touchedCount;
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
      const id = this.dictionary.lookup(term);
      if (id >= 0) tf.set(id, (tf.get(id) ?? 0) + 1);
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
    const { docs, codes, impactTable, tableStart, starts } = this.postings;
    for (const [term, weight] of this.queryTerms(query)) {
      const start = starts[term];
      const base = tableStart[term];
      const end = starts[term + 1];
      docOrdinals.forEach((doc, j) => {
        let lo = start;
        let hi = end - 1;
        while (lo <= hi) {
          const mid = Math.floor((lo + hi) / 2);
          const value = docs[mid];
          if (value === doc) {
            scores[j] += weight * impactTable[base + codes[mid]];
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
