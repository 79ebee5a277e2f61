/**
 * BM25 scoring variants as small pure functions, each citing its source, kept in one lookup table so the
 * --bm25-variant choices and their error message are generated from it and never go stale.
 * Speed idea of the index (bm25s, Lù 2024): every (term, doc) impact is computed once at index time, so a
 * query only sums precomputed impacts. Hence k1, b and the variant are index settings, part of its fingerprint.
 */
import { UsageError } from '../errors.js';

export interface CollectionStats {
  /** Number of documents in the collection. */
  docCount: number;
  /** Mean document length in terms (after analysis). */
  averageDocLength: number;
}

export interface Bm25Params {
  k1: number;
  b: number;
}

export interface ScoringVariant {
  description: string;
  /** Inverse document frequency of a term with document frequency `df`. */
  idf(df: number, stats: CollectionStats): number;
  /** The document length the formula sees (a variant may quantize it, as Lucene's norms do). */
  effectiveLength(docLength: number): number;
  /** The score contribution of one term occurring `tf` times in a document of effective length `dl`. */
  termScore(idf: number, tf: number, dl: number, stats: CollectionStats, params: Bm25Params): number;
}

/** Lucene/Robertson idf: ln(1 + (N - df + 0.5) / (df + 0.5)); never negative. */
export function luceneIdf(df: number, stats: CollectionStats): number {
  return Math.log(1 + (stats.docCount - df + 0.5) / (df + 0.5));
}

// Lucene's SmallFloat.intToByte4/byte4ToInt (org.apache.lucene.util.SmallFloat, Lucene 7+): document lengths
// are stored in one byte, exact up to 24 and with 4 significant bits above.
const NUM_FREE_VALUES = 24;
function longToInt4(i: number): number {
  const numBits = i === 0 ? 0 : 32 - Math.clz32(i);
  if (numBits < 4) return i;
  const shift = numBits - 4;
  return ((i >>> shift) & 0x07) | ((shift + 1) << 3);
}
function int4ToLong(i: number): number {
  const bits = i & 0x07;
  const shift = (i >>> 3) - 1;
  return shift === -1 ? bits : (bits | 0x08) * 2 ** shift;
}
/** A document length as Lucene's one-byte norm reconstructs it. */
export function luceneQuantizedLength(length: number): number {
  const encoded = length < NUM_FREE_VALUES ? length : NUM_FREE_VALUES + longToInt4(length - NUM_FREE_VALUES);
  return encoded < NUM_FREE_VALUES ? encoded : NUM_FREE_VALUES + int4ToLong(encoded - NUM_FREE_VALUES);
}

export const SCORING_VARIANTS: Readonly<Record<string, ScoringVariant>> = {
  lucene: {
    description:
      "Lucene 8+ BM25Similarity as Anserini/pyserini run it: idf·tf/(tf + k1·(1 − b + b·dl/avgdl)), dl quantized to Lucene's one-byte norm (SmallFloat.intToByte4)",
    idf: luceneIdf,
    effectiveLength: luceneQuantizedLength,
    termScore: (idf, tf, dl, stats, { k1, b }) => (idf * tf) / (tf + k1 * (1 - b + (b * dl) / stats.averageDocLength)),
  },
  robertson: {
    description: 'Robertson et al. (1994) Okapi BM25 with exact lengths: idf·tf·(k1 + 1)/(tf + k1·(1 − b + b·dl/avgdl)), Lucene idf',
    idf: luceneIdf,
    effectiveLength: (length) => length,
    termScore: (idf, tf, dl, stats, { k1, b }) => (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * dl) / stats.averageDocLength)),
  },
};

export const VARIANT_NAMES = Object.keys(SCORING_VARIANTS);

export function scoringVariant(name: string): ScoringVariant {
  const variant = SCORING_VARIANTS[name];
  if (!variant) throw new UsageError(`unknown --bm25-variant "${name}"; choose one of: ${VARIANT_NAMES.join(', ')}`);
  return variant;
}
