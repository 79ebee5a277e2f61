/**
 * Exact top-k with block-max MaxScore dynamic pruning (Turtle & Flood 1995; block maxima as in Ding & Suel 2011
 * and Chakrabarti et al. 2011; windowed as Lucene's MaxScoreBulkScorer). Documents are scored window by window:
 * each term's bound in a window is its largest block maximum there; terms sorted by bound, those whose bounds
 * together cannot lift a document into the top k are "non-essential" and only looked up (galloping search) for
 * documents an essential term proposes, a document is dropped as soon as its partial score plus the remaining
 * bounds cannot beat the k-th score, and a window whose bounds all together cannot is skipped.
 * Why (block-max) MaxScore: mining queries are long (a sentence, ~20 terms) and ask for k = 28..110; on long
 * queries and larger k, MaxScore-style partitioning beats WAND-style pivoting (Mallia et al., ECIR 2019: fewer
 * cursor reorderings per document), and a term-at-a-time scatter inside a window suits JavaScript's typed
 * arrays. Per-term maxima are in terms.bin; block maxima (1/64 of the impacts) and the frequent terms' maxima
 * per aligned window of WINDOW docs (at most 1/8 of the postings' bytes) are computed when the index is
 * loaded, so the index format does not change.
 * Exactness: a kept document's score is summed over the query's terms in query order, exactly as the
 * exhaustive scorer adds them (absent terms add 0, which changes no float), and bounds are compared with a
 * relative slack far above float rounding, so pruning never drops a document the exhaustive scorer keeps. Docs
 * come in ascending order, so a later document tying the k-th score ranks below it and is rightly skipped.
 */
import type { Candidate } from '../mine/retriever.js';
import { TopK } from './top-k.js';

/** The posting arrays of an index (see FORMAT.md). */
export interface PostingArrays {
  /** Term t's postings are [starts[t], starts[t + 1]). */
  starts: Float64Array;
  docs: Uint32Array;
  impacts: Float32Array;
  /** The largest impact in each term's postings. */
  maxImpact: Float32Array;
  /** Term t's block maxima are blockMax[blockStart[t] ..] (see blockMaxima). */
  blockStart: Float64Array;
  blockMax: Float32Array;
  /**
   * Window maxima of the frequent terms (see windowMaxima): term t's largest impact among docs
   * [w·WINDOW, (w+1)·WINDOW) is windowMax[windowRow[t] · windowCount + w]; windowRow[t] is −1 for other terms.
   */
  windowRow: Int32Array;
  windowMax: Float32Array;
  windowCount: number;
}

/** Work counters, for benchmarks: how many postings were read (scored) and how many documents fully scored. */
export interface SearchWork {
  postingsScored: number;
  documentsScored: number;
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
 * to multiples of WINDOW (so a frequent term's bound is one table entry, see windowMaxima), except that the
 * first one is cut into windows of 64, 128, … docs, so that the top k, and with it the pruning threshold,
 * fills early.
 */
export const WINDOW = 4096;
const FIRST_WINDOW = 64;

/**
 * Per-thread working memory of maxScoreTopK, reused across queries (allocating and zeroing it per query would
 * cost more than a short query's search). Between searches every entry is zero again.
 */
export class MaxScoreScratch {
  /** Σ of a window row so far, in any order (for bounds only). */
  readonly partial = new Float64Array(WINDOW);
  /** One bit per window slot touched by an essential posting; scanned in order (cheaper than sorting slots). */
  readonly touched = new Uint32Array(WINDOW / 32);
  private rows = new Float64Array(WINDOW * 16);

  /** The window table for m query terms. */
  rowsFor(m: number): Float64Array {
    if (this.rows.length < WINDOW * m) this.rows = new Float64Array(WINDOW * m);
    return this.rows;
  }
}

/**
 * The exact top-k documents for `queryTerms` ([term id, multiplicity], in query order), best first, ties by
 * ascending doc ordinal: the same documents and scores as summing every posting.
 * Windowed, as Lucene's MaxScoreBulkScorer: the essential terms' postings falling in a window of WINDOW doc
 * ordinals are scattered term-at-a-time into a small table (one row per document, one column per query term),
 * then the window's documents are visited in ascending order for the non-essential look-ups, the bound test
 * and, for survivors, the exact sum of their row in query order.
 */
export function maxScoreTopK(index: PostingArrays, queryTerms: ReadonlyArray<readonly [number, number]>, k: number, work?: SearchWork, scratch = new MaxScoreScratch()): Candidate[] {
  const m = queryTerms.length;
  if (m === 0 || k <= 0) return [];
  const { starts, docs, impacts, blockStart, blockMax, windowRow, windowMax, windowCount } = index;

  // Per query term, indexed by its position in the query (the order exact sums follow).
  const position = new Float64Array(m);
  const end = new Float64Array(m);
  const first = new Float64Array(m);
  const blocks = new Float64Array(m);
  const weight = new Float64Array(m);
  const row = new Float64Array(m); // where the term's window maxima start in windowMax, or −1
  let postingTotal = 0;
  let lastDoc = 0;
  for (let q = 0; q < m; q++) {
    const [term, multiplicity] = queryTerms[q];
    position[q] = first[q] = starts[term];
    end[q] = starts[term + 1];
    blocks[q] = blockStart[term];
    weight[q] = multiplicity;
    row[q] = windowRow[term] < 0 ? -1 : windowRow[term] * windowCount;
    postingTotal += end[q] - position[q];
    if (end[q] > position[q] && docs[end[q] - 1] > lastDoc) lastDoc = docs[end[q] - 1];
  }
  const top = new TopK(Math.min(k, postingTotal));
  let threshold = Number.NEGATIVE_INFINITY;
  let postingsScored = 0;
  let documentsScored = 0;

  const { partial, touched } = scratch;
  // rows[q × WINDOW + (doc − windowStart)]: one column per query term, so a term's scatter is sequential;
  // all zero between uses.
  const rows = scratch.rowsFor(m);
  const windowFrom = new Float64Array(m); // each essential term's first posting in the current window
  const windowBound = new Float64Array(m); // each term's largest block maximum overlapping the window
  const order = new Uint32Array(m); // query positions by ascending window bound
  const prefix = new Float64Array(m); // prefix[j] = Σ window bounds of order[0..j]
  const lookedUp = new Uint32Array(m); // cells written by non-essential look-ups for the current document
  let lookedUpCount = 0;

  for (let windowStart = 0, size = FIRST_WINDOW; windowStart <= lastDoc; windowStart += size, size = windowStart < WINDOW ? Math.min(size * 2, WINDOW - windowStart) : WINDOW) {
    const windowEnd = windowStart + size;
    const column = Math.floor(windowStart / WINDOW);
    // Window bounds: a frequent term's from its window maximum (the aligned window holding this one), any
    // other's from the block maxima of its blocks overlapping [windowStart, windowEnd).
    let windowTotal = 0;
    for (let q = 0; q < m; q++) {
      let bound = 0;
      if (row[q] >= 0) bound = windowMax[row[q] + column];
      else {
        const at = seek(docs, position[q], end[q], windowStart);
        position[q] = at;
        for (let offset = Math.floor((at - first[q]) / BLOCK) * BLOCK; first[q] + offset < end[q] && docs[first[q] + offset] < windowEnd; offset += BLOCK) {
          const max = blockMax[blocks[q] + offset / BLOCK];
          if (max > bound) bound = max;
        }
      }
      windowBound[q] = weight[q] * bound;
      windowTotal += windowBound[q];
      order[q] = q;
    }
    if (windowTotal * BOUND_SLACK <= threshold) continue; // nothing in this window can reach the top k
    sortByBound(order, windowBound, m);
    for (let j = 0; j < m; j++) prefix[j] = (j > 0 ? prefix[j - 1] : 0) + windowBound[order[j]];
    let firstEssential = 0;
    while (firstEssential < m && prefix[firstEssential] * BOUND_SLACK <= threshold) firstEssential++;
    const windowEssential = firstEssential;

    for (let j = firstEssential; j < m; j++) {
      const q = order[j];
      const column = q * WINDOW;
      const w = weight[q];
      let at = seek(docs, position[q], end[q], windowStart); // frequent terms are not positioned at window starts
      windowFrom[q] = at;
      const stop = end[q];
      for (; at < stop; at++) {
        const doc = docs[at];
        if (doc >= windowEnd) break;
        const slot = doc - windowStart;
        const c = w * impacts[at];
        rows[column + slot] = c;
        const bit = 1 << (slot & 31);
        if ((touched[slot >>> 5] & bit) === 0) {
          touched[slot >>> 5] |= bit;
          partial[slot] = c;
        } else partial[slot] += c;
      }
      postingsScored += at - position[q];
      position[q] = at;
    }
    for (let word = 0; word < size >>> 5; word++) {
      let bits = touched[word];
      if (bits === 0) continue;
      touched[word] = 0;
      while (bits !== 0) {
        const low = bits & -bits;
        bits ^= low;
        const slot = (word << 5) + 31 - Math.clz32(low);
        const doc = windowStart + slot;
        let bound = partial[slot];
        let pruned = false;
        for (let j = firstEssential - 1; j >= 0; j--) {
          if ((bound + prefix[j]) * BOUND_SLACK <= threshold) {
            pruned = true;
            break;
          }
          const q = order[j];
          const at = seek(docs, position[q], end[q], doc);
          position[q] = at;
          if (at < end[q] && docs[at] === doc) {
            const c = weight[q] * impacts[at];
            const cell = q * WINDOW + slot;
            rows[cell] = c;
            lookedUp[lookedUpCount++] = cell;
            bound += c;
            postingsScored++;
          }
        }
        if (!pruned) {
          let score = 0;
          for (let q = 0, cell = slot; q < m; q++, cell += WINDOW) score += rows[cell];
          documentsScored++;
          if (score > threshold || top.size < top.k) {
            top.offer(doc, score);
            if (top.size === top.k) {
              threshold = top.minScore();
              while (firstEssential < m && prefix[firstEssential] * BOUND_SLACK <= threshold) firstEssential++;
            }
          }
        }
        while (lookedUpCount > 0) rows[lookedUp[--lookedUpCount]] = 0;
      }
    }
    // Clear what the essential terms scattered (their postings of this window, read again: sequential).
    for (let j = windowEssential; j < m; j++) {
      const q = order[j];
      const column = q * WINDOW;
      for (let at = windowFrom[q]; at < position[q]; at++) rows[column + docs[at] - windowStart] = 0;
    }
  }
  if (work) {
    work.postingsScored += postingsScored;
    work.documentsScored += documentsScored;
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


/**
 * The block maxima of every term's postings: blockMax[blockStart[t] + b] is the largest impact among term t's
 * postings [starts[t] + b·BLOCK, starts[t] + (b+1)·BLOCK). Computed once when the index is loaded (one pass
 * over the impacts, 1/64 of their size), so the index format stays as it is.
 */
export function blockMaxima(starts: Float64Array, impacts: Float32Array, allocate: (length: number) => Float32Array, allocateStarts: (length: number) => Float64Array): { blockStart: Float64Array; blockMax: Float32Array } {
  const termCount = starts.length - 1;
  const blockStart = allocateStarts(termCount + 1);
  for (let t = 0; t < termCount; t++) blockStart[t + 1] = blockStart[t] + Math.ceil((starts[t + 1] - starts[t]) / BLOCK);
  const blockMax = allocate(blockStart[termCount]);
  for (let t = 0; t < termCount; t++) {
    const end = starts[t + 1];
    let block = blockStart[t];
    for (let from = starts[t]; from < end; from += BLOCK, block++) {
      let max = 0;
      const to = Math.min(end, from + BLOCK);
      for (let at = from; at < to; at++) if (impacts[at] > max) max = impacts[at];
      blockMax[block] = max;
    }
  }
  return { blockStart, blockMax };
}

/**
 * Window maxima of the frequent terms: one row of ⌈docCount / WINDOW⌉ maxima for each term with at least
 * 4 postings per window on average (so the table is at most 1/8 of the postings' bytes). A window's bound is
 * then one read instead of a walk over the blocks it overlaps, which for a frequent term means reading a
 * dozen scattered posting docs per window. Computed once when the index is loaded, like the block maxima.
 */
export function windowMaxima(starts: Float64Array, docs: Uint32Array, impacts: Float32Array, docCount: number, allocateRows: (length: number) => Int32Array, allocate: (length: number) => Float32Array): { windowRow: Int32Array; windowMax: Float32Array; windowCount: number } {
  const termCount = starts.length - 1;
  const windowCount = Math.max(1, Math.ceil(docCount / WINDOW));
  const frequent = 4 * windowCount;
  const windowRow = allocateRows(termCount);
  let rows = 0;
  for (let t = 0; t < termCount; t++) windowRow[t] = starts[t + 1] - starts[t] >= frequent ? rows++ : -1;
  const windowMax = allocate(rows * windowCount);
  for (let t = 0; t < termCount; t++) {
    if (windowRow[t] < 0) continue;
    const base = windowRow[t] * windowCount;
    const end = starts[t + 1];
    for (let at = starts[t]; at < end; at++) {
      const cell = base + Math.floor(docs[at] / WINDOW);
      if (impacts[at] > windowMax[cell]) windowMax[cell] = impacts[at];
    }
  }
  return { windowRow, windowMax, windowCount };
}
