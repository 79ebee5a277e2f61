/**
 * Choosing between exact (brute-force) search and the HNSW graph, and the graph's parameters. The rule in
 * one sentence: brute force costs docs × queries dot products, the graph costs a build per document plus
 * a near-constant search per query, so take brute force while it is the cheaper of the two.
 * The constants are measured (single thread, 384-d f32, bench/dense-ann-recall.ts; figures in
 * docs/DENSE.md); what must hold is that the choice never changes results beyond the graph's recall
 * (≥ 0.98 of the exact top-k set at f32 with these parameters).
 */
import type { HnswParams } from './index-manifest.js';

/**
 * Graph parameters: M = 32 and efConstruction = 200. On 20k passages the top-110 set matched exact search
 * at 0.992 with ef = 4 × k (M = 16 needed 6 × k for 0.986); on 50k, 4 × k gave 0.922 and 8 × k 0.98.
 */
export const DEFAULT_HNSW_PARAMS: HnswParams = { connectivity: 32, expansionAdd: 200, expansionSearch: 128 };

/** ef per wanted result: the search's candidate list is at least this many times k. */
export const EXPANSION_PER_RESULT = 8;

/**
 * Below this many documents brute force answers a query at least as fast as the graph. Measured with
 * ef = 8 × k, k = 110, one thread: brute force 369 q/s vs graph 230 q/s on 20k docs, 148 vs 107 q/s on
 * 50k (brute force scales as 1/N, so the two meet near 70k). Brute force never loses recall, so the
 * line errs on its side.
 */
export const EXACT_FASTER_BELOW_DOCS = 60_000;

/**
 * Below this many queries, brute force over all documents costs less than building the graph: a build
 * costs 1.2–2.0 ms a document (f32, 20k–50k docs), a brute-force pair 0.135 µs, so a build pays for
 * itself after 8.6k (20k docs) to 15k (50k docs) queries.
 */
export const GRAPH_PAYS_OFF_ABOVE_QUERIES = 10_000;

/** Brute force over vectors.bin, the IVF lists, or the HNSW graph. */
export type SearchMethod = 'exact' | 'ivf' | 'hnsw';

/** What the choice depends on. */
export interface SearchPlanInput {
  docCount: number;
  /** Queries this run will search, when known; unknown counts as many. */
  queryCount?: number;
  /** Whether the index directory already holds a graph. */
  graphBuilt: boolean;
  /** `--exact`: force brute force. */
  forceExact?: boolean;
}

/** The chosen method and why. */
export interface SearchPlan {
  method: SearchMethod;
  /** Why, for the log. */
  reason: string;
}

/** Pick exact or HNSW search (see the module header). */
export function planSearch(input: SearchPlanInput): SearchPlan {
  if (input.forceExact) return { method: 'exact', reason: '--exact' };
  if (input.docCount < EXACT_FASTER_BELOW_DOCS) {
    return { method: 'exact', reason: `${input.docCount} documents: brute force is as fast as the graph below ${EXACT_FASTER_BELOW_DOCS}` };
  }
  if (!input.graphBuilt && input.queryCount !== undefined && input.queryCount < GRAPH_PAYS_OFF_ABOVE_QUERIES) {
    return { method: 'exact', reason: `${input.queryCount} queries: brute force costs less than building a graph below ${GRAPH_PAYS_OFF_ABOVE_QUERIES}` };
  }
  return { method: 'hnsw', reason: `${input.docCount} documents${input.queryCount === undefined ? '' : `, ${input.queryCount} queries`}` };
}

/** The ef to search with for k results: at least the graph's own, and EXPANSION_PER_RESULT × k. */
export function expansionFor(k: number, params: HnswParams): number {
  return Math.max(params.expansionSearch, EXPANSION_PER_RESULT * k);
}
