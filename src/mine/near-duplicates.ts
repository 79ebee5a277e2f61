/**
 * Near-duplicate detection for --dedup-threshold J: two passages are near-duplicates when the Jaccard similarity
 * of their sets of word 3-shingles (after normalisation; texts shorter than 3 words use their words) is ≥ J.
 * Exact Jaccard, not a MinHash estimate. The speed trick, in one sentence: a candidate is tested against ALL the
 * sets it must not resemble at once, through an inverted index (shingle → sets holding it), so it costs one lookup
 * per shingle of the candidate, not one set comparison per kept set; and a document's shingle set is computed once
 * and cached (bounded by a shingle count), not once per record whose window holds it.
 * A shingle is a span of the normalised text with a 32-bit hash; the hash only picks a bucket: two shingles are
 * the same when their characters are, so hash collisions cost a comparison, never a wrong answer.
 */
import { normalizeText } from '../text/normalize.js';

/** A text's distinct word shingles, as spans of its normalised text (no string per shingle), in first-occurrence order. */
export interface ShingleSet {
  /** The normalised text the spans point into. */
  readonly text: string;
  readonly size: number;
  /** Shingle k is text[starts[k], ends[k]), with hash hashes[k]. */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly hashes: Int32Array;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** murmur3's finaliser: the low bits (the bucket) depend on every bit of the input. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function sameSpan(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) if (a.charCodeAt(aStart + i) !== b.charCodeAt(bStart + i)) return false;
  return true;
}

/** Scratch open-addressing table (slot = shingle index + 1) that drops repeated shingles within one text. */
let seenSlots = new Int32Array(1024);

export function shingleSet(text: string, size = 3): ShingleSet {
  const normalized = normalizeText(text);
  // normalizeText leaves single spaces between words and none at the ends: word k runs from wordStarts[k] to one
  // before the next word's start. A shingle's hash mixes its words' FNV-1a hashes, in order.
  const wordStarts: number[] = [];
  const wordHashes: number[] = [];
  if (normalized.length > 0) {
    let hash = FNV_OFFSET;
    wordStarts.push(0);
    for (let i = 0; i < normalized.length; i++) {
      const code = normalized.charCodeAt(i);
      if (code === 32) {
        wordHashes.push(hash);
        wordStarts.push(i + 1);
        hash = FNV_OFFSET;
      } else hash = Math.imul(hash ^ code, FNV_PRIME);
    }
    wordHashes.push(hash);
  }
  const words = wordStarts.length;
  const span = words < size ? 1 : size; // a text shorter than `size` words: its words
  const count = Math.max(0, words - span + 1);
  const starts = new Int32Array(count);
  const ends = new Int32Array(count);
  const hashes = new Int32Array(count);
  let slots = 2;
  while (slots < count * 2) slots *= 2;
  if (seenSlots.length < slots) seenSlots = new Int32Array(slots);
  const seen = seenSlots.subarray(0, slots).fill(0);
  let distinct = 0;
  for (let k = 0; k < count; k++) {
    let hash = wordHashes[k];
    for (let w = 1; w < span; w++) hash = Math.imul(hash, 0x9e3779b1) ^ wordHashes[k + w];
    hash = mix(hash);
    const start = wordStarts[k];
    const end = k + span < words ? wordStarts[k + span] - 1 : normalized.length;
    let slot = hash & (slots - 1);
    let repeated = false;
    for (; seen[slot] !== 0; slot = (slot + 1) & (slots - 1)) {
      const other = seen[slot] - 1;
      if (hashes[other] === hash && sameSpan(normalized, starts[other], ends[other], normalized, start, end)) {
        repeated = true;
        break;
      }
    }
    if (repeated) continue;
    seen[slot] = distinct + 1;
    starts[distinct] = start;
    ends[distinct] = end;
    hashes[distinct] = hash;
    distinct++;
  }
  return { text: normalized, size: distinct, starts: starts.slice(0, distinct), ends: ends.slice(0, distinct), hashes: hashes.slice(0, distinct) };
}

/** Distinct word shingles of a text, in first-occurrence order (words are the normalised text's space-separated runs). */
export function shingleList(text: string, size = 3): string[] {
  const set = shingleSet(text, size);
  return Array.from(set.starts, (start, k) => set.text.substring(start, set.ends[k]));
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

/** Default ShingleCache size: 2^20 shingles (12 bytes each, plus the normalised texts): all of SciFact, ~20 MB. */
export const DEFAULT_SHINGLE_CACHE_SHINGLES = 1 << 20;

/**
 * The shingle sets of corpus documents, evicted oldest first (a document used since it was last passed over gets
 * one more pass: CLOCK, close to least recently used) once they hold more than `capacity` shingles in all (a
 * document larger than the capacity is still held while it is the newest).
 */
export class ShingleCache {
  /** In insertion order; `used` is set on a hit and gives an entry one more pass before eviction (CLOCK). */
  private readonly byOrdinal = new Map<number, { set: ShingleSet; used: boolean }>();
  private held = 0;

  constructor(
    private readonly textOf: (docOrdinal: number) => string,
    private readonly work: NearDuplicateWork,
    readonly capacity = DEFAULT_SHINGLE_CACHE_SHINGLES,
  ) {}

  get(docOrdinal: number): ShingleSet {
    const hit = this.byOrdinal.get(docOrdinal);
    if (hit !== undefined) {
      hit.used = true;
      return hit.set;
    }
    const set = shingleSet(this.textOf(docOrdinal));
    this.work.textsShingled++;
    this.byOrdinal.set(docOrdinal, { set, used: false });
    this.held += set.size;
    while (this.held > this.capacity && this.byOrdinal.size > 1) {
      const [oldest, entry] = this.byOrdinal.entries().next().value!;
      this.byOrdinal.delete(oldest);
      if (entry.used || oldest === docOrdinal) {
        entry.used = false;
        this.byOrdinal.set(oldest, entry);
      } else this.held -= entry.set.size;
    }
    return set;
  }
}

/** Fields of one posting in NearDuplicateIndex.postings: the set holding the shingle (−1 once unlinked), its span, its slot. */
const SET = 0;
const START = 1;
const END = 2;
const SLOT = 3;
const STRIDE = 4;

/**
 * The shingle sets one record's candidates must not resemble (its positives, then each negative kept), indexed by
 * shingle. A candidate "matches" exactly when `sets.some((s) => jaccard(c, s) >= threshold)`: a set sharing no
 * shingle with c has Jaccard 0 (1 when both are empty), and for the others the shared count is tallied from the
 * postings and the same quotient shared / (|c| + |s| − shared) is compared, so ties at the threshold go the same way.
 * The postings sit in an open-addressing table of (hash, posting) pairs in one typed array, at most half full, so a
 * lookup usually reads one cache line and ends on the empty slot where the shingle is then linked; reset() clears
 * only the slots used, so one index serves every record without allocating.
 */
export class NearDuplicateIndex {
  private threshold = 1;
  private mask = 0;
  /** Slot s: table[2s] = shingle hash, table[2s + 1] = posting + 1 (0 = empty). */
  private table = new Int32Array(0);
  private postings = new Int32Array(0);
  private postingCount = 0;
  /** Per indexed set: its normalised text, its size, and a tally of shingles shared with the candidate being tested. */
  private readonly setText: string[] = [];
  private sizes = new Int32Array(16);
  private overlap = new Int32Array(16);
  private sets = 0;
  private emptySets = 0;
  private readonly touched: number[] = [];

  constructor(private readonly work: NearDuplicateWork) {
    this.table = new Int32Array(2 << 12);
    this.mask = (1 << 12) - 1;
    this.postings = new Int32Array((1 << 11) * STRIDE);
  }

  /** Forget every indexed set; `threshold` is the Jaccard a match needs. */
  reset(threshold: number): void {
    this.threshold = threshold;
    for (let at = 0; at < this.postingCount; at++) this.table[2 * this.postings[at * STRIDE + SLOT] + 1] = 0;
    this.postingCount = 0;
    this.sets = 0;
    this.emptySets = 0;
  }

  /** Index a set. */
  add(set: ShingleSet): void {
    this.reserve(set);
    for (let i = 0; i < set.size; i++) {
      let slot = set.hashes[i] & this.mask;
      while (this.table[2 * slot + 1] !== 0) slot = (slot + 1) & this.mask;
      this.link(set, i, slot);
    }
    this.commit(set.size);
  }

  /**
   * Whether some indexed set has Jaccard ≥ threshold with `set`; when none has, `set` is indexed. One pass: a
   * shingle's probe ends on the empty slot where it is linked; on a match the set's postings are unlinked again.
   */
  addUnlessMatch(set: ShingleSet): boolean {
    if (this.sets === 0) {
      this.add(set);
      return false;
    }
    if (0 >= this.threshold) return true; // every Jaccard is ≥ 0
    if (set.size === 0) {
      if (this.emptySets > 0 && 1 >= this.threshold) return true;
      this.add(set);
      return false;
    }
    this.reserve(set);
    const { overlap, touched, table, postings, setText, mask } = this;
    const { text, starts, ends, hashes } = set;
    const first = this.postingCount;
    for (let i = 0; i < set.size; i++) {
      const hash = hashes[i];
      let slot = hash & mask;
      for (let posting = table[2 * slot + 1]; posting !== 0; slot = (slot + 1) & mask, posting = table[2 * slot + 1]) {
        if (table[2 * slot] !== hash) continue;
        const p = (posting - 1) * STRIDE;
        const other = postings[p + SET];
        if (other < 0 || other === this.sets || !sameSpan(setText[other], postings[p + START], postings[p + END], text, starts[i], ends[i])) continue;
        if (overlap[other]++ === 0) touched.push(other);
      }
      this.link(set, i, slot);
    }
    this.work.lookups += set.size;
    let found = false;
    for (const other of touched) {
      const shared = overlap[other];
      this.work.overlaps += shared;
      overlap[other] = 0;
      if (!found && shared / (set.size + this.sizes[other] - shared) >= this.threshold) found = true;
    }
    touched.length = 0;
    if (!found) {
      this.commit(set.size);
      return false;
    }
    // Unlinked, not removed: the slots stay taken (probes pass over them) until reset() clears them.
    for (let at = first; at < this.postingCount; at++) postings[at * STRIDE + SET] = -1;
    return true;
  }

  /** Room for the set's postings with the table at most half full, and for one more set. */
  private reserve(set: ShingleSet): void {
    this.setText[this.sets] = set.text;
    const needed = this.postingCount + set.size;
    if (needed * STRIDE > this.postings.length) this.postings = grownTo(this.postings, Math.max(needed, (this.postings.length / STRIDE) * 2) * STRIDE);
    if (needed * 2 > this.mask + 1) {
      let size = this.mask + 1;
      while (size < needed * 2) size *= 2;
      const old = this.table;
      this.table = new Int32Array(2 * size);
      this.mask = size - 1;
      for (let at = 0; at < this.postingCount; at++) {
        const hash = old[2 * this.postings[at * STRIDE + SLOT]];
        let slot = hash & this.mask;
        while (this.table[2 * slot + 1] !== 0) slot = (slot + 1) & this.mask;
        this.table[2 * slot] = hash;
        this.table[2 * slot + 1] = at + 1;
        this.postings[at * STRIDE + SLOT] = slot;
      }
    }
    if (this.sets === this.sizes.length) {
      this.sizes = grownTo(this.sizes, this.sets * 2);
      this.overlap = grownTo(this.overlap, this.sets * 2);
    }
  }

  /** Link shingle i of `set` (the set being indexed, number this.sets) into the empty `slot`. */
  private link(set: ShingleSet, i: number, slot: number): void {
    const at = this.postingCount++;
    const p = at * STRIDE;
    this.postings[p + SET] = this.sets;
    this.postings[p + START] = set.starts[i];
    this.postings[p + END] = set.ends[i];
    this.postings[p + SLOT] = slot;
    this.table[2 * slot] = set.hashes[i];
    this.table[2 * slot + 1] = at + 1;
  }

  private commit(size: number): void {
    this.sizes[this.sets++] = size;
    if (size === 0) this.emptySets++;
  }
}

function grownTo(array: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(size);
  out.set(array.subarray(0, Math.min(array.length, size)));
  return out;
}
