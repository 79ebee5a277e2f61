/**
 * The dense retriever: queries embedded by the model, documents found in the vector index, scored by
 * cosine similarity of the exact float32 rows. What must hold (the Retriever contract): results sorted by
 * score descending, ties by ascending ordinal; scoreDocuments gives the very score search would give the
 * same document; the search method (exact, IVF or HNSW) is chosen once per retriever and logged; an IVF index
 * the plan wants and the index lacks is built before the first search (recorded in the index directory).
 */
import type { Embedder } from '../embed/embedder.js';
import { InputError } from '../errors.js';
import { log } from '../log.js';
import type { Candidate, CorpusView, Retriever, RetrieverDescription } from '../retriever.js';
import { CALIBRATION_QUERIES } from '../vector/ivf-index.js';
import { planSearch, type SearchPlan, type SearchPlanInput } from '../vector/search-plan.js';
import { cosineSimilarity, type VectorIndex } from '../vector/vector-index.js';

/** Query vectors kept for scoreDocuments after search (mining scores positives of the queries it just searched). */
const QUERY_MEMO_ENTRIES = 4096;

/** Query rows computed elsewhere (--query-vectors), found by the query's line in its file. */
export interface QueryRows {
  vectorsOf(lines: readonly number[]): Float32Array[];
  /** Up to `count` rows spread evenly over the whole file (the same rows for every batch size, shard and resume). */
  spread(count: number): Float32Array[];
  close(): void;
}

/** Options of the dense retriever. */
export interface DenseRetrieverOptions {
  corpus: CorpusView;
  /**
   * The model: it embeds the queries (unless `queryRows`) and passages outside the corpus. None when both sides
   * come from vector files: a positive given by a text outside the corpus then has no vector (an InputError).
   */
  embedder?: Embedder;
  /** --query-vectors: each query's row by its line; search and scores then need the queries' lines. */
  queryRows?: QueryRows;
  /**
   * --corpus-vectors: a text that is a corpus passage is scored with that passage's row (the model, if any, may
   * not be the one that made the rows); only other texts are embedded.
   */
  corpusRows?: boolean;
  /** The opened dense index (dense-part.ts ensureDenseIndex or openDenseIndex). */
  index: VectorIndex;
  /** `--exact`: always exact search. */
  exact?: boolean;
  /** Force the graph even where brute force would be chosen (benchmarks, tests). Ignored with `exact`. */
  forceGraph?: boolean;
  /** How many queries this run will search, when known; lets the plan skip building a graph (search-plan.ts). */
  expectedQueryCount?: number;
  /** Search threads (onnxruntime matrix products, or USearch) and build threads, ≥ 1. Default 1. */
  threads: number;
  /** IVF lists probed per query, ≥ 1. Default: the index's calibrated nprobe (manifest). */
  nprobe?: number;
  /** The recall an IVF index built by this retriever is calibrated for. Default: ivf-index.ts DEFAULT_RECALL_TARGET. */
  ivfRecallTarget?: number;
  /** Close the embedder with the retriever. Default true. */
  ownsEmbedder?: boolean;
}

/** The dense Retriever (see the module header for its guarantees). */
export class DenseRetriever implements Retriever {
  readonly name = 'dense';
  readonly corpus: CorpusView;
  private currentPlan: SearchPlan;
  private readonly planInput: SearchPlanInput;
  private readonly embedder?: Embedder;
  private readonly queryRows?: QueryRows;
  private readonly corpusRows: boolean;
  private readonly index: VectorIndex;
  private readonly threads: number;
  private readonly ownsEmbedder: boolean;
  private readonly queryMemo = new Map<string, Float32Array>();
  private readonly nprobe?: number;
  /** The IVF build the plan wants, started on the first search. */
  private ivfReady?: Promise<unknown>;
  private readonly ivfRecallTarget?: number;
  /** nprobe calibrated on the run's own query rows (--query-vectors), once, before the first IVF search. */
  private queryCalibration?: Promise<void>;
  private calibratedNprobe?: number;
  private readonly exact: boolean;

  constructor(options: DenseRetrieverOptions) {
    this.corpus = options.corpus;
    this.embedder = options.embedder;
    this.queryRows = options.queryRows;
    this.corpusRows = options.corpusRows ?? false;
    if (!this.embedder && !this.queryRows) throw new Error('DenseRetriever: neither a model nor query rows');
    this.index = options.index;
    this.threads = options.threads;
    this.ownsEmbedder = options.ownsEmbedder ?? true;
    this.nprobe = options.nprobe;
    this.ivfRecallTarget = options.ivfRecallTarget;
    this.exact = options.exact ?? false;
    if (this.index.count !== this.corpus.docCount) {
      // Same corpus fingerprint yet another count cannot happen; a different corpus without a fingerprint can.
      log().warn({ indexDocs: this.index.count, corpusDocs: this.corpus.docCount }, 'dense index and corpus differ in size');
    }
    this.planInput = { docCount: this.index.count, queryCount: options.expectedQueryCount, graphBuilt: this.index.hasGraph, forceExact: options.exact };
    this.currentPlan = options.forceGraph && !options.exact ? { method: 'hnsw', reason: 'graph forced' } : planSearch({ ...this.planInput, ...this.ivfState() });
    log().debug({ model: this.index.manifest.model.name, docs: this.index.count, precision: this.index.manifest.precision, method: this.plan.method, why: this.plan.reason }, 'dense search');
    if (this.plan.method === 'hnsw' && !this.index.hasGraph) this.index.buildGraph(this.threads);
  }

  /** The search plan; made again once after the retriever builds an IVF index (its calibration can send it to exact). */
  get plan(): SearchPlan {
    return this.currentPlan;
  }

  private ivfState(): Pick<SearchPlanInput, 'ivfBuilt' | 'ivfProbeFraction'> {
    const ivf = this.index.manifest.ivf;
    return ivf ? { ivfBuilt: true, ivfProbeFraction: ivf.nprobe / ivf.nlist } : { ivfBuilt: false };
  }

  /**
   * Build the IVF index when the plan wants it and the index has none (once; index-dir builds it with the index),
   * then plan again with its calibration.
   */
  private async ensureIvf(): Promise<void> {
    if (this.plan.method !== 'ivf' || this.index.hasIvf) return;
    this.ivfReady ??= this.index.buildIvf(this.threads, this.ivfRecallTarget === undefined ? {} : { recallTarget: this.ivfRecallTarget }).then(() => {
      this.currentPlan = planSearch({ ...this.planInput, ...this.ivfState() });
      log().debug({ method: this.plan.method, why: this.plan.reason }, 'dense search after the IVF build');
    });
    await this.ivfReady;
  }

  /**
   * With --query-vectors the queries are known before the first search: nprobe is calibrated on a spread of them
   * (the build could only use perturbed corpus rows), and the plan is made again with it — IVF where the run's
   * queries find their neighbours in few lists, exact search where they would need over half of them.
   */
  private async calibrateOnQueries(): Promise<void> {
    if (!this.queryRows || !this.index.hasIvf || this.exact || this.nprobe !== undefined || this.plan.method === 'hnsw') return;
    this.queryCalibration ??= (async () => {
      const nlist = this.index.manifest.ivf!.nlist;
      const calibration = await this.index.calibrateIvf(this.queryRows!.spread(CALIBRATION_QUERIES), this.threads, this.ivfRecallTarget);
      this.calibratedNprobe = calibration.nprobe;
      this.currentPlan = planSearch({ ...this.planInput, ivfBuilt: true, ivfProbeFraction: calibration.nprobe / nlist });
      log().info({ nprobe: calibration.nprobe, nlist, recall: Number(calibration.recall.toFixed(4)), queries: calibration.queries, method: this.plan.method }, "IVF calibrated on the run's query vectors");
    })();
    await this.queryCalibration;
  }

  private async queryVectors(queries: readonly string[], lines?: readonly number[]): Promise<Float32Array[]> {
    if (this.queryRows) {
      if (!lines || lines.length !== queries.length) throw new Error('DenseRetriever: --query-vectors needs each query\'s line');
      return this.queryRows.vectorsOf(lines);
    }
    const vectors = await this.embedder!.embedQueries(queries);
    queries.forEach((query, i) => {
      if (this.queryMemo.size >= QUERY_MEMO_ENTRIES) this.queryMemo.delete(this.queryMemo.keys().next().value!);
      this.queryMemo.set(query, vectors[i]);
    });
    return vectors;
  }

  /** The vector of one query: its row (--query-vectors), else the memo of the last searches, else embedded. */
  private async queryVector(query: string, line: number | undefined): Promise<Float32Array> {
    if (this.queryRows) return (await this.queryVectors([query], line === undefined ? undefined : [line]))[0];
    return this.queryMemo.get(query) ?? (await this.queryVectors([query]))[0];
  }

  async search(queries: readonly string[], k: number, queryLines?: readonly number[]): Promise<Candidate[][]> {
    if (queries.length === 0) return [];
    const vectors = await this.queryVectors(queries, queryLines);
    await this.ensureIvf();
    await this.calibrateOnQueries();
    return this.index.search(vectors, k, { method: this.plan.method, threads: this.threads, nprobe: this.nprobe ?? this.calibratedNprobe });
  }

  async scoreDocuments(query: string, docOrdinals: readonly number[], queryLine?: number): Promise<number[]> {
    return this.index.scores(await this.queryVector(query, queryLine), docOrdinals);
  }

  /**
   * Texts outside the corpus are embedded as documents (title-less) and scored like corpus rows; with
   * --corpus-vectors a text that is a corpus passage is scored with its row.
   */
  async scoreTexts(query: string, texts: readonly string[], queryLine?: number): Promise<number[]> {
    if (texts.length === 0) return [];
    const vector = await this.queryVector(query, queryLine);
    const scores = new Array<number>(texts.length);
    const toEmbed: number[] = [];
    texts.forEach((text, i) => {
      const ordinal = this.corpusRows ? this.corpus.ordinalOfText(text) : undefined;
      if (ordinal === undefined) toEmbed.push(i);
      else scores[i] = this.index.scores(vector, [ordinal])[0];
    });
    if (toEmbed.length > 0) {
      if (!this.embedder) {
        throw new InputError('--corpus-vectors', undefined, `a positive passage is not in the corpus, and with vectors for both sides and no --model rare-mine has no vector for it: "${texts[toEmbed[0]].slice(0, 80)}"`, {
          hint: 'give --model (the model that made the vectors) to embed such passages, or give positives by corpus id (--positive-ids-key)',
        });
      }
      const rows = await this.embedder.embedDocuments(toEmbed.map((i) => texts[i]));
      toEmbed.forEach((i, j) => (scores[i] = cosineSimilarity(vector, rows[j])));
    }
    return scores;
  }

  describe(): RetrieverDescription {
    const m = this.index.manifest;
    return { model: m.model.name, model_fingerprint: m.model.fingerprint, dims: m.dims, precision: m.precision, search: this.plan.method, corpus_fingerprint: m.corpusFingerprint, index_created_at: m.createdAt };
  }

  async close(): Promise<void> {
    this.index.close();
    this.queryRows?.close();
    if (this.ownsEmbedder) await this.embedder?.close();
  }
}
