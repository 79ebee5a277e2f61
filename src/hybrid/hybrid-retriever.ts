/**
 * Hybrid retrieval by reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009):
 *   RRF(d) = Σ_engines w_e / (k + rank_e(d)),  rank 1-based, k = --rrf-k (default 60), w_e = --rrf-weights (default 1).
 * Each engine's top-`depth` list is fused (depth = max(requested k, --fusion-depth)); a document outside an
 * engine's list gets no contribution from it. Both engines search the same doc store, so ordinals agree.
 *
 * Scores of arbitrary documents or texts (positives, for the false-negative filters) use each engine's own
 * score to place the document in that engine's list: rank = 1 + the number of listed documents scoring higher.
 * For a document beyond the list this is the rank just past it — an upper bound on its RRF contribution, which
 * makes the ratio filters conservative (they may remove more candidates, never fewer).
 */
import type { Candidate, CorpusView, Retriever, RetrieverDescription } from '../retriever.js';
import { TopK } from '../bm25/top-k.js';

export interface HybridOptions {
  rrfK: number;
  /** One weight per engine, in engine order; default all 1 (plain RRF). */
  weights?: readonly number[];
  /** Minimum depth of each engine's list. */
  fusionDepth: number;
}

const MEMO_ENTRIES = 2048;

export class HybridRetriever implements Retriever {
  readonly name = 'hybrid';
  readonly corpus: CorpusView;
  private readonly lists = new Map<string, { depth: number; lists: Candidate[][] }>();

  private readonly weights: readonly number[];

  constructor(readonly engines: readonly Retriever[], readonly options: HybridOptions) {
    this.corpus = engines[0].corpus;
    this.weights = options.weights ?? engines.map(() => 1);
    if (this.weights.length !== engines.length) throw new Error(`hybrid: ${this.weights.length} weights for ${engines.length} engines`);
    for (const engine of engines) {
      if (engine.corpus.docCount !== this.corpus.docCount) throw new Error(`hybrid: ${engine.name} has ${engine.corpus.docCount} documents, ${engines[0].name} ${this.corpus.docCount}`);
    }
  }

  /**
   * Every engine's ranked list for each query, at least `depth` deep (memoised per query, and per query line when
   * lines are given: two records with one question may carry different query vectors).
   */
  private async engineLists(queries: readonly string[], depth: number, lines?: readonly number[]): Promise<Candidate[][][]> {
    const keyOf = (i: number) => (lines === undefined ? queries[i] : `${lines[i]}\u0000${queries[i]}`);
    const missing = queries.map((_, i) => i).filter((i) => (this.lists.get(keyOf(i))?.depth ?? -1) < depth);
    if (missing.length > 0) {
      // One engine at a time: each already uses the --threads cores (BM25's pool, onnxruntime and USearch).
      const perEngine: Candidate[][][] = [];
      const missingQueries = missing.map((i) => queries[i]);
      const missingLines = lines === undefined ? undefined : missing.map((i) => lines[i]);
      for (const engine of this.engines) perEngine.push(await engine.search(missingQueries, depth, missingLines));
      missing.forEach((q, i) => {
        if (this.lists.size >= MEMO_ENTRIES) this.lists.delete(this.lists.keys().next().value!);
        this.lists.set(keyOf(q), { depth, lists: perEngine.map((lists) => lists[i]) });
      });
    }
    return queries.map((_, i) => this.lists.get(keyOf(i))!.lists);
  }

  private rrf(engine: number, rank1: number): number {
    return this.weights[engine] / (this.options.rrfK + rank1);
  }

  async search(queries: readonly string[], k: number, queryLines?: readonly number[]): Promise<Candidate[][]> {
    const depth = Math.max(k, this.options.fusionDepth);
    const all = await this.engineLists(queries, depth, queryLines);
    return all.map((lists) => {
      const fused = new Map<number, number>();
      lists.forEach((list, e) => list.forEach((c, rank) => fused.set(c.docOrdinal, (fused.get(c.docOrdinal) ?? 0) + this.rrf(e, rank + 1))));
      const top = new TopK(Math.min(k, fused.size));
      for (const [doc, score] of fused) top.offer(doc, score);
      return top.sorted();
    });
  }

  /** RRF score from each engine's own scores of the items, placed in that engine's list. */
  private async fusedScores(query: string, queryLine: number | undefined, engineScores: (engine: Retriever) => Promise<number[]>, count: number): Promise<number[]> {
    const [lists] = await this.engineLists([query], this.options.fusionDepth, queryLine === undefined ? undefined : [queryLine]);
    const out = new Array<number>(count).fill(0);
    for (let e = 0; e < this.engines.length; e++) {
      const scores = await engineScores(this.engines[e]);
      const list = lists[e];
      scores.forEach((score, i) => {
        let higher = 0;
        while (higher < list.length && list[higher].score > score) higher++;
        out[i] += this.rrf(e, higher + 1);
      });
    }
    return out;
  }

  async scoreDocuments(query: string, docOrdinals: readonly number[], queryLine?: number): Promise<number[]> {
    return this.fusedScores(query, queryLine, (engine) => engine.scoreDocuments(query, docOrdinals, queryLine), docOrdinals.length);
  }

  async scoreTexts(query: string, texts: readonly string[], queryLine?: number): Promise<number[]> {
    return this.fusedScores(query, queryLine, (engine) => engine.scoreTexts(query, texts, queryLine), texts.length);
  }

  /** Each engine's description, its keys prefixed by the engine's name, and the fusion settings. */
  describe(): RetrieverDescription {
    const parts = this.engines.flatMap((engine) => Object.entries(engine.describe()).map(([key, value]) => [`${engine.name}.${key}`, value] as const));
    return { rrf_k: this.options.rrfK, rrf_weights: this.weights.join(','), fusion_depth: this.options.fusionDepth, ...Object.fromEntries(parts) };
  }

  async close(): Promise<void> {
    // Engines share the doc store: close the dense one first, the BM25 one (which owns the store) last.
    for (const engine of [...this.engines].reverse()) await engine.close();
  }
}
