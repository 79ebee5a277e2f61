/**
 * The one interface between retrieval engines (BM25, dense, hybrid) and the mining stage, at the bottom layer:
 * engines (bm25/, vector/, dense/, hybrid/, corpus/) implement it and the miner (mine/) consumes it, so neither
 * imports the other's folder. It imports nothing. The mining stage (windows, exclusions, filters, sampling,
 * formats) knows nothing about how candidates were found.
 * Invariants every implementation keeps: search results are sorted by score descending, ties broken by
 * ascending docOrdinal, so runs are reproducible; doc ordinals are dense 0..docCount-1 in corpus order.
 */

/** One scored document for a query. `score` is the engine's own similarity (BM25 score, cosine, RRF). */
export interface Candidate {
  docOrdinal: number;
  score: number;
}

/** Read access to the corpus an index was built from (see src/corpus/doc-store.ts). */
export interface CorpusView {
  readonly docCount: number;
  /** The document's `text` field as it was in the corpus. */
  text(docOrdinal: number): string;
  /** The corpus id (the `_id`/`id` field, or the ordinal as a string when the corpus had none). */
  id(docOrdinal: number): string;
  /** Ordinal of a corpus id, undefined if no such id. */
  ordinalOfId(id: string): number | undefined;
  /** Ordinal of the first document whose text equals `text` after normalisation, or undefined. */
  ordinalOfText(text: string): number | undefined;
  /** 64-bit hash (as a bigint) of the normalised text (see src/text/normalize.ts): equal texts, equal hashes. */
  normalizedTextHash(docOrdinal: number): bigint;
}

export interface Retriever {
  /** Short engine name for logs and stats: "bm25", "dense", "hybrid". */
  readonly name: string;
  readonly corpus: CorpusView;
  /**
   * True when search runs off this thread (BM25's worker pool): the mining stage then asks for a batch's
   * rankings in pieces and selects negatives from one piece while the next is searched. Rankings are the
   * same either way.
   */
  readonly searchesOffThread?: boolean;
  /**
   * True when a query's top k is the first k of its top K for every K > k (exact scores, ties by ascending
   * ordinal, as BM25's): the mining stage then asks for as few ranks as the window needs and deepens only for a
   * record left short, with the same negatives. Approximate engines leave it unset: their top k can depend on k
   * (an HNSW candidate list or a rescoring pool sized by it), so they are asked for the deeper first ranking.
   */
  readonly exactRanking?: boolean;
  /**
   * Top-`k` candidates for each query text, best first. Fewer when the corpus has fewer matches. `queryLines`, when
   * given, is each query's 1-based line in its query file (the mining input, or eval's --queries): engines that take
   * query vectors by row (--query-vectors) find a query's vector by it; the others ignore it.
   */
  search(queries: readonly string[], k: number, queryLines?: readonly number[]): Promise<Candidate[][]>;
  /** The engine's score of each given document for the query, whether or not it is in the top-k. */
  scoreDocuments(query: string, docOrdinals: readonly number[], queryLine?: number): Promise<number[]>;
  /**
   * The engine's score of arbitrary passages for the query, as if they were corpus documents (a positive given by
   * text that is not in the corpus still gets a score, for positive-aware false-negative filters).
   */
  scoreTexts(query: string, texts: readonly string[], queryLine?: number): Promise<number[]>;
  /**
   * What identifies the engine's results beyond the corpus: analyzer and BM25 parameters, model name and
   * fingerprint, precision, fusion weights. Recorded in the run section of --stats-json (and the report).
   */
  describe(): RetrieverDescription;
  close(): Promise<void> | void;
}

/** Flat name → value pairs (JSON scalars), for run records. */
export type RetrieverDescription = Readonly<Record<string, string | number>>;
