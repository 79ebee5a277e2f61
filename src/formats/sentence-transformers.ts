/**
 * `--format triplet` and `--format ntuple`: the column layouts of sentence-transformers' `mine_hard_negatives`
 * (output_format "triplet" and "n-tuple"), one JSON object per training example, loadable with
 * `datasets.load_dataset("json", ...)`. What must hold: sentence-transformers feeds columns to the loss by
 * position and every line must have the same columns, so keys are written in column order (anchor, positive,
 * negative...) and an ntuple line is written only for a record with exactly --num-neg negatives (as
 * sentence-transformers drops incomplete rows). Score columns use sentence-transformers' names (`positive_score`,
 * `negative_score`; ntuple: `score` = [positive, negative_1..n], the label column its losses read).
 */
import type { MinedRecord } from '../mine/miner.js';
import { examplePositives, requiredScore } from './example-positives.js';
import type { FormatContext, FormattedRecord, OutputFormat } from './output-format.js';

/** One line per (positive, negative) pair: positive-major, negatives in rank order. */
export const tripletFormat: OutputFormat = {
  description: 'sentence-transformers: {"anchor","positive","negative"} per (positive, negative) pair',
  consumer: 'sentence-transformers (MultipleNegativesRankingLoss, TripletLoss, ...)',
  lines(mined: MinedRecord, context: FormatContext): FormattedRecord {
    const positives = examplePositives(mined, context);
    if (positives.length === 0) return { lines: [], skipped: 'no-positive' };
    if (mined.negatives.length === 0) return { lines: [], skipped: 'no-negative' };
    const { corpus } = context;
    const lines: string[] = [];
    for (const positive of positives) {
      for (const negative of mined.negatives) {
        const line: Record<string, unknown> = { anchor: mined.query, positive: positive.text, negative: corpus.text(negative.docOrdinal) };
        if (context.withScores) {
          line.positive_score = requiredScore(positive, mined);
          line.negative_score = negative.score;
        }
        if (context.withIds) {
          line.positive_id = positive.id ?? null;
          line.negative_id = corpus.id(negative.docOrdinal);
        }
        if (context.withRanks) line.negative_rank = negative.rank;
        lines.push(JSON.stringify(line));
      }
    }
    return { lines };
  },
};

/** One line per positive: the anchor, the positive, then `negative_1`..`negative_n` in rank order. */
export const ntupleFormat: OutputFormat = {
  description: 'sentence-transformers: {"anchor","positive","negative_1",...,"negative_n"} per positive',
  consumer: 'sentence-transformers (CachedMultipleNegativesRankingLoss, MarginMSE with --with-scores, ...)',
  lines(mined: MinedRecord, context: FormatContext): FormattedRecord {
    const positives = examplePositives(mined, context);
    if (positives.length === 0) return { lines: [], skipped: 'no-positive' };
    if (mined.negatives.length === 0) return { lines: [], skipped: 'no-negative' };
    if (mined.negatives.length < context.numNeg) return { lines: [], skipped: 'fewer-negatives' };
    const { corpus } = context;
    const negativeTexts = mined.negatives.map((n) => corpus.text(n.docOrdinal));
    const lines = positives.map((positive) => {
      const line: Record<string, unknown> = { anchor: mined.query, positive: positive.text };
      negativeTexts.forEach((text, i) => (line[`negative_${i + 1}`] = text));
      if (context.withScores) line.score = [requiredScore(positive, mined), ...mined.negatives.map((n) => n.score)];
      if (context.withIds) {
        line.positive_id = positive.id ?? null;
        line.negative_ids = mined.negatives.map((n) => corpus.id(n.docOrdinal));
      }
      if (context.withRanks) line.negative_ranks = mined.negatives.map((n) => n.rank);
      return JSON.stringify(line);
    });
    return { lines };
  },
};
