/**
 * The trusted reference for BM25: an exhaustive scorer written straight from the formulas, sharing nothing with
 * the index but the analyzer. It scores every document for every query term, with float64 throughout.
 */
import type { Analyzer } from '../../src/text/analyzer.js';

export interface NaiveOptions {
  k1: number;
  b: number;
  /** 'robertson': idf·tf·(k1+1)/(tf+k1·(1−b+b·dl/avgdl)); 'lucene': idf·tf/(tf+k1·(1−b+b·q(dl)/avgdl)). */
  variant: 'robertson' | 'lucene';
  /** Lucene's one-byte length quantization, for the 'lucene' variant. */
  quantize?: (length: number) => number;
}

export class NaiveBm25 {
  private readonly docs: Map<string, number>[] = [];
  private readonly lengths: number[] = [];
  private readonly df = new Map<string, number>();

  constructor(readonly analyzer: Analyzer, texts: string[], readonly options: NaiveOptions) {
    for (const text of texts) {
      const terms = analyzer.terms(text);
      const tf = new Map<string, number>();
      for (const term of terms) tf.set(term, (tf.get(term) ?? 0) + 1);
      for (const term of tf.keys()) this.df.set(term, (this.df.get(term) ?? 0) + 1);
      this.docs.push(tf);
      this.lengths.push(terms.length);
    }
  }

  score(query: string, doc: number): number {
    const n = this.docs.length;
    const avgdl = this.lengths.reduce((a, b) => a + b, 0) / n;
    const { k1, b, variant } = this.options;
    const dl = variant === 'lucene' ? this.options.quantize!(this.lengths[doc]) : this.lengths[doc];
    let score = 0;
    for (const term of this.analyzer.terms(query)) {
      const tf = this.docs[doc].get(term);
      if (!tf) continue;
      const df = this.df.get(term)!;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      const norm = tf + k1 * (1 - b + (b * dl) / avgdl);
      score += variant === 'lucene' ? (idf * tf) / norm : (idf * tf * (k1 + 1)) / norm;
    }
    return score;
  }

  /** All documents with a positive score, best first (ties: lower ordinal first). */
  rank(query: string): Array<{ docOrdinal: number; score: number }> {
    const out: Array<{ docOrdinal: number; score: number }> = [];
    for (let d = 0; d < this.docs.length; d++) {
      const score = this.score(query, d);
      if (score > 0) out.push({ docOrdinal: d, score });
    }
    return out.sort((x, y) => y.score - x.score || x.docOrdinal - y.docOrdinal);
  }
}
