/**
 * Near-duplicate detection for --dedup-threshold J: two passages are near-duplicates when the Jaccard similarity
 * of their sets of word 3-shingles (after normalisation; texts shorter than 3 words use their words) is ≥ J.
 * Exact Jaccard, not a MinHash estimate. The speed trick, in one sentence: a candidate is tested against ALL the
 * sets it must not resemble at once, through an inverted index (shingle → sets holding it), so it costs one lookup
 * per shingle of the candidate, not one set comparison per kept set; and a document's shingles (with their 32-bit
 * hashes, which only pick a bucket: equal strings are still compared) are computed once and cached, bounded by a
 * shingle count, not once per record whose window it is in.
 */
import { normalizeText } from '../text/normalize.js';

/** Distinct word shingles of a text, in first-occurrence order (words are the normalised text's space-separated runs). */
export function shingleList(text: string, size = 3): string[] {
  const normalized = normalizeText(text);
  if (normalized.length === 0) return [];
  // normalizeText leaves single spaces between words and none at the ends, so word k is
  // normalized[starts[k], starts[k + 1] − 1) and a shingle is one substring of the normalised text.
  const starts = [0];
  for (let at = normalized.indexOf(' '); at !== -1; at = normalized.indexOf(' ', at + 1)) starts.push(at + 1);
  const words = starts.length;
  const span = words < size ? 1 : size; // a text shorter than `size` words: its words
  const out = new Set<string>();
  for (let k = 0; k + span <= words; k++) out.add(normalized.substring(starts[k], k + span < words ? starts[k + span] - 1 : normalized.length));
  return [...out];
}

export function shingles(text: string, size = 3): Set<string> {
  return new Set(shingleList(text, size));
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const item of small) if (large.has(item)) shared++;
  return shared / (a.size + b.size - shared);
}

/** A text's distinct shingles and a 32-bit hash of each (same order). */
export interface ShingleSet {
  readonly shingles: readonly string[];
  readonly hashes: Int32Array;
}

/** FNV-1a over UTF-16 code units, then murmur3's finaliser so that the low bits (the bucket) are well mixed. */
function shingleHash(shingle: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < shingle.length; i++) h = Math.imul(h ^ shingle.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export function shingleSet(text: string): ShingleSet {
  const list = shingleList(text);
  const hashes = new Int32Array(list.length);
  for (let i = 0; i < list.length; i++) hashes[i] = shingleHash(list[i]);
  return { shingles: list, hashes };
}

/** What near-duplicate tests cost, counted (for tests and benchmarks: the unit of work, not time). */
export interface NearDuplicateWork {
  /** Texts turned into shingle sets (a cached document counts again only after it was evicted). */
  textsShingled: number;
  /** Index lookups of a candidate's shingles: one per shingle of each candidate tested. */
  lookups: number;
  /** Shingles a tested candidate shares with an indexed set, one per (shingle, set): the tallies made. */
  overlaps: number;
}

export function noNearDuplicateWork(): NearDuplicateWork {
  return { textsShingled: 0, lookups: 0, overlaps: 0 };
}

/** Default ShingleCache size: 2^19 shingles, about 2,700 SciFact abstracts, 20–30 MB. */
export const DEFAULT_SHINGLE_CACHE_SHINGLES = 1 << 20;

/**
 * The shingle sets of corpus documents, least recently used evicted first once they hold more than `capacity`
 * shingles in all (a document larger than the capacity is still held while it is the newest).
 */
export class ShingleCache {
  private readonly byOrdinal = new Map<number, ShingleSet>();
  private held = 0;

  constructor(
    private readonly textOf: (docOrdinal: number) => string,
    private readonly work: NearDuplicateWork,
    readonly capacity = DEFAULT_SHINGLE_CACHE_SHINGLES,
  ) {}

  get(docOrdinal: number): ShingleSet {
    const hit = this.byOrdinal.get(docOrdinal);
    if (hit !== undefined) {
      this.byOrdinal.delete(docOrdinal);
      this.byOrdinal.set(docOrdinal, hit);
      return hit;
    }
    const set = shingleSet(this.textOf(docOrdinal));
    this.work.textsShingled++;
    this.byOrdinal.set(docOrdinal, set);
    this.held += set.shingles.length;
    for (const [oldest, evicted] of this.byOrdinal) {
      if (this.held <= this.capacity || oldest === docOrdinal) break;
      this.byOrdinal.delete(oldest);
      this.held -= evicted.shingles.length;
    }
    return set;
  }
}

/**
 * The shingle sets one record's candidates must not resemble (its positives, then each negative kept), indexed by
 * shingle. matches(c) is exactly `sets.some((s) => jaccard(c, s) >= threshold)`: a set sharing no shingle with c has
 * Jaccard 0 (1 when both are empty), and for the others the shared count is tallied from the postings and the
 * same quotient shared / (|c| + |s| − shared) is compared, so ties at the threshold go the same way.
 * The postings are a chained hash table in typed arrays, emptied in O(1) by reset() (a generation stamp per
 * bucket), so one index serves every record without allocating; a hash only picks the bucket, a posting counts
 * only when its shingle string is equal.
 */
export class NearDuplicateIndex {
  private threshold = 1;
  private generation = 0;
  private mask = 0;
  /** Per bucket: the generation that last wrote it (older = empty), and its first posting. */
  private bucketGeneration = new Int32Array(0);
  private bucketHead = new Int32Array(0);
  /** Per posting: the set holding the shingle, the next posting in the bucket, the shingle's hash and text. */
  private postingSet = new Int32Array(0);
  private postingNext = new Int32Array(0);
  private postingHash = new Int32Array(0);
  private postingShingle: string[] = [];
  private postings = 0;
  /** Per indexed set: its size, and a tally of shingles shared with the candidate being tested. */
  private sizes = new Int32Array(16);
  private overlap = new Int32Array(16);
  private sets = 0;
  private emptySets = 0;
  private readonly touched: number[] = [];

  constructor(private readonly work: NearDuplicateWork) {
    this.allocateBuckets(1 << 12);
    this.growPostings(1 << 12);
  }

  /** Forget every indexed set; `threshold` is the Jaccard matches() tests against. */
  reset(threshold: number): void {
    this.threshold = threshold;
    if (this.generation === 0x7fffffff) {
      this.bucketGeneration.fill(-1);
      this.generation = 0;
    } else this.generation++;
    this.postings = 0;
    this.sets = 0;
    this.emptySets = 0;
  }

  /** Index a set of distinct shingles. */
  add(set: ShingleSet): void {
    const index = this.sets++;
    if (index === this.sizes.length) {
      this.sizes = grown(this.sizes, index * 2);
      this.overlap = grown(this.overlap, index * 2);
    }
    const { shingles, hashes } = set;
    this.sizes[index] = shingles.length;
    if (shingles.length === 0) this.emptySets++;
    const needed = this.postings + shingles.length;
    if (needed > this.postingSet.length) this.growPostings(Math.max(needed, this.postingSet.length * 2));
    if (needed * 2 > this.bucketHead.length) this.rehash(needed * 2);
    for (let i = 0; i < shingles.length; i++) this.link(this.postings++, index, hashes[i], shingles[i]);
  }

  /** True when some indexed set has Jaccard ≥ threshold with `set`. */
  matches(set: ShingleSet): boolean {
    if (this.sets === 0) return false;
    if (0 >= this.threshold) return true; // every Jaccard is ≥ 0
    const { shingles, hashes } = set;
    if (shingles.length === 0) return this.emptySets > 0 && 1 >= this.threshold;
    const { overlap, touched, mask, generation, bucketGeneration, bucketHead, postingNext, postingHash, postingShingle, postingSet } = this;
    for (let i = 0; i < shingles.length; i++) {
      const hash = hashes[i];
      const bucket = hash & mask;
      if (bucketGeneration[bucket] !== generation) continue;
      for (let at = bucketHead[bucket]; at !== -1; at = postingNext[at]) {
        if (postingHash[at] !== hash || postingShingle[at] !== shingles[i]) continue;
        const other = postingSet[at];
        if (overlap[other]++ === 0) touched.push(other);
      }
    }
    this.work.lookups += shingles.length;
    let found = false;
    for (const other of touched) {
      const shared = overlap[other];
      this.work.overlaps += shared;
      overlap[other] = 0;
      if (!found && shared / (shingles.length + this.sizes[other] - shared) >= this.threshold) found = true;
    }
    touched.length = 0;
    return found;
  }

  private link(at: number, index: number, hash: number, shingle: string): void {
    const bucket = hash & this.mask;
    if (this.bucketGeneration[bucket] !== this.generation) {
      this.bucketGeneration[bucket] = this.generation;
      this.bucketHead[bucket] = -1;
    }
    this.postingSet[at] = index;
    this.postingHash[at] = hash;
    this.postingShingle[at] = shingle;
    this.postingNext[at] = this.bucketHead[bucket];
    this.bucketHead[bucket] = at;
  }

  private allocateBuckets(atLeast: number): void {
    let size = 1;
    while (size < atLeast) size *= 2;
    this.bucketGeneration = new Int32Array(size).fill(-1);
    this.bucketHead = new Int32Array(size);
    this.mask = size - 1;
  }

  private rehash(atLeast: number): void {
    this.allocateBuckets(atLeast);
    for (let at = 0; at < this.postings; at++) this.link(at, this.postingSet[at], this.postingHash[at], this.postingShingle[at]);
  }

  private growPostings(size: number): void {
    this.postingSet = grown(this.postingSet, size);
    this.postingNext = grown(this.postingNext, size);
    this.postingHash = grown(this.postingHash, size);
  }
}

function grown(array: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(size);
  out.set(array.subarray(0, Math.min(array.length, size)));
  return out;
}
