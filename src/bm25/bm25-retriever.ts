/**
 * The BM25 engine behind the Retriever interface: an inverted index plus the doc store it was built over.
 */
import type { DocStore } from '../corpus/doc-store.js';
import type { Candidate, Retriever, RetrieverDescription } from '../mine/retriever.js';
import type { Bm25Index } from './index-reader.js';

export class Bm25Retriever implements Retriever {
  readonly name = 'bm25';
  constructor(readonly index: Bm25Index, readonly corpus: DocStore) {}

  async search(queries: readonly string[], k: number): Promise<Candidate[][]> {
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

  close(): void {
    this.corpus.close();
  }
}
