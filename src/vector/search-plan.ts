/**
 * Choosing how to search: exact (blocked brute force, blocked-search.ts), the IVF index (ivf-index.ts), or an
 * HNSW graph, and the graph's parameters. The rule in one sentence: exact search costs docs × queries dot
 * products at matrix-product speed, IVF costs a build (k-means, assignment, calibration) plus about
 * nprobe / nlist of that per query, so take exact while the corpus or the query count is too small for the
 * build to pay for itself. HNSW is no longer chosen for new indexes (its build costs ~1 ms a document); an
 * index that already holds a graph and no IVF index keeps using it.
 * The constants are measured (2 threads, 384-d, bench/dense-search.ts; figures in docs/DENSE.md); what must
 * hold is that the choice never changes results beyond the IVF's calibrated recall (or the graph's).
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
 * Below this many documents exact search is chosen whatever the query count: at 50k 384-d documents it answers
 * ~200+ q/s (2 threads, busy machine; 10k queries in under a minute), and on small corpora k-means lists are
 * few and coarse, so the probes needed for the recall target approach all lists (20k clustered rows: 183 of 283).
 */
export const IVF_ABOVE_DOCS = 50_000;

/**
 * Below this many queries (when the count is known), exact search is chosen over building the IVF index. At
 * 100k documents the build cost 3.5 s, what ~400 exact queries cost (113 q/s), and IVF then searched 15× as
 * fast; the build grows as N^1.5 (assignment) against N for an exact query, so ~1.5k query-equivalents at 1M.
 * Below 2,000 queries the saving is small and exact search keeps every result exact.
 */
export const IVF_PAYS_OFF_ABOVE_QUERIES = 2_000;

/**
 * Above this fraction of lists probed (the calibrated nprobe / nlist), IVF scans most rows anyway and exact
 * search is taken instead. Seen on 200k rows in 10,000 clusters of 20, where the top-100 beyond a query's
 * own cluster has no structure: calibration asked for 384 of 447 lists (bench/dense-search.ts --centers 10000).
 */
export const IVF_MAX_PROBE_FRACTION = 0.5;

/** Brute force over vectors.bin, the IVF lists, or the HNSW graph. */
export type SearchMethod = 'exact' | 'ivf' | 'hnsw';

/** What the choice depends on. */
export interface SearchPlanInput {
  docCount: number;
  /** Queries this run will search, when known; unknown counts as many. */
  queryCount?: number;
  /** Whether the index directory already holds an HNSW graph. */
  graphBuilt: boolean;
  /** Whether the index directory already holds an IVF index (index.ivf). Default false. */
  ivfBuilt?: boolean;
  /** The built IVF index's calibrated nprobe / nlist, when built. */
  ivfProbeFraction?: number;
  /** `--exact`: force exact search. */
  forceExact?: boolean;
}

/** The chosen method and why. */
export interface SearchPlan {
  method: SearchMethod;
  /** Why, for the log. */
  reason: string;
}

/** Pick exact, IVF or HNSW search (see the module header). */
export function planSearch(input: SearchPlanInput): SearchPlan {
  if (input.forceExact) return { method: 'exact', reason: '--exact' };
  if (input.docCount < IVF_ABOVE_DOCS) {
    return { method: 'exact', reason: `${input.docCount} documents: exact search is fast enough below ${IVF_ABOVE_DOCS}` };
  }
  if (input.ivfBuilt && input.ivfProbeFraction !== undefined && input.ivfProbeFraction > IVF_MAX_PROBE_FRACTION) {
    return { method: 'exact', reason: `the IVF index's calibration probes ${(100 * input.ivfProbeFraction).toFixed(0)} % of its lists (over ${100 * IVF_MAX_PROBE_FRACTION} %): exact search costs about the same` };
  }
  if (input.ivfBuilt) return { method: 'ivf', reason: `${input.docCount} documents, IVF index built` };
  if (input.graphBuilt) return { method: 'hnsw', reason: `${input.docCount} documents, an HNSW graph built (and no IVF index)` };
  if (input.queryCount !== undefined && input.queryCount < IVF_PAYS_OFF_ABOVE_QUERIES) {
    return { method: 'exact', reason: `${input.queryCount} queries: exact search costs less than building the IVF index below ${IVF_PAYS_OFF_ABOVE_QUERIES}` };
  }
  return { method: 'ivf', reason: `${input.docCount} documents${input.queryCount === undefined ? '' : `, ${input.queryCount} queries`}` };
}

/** The ef to search with for k results: at least the graph's own, and EXPANSION_PER_RESULT × k. */
export function expansionFor(k: number, params: HnswParams): number {
  return Math.max(params.expansionSearch, EXPANSION_PER_RESULT * k);
}
