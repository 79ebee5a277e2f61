/**
 * The BM25 engine behind the Retriever interface: an inverted index plus the doc store it was built over.
 * With threads > 1, batches are searched by a pool of worker threads over the same shared index memory
 * (search-pool.ts); with 1, in this thread. Results are identical either way.
 */
import type { DocStore } from '../corpus/doc-store.js';
import type { Candidate, Retriever, RetrieverDescription } from '../retriever.js';
import type { Bm25Index } from './index-reader.js';
import { Bm25SearchPool } from './search-pool.js';
import type { AnalyzerChoice } from '../text/analyzer.js';

export class Bm25Retriever implements Retriever {
  readonly name = 'bm25';
  /** Exhaustive and MaxScore search give the exact top k, ties by ordinal (test/bm25-differential). */
  readonly exactRanking = true;
  constructor(readonly index: Bm25Index, readonly corpus: DocStore, private readonly pool?: Bm25SearchPool) {}

  /** A retriever searching on `threads` threads (≥ 1; 1 searches in this thread, as a plain constructor does). */
  static async open(index: Bm25Index, corpus: DocStore, threads: number, analyzer: string | AnalyzerChoice): Promise<Bm25Retriever> {
    const pool = threads > 1 ? await Bm25SearchPool.start(index.data, analyzer, threads) : undefined;
    return new Bm25Retriever(index, corpus, pool);
  }

  get searchesOffThread(): boolean {
    return this.pool !== undefined;
  }

  /** Threads searching (1: this thread). */
  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  async search(queries: readonly string[], k: number): Promise<Candidate[][]> {
    if (this.pool) return this.pool.search(queries, k);
    return queries.map((query) => this.index.search(query, k));
  }

  async scoreDocuments(query: string, docOrdinals: readonly number[]): Promise<number[]> {
    return this.index.scoreDocuments(query, docOrdinals);
  }

  /**
   * A text that IS a corpus document (same text, no title: the DataFlow case, where positives are the corpus)
   * takes its precomputed impacts — the same score, without analyzing the text again.
   */
  async scoreTexts(query: string, texts: readonly string[]): Promise<number[]> {
    return texts.map((text) => {
      const ordinal = this.corpus.ordinalOfText(text);
      if (ordinal !== undefined && this.corpus.title(ordinal) === '' && this.corpus.text(ordinal) === text) {
        return this.index.scoreDocuments(query, [ordinal])[0];
      }
      return this.index.scoreText(query, text);
    });
  }

  describe(): RetrieverDescription {
    const m = this.index.manifest;
    return { analyzer: m.analyzer, k1: m.k1, b: m.b, variant: m.variant, terms: m.termCount, corpus_fingerprint: m.corpusFingerprint, index_created_at: m.createdAt };
  }

  async close(): Promise<void> {
    this.corpus.close();
    await this.pool?.close();
  }
}
