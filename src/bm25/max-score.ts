/**
 * Exact top-k with block-max MaxScore dynamic pruning (Turtle & Flood 1995; block maxima as in Ding & Suel 2011
 * and Chakrabarti et al. 2011; windowed as Lucene's MaxScoreBulkScorer), plus a hit-count filter. Documents are
 * scored window by window: each term's bound in a window is its largest block maximum there; terms sorted by
 * bound, those whose bounds together cannot lift a document into the top k are "non-essential" and only looked
 * up (galloping search) for documents the essential terms propose, a document is dropped as soon as its partial
 * score plus the remaining bounds cannot beat the k-th score, and a window whose bounds all together cannot is
 * skipped. The filter: a document with fewer than r essential hits, r the least count whose largest bounds can
 * beat the k-th score, is never visited; a window may give up non-essential terms to raise r (see maxScoreTopK).
 * Before the windows in doc order, the windows with the highest bounds are scored (primeWindows): in a corpus in
 * random order the best documents are spread over every window, so in doc order the k-th score, which decides
 * what is pruned, rose only as the pass found them; scored ahead, they set it near its final value at once, and
 * the doc-order pass skips any window whose bound is below it without looking at its terms.
 * Why (block-max) MaxScore: mining queries are long (a sentence, ~20 terms) and ask for k = 28..110; on long
 * queries and larger k, MaxScore-style partitioning beats WAND-style pivoting (Mallia et al., ECIR 2019: fewer
 * cursor reorderings per document), and a term-at-a-time scatter inside a window suits JavaScript's typed
 * arrays. Why the filter: on such queries a document needs several matching terms to reach the top k, while
 * plain MaxScore visits every document holding any essential term (on 2M passages, 4× more).
 * Per-term maxima are in terms.bin; block maxima (1/64 of the impacts), each term's smallest impact and the
 * frequent terms' maxima and first postings per aligned window of WINDOW docs (each table at most 1/8 of the
 * postings' bytes) are computed by the index writer and read at open (PostingBoundsBuilder, bounds.bin).
 * Exactness: where sumsAreExact holds (the caller checks), every sum of a query's contributions is exact in
 * float64, so a document's score gathered in any order is the exhaustive scorer's, bit for bit; bounds are
 * compared with a relative slack far above float rounding, so pruning never drops a document the exhaustive
 * scorer keeps, and a document tying the k-th score is still offered (TopK ranks ties by doc ordinal).
 */
import type { Candidate } from '../retriever.js';
import { TopK } from './top-k.js';
import type { ImpactCodes } from './impact-codes.js';

/**
 * The posting arrays of an index (see FORMAT.md). Posting i of term t has impact
 * impactTable[tableStart[t] + codes[i]] (impact-codes.ts).
 */
export interface PostingArrays extends ImpactCodes {
  /** Term t's postings are [starts[t], starts[t + 1]). */
  starts: Float64Array;
  docs: Uint32Array;
  /** The largest impact in each term's postings. */
  maxImpact: Float32Array;
  /** The smallest positive impact in each term's postings (see sumsAreExact). */
  minImpact: Float32Array;
  /** Term t's block maxima are blockMax[blockStart[t] ..] (see blockMaxima). */
  blockStart: Float64Array;
  blockMax: Float32Array;
  /**
   * The frequent terms' window tables (see PostingBoundsBuilder): term t's largest impact among docs
   * [w·WINDOW, (w+1)·WINDOW) is windowMax[windowRow[t] · windowCount + w], and its first posting there
   * starts[t] + windowFirst[windowRow[t] · windowCount + w]; windowRow[t] is −1 for other terms.
   */
  windowRow: Int32Array;
  windowMax: Float32Array;
  windowFirst: Uint32Array;
  windowCount: number;
}

/** Work counters, for benchmarks: how many postings were read (scored) and how many documents fully scored. */
export interface SearchWork {
  postingsScored: number;
  documentsScored: number;
  /** Aligned windows scored ahead of the doc-order pass (see primeWindows). */
  windowsScoredAhead?: number;
}

/** Postings per block of the block maxima. */
export const BLOCK = 64;

/** Bounds are inflated by this before a comparison: summation error for any realistic query is < 1e-12. */
const BOUND_SLACK = 1 + 1e-9;

/** The first index in [from, end) whose doc is ≥ target (galloping, then binary search). */
function seek(docs: Uint32Array, from: number, end: number, target: number): number {
  if (from >= end || docs[from] >= target) return from;
  let low = from; // docs[low] < target
  let step = 1;
  let high = from + 1;
  while (high < end && docs[high] < target) {
    low = high;
    step *= 2;
    high = low + step;
  }
  if (high > end) high = end;
  // docs[low] < target; answer in (low, high]
  while (high - low > 1) {
    const mid = (low + high) >>> 1;
    if (docs[mid] < target) low = mid;
    else high = mid;
  }
  return high;
}

/**
 * Documents per scoring window (essential postings are summed term-at-a-time inside one). Windows are aligned
 * to multiples of WINDOW (so a frequent term's bound is one table entry, see PostingBoundsBuilder), except that the
 * first one is cut into windows of 64, 128, … docs, so that the top k, and with it the pruning threshold,
 * fills early.
 */
export const WINDOW = 4096;
const FIRST_WINDOW = 64;

/**
 * Whether every order of summing this query's contributions gives the same float64: each term's contribution
 * w·impact is a multiple of the smallest float32 step among the query's impacts, and the largest possible score
 * stays below 2^52 such steps, so every partial sum is exact. Then a score gathered in window order (scattered
 * essentials, then looked-up non-essentials) is bit for bit the exhaustive scorer's query-order sum. Realistic
 * indexes always satisfy it (impacts ≥ 1e-6 and scores < 1e3 need 2^43 steps); a query that does not is scored
 * exhaustively by the caller.
 */
export function sumsAreExact(index: Pick<PostingArrays, 'maxImpact' | 'minImpact'>, queryTerms: ReadonlyArray<readonly [number, number]>): boolean {
  let most = 0;
  let step = Number.POSITIVE_INFINITY;
  for (const [term, multiplicity] of queryTerms) {
    if (!Number.isInteger(multiplicity) || multiplicity < 0) return false;
    most += multiplicity * index.maxImpact[term];
    const smallest = index.minImpact[term];
    // A float32 of binary exponent e is a multiple of 2^(e − 23); one less, in case log2 rounds up.
    if (smallest > 0) step = Math.min(step, 2 ** (Math.floor(Math.log2(smallest)) - 24));
  }
  return most === 0 || most < step * 2 ** 52;
}

/** What the per-window plan weighs, in estimated nanoseconds: a scattered posting, a walked candidate. */
const SCATTER_COST = 4;
const CANDIDATE_COST = 8;
/** How many fewer non-essential terms than the most the plan may try (each moves a term to the scatter). */
const PLAN_SPAN = 6;

/**
 * Per-thread working memory of maxScoreTopK, reused across queries (allocating and zeroing it per query would
 * cost more than a short query's search). Between searches every entry of `touched` and `hits` is zero.
 */
export class MaxScoreScratch {
  /** The sum of a window slot's essential contributions (valid where hits > 0). */
  readonly partial = new Float64Array(WINDOW);
  /** How many essential terms hit each window slot. */
  readonly hits = new Uint16Array(WINDOW);
  /** One bit per slot with enough hits to be a candidate; scanned in order (cheaper than sorting slots). */
  readonly touched = new Uint32Array(WINDOW / 32);
  /** Per aligned window (column): a bound on any document's score there; 1 where it was scored first. */
  columnBound = new Float64Array(0);
  isPrimed = new Uint8Array(0);
  /** The columns scored first, best bound first. */
  primedOrder = new Int32Array(0);

  /** Grow the per-column arrays to `columns` (all zero in isPrimed between searches). */
  ensureColumns(columns: number): void {
    if (this.columnBound.length >= columns) return;
    this.columnBound = new Float64Array(columns);
    this.isPrimed = new Uint8Array(columns);
  }
}

/** Fewer aligned windows than this: no window is scored ahead (the doc-order pass reaches every one soon). */
const PRIME_FROM_COLUMNS = 16;
/**
 * Windows scored ahead: at least this many, and 2k (at most a quarter of the windows). On 8.8M generated passages
 * (2,149 windows, k = 28, one thread) 16 to 128 windows ahead cut the postings scored by 14–30% and the search time
 * by 10–20%; the mining runs' noise did not separate 16, 64 and 128.
 */
const PRIMED_WINDOWS = 64;

/**
 * Pick the aligned windows to score first, before the doc-order pass: the max(PRIMED_WINDOWS, 2k) windows (at most
 * a quarter of them) with the highest bound on a document's score — so the top k, and with it the threshold, is near its final
 * value from the start, and the doc-order pass skips or prunes far more. In a corpus in random order the best
 * documents are spread over every window, and in doc order the threshold rose only as the pass found them.
 * Fills scratch.columnBound for every column (the sum over query terms of weight × the term's largest impact in
 * the window: a frequent term's from its window table, any other's from its postings there), marks the chosen
 * columns in scratch.isPrimed and lists them, best first, in scratch.primedOrder; returns how many. Column 0 is
 * never chosen (the doc-order pass starts there with small windows). Exactness is untouched: a window is still
 * scored whole, only earlier, and a skipped column's bound is an upper bound of every score in it.
 */
function primeWindows(
  scratch: MaxScoreScratch,
  columns: number,
  m: number,
  k: number,
  row: Int32Array,
  weight: Float64Array,
  first: Int32Array,
  end: Int32Array,
  table: Int32Array,
  docs: Uint32Array,
  codes: PostingArrays['codes'],
  impactTable: Float32Array,
  windowMax: Float32Array,
): number {
  if (columns < PRIME_FROM_COLUMNS) return 0;
  scratch.ensureColumns(columns);
  const { columnBound } = scratch;
  columnBound.fill(0, 0, columns);
  for (let q = 0; q < m; q++) {
    const w = weight[q];
    if (row[q] >= 0) {
      for (let c = 0; c < columns; c++) columnBound[c] += w * windowMax[row[q] + c];
      continue;
    }
    // Docs ascend: one column at a time, its largest impact added when the next column starts.
    let column = -1;
    let most = 0;
    const base = table[q];
    for (let at = first[q]; at < end[q]; at++) {
      const c = (docs[at] / WINDOW) | 0;
      if (c !== column) {
        if (column >= 0 && column < columns) columnBound[column] += w * most;
        column = c;
        most = 0;
      }
      const impact = impactTable[base + codes[at]];
      if (impact > most) most = impact;
    }
    if (column >= 0 && column < columns) columnBound[column] += w * most;
  }
  const wanted = Math.min(Math.max(PRIMED_WINDOWS, 2 * k), columns >> 2);
  if (scratch.primedOrder.length < wanted) scratch.primedOrder = new Int32Array(wanted);
  const { primedOrder, isPrimed } = scratch;
  // The `wanted` best columns (1..), kept sorted best first by insertion: wanted is small beside columns.
  let count = 0;
  for (let c = 1; c < columns; c++) {
    const bound = columnBound[c];
    if (bound === 0 || (count === wanted && bound <= columnBound[primedOrder[count - 1]])) continue;
    let i = count < wanted ? count++ : count - 1;
    while (i > 0 && columnBound[primedOrder[i - 1]] < bound) {
      primedOrder[i] = primedOrder[i - 1];
      i--;
    }
    primedOrder[i] = c;
  }
  for (let i = 0; i < count; i++) isPrimed[primedOrder[i]] = 1;
  return count;
}

/** Query terms beyond this many are not counted per slot (Uint16); maxScoreTopK's callers score them exhaustively. */
export const MAX_QUERY_TERMS = 0xffff;

/** Posting positions are int32 in maxScoreTopK: its callers score an index with more postings exhaustively. */
export const MAX_POSTINGS = 0x7fffffff;

/**
 * The exact top-k documents for `queryTerms` ([term id, multiplicity], in query order), best first, ties by
 * ascending doc ordinal: the same documents and scores as summing every posting. The caller checks
 * `sumsAreExact` (and MAX_QUERY_TERMS) first.
 * Windowed, as Lucene's MaxScoreBulkScorer. In each window, with the terms sorted by their window bounds:
 *  - the first n terms are non-essential (their bounds together cannot lift a document over the k-th score), the
 *    rest essential;
 *  - a document also needs r essential hits, the least number whose largest bounds, with all the non-essential
 *    ones, can pass the k-th score: with fewer it cannot. The most non-essential terms give r = 1 (plain
 *    MaxScore); giving up a few raises r, scattering more postings but walking far fewer documents. The plan
 *    weighs both with a per-window estimate (term densities, independence assumed) and takes the cheaper;
 *  - the essential postings are scattered into the window's slots, counting hits; the slots with r hits are then
 *    visited in ascending order, the non-essential terms looked up (galloping) from the largest bound down while
 *    the document can still make the top k.
 */
export function maxScoreTopK(index: PostingArrays, queryTerms: ReadonlyArray<readonly [number, number]>, k: number, work?: SearchWork, scratch = new MaxScoreScratch()): Candidate[] {
  const m = queryTerms.length;
  if (m === 0 || k <= 0) return [];
  if (m > MAX_QUERY_TERMS) throw new RangeError(`maxScoreTopK: ${m} query terms, at most ${MAX_QUERY_TERMS}`);
  const { starts, docs, codes, impactTable, tableStart, blockStart, blockMax, windowRow, windowMax, windowFirst, windowCount } = index;
  const documentSpan = windowCount * WINDOW;

  // Per query term, indexed by its position in the query. Posting positions are int32 (the caller checks
  // MAX_POSTINGS): V8 indexes typed arrays faster with int32 than with float64 indices (+5% here).
  const position = new Int32Array(m);
  const end = new Int32Array(m);
  const first = new Int32Array(m);
  const blocks = new Int32Array(m);
  const weight = new Float64Array(m);
  const table = new Int32Array(m); // where the term's impact table starts in impactTable
  const density = new Float64Array(m); // postings per document: the chance a document holds the term
  const row = new Int32Array(m); // where the term's window tables' row starts, or −1
  let postingTotal = 0;
  let lastDoc = 0;
  for (let q = 0; q < m; q++) {
    const [term, multiplicity] = queryTerms[q];
    position[q] = first[q] = starts[term];
    end[q] = starts[term + 1];
    blocks[q] = blockStart[term];
    weight[q] = multiplicity;
    table[q] = tableStart[term];
    density[q] = Math.min(1, (end[q] - first[q]) / documentSpan);
    row[q] = windowRow[term] < 0 ? -1 : windowRow[term] * windowCount;
    postingTotal += end[q] - position[q];
    if (end[q] > position[q] && docs[end[q] - 1] > lastDoc) lastDoc = docs[end[q] - 1];
  }
  const top = new TopK(Math.min(k, postingTotal));
  let threshold = Number.NEGATIVE_INFINITY;
  let postingsScored = 0;
  let documentsScored = 0;

  const { partial, hits, touched } = scratch;
  const windowBound = new Float64Array(m); // each term's largest block maximum among its postings in the window
  const order = new Uint32Array(m); // query positions by ascending window bound
  const prefix = new Float64Array(m + 1); // prefix[j] = Σ window bounds of order[0..j)
  const atMost = new Float64Array(m + 1); // the plan's scratch: P(a document has c essential hits), c < r

  // Aligned windows in order of their bounds first (see primeWindows), then every window in doc order, skipping
  // those already scored and those whose column bound cannot reach the k-th score.
  const columns = Math.min(windowCount, ((lastDoc / WINDOW) | 0) + 1);
  const primed = primeWindows(scratch, columns, m, k, row, weight, first, end, table, docs, codes, impactTable, windowMax);
  const { columnBound, isPrimed, primedOrder } = scratch;
  let primedAt = 0;
  let nextStart = 0;
  let nextSize = FIRST_WINDOW;
  for (;;) {
    let windowStart: number;
    let size: number;
    if (primedAt < primed) {
      windowStart = primedOrder[primedAt++] * WINDOW;
      size = WINDOW;
      for (let q = 0; q < m; q++) position[q] = first[q];
    } else {
      if (nextStart > lastDoc) break;
      if (primedAt === primed && primed > 0) {
        primedAt++; // the doc-order pass starts: cursors back to each term's first posting
        for (let q = 0; q < m; q++) position[q] = first[q];
      }
      windowStart = nextStart;
      size = nextSize;
      nextStart += nextSize;
      nextSize = nextStart < WINDOW ? Math.min(nextSize * 2, WINDOW - nextStart) : WINDOW;
      if (primed > 0 && windowStart >= WINDOW) {
        const at = (windowStart / WINDOW) | 0;
        if (isPrimed[at] === 1 || columnBound[at] * BOUND_SLACK <= threshold) continue;
      }
    }
    const windowEnd = windowStart + size;
    const column = (windowStart / WINDOW) | 0;
    // Window bounds: a frequent term's from its window maximum (the aligned window holding this one), any
    // other's from the block maxima of its blocks holding postings in [windowStart, windowEnd), 0 if none.
    let windowTotal = 0;
    for (let q = 0; q < m; q++) {
      let bound = 0;
      if (row[q] >= 0) {
        // A frequent term: its bound and its first posting in the window from the tables (lookups then gallop
        // from there, not from where the term was last read).
        bound = windowMax[row[q] + column];
        const at = first[q] + windowFirst[row[q] + column];
        if (at > position[q]) position[q] = at;
      } else {
        const at = seek(docs, position[q], end[q], windowStart);
        position[q] = at;
        if (at < end[q] && docs[at] < windowEnd) {
          for (let block = ((at - first[q]) / BLOCK) | 0; first[q] + block * BLOCK < end[q] && docs[first[q] + block * BLOCK] < windowEnd; block++) {
            const max = blockMax[blocks[q] + block];
            if (max > bound) bound = max;
          }
        }
      }
      windowBound[q] = weight[q] * bound;
      windowTotal += windowBound[q];
      order[q] = q;
    }
    if (windowTotal * BOUND_SLACK <= threshold) continue; // nothing in this window can reach the top k
    sortByBound(order, windowBound, m);
    for (let j = 0; j < m; j++) prefix[j + 1] = prefix[j] + windowBound[order[j]];
    let mostNonEssential = 0;
    while (mostNonEssential < m && prefix[mostNonEssential + 1] * BOUND_SLACK <= threshold) mostNonEssential++;

    // The plan: n non-essential terms and r essential hits needed, by the lowest estimated cost.
    let n = mostNonEssential;
    let r = 1;
    let bestCost = Number.POSITIVE_INFINITY;
    for (let tryN = mostNonEssential; tryN >= 0 && tryN >= mostNonEssential - PLAN_SPAN; tryN--) {
      let needed = 0; // r: at least one hit, and as many of the largest bounds as it takes to pass the k-th score
      let reach = prefix[tryN];
      for (let j = m - 1; j >= tryN; j--) {
        reach += windowBound[order[j]];
        needed++;
        if (reach * BOUND_SLACK > threshold) break;
      }
      let scattered = 0;
      for (let c = 1; c < needed; c++) atMost[c] = 0; // a loop: fill()'s call costs more for so few
      atMost[0] = 1;
      for (let j = tryN; j < m; j++) {
        const p = density[order[j]];
        scattered += p;
        for (let c = needed - 1; c >= 1; c--) atMost[c] = atMost[c] * (1 - p) + atMost[c - 1] * p;
        atMost[0] *= 1 - p;
      }
      let fewer = 0;
      for (let c = 0; c < needed; c++) fewer += atMost[c];
      const cost = SCATTER_COST * scattered + CANDIDATE_COST * (1 - fewer) * (1 + 0.5 * tryN);
      if (cost < bestCost) {
        bestCost = cost;
        n = tryN;
        r = needed;
      }
    }

    // Scatter the essential terms, counting hits; a slot becomes a candidate at its r-th hit. The densest goes
    // first: every slot it hits is still empty, so its loop neither reads nor tests the slot.
    let lead = n;
    for (let j = n + 1; j < m; j++) if (density[order[j]] > density[order[lead]]) lead = j;
    if (lead < m) {
      const q = order[lead];
      const w = weight[q];
      const base = table[q];
      let at = seek(docs, position[q], end[q], windowStart);
      const from = at;
      const stop = end[q];
      const mark = r === 1;
      for (; at < stop; at++) {
        const doc = docs[at];
        if (doc >= windowEnd) break;
        const slot = doc - windowStart;
        hits[slot] = 1;
        partial[slot] = w * impactTable[base + codes[at]];
        if (mark) touched[slot >>> 5] |= 1 << (slot & 31);
      }
      postingsScored += at - from;
      position[q] = at;
    }
    for (let j = n; j < m; j++) {
      if (j === lead) continue;
      const q = order[j];
      const w = weight[q];
      const base = table[q];
      let at = seek(docs, position[q], end[q], windowStart);
      const from = at;
      const stop = end[q];
      for (; at < stop; at++) {
        const doc = docs[at];
        if (doc >= windowEnd) break;
        const slot = doc - windowStart;
        const c = w * impactTable[base + codes[at]];
        const count = hits[slot] + 1;
        hits[slot] = count;
        if (count === 1) partial[slot] = c;
        else partial[slot] += c;
        if (count === r) touched[slot >>> 5] |= 1 << (slot & 31);
      }
      postingsScored += at - from;
      position[q] = at;
    }
    hits.fill(0, 0, size);

    // Visit the candidates in doc order: look up non-essential terms while the document can still make it.
    for (let word = 0; word < size >>> 5; word++) {
      let bits = touched[word];
      if (bits === 0) continue;
      touched[word] = 0;
      while (bits !== 0) {
        const low = bits & -bits;
        bits ^= low;
        const slot = (word << 5) + 31 - Math.clz32(low);
        const doc = windowStart + slot;
        let score = partial[slot];
        let pruned = false;
        for (let j = n - 1; j >= 0; j--) {
          if ((score + prefix[j + 1]) * BOUND_SLACK <= threshold) {
            pruned = true;
            break;
          }
          const q = order[j];
          const at = seek(docs, position[q], end[q], doc);
          position[q] = at;
          if (at < end[q] && docs[at] === doc) {
            score += weight[q] * impactTable[table[q] + codes[at]];
            postingsScored++;
          }
        }
        if (pruned) continue;
        documentsScored++;
        if (top.size < top.k || score >= top.minScore()) {
          top.offer(doc, score);
          if (top.size === top.k) threshold = top.minScore();
        }
      }
    }
  }
  for (let i = 0; i < primed; i++) isPrimed[primedOrder[i]] = 0;
  if (work) {
    work.postingsScored += postingsScored;
    work.documentsScored += documentsScored;
    work.windowsScoredAhead = (work.windowsScoredAhead ?? 0) + primed;
  }
  return top.sorted();
}

/** Sort order[0..m) by ascending bound, ties by query position (insertion sort: queries are short). */
function sortByBound(order: Uint32Array, bound: Float64Array, m: number): void {
  if (m > 48) {
    const sorted = Array.from(order.subarray(0, m)).sort((a, b) => bound[a] - bound[b] || a - b);
    order.set(sorted);
    return;
  }
  for (let i = 1; i < m; i++) {
    const q = order[i];
    let j = i - 1;
    while (j >= 0 && (bound[order[j]] > bound[q] || (bound[order[j]] === bound[q] && order[j] > q))) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = q;
  }
}


/** The bound tables of an index's postings (see PostingArrays): written beside them, or computed for an old index. */
export type PostingBounds = Pick<PostingArrays, 'blockStart' | 'blockMax' | 'minImpact' | 'windowRow' | 'windowMax' | 'windowFirst' | 'windowCount'>;

/** How the bound tables' arrays are allocated (plain, or SharedArrayBuffer-backed when the index is shared). */
export interface BoundsAllocators {
  float32(length: number): Float32Array;
  float64(length: number): Float64Array;
  int32(length: number): Int32Array;
  uint32(length: number): Uint32Array;
}

export const PLAIN_ALLOCATORS: BoundsAllocators = {
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
  int32: (n) => new Int32Array(n),
  uint32: (n) => new Uint32Array(n),
};

/**
 * The bound tables, term by term in any order, from each term's postings:
 *  - block maxima: blockMax[blockStart[t] + b] is the largest impact among term t's postings
 *    [starts[t] + b·BLOCK, starts[t] + (b+1)·BLOCK); minImpact[t] is term t's smallest positive impact;
 *  - the frequent terms' window tables: for each term with at least 4 postings per window on average, one row of
 *    ⌈docCount / WINDOW⌉ maxima (its largest impact among the window's docs) and one of first postings (where its
 *    postings in the window start, counted from its own first), so each table is at most 1/8 of the postings'
 *    bytes. A window's bound is then one read instead of a walk over the blocks it overlaps, which for a frequent
 *    term means reading a dozen scattered posting docs per window, and a lookup gallops from the window's start.
 * The index writer computes them once and writes them beside the postings (format.ts, bounds.bin), so opening an
 * index reads them instead of passing over every posting; an index of format 1 has none and gets them at open.
 */
export class PostingBoundsBuilder {
  readonly bounds: PostingBounds;

  constructor(
    private readonly starts: Float64Array,
    docCount: number,
    allocate: BoundsAllocators = PLAIN_ALLOCATORS,
  ) {
    const termCount = starts.length - 1;
    const blockStart = allocate.float64(termCount + 1);
    for (let t = 0; t < termCount; t++) blockStart[t + 1] = blockStart[t] + Math.ceil((starts[t + 1] - starts[t]) / BLOCK);
    const windowCount = Math.max(1, Math.ceil(docCount / WINDOW));
    const frequent = 4 * windowCount;
    const windowRow = allocate.int32(termCount);
    let rows = 0;
    for (let t = 0; t < termCount; t++) windowRow[t] = starts[t + 1] - starts[t] >= frequent ? rows++ : -1;
    this.bounds = {
      blockStart,
      blockMax: allocate.float32(blockStart[termCount]),
      minImpact: allocate.float32(termCount),
      windowRow,
      windowMax: allocate.float32(rows * windowCount),
      windowFirst: allocate.uint32(rows * windowCount),
      windowCount,
    };
  }

  /** Term t's postings: docs[from + i] and impacts[from + i], i < the term's count (starts[t + 1] − starts[t]). */
  addTerm(t: number, docs: Uint32Array, impacts: Float32Array, from: number): void {
    const { blockStart, blockMax, minImpact, windowRow, windowMax, windowFirst, windowCount } = this.bounds;
    const count = this.starts[t + 1] - this.starts[t];
    const end = from + count;
    let block = blockStart[t];
    let min = Number.POSITIVE_INFINITY;
    for (let at = from; at < end; at += BLOCK, block++) {
      let max = 0;
      const to = Math.min(end, at + BLOCK);
      for (let i = at; i < to; i++) {
        const impact = impacts[i];
        if (impact > max) max = impact;
        if (impact > 0 && impact < min) min = impact;
      }
      blockMax[block] = max;
    }
    minImpact[t] = min === Number.POSITIVE_INFINITY ? 0 : min;
    if (windowRow[t] < 0) return;
    const base = windowRow[t] * windowCount;
    let next = 0; // the first window whose first posting is not yet set
    for (let at = from; at < end; at++) {
      const window = (docs[at] / WINDOW) | 0;
      while (next <= window) windowFirst[base + next++] = at - from;
      if (impacts[at] > windowMax[base + window]) windowMax[base + window] = impacts[at];
    }
    while (next < windowCount) windowFirst[base + next++] = count;
  }
}

/** Every term's bound tables from the whole posting arrays (an index of format 1, whose files hold none; tests). */
export function postingBounds(starts: Float64Array, docs: Uint32Array, impacts: Float32Array, docCount: number, allocate: BoundsAllocators = PLAIN_ALLOCATORS): PostingBounds {
  const builder = new PostingBoundsBuilder(starts, docCount, allocate);
  for (let t = 0; t < starts.length - 1; t++) builder.addTerm(t, docs, impacts, starts[t]);
  return builder.bounds;
}
