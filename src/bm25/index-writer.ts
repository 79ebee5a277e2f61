/**
 * BM25 index writer: analyzes each document once (itself, or on build threads: build-pool.ts), collects (term, doc,
 * tf) postings in chunked buffers, and at finish lays postings out term by term (a counting sort, docs ascending
 * within a term) with each posting's precomputed impact = the variant's term score, stored as a code into the
 * term's table of distinct impacts (impact-codes.ts), and the bound tables MaxScore prunes with. The bytes are format.ts's (FORMAT.md draws them): this module
 * decides what is written, never where.
 * Memory: when the buffered postings (plus the term dictionary) reach the memory budget, they are flushed to
 * disk as a sorted run (posting-runs.ts) and the runs are merged at finish, so the peak is set by the budget,
 * not the corpus; what stays in memory regardless is documented at DEFAULT_MEMORY_BUDGET.
 * Invariants: the impacts written are exactly what the naive scorer computes, rounded to float32; the files
 * are byte-identical whatever the budget (test/bm25-bounded-build.test.ts).
 */
import { join } from 'node:path';
import { createAnalyzer, type Analyzer, type AnalyzerChoice } from '../text/analyzer.js';
import { newBuildId, writePartManifest } from '../storage/manifest.js';
import { TokenIds } from '../text/token-ids.js';
import { BM25_MANIFEST_FORMAT, BM25_VERSIONS, PostingsFileWriter, writeBounds, writeDocLengths, writeImpactTables, writeTermTable, type Bm25Manifest } from './format.js';
import { codeBytesFor, countDistinct, ImpactEncoder, MAX_NARROW_CODES, type CodeArray } from './impact-codes.js';
import { postingBounds, PostingBoundsBuilder } from './max-score.js';
import { ChunkedUint32 } from './growable.js';
import { reduceRuns, RunReader, writeRun } from './posting-runs.js';
import { Bm25BuildPool, CHUNK_DOCS, type AnalyzedDocuments } from './build-pool.js';
import { scoringVariant, type Bm25Params } from './scoring.js';
import { makeDirs } from '../io/make-dirs.js';

/**
 * Default --memory-budget of a BM25 build: 1 GiB. The budget bounds the posting buffer together with the term
 * dictionary and the token memo; on top of it a build keeps a constant per document and per term regardless of
 * the budget: 12 bytes a document (length, effective length) plus the doc store's table it reads from (~35 bytes
 * a document: offsets, hashes, ids), ~28 bytes a term (df, offsets, idf, bound, run fill), 1 MiB of read buffer
 * per run during the merge (runs ≈ postings × 20 bytes / budget) and Node itself (~60 MB). Measured: 8.8M
 * generated passages, 3.3M terms, 12 runs: peak RSS 1,523 MB at the default budget; 1,686 MB in a later run, and
 * 1,713 MB (9 runs) with --threads 2, whose build threads' dictionaries and token memos count against the budget
 * (docs/BENCHMARKS.md).
 */
export const DEFAULT_MEMORY_BUDGET = 1 << 30;
/** Bytes one buffered posting costs at its peak: 3 × u32 buffered, (doc, tf) sorted into a run (posting-runs.ts). */
const BYTES_PER_BUFFERED_POSTING = 20;
/** Rough cost of one dictionary entry beyond its characters (Map entry, array slot, string header). */
const BYTES_PER_TERM_ENTRY = 80;

export interface Bm25Settings extends Bm25Params {
  variant: string;
}

/** What a BM25 index is built over: the doc store, whose documents are visited in ordinal order. */
export interface Bm25BuildCorpus {
  readonly docCount: number;
  /** Every document's title and text in ordinal order (the doc store reads them sequentially, in large chunks). */
  forEachDocument(visit: (title: string, text: string) => void): void;
}

/**
 * The BM25 part's build: every document of `docs` in ordinal order into an index at `dir`, tied to the corpus
 * fingerprint and the doc store build; `onDocument` is called after each one (progress). With `threads` > 1 the
 * documents are analyzed on that many build threads (build-pool.ts) and the files are the same bytes. The writer
 * is garbage when this returns, so its buffers and its analyzer's term cache are not kept while the index is
 * searched.
 */
export async function buildBm25Index(
  dir: string,
  docs: Bm25BuildCorpus,
  build: { analyzer: string | AnalyzerChoice; settings: Bm25Settings; memoryBudget?: number; corpusFingerprint: string; docsBuildId: string; threads?: number },
  onDocument?: () => void,
): Promise<{ manifest: Bm25Manifest; runs: number }> {
  const writer = new Bm25IndexWriter(dir, createAnalyzer(build.analyzer), build.settings, build.memoryBudget);
  const threads = build.threads ?? 1;
  if (threads <= 1 || docs.docCount <= CHUNK_DOCS) {
    docs.forEachDocument((title, text) => {
      writer.add(title, text);
      onDocument?.();
    });
  } else {
    const pool = await Bm25BuildPool.start(build.analyzer, threads);
    try {
      const termId = (term: string) => writer.termId(term);
      const takeOne = () => {
        const { chunk, idMap } = pool.take(termId);
        writer.threadMemory = pool.memoryBytes;
        writer.addAnalyzed(chunk, idMap, onDocument);
      };
      let texts: string[] = [];
      docs.forEachDocument((title, text) => {
        texts.push(indexedText(title, text));
        if (texts.length < CHUNK_DOCS) return;
        if (pool.full) takeOne();
        pool.submit(texts);
        texts = [];
      });
      if (texts.length > 0) {
        if (pool.full) takeOne();
        pool.submit(texts);
      }
      while (pool.pending > 0) takeOne();
    } finally {
      await pool.close();
    }
  }
  return { manifest: writer.finish(build.corpusFingerprint, build.docsBuildId), runs: writer.runCount };
}

/** The text a document is indexed by: title and text together. */
export function indexedText(title: string, text: string): string {
  return title.length > 0 ? `${title}\n${text}` : text;
}

/** What ties a BM25 build to its corpus and to the doc store build whose ordinals it uses. */
interface BuildIdentity {
  corpusFingerprint: string;
  docsBuildId: string;
}

export class Bm25IndexWriter {
  private readonly termIds = new Map<string, number>();
  private readonly terms: string[] = [];
  /** Surface token → term id memo: a repeated token costs one probe, not analysis plus a lookup. */
  private readonly tokenIds: TokenIds;
  private ids = new Uint32Array(1024);
  private postingTerm = new ChunkedUint32();
  private postingDoc = new ChunkedUint32();
  private postingTf = new ChunkedUint32();
  private readonly docLengths = new ChunkedUint32();
  private totalLength = 0;
  private termMemory = 0;
  private readonly runs: string[] = [];
  /** What build threads hold for this build (their dictionaries and token memos), counted against the budget. */
  threadMemory = 0;

  /**
   * `memoryBudget`: bytes of buffered postings plus term dictionary before a run is flushed to disk.
   * `buildId`: this build's identity (storage/manifest.ts newBuildId), written into every file and the manifest.
   */
  constructor(
    readonly dir: string,
    readonly analyzer: Analyzer,
    readonly settings: Bm25Settings,
    readonly memoryBudget = DEFAULT_MEMORY_BUDGET,
    readonly buildId = newBuildId(),
  ) {
    scoringVariant(settings.variant);
    this.tokenIds = new TokenIds(analyzer, (term) => this.termIdOf(term));
    makeDirs(dir);
  }

  /** Sorted runs flushed to disk so far (0 when everything fit in the budget). */
  get runCount(): number {
    return this.runs.length;
  }

  /** Write the buffered postings as one sorted run and empty the buffers. */
  private flushRun(): void {
    const count = this.postingTerm.length;
    if (count === 0) return;
    const path = join(this.dir, `run-${this.runs.length}.tmp`);
    writeRun(path, this.terms.length, this.postingTerm.chunksArray(), this.postingDoc.chunksArray(), this.postingTf.chunksArray());
    this.runs.push(path);
    this.postingTerm = new ChunkedUint32();
    this.postingDoc = new ChunkedUint32();
    this.postingTf = new ChunkedUint32();
  }

  get docCount(): number {
    return this.docLengths.length;
  }

  /** Index the next document (ordinal = number of documents added before it). */
  add(title: string, text: string): void {
    const docOrdinal = this.docLengths.length;
    let length = 0;
    this.tokenIds.forEachId(indexedText(title, text), (id) => {
      if (length === this.ids.length) {
        const grown = new Uint32Array(2 * length);
        grown.set(this.ids);
        this.ids = grown;
      }
      this.ids[length++] = id;
    });
    this.docLengths.push(length);
    this.totalLength += length;
    if (length === 0) return;
    const ids = this.ids.subarray(0, length).sort();
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
    this.flushIfOverBudget();
  }

  /**
   * Index the next documents from a build thread's analysis (build-pool.ts): the same postings `add` would buffer
   * for their texts, with the thread's term ids mapped to this build's through `idMap`. The caller has mapped
   * the chunk's new terms (termIdOf, in the thread's order of first occurrence) before, so ids are assigned in
   * the order a one-thread build assigns them and the files are the same bytes.
   */
  addAnalyzed(chunk: AnalyzedDocuments, idMap: Uint32Array, onDocument?: () => void): void {
    const { lengths, termCounts, terms, tfs } = chunk;
    let at = 0;
    for (let d = 0; d < lengths.length; d++) {
      const docOrdinal = this.docLengths.length;
      this.docLengths.push(lengths[d]);
      this.totalLength += lengths[d];
      for (const end = at + termCounts[d]; at < end; at++) {
        this.postingTerm.push(idMap[terms[at]]);
        this.postingDoc.push(docOrdinal);
        this.postingTf.push(tfs[at]);
      }
      this.flushIfOverBudget();
      onDocument?.();
    }
  }

  private flushIfOverBudget(): void {
    if (this.postingTerm.length * BYTES_PER_BUFFERED_POSTING + this.termMemory + this.tokenIds.bytes + this.threadMemory >= this.memoryBudget) this.flushRun();
  }

  /** The id of `term` in this build, added to the dictionary when new (a build thread's new terms, in order). */
  termId(term: string): number {
    return this.termIdOf(term);
  }

  /** The id of `term`, added to the dictionary when new. */
  private termIdOf(term: string): number {
    let id = this.termIds.get(term);
    if (id === undefined) {
      id = this.terms.length;
      this.termIds.set(term, id);
      this.terms.push(term);
      this.termMemory += 2 * term.length + BYTES_PER_TERM_ENTRY;
    }
    return id;
  }

  /** Lay out and write terms.bin, postings.bin, impacts.bin, bounds.bin, lengths.bin and manifest.json. */
  finish(corpusFingerprint: string, docsBuildId: string): Bm25Manifest {
    const identity = { corpusFingerprint, docsBuildId };
    return this.runs.length === 0 ? this.finishInMemory(identity) : this.finishFromRuns(identity);
  }

  /** Everything fit in the budget: lay postings out from the buffers. */
  private finishInMemory(identity: BuildIdentity): Bm25Manifest {
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
    const maxTf = new Uint32Array(termCount);
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
        if (tfChunk[i] > maxTf[term]) maxTf[term] = tfChunk[i];
        const impact = variant.termScore(idf[term], tfChunk[i], effectiveLength[doc], stats, this.settings);
        impacts[at] = impact;
        if (impacts[at] > maxImpact[term]) maxImpact[term] = impacts[at];
      }
    });

    const codeBytes = codeBytesFor(df, maxTf, countDistinct(effectiveLength));
    const codes = codeBytes === 2 ? new Uint16Array(postingCount) : new Uint32Array(postingCount);
    const encoder = new ImpactEncoder(codeBytes === 2 ? MAX_NARROW_CODES : 2 ** 32);
    for (let t = 0; t < termCount; t++) encoder.addTerm(impacts, starts[t], df[t], codes, starts[t]);
    const postings = new PostingsFileWriter(this.dir, this.buildId);
    postings.writeDocs(docs);
    postings.writeCodes(codes);
    postings.finish(postingCount);
    writeImpactTables(this.dir, this.buildId, codeBytes, encoder.finish());
    writeBounds(this.dir, this.buildId, postingBounds(starts, docs, impacts, docCount));
    return this.writeTermsAndManifest(identity, stats, starts, idf, maxImpact, lengths, postingCount);
  }

  /**
   * Runs were flushed: flush the rest, then merge the runs term by term in two streaming passes over them —
   * doc ordinals first (counting each term's df and largest tf), then impact codes (idf is known once every df is,
   * the code width once every largest tf is).
   */
  private finishFromRuns(identity: BuildIdentity): Bm25Manifest {
    this.flushRun();
    const variant = scoringVariant(this.settings.variant);
    const docCount = this.docCount;
    const termCount = this.terms.length;
    const stats = { docCount, averageDocLength: docCount === 0 ? 0 : this.totalLength / docCount };
    const lengths = this.docLengths.toArray();
    const effectiveLength = new Float64Array(docCount);
    for (let d = 0; d < docCount; d++) effectiveLength[d] = variant.effectiveLength(lengths[d]);
    // At most mergeFanIn() runs open at once (posting-runs.ts): more are first merged, level by level.
    const readers = reduceRuns(this.runs).map((path) => new RunReader(path));
    const postings = new PostingsFileWriter(this.dir, this.buildId);
    const df = new Uint32Array(termCount);
    const maxTf = new Uint32Array(termCount);
    const docOut = new Uint32Array(1 << 18);
    let used = 0;
    const flushDocs = () => {
      postings.writeDocs(docOut.subarray(0, used));
      used = 0;
    };
    for (let t = 0; t < termCount; t++) {
      for (const reader of readers) {
        if (reader.term !== t) continue;
        df[t] += reader.remaining;
        for (; reader.remaining > 0; reader.remaining--) {
          if (used === docOut.length) flushDocs();
          docOut[used++] = reader.next();
          const tf = reader.next();
          if (tf > maxTf[t]) maxTf[t] = tf;
        }
        reader.nextGroup();
      }
    }
    flushDocs();
    const starts = new Float64Array(termCount + 1);
    for (let t = 0; t < termCount; t++) starts[t + 1] = starts[t] + df[t];
    const idf = new Float64Array(termCount);
    for (let t = 0; t < termCount; t++) idf[t] = variant.idf(df[t], stats);
    const maxImpact = new Float32Array(termCount);
    const codeBytes = codeBytesFor(df, maxTf, countDistinct(effectiveLength));
    const newCodes = (length: number): CodeArray => (codeBytes === 2 ? new Uint16Array(length) : new Uint32Array(length));
    const encoder = new ImpactEncoder(codeBytes === 2 ? MAX_NARROW_CODES : 2 ** 32);
    const codeOut = newCodes(1 << 18);
    used = 0;
    const flushCodes = () => {
      postings.writeCodes(codeOut.subarray(0, used));
      used = 0;
    };
    // The bound tables term by term, from each term's docs and impacts gathered during this pass.
    const bounds = new PostingBoundsBuilder(starts, docCount);
    let mostPostings = 0;
    for (let t = 0; t < termCount; t++) mostPostings = Math.max(mostPostings, df[t]);
    const termDocs = new Uint32Array(mostPostings);
    const termImpacts = new Float32Array(mostPostings);
    const termCodes = newCodes(mostPostings);
    for (const reader of readers) reader.rewind();
    for (let t = 0; t < termCount; t++) {
      let count = 0;
      for (const reader of readers) {
        if (reader.term !== t) continue;
        for (; reader.remaining > 0; reader.remaining--) {
          const doc = reader.next();
          const tf = reader.next();
          termDocs[count] = doc;
          termImpacts[count] = variant.termScore(idf[t], tf, effectiveLength[doc], stats, this.settings);
          if (termImpacts[count] > maxImpact[t]) maxImpact[t] = termImpacts[count];
          count++;
        }
        reader.nextGroup();
      }
      bounds.addTerm(t, termDocs, termImpacts, 0);
      encoder.addTerm(termImpacts, 0, count, termCodes, 0);
      for (let from = 0; from < count; ) {
        if (used === codeOut.length) flushCodes();
        const take = Math.min(count - from, codeOut.length - used);
        codeOut.set(termCodes.subarray(from, from + take), used);
        used += take;
        from += take;
      }
    }
    flushCodes();
    postings.finish(starts[termCount]);
    writeImpactTables(this.dir, this.buildId, codeBytes, encoder.finish());
    writeBounds(this.dir, this.buildId, bounds.bounds);
    for (const reader of readers) reader.close(true);
    return this.writeTermsAndManifest(identity, stats, starts, idf, maxImpact, lengths, starts[termCount]);
  }

  private writeTermsAndManifest(
    identity: BuildIdentity,
    stats: { docCount: number; averageDocLength: number },
    starts: Float64Array,
    idf: Float64Array,
    maxImpact: Float32Array,
    lengths: Uint32Array,
    postingCount: number,
  ): Bm25Manifest {
    const termCount = this.terms.length;
    const docCount = stats.docCount;
    const termBlob = Buffer.from(this.terms.join(''), 'utf8');
    const termOffsets = new Uint32Array(termCount + 1);
    let byteAt = 0;
    for (let t = 0; t < termCount; t++) {
      termOffsets[t] = byteAt;
      byteAt += Buffer.byteLength(this.terms[t], 'utf8');
    }
    termOffsets[termCount] = byteAt;
    writeTermTable(this.dir, this.buildId, { termCount, starts, idf, maxImpact, termOffsets, termBytes: termBlob });
    writeDocLengths(this.dir, this.buildId, lengths);

    const manifest: Bm25Manifest = {
      format: BM25_MANIFEST_FORMAT,
      version: BM25_VERSIONS.current,
      buildId: this.buildId,
      docsBuildId: identity.docsBuildId,
      k1: this.settings.k1,
      b: this.settings.b,
      variant: this.settings.variant,
      analyzer: this.analyzer.fingerprint,
      docCount,
      averageDocLength: stats.averageDocLength,
      termCount,
      postingCount,
      corpusFingerprint: identity.corpusFingerprint,
      createdAt: new Date().toISOString(),
    };
    return writePartManifest(this.dir, manifest);
  }
}
