/**
 * Bounded selection of the k best (doc, score) pairs with a binary min-heap: O(n log k), no full sort.
 * Order: higher score first; equal scores rank the lower doc ordinal first (reproducible across engines).
 */
import type { Candidate } from '../retriever.js';

export class TopK {
  private readonly docs: Uint32Array;
  private readonly scores: Float64Array;
  private count = 0;

  constructor(readonly k: number) {
    this.docs = new Uint32Array(Math.max(k, 0));
    this.scores = new Float64Array(Math.max(k, 0));
  }

  /** True when (docA, scoreA) ranks below (docB, scoreB). */
  private static worse(scoreA: number, docA: number, scoreB: number, docB: number): boolean {
    return scoreA < scoreB || (scoreA === scoreB && docA > docB);
  }

  /** How many pairs are kept (at most k). */
  get size(): number {
    return this.count;
  }

  /** The lowest kept score (the k-th best once full); -Infinity when empty. */
  minScore(): number {
    return this.count === 0 ? Number.NEGATIVE_INFINITY : this.scores[0];
  }

  offer(doc: number, score: number): void {
    const { docs, scores, k } = this;
    if (k === 0) return;
    if (this.count < k) {
      let i = this.count++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!TopK.worse(score, doc, scores[parent], docs[parent])) break;
        docs[i] = docs[parent];
        scores[i] = scores[parent];
        i = parent;
      }
      docs[i] = doc;
      scores[i] = score;
      return;
    }
    if (!TopK.worse(scores[0], docs[0], score, doc)) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= k) break;
      const right = left + 1;
      let child = left;
      if (right < k && TopK.worse(scores[right], docs[right], scores[left], docs[left])) child = right;
      if (!TopK.worse(scores[child], docs[child], score, doc)) break;
      docs[i] = docs[child];
      scores[i] = scores[child];
      i = child;
    }
    docs[i] = doc;
    scores[i] = score;
  }

  /** The kept pairs, best first. */
  sorted(): Candidate[] {
    const out: Candidate[] = [];
    for (let i = 0; i < this.count; i++) out.push({ docOrdinal: this.docs[i], score: this.scores[i] });
    return out.sort((a, b) => b.score - a.score || a.docOrdinal - b.docOrdinal);
  }
}
