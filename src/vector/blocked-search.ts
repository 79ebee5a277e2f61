/**
 * Exact top-k by blocks: every block of rows is scored against a batch of queries as one matrix product
 * (gemm-kernel.ts), each query keeps its best k + margin rows by that float32 cosine, and the kept rows are
 * rescored with cosineSimilarity (float64 accumulation over the exact float32 rows) and sorted by (score desc,
 * ordinal asc). One idea: the float32 product only chooses, the exact cosine decides.
 * What must hold: the result is the exact top-k by cosineSimilarity. The float32 cosine of every row is within
 * ε = dotProductErrorBound(dims) of the true one, so every row of the true top-k has a float32 score within 2ε
 * of the k-th kept; when the last kept row is not below that line (ties, duplicates) the query is searched
 * again keeping four times as many, up to every row.
 */
import type { Candidate } from '../retriever.js';
import { dotProductErrorBound, type GemmKernel } from './gemm-kernel.js';

/** Rows per block: 8192 × 384 floats = 12 MiB; with QUERY_BATCH queries the score matrix is 32 MiB. */
export const BLOCK_ROWS = 8192;
/** Queries per matrix product. */
export const QUERY_BATCH = 1024;
/** Rows kept per query beyond k before rescoring: room for float32 near-ties at the k-th place. */
export const KEEP_MARGIN = 16;

/** Cosine similarity of a and b (float64 accumulation over float32 rows). */
export function cosineSimilarity(a: Float32Array, b: Float32Array, bOffset = 0): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[bOffset + i];
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  const denominator = Math.sqrt(normA * normB);
  return denominator === 0 ? 0 : dot / denominator;
}

/** Σ x² of a row in float64, summed in index order, as cosineSimilarity sums it. */
export function squaredNorm(row: Float32Array, offset: number, dims: number): number {
  let norm = 0;
  for (let i = 0; i < dims; i++) norm += row[offset + i] * row[offset + i];
  return norm;
}

/**
 * cosineSimilarity(a, b at bOffset) from the two squared norms (squaredNorm): the same float64 sums in the same
 * order, so the very same number, for a third of the work when the norms are known.
 */
export function cosineFromNorms(a: Float32Array, normA: number, b: Float32Array, bOffset: number, normB: number): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[bOffset + i];
  const denominator = Math.sqrt(normA * normB);
  return denominator === 0 ? 0 : dot / denominator;
}

/** Results order: score descending, ties by ascending ordinal. */
export function byScoreThenOrdinal(a: Candidate, b: Candidate): number {
  return b.score - a.score || a.docOrdinal - b.docOrdinal;
}

/**
 * The best `capacity` (score, ordinal) pairs pushed, by score descending then ordinal ascending, whatever order
 * they were pushed in. Pairs below `threshold` cannot enter and may be skipped by the caller.
 */
export class TopCandidates {
  private scores: Float32Array;
  private ordinals: Int32Array;
  private size = 0;
  /** Nothing scoring below this can enter (−∞ until `capacity` pairs are held). */
  threshold = Number.NEGATIVE_INFINITY;

  constructor(readonly capacity: number) {
    const room = Math.max(4 * capacity, 16);
    this.scores = new Float32Array(room);
    this.ordinals = new Int32Array(room);
  }

  push(score: number, ordinal: number): void {
    if (score < this.threshold) return;
    if (this.size === this.scores.length) this.compact();
    this.scores[this.size] = score;
    this.ordinals[this.size] = ordinal;
    this.size++;
  }

  /**
   * Keep the best `capacity` in place, unordered; the threshold becomes the capacity-th score. The cut score is
   * found by a native numeric sort of a copy; pairs at the cut are kept by ascending ordinal.
   */
  private compact(): void {
    if (this.size <= this.capacity) return;
    const sorted = this.scores.slice(0, this.size).sort();
    const cut = sorted[this.size - this.capacity];
    let above = 0;
    for (let i = this.size - this.capacity + 1; i < this.size; i++) if (sorted[i] > cut) above++;
    let atCut = this.capacity - above;
    const tied: number[] = [];
    for (let i = 0; i < this.size; i++) if (this.scores[i] === cut) tied.push(this.ordinals[i]);
    const keptTies = new Set(tied.sort((a, b) => a - b).slice(0, atCut));
    let kept = 0;
    for (let i = 0; i < this.size; i++) {
      const score = this.scores[i];
      if (score > cut || (score === cut && atCut > 0 && keptTies.has(this.ordinals[i]))) {
        if (score === cut) atCut--;
        this.scores[kept] = score;
        this.ordinals[kept] = this.ordinals[i];
        kept++;
      }
    }
    this.size = kept;
    this.threshold = cut;
  }

  private sortedOrder(): number[] {
    const order = Array.from({ length: this.size }, (_, i) => i);
    return order.sort((a, b) => this.scores[b] - this.scores[a] || this.ordinals[a] - this.ordinals[b]);
  }

  /** The held pairs, best first (at most `capacity`). */
  best(): { scores: Float32Array; ordinals: Int32Array } {
    this.compact();
    const order = this.sortedOrder();
    return { scores: Float32Array.from(order, (i) => this.scores[i]), ordinals: Int32Array.from(order, (i) => this.ordinals[i]) };
  }
}

/** Where a search's time went, ms, summed over its calls (logged at debug by VectorIndex.search). */
export interface SearchTimings {
  /** IVF: scoring queries against the centroids and choosing each query's lists. */
  probe: number;
  /** Matrix products over rows (onnxruntime). */
  gemm: number;
  /** Reading rows (exact: vectors.bin blocks) and their norms. */
  read: number;
  /** The float32 top-(k + margin) per query (JS). */
  keep: number;
  /** Exact cosine of the kept rows and the final sort. */
  rescore: number;
}

/** Zeroed timings. */
export function newSearchTimings(): SearchTimings {
  return { probe: 0, gemm: 0, read: 0, keep: 0, rescore: 0 };
}

/** Rows to search: `count` rows of `dims` float32, read a block at a time. */
export interface RowSource {
  readonly count: number;
  readonly dims: number;
  /** Rows [first, first + rows) as a row-major Float32Array (may be a view into `scratch`, which has room for them). */
  block(first: number, rows: number, scratch: Float32Array): Float32Array;
  /** Row `ordinal` (may be a view into `scratch`, dims long). */
  row(ordinal: number, scratch: Float32Array): Float32Array;
  /** 1 / ‖row‖ of rows [first, first + rows) given their block, when the source keeps them (else computed per search). */
  inverseNorms?(first: number, rows: number, block: Float32Array): Float64Array;
}

/**
 * A per-row cache of 1 / ‖row‖ (8 bytes a row) for a source searched many times, as mining searches one batch
 * after another: each row's norm is computed once, on the first search that reads it.
 */
export class InverseNormCache {
  private readonly values: Float64Array;

  constructor(count: number) {
    this.values = new Float64Array(count).fill(Number.NaN);
  }

  /** The inverse norms of rows [first, first + rows), computing those not yet known from `block`. */
  of(first: number, rows: number, block: Float32Array, dims: number): Float64Array {
    const out = this.values.subarray(first, first + rows);
    for (let r = 0; r < rows; r++) {
      if (Number.isNaN(out[r])) {
        inverseNorms(block.subarray(r * dims, (r + 1) * dims), 1, dims, out.subarray(r, r + 1));
      }
    }
    return out;
  }
}

/** Each query scaled to unit length (a zero query stays zero), as one row-major matrix. */
export function unitQueries(queries: readonly Float32Array[], dims: number): Float32Array {
  const flat = new Float32Array(queries.length * dims);
  queries.forEach((query, q) => {
    let norm = 0;
    for (let i = 0; i < dims; i++) norm += query[i] * query[i];
    const scale = norm === 0 ? 0 : 1 / Math.sqrt(norm);
    for (let i = 0; i < dims; i++) flat[q * dims + i] = query[i] * scale;
  });
  return flat;
}

/** 1 / ‖row‖ of each row of a block (0 for a zero row, whose cosine is 0). */
export function inverseNorms(block: Float32Array, rows: number, dims: number, out: Float64Array = new Float64Array(rows)): Float64Array {
  for (let r = 0; r < rows; r++) {
    let norm = 0;
    const at = r * dims;
    for (let i = 0; i < dims; i++) norm += block[at + i] * block[at + i];
    out[r] = norm === 0 ? 0 : 1 / Math.sqrt(norm);
  }
  return out;
}

/**
 * Push every (query, row) float32 cosine of a dot-product matrix into the queries' keepers.
 * `scores` is queryCount × rowCount; query i is `keepers[queryIndex[i]]`, row j has ordinal `ordinals(j)`.
 */
export function keepBest(
  scores: Float32Array,
  queryCount: number,
  rowCount: number,
  inverseNorm: Float64Array,
  normOffset: number,
  keepers: readonly TopCandidates[],
  queryIndex: (i: number) => number,
  ordinalOf: (j: number) => number,
): void {
  for (let i = 0; i < queryCount; i++) {
    const keeper = keepers[queryIndex(i)];
    let threshold = keeper.threshold;
    const at = i * rowCount;
    for (let j = 0; j < rowCount; j++) {
      const score = scores[at + j] * inverseNorm[normOffset + j];
      if (score >= threshold) {
        keeper.push(score, ordinalOf(j));
        threshold = keeper.threshold;
      }
    }
  }
}

/**
 * Whether the kept rows of a query surely hold its exact top-k: it kept every row it saw, or its last kept
 * float32 score lies more than 2ε below the k-th (module header).
 */
export function keptEnough(best: { scores: Float32Array }, capacity: number, k: number, epsilon: number): boolean {
  if (best.scores.length < capacity) return true;
  const kth = best.scores[Math.min(k, best.scores.length) - 1];
  return best.scores[best.scores.length - 1] < kth - 2 * epsilon;
}

/** Rescore kept ordinals exactly against the query and keep the best k. */
export function rescore(query: Float32Array, ordinals: Int32Array, k: number, rowOf: (ordinal: number) => { row: Float32Array; offset: number }): Candidate[] {
  const candidates: Candidate[] = [];
  for (const docOrdinal of ordinals) {
    const { row, offset } = rowOf(docOrdinal);
    candidates.push({ docOrdinal, score: cosineSimilarity(query, row, offset) });
  }
  return candidates.sort(byScoreThenOrdinal).slice(0, k);
}

/**
 * Exact top-k of each query over `source` (module header). `k` ≤ source.count; each result has
 * min(k, count) candidates, best first. `blockRows`: rows per matrix product (BLOCK_ROWS; smaller in tests).
 */
export async function blockedExactSearch(
  kernel: GemmKernel,
  source: RowSource,
  queries: readonly Float32Array[],
  k: number,
  blockRows = BLOCK_ROWS,
  timings: SearchTimings = newSearchTimings(),
): Promise<Candidate[][]> {
  const { dims, count } = source;
  const epsilon = dotProductErrorBound(dims);
  const results: Candidate[][] = new Array(queries.length);
  let pending = queries.map((_, q) => q);
  let capacity = Math.min(count, k + KEEP_MARGIN);
  if (!Number.isInteger(blockRows) || blockRows < 1) throw new RangeError(`blockRows must be an integer ≥ 1, got ${blockRows}`);
  const scratch = new Float32Array(Math.min(blockRows, count) * dims);
  const rowScratch = new Float32Array(dims);
  const rowOf = (ordinal: number) => ({ row: source.row(ordinal, rowScratch), offset: 0 });
  while (pending.length > 0) {
    const keepers = pending.map(() => new TopCandidates(capacity));
    const unit = unitQueries(pending.map((q) => queries[q]), dims);
    const norms = new Float64Array(Math.min(blockRows, count));
    for (let first = 0; first < count; first += blockRows) {
      const rows = Math.min(blockRows, count - first);
      let started = performance.now();
      const block = source.block(first, rows, scratch);
      const blockNorms = source.inverseNorms ? source.inverseNorms(first, rows, block) : inverseNorms(block, rows, dims, norms);
      timings.read += performance.now() - started;
      for (let from = 0; from < pending.length; from += QUERY_BATCH) {
        const batch = Math.min(QUERY_BATCH, pending.length - from);
        started = performance.now();
        const scores = await kernel.dotProducts(unit.subarray(from * dims), batch, block, rows, dims);
        timings.gemm += performance.now() - started;
        started = performance.now();
        keepBest(scores, batch, rows, blockNorms, 0, keepers, (i) => from + i, (j) => first + j);
        timings.keep += performance.now() - started;
      }
    }
    const started = performance.now();
    const again: number[] = [];
    pending.forEach((q, i) => {
      const best = keepers[i].best();
      if (capacity < count && !keptEnough(best, capacity, k, epsilon)) again.push(q);
      else results[q] = rescore(queries[q], best.ordinals, k, rowOf);
    });
    timings.rescore += performance.now() - started;
    pending = again;
    capacity = Math.min(count, capacity * 4);
  }
  return results;
}
