/**
 * Near-duplicate detection for --dedup-threshold J: two passages are near-duplicates when the Jaccard similarity
 * of their sets of word 3-shingles (after normalisation; texts shorter than 3 words use their words) is ≥ J.
 * Exact Jaccard, not a MinHash estimate: each candidate is compared only with the record's positives and the
 * negatives already kept (a few dozen sets), so exactness costs little.
 */
import { normalizeText } from '../text/normalize.js';

export function shingles(text: string, size = 3): Set<string> {
  const words = normalizeText(text).split(' ').filter((w) => w.length > 0);
  const out = new Set<string>();
  if (words.length < size) {
    for (const word of words) out.add(word);
    return out;
  }
  for (let i = 0; i + size <= words.length; i++) out.add(words.slice(i, i + size).join(' '));
  return out;
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const item of small) if (large.has(item)) shared++;
  return shared / (a.size + b.size - shared);
}
