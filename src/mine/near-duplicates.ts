/**
 * Near-duplicate detection for --dedup-threshold J: two passages are near-duplicates when the Jaccard similarity
 * of their sets of word 3-shingles (after normalisation; texts shorter than 3 words use their words) is ≥ J.
 * Exact Jaccard, not a MinHash estimate. The speed trick, in one sentence: a candidate is tested against ALL the
 * sets it must not resemble at once, through an inverted index of their prefixes in hash order (shingle → sets
 * holding it), so it costs one lookup per shingle of its own prefix (about (1 − J) of its shingles) and an exact
 * check only of the sets whose overlap bound can still reach J; and a document's shingle set is computed once and
 * cached (bounded by a shingle count), not once per record whose window holds it.
 * A shingle is a span of the normalised text with a 32-bit hash; the hash only orders and picks a bucket: two shingles are
 * the same when their characters are, so hash collisions cost a comparison, never a wrong answer.
 */
import { normalizeText } from '../text/normalize.js';

/**
 * A text's distinct word shingles, as spans of its normalised text (no string per shingle), in increasing hash order
 * (ties in any order): the global order prefix filtering needs (NearDuplicateIndex).
 */
export interface ShingleSet {
  /** The normalised text the spans point into. */
  readonly text: string;
  readonly size: number;
  /** Shingle k is text[starts[k], ends[k]), with hash hashes[k]; hashes[k] ≤ hashes[k + 1]. */
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

/**
 * Scratch buffers reused by every shingleSet call (a set then allocates one buffer for its three arrays): the open-
 * addressing table (slot = shingle index + 1) that drops repeated shingles within one text, the words, the
 * shingles in text order, and the sort keys.
 */
let seenSlots = new Int32Array(1024);
let wordStarts = new Int32Array(1024);
let wordHashes = new Int32Array(1024);
let textOrder = new Int32Array(3 * 1024);
let sortKeys = new Float64Array(1024);

export function shingleSet(text: string, size = 3): ShingleSet {
  const normalized = normalizeText(text);
  // normalizeText leaves single spaces between words and none at the ends: word k runs from wordStarts[k] to one
  // before the next word's start. A shingle's hash mixes its words' FNV-1a hashes, in order.
  if (wordStarts.length < normalized.length + 1) {
    wordStarts = new Int32Array(2 * normalized.length + 2);
    wordHashes = new Int32Array(2 * normalized.length + 2);
  }
  let words = 0;
  if (normalized.length > 0) {
    let hash = FNV_OFFSET;
    wordStarts[words] = 0;
    for (let i = 0; i < normalized.length; i++) {
      const code = normalized.charCodeAt(i);
      if (code === 32) {
        wordHashes[words++] = hash;
        wordStarts[words] = i + 1;
        hash = FNV_OFFSET;
      } else hash = Math.imul(hash ^ code, FNV_PRIME);
    }
    wordHashes[words++] = hash;
  }
  const span = words < size ? 1 : size; // a text shorter than `size` words: its words
  const count = Math.max(0, words - span + 1);
  if (textOrder.length < 3 * count) textOrder = new Int32Array(6 * count);
  // Shingle k in text order: start at textOrder[3k], end at textOrder[3k + 1], hash at textOrder[3k + 2].
  const shingles = textOrder;
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
      const other = 3 * (seen[slot] - 1);
      if (shingles[other + 2] === hash && sameSpan(normalized, shingles[other], shingles[other + 1], normalized, start, end)) {
        repeated = true;
        break;
      }
    }
    if (repeated) continue;
    seen[slot] = distinct + 1;
    shingles[3 * distinct] = start;
    shingles[3 * distinct + 1] = end;
    shingles[3 * distinct + 2] = hash;
    distinct++;
  }
  // In hash order: a typed-array sort of hash · 2^21 + text-order index (exact: below 2^53).
  const out = new Int32Array(3 * distinct);
  const starts = out.subarray(0, distinct);
  const ends = out.subarray(distinct, 2 * distinct);
  const hashes = out.subarray(2 * distinct, 3 * distinct);
  if (distinct < 1 << 21) {
    if (sortKeys.length < distinct) sortKeys = new Float64Array(2 * distinct);
    const keys = sortKeys.subarray(0, distinct);
    for (let k = 0; k < distinct; k++) keys[k] = (shingles[3 * k + 2] + 2147483648) * 2097152 + k;
    keys.sort();
    for (let k = 0; k < distinct; k++) {
      const from = 3 * (keys[k] % 2097152);
      starts[k] = shingles[from];
      ends[k] = shingles[from + 1];
      hashes[k] = shingles[from + 2];
    }
  } else {
    const order = Array.from({ length: distinct }, (_, k) => k).sort((a, b) => shingles[3 * a + 2] - shingles[3 * b + 2]);
    for (let k = 0; k < distinct; k++) {
      starts[k] = shingles[3 * order[k]];
      ends[k] = shingles[3 * order[k] + 1];
      hashes[k] = shingles[3 * order[k] + 2];
    }
  }
  return { text: normalized, size: distinct, starts, ends, hashes };
}

/** Distinct word shingles of a text, in first-occurrence order (words are the normalised text's space-separated runs). */
export function shingleList(text: string, size = 3): string[] {
  const set = shingleSet(text, size);
  // A distinct shingle's first occurrence starts where no other's does: sorting by start restores text order.
  const order = Array.from(set.starts.keys()).sort((a, b) => set.starts[a] - set.starts[b]);
  return order.map((k) => set.text.substring(set.starts[k], set.ends[k]));
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
  /** Index lookups of a candidate's shingles: one per shingle of each tested candidate's prefix (NearDuplicateIndex). */
  lookups: number;
  /** Pairs (candidate, indexed set) sharing a prefix shingle, whose overlap was then counted exactly. */
  pairsVerified: number;
}

export function noNearDuplicateWork(): NearDuplicateWork {
  return { textsShingled: 0, lookups: 0, pairsVerified: 0 };
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

/** Fields of one posting in NearDuplicateIndex.postings: the set holding the shingle (−1 once unlinked), its position in that set, its slot. */
const SET = 0;
const POSITION = 1;
const SLOT = 2;
const STRIDE = 3;

/** The least overlap s with s / size ≥ threshold (size + 1 when none): what any set must share with a set of `size` to match it. */
function leastShared(size: number, threshold: number): number {
  let s = Math.ceil(threshold * size);
  while (s > 0 && (s - 1) / size >= threshold) s--;
  while (s <= size && s / size < threshold) s++;
  return s;
}

/**
 * The least overlap s ≤ min(a, b) with s / (a + b − s) ≥ threshold, or min(a, b) + 1 when there is none. The quotient
 * grows with s (in floating point too), so `shared ≥ s` exactly when the Jaccard quotient reaches the threshold.
 */
function leastSharedPair(a: number, b: number, threshold: number): number {
  const most = Math.min(a, b);
  let s = Math.max(0, Math.min(most + 1, Math.ceil((threshold * (a + b)) / (1 + threshold))));
  while (s > 0 && (s - 1) / (a + b - (s - 1)) >= threshold) s--;
  while (s <= most && s / (a + b - s) < threshold) s++;
  return s;
}

/**
 * The shingle sets one record's candidates must not resemble (its positives, then each negative kept). A candidate
 * "matches" exactly when `sets.some((s) => jaccard(c, s) >= threshold)`. Prefix filtering (Bayardo, Ma and Srikant,
 * "Scaling up all pairs similarity search", WWW 2007): shingles are ordered by hash; a set x that matches y shares at
 * least leastShared(|x|) shingles with y, so x's first |x| − leastShared(|x|) + 1 (its prefix) hold a shared one,
 * and with it a shingle of the smallest hash h any shared shingle has; likewise y's prefix. Only prefixes are indexed
 * and probed, and a probe meets a set on an equal HASH (not only an equal shingle): so a matching set is met at h or
 * before (ties in hash order and collisions cannot hide it). A set is verified when first met, by merging the two
 * sorted sets from that hash on (nothing below h is shared): hashes first, an upper bound that rules out almost every
 * pair, then, only if the bound reaches the overlap needed, the characters. Both stop once the overlap needed is
 * reached or out of reach, and that overlap is the least `shared` with shared / (|c| + |s| − shared) ≥ threshold,
 * the quotient jaccard compares, so ties at the threshold go the same way.
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
  /** The indexed sets, by number, with the hash of each one's last prefix shingle and its tail (prefixTail()). */
  private readonly setOf: ShingleSet[] = [];
  private lastPrefixHash = new Int32Array(16);
  private tail = new Int32Array(16);
  /**
   * Per indexed set, while a candidate (numbered 1, 2, .. since reset) is probed: the candidate that last met it,
   * where they first met (hash group start in each), and the shingles they met on below both prefixes' last hash.
   */
  private metBy = new Int32Array(16);
  private firstInCandidate = new Int32Array(16);
  private firstInSet = new Int32Array(16);
  private metBelow = new Int32Array(16);
  private readonly met: number[] = [];
  private candidateSerial = 0;
  private sets = 0;
  private emptySets = 0;

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
    this.setOf.length = 0;
    this.candidateSerial = 0;
    this.sets = 0;
    this.emptySets = 0;
  }

  /** Index a set. */
  add(set: ShingleSet): void {
    const prefix = this.prefixLength(set);
    this.reserve(set, prefix);
    for (let i = 0; i < prefix; i++) {
      let slot = set.hashes[i] & this.mask;
      while (this.table[2 * slot + 1] !== 0) slot = (slot + 1) & this.mask;
      this.link(set, i, slot);
    }
    this.commit(set, prefix);
  }

  /**
   * Whether some indexed set has Jaccard ≥ threshold with `set`; when none has, `set` is indexed. One pass over the
   * prefix: a shingle's probe ends on the empty slot where it is linked, and the sets it meets are noted. Then each
   * set met is bounded (positional filtering, as in ppjoin: Xiao et al., "Efficient similarity joins for near
   * duplicate detection", WWW 2008): the shingles shared below both prefixes' last hash were all met, and above it at
   * most the tail of the set whose prefix ends lower can be shared. Only sets whose bound reaches the overlap needed
   * are verified. On a match the set's postings are unlinked again.
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
    const prefix = this.prefixLength(set);
    this.reserve(set, prefix);
    const serial = ++this.candidateSerial;
    const { metBy, firstInCandidate, firstInSet, metBelow, lastPrefixHash, met, table, postings, mask } = this;
    const { hashes } = set;
    const last = prefix > 0 ? hashes[prefix - 1] : 0;
    const first = this.postingCount;
    let groupStart = 0;
    for (let i = 0; i < prefix; i++) {
      const hash = hashes[i];
      if (hash !== hashes[groupStart]) groupStart = i;
      let slot = hash & mask;
      for (let posting = table[2 * slot + 1]; posting !== 0; slot = (slot + 1) & mask, posting = table[2 * slot + 1]) {
        if (table[2 * slot] !== hash) continue;
        const p = (posting - 1) * STRIDE;
        const other = postings[p + SET];
        if (other < 0 || other === this.sets) continue;
        if (metBy[other] !== serial) {
          // The first hash this set shares with `other` in hash order (a shared shingle, or a collision): every shared
          // shingle has this hash or a larger one.
          metBy[other] = serial;
          firstInCandidate[other] = groupStart;
          firstInSet[other] = postings[p + POSITION];
          metBelow[other] = 0;
          met.push(other);
        }
        if (hash < last && hash < lastPrefixHash[other]) metBelow[other]++;
      }
      this.link(set, i, slot);
    }
    this.work.lookups += prefix;
    const found = met.length > 0 && this.verifyMet(set, prefix);
    met.length = 0;
    if (!found) {
      this.commit(set, prefix);
      return false;
    }
    // Unlinked, not removed: the slots stay taken (probes pass over them) until reset() clears them.
    for (let at = first; at < this.postingCount; at++) postings[at * STRIDE + SET] = -1;
    return true;
  }

  /** Whether a set the candidate met has Jaccard ≥ threshold with it: bounded first, then verified. */
  private verifyMet(set: ShingleSet, prefix: number): boolean {
    const last = set.hashes[prefix - 1];
    const tail = prefixTail(set, prefix);
    for (const other of this.met) {
      const indexed = this.setOf[other];
      const needed = leastSharedPair(set.size, indexed.size, this.threshold);
      // Shared shingles below min(last, other's last) were each met (both prefixes hold them); the others lie in the
      // tail (hash ≥ that minimum) of the set whose prefix ends lower, or of both when they end on one hash.
      const otherLast = this.lastPrefixHash[other];
      const above = last < otherLast ? tail : otherLast < last ? this.tail[other] : Math.min(tail, this.tail[other]);
      if (this.metBelow[other] + above < needed) continue;
      this.work.pairsVerified++;
      let otherStart = this.firstInSet[other];
      while (otherStart > 0 && indexed.hashes[otherStart - 1] === indexed.hashes[otherStart]) otherStart--;
      const start = this.firstInCandidate[other];
      if (hashOverlapReaches(set, start, indexed, otherStart, needed) && overlapReaches(set, start, indexed, otherStart, needed)) return true;
    }
    return false;
  }

  /** How many of the set's first shingles are indexed and probed: |x| − leastShared(|x|) + 1. */
  private prefixLength(set: ShingleSet): number {
    return Math.min(set.size, Math.max(0, set.size - leastShared(set.size, this.threshold) + 1));
  }

  /** Room for `count` more postings with the table at most half full, and for one more set. */
  private reserve(set: ShingleSet, count: number): void {
    this.setOf[this.sets] = set;
    const needed = this.postingCount + count;
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
    if (this.sets === this.metBy.length) {
      const size = this.sets * 2;
      this.lastPrefixHash = grownTo(this.lastPrefixHash, size);
      this.tail = grownTo(this.tail, size);
      this.metBy = grownTo(this.metBy, size);
      this.firstInCandidate = grownTo(this.firstInCandidate, size);
      this.firstInSet = grownTo(this.firstInSet, size);
      this.metBelow = grownTo(this.metBelow, size);
    }
  }

  /** Link shingle i of `set` (the set being indexed, number this.sets) into the empty `slot`. */
  private link(set: ShingleSet, i: number, slot: number): void {
    const at = this.postingCount++;
    const p = at * STRIDE;
    this.postings[p + SET] = this.sets;
    this.postings[p + POSITION] = i;
    this.postings[p + SLOT] = slot;
    this.table[2 * slot] = set.hashes[i];
    this.table[2 * slot + 1] = at + 1;
  }

  private commit(set: ShingleSet, prefix: number): void {
    this.metBy[this.sets] = 0;
    this.lastPrefixHash[this.sets] = prefix > 0 ? set.hashes[prefix - 1] : 0;
    this.tail[this.sets] = prefixTail(set, prefix);
    this.setOf[this.sets++] = set;
    if (set.size === 0) this.emptySets++;
  }
}

/** How many of the set's shingles have a hash ≥ that of its last prefix shingle (the tail, prefix included). */
function prefixTail(set: ShingleSet, prefix: number): number {
  if (prefix === 0) return set.size;
  let from = prefix - 1;
  while (from > 0 && set.hashes[from - 1] === set.hashes[from]) from--;
  return set.size - from;
}

/**
 * An upper bound for overlapReaches that reads hashes only (a group of equal hashes in both sets shares at most the
 * smaller group's count): false means the sets share fewer than `needed` shingles.
 */
function hashOverlapReaches(a: ShingleSet, aFrom: number, b: ShingleSet, bFrom: number, needed: number): boolean {
  const aHashes = a.hashes;
  const bHashes = b.hashes;
  const aSize = a.size;
  const bSize = b.size;
  let i = aFrom;
  let j = bFrom;
  let shared = 0;
  while (i < aSize && j < bSize) {
    if (shared + Math.min(aSize - i, bSize - j) < needed) return false;
    const hash = aHashes[i];
    const other = bHashes[j];
    if (hash < other) i++;
    else if (hash > other) j++;
    else {
      shared++;
      i++;
      j++;
      if (shared >= needed) return true;
    }
  }
  return shared >= needed;
}

/**
 * Whether sets a and b (hash order) share at least `needed` shingles, counting from positions aFrom and bFrom on (the
 * starts of hash groups); it stops once `needed` is reached or the shingles left cannot reach it.
 */
function overlapReaches(a: ShingleSet, aFrom: number, b: ShingleSet, bFrom: number, needed: number): boolean {
  const aHashes = a.hashes;
  const bHashes = b.hashes;
  const aSize = a.size;
  const bSize = b.size;
  let i = aFrom;
  let j = bFrom;
  let shared = 0;
  while (i < aSize && j < bSize) {
    if (shared + Math.min(aSize - i, bSize - j) < needed) return false;
    const hash = aHashes[i];
    const other = bHashes[j];
    if (hash < other) i++;
    else if (hash > other) j++;
    else {
      let aEnd = i + 1;
      while (aEnd < aSize && aHashes[aEnd] === hash) aEnd++;
      let bEnd = j + 1;
      while (bEnd < bSize && bHashes[bEnd] === hash) bEnd++;
      // Equal hashes: the same shingle only when the characters are (a set holds each shingle once).
      for (let x = i; x < aEnd; x++) {
        for (let y = j; y < bEnd; y++) {
          if (sameSpan(a.text, a.starts[x], a.ends[x], b.text, b.starts[y], b.ends[y])) {
            shared++;
            break;
          }
        }
      }
      if (shared >= needed) return true;
      i = aEnd;
      j = bEnd;
    }
  }
  return shared >= needed;
}

function grownTo(array: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(size);
  out.set(array.subarray(0, Math.min(array.length, size)));
  return out;
}
