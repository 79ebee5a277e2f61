/**
 * The positives of a mined record as the example formats (flag, triplet, ntuple, colbert) use them: texts first,
 * then positives given by id, each with its corpus id and retriever score when known. What must hold: a passage
 * given twice (as text and by id, or twice as text) appears once — equality is rare-mine's normalised-text equality
 * (src/text/normalize.ts), the same rule the miner uses to exclude positives — so no example is written twice.
 */
import type { MinedRecord } from '../mine/miner.js';
import { normalizedTextHash } from '../text/normalize.js';
import type { FormatContext } from './output-format.js';

/** One positive passage of a record. */
export interface ExamplePositive {
  text: string;
  /** Corpus id; undefined for a text positive that is not a corpus document. */
  id: string | undefined;
  /** Corpus ordinal; undefined exactly when `id` is. */
  docOrdinal: number | undefined;
  /** The retriever's score; undefined when the mining stage did not score positives. */
  score: number | undefined;
}

/**
 * The record's distinct positives, in record order (texts, then ids). `mined.positiveScores` is either empty or has
 * one score per positive (texts first, then ids); any other length is a bug in the mining stage and throws.
 */
export function examplePositives(mined: MinedRecord, context: FormatContext): ExamplePositive[] {
  const total = mined.positives.length + mined.positiveOrdinals.length;
  const scores = mined.positiveScores;
  if (scores.length !== 0 && scores.length !== total) {
    throw new Error(`MinedRecord.positiveScores has ${scores.length} scores for ${total} positives (line ${mined.record.lineNumber})`);
  }
  const textOrdinals = context.positiveTextOrdinals(mined);
  const seen = new Set<bigint>();
  const result: ExamplePositive[] = [];
  mined.positives.forEach((text, i) => {
    const hash = normalizedTextHash(text);
    if (seen.has(hash)) return;
    seen.add(hash);
    const docOrdinal = textOrdinals[i];
    result.push({ text, id: docOrdinal === undefined ? undefined : context.corpus.id(docOrdinal), docOrdinal, score: scores.length === 0 ? undefined : scores[i] });
  });
  mined.positiveOrdinals.forEach((docOrdinal, j) => {
    const hash = context.corpus.normalizedTextHash(docOrdinal);
    if (seen.has(hash)) return;
    seen.add(hash);
    const score = scores.length === 0 ? undefined : scores[mined.positives.length + j];
    result.push({ text: context.corpus.text(docOrdinal), id: context.corpus.id(docOrdinal), docOrdinal, score });
  });
  return result;
}

/**
 * The score of a positive under --with-scores. The mining stage must score positives whenever --with-scores is on
 * (Retriever.scoreTexts / scoreDocuments); a missing score is a bug there, not a user error, so this throws.
 */
export function requiredScore(positive: ExamplePositive, mined: MinedRecord): number {
  if (positive.score === undefined) {
    throw new Error(`--with-scores needs the positives' scores, but MinedRecord.positiveScores is empty (line ${mined.record.lineNumber})`);
  }
  return positive.score;
}
