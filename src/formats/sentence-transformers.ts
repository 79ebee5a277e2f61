/**
 * `--format triplet`, `ntuple`, `labeled-pair` and `labeled-list`: the column layouts of sentence-transformers'
 * `mine_hard_negatives` (sentence_transformers/util/hard_negatives.py, output_format "triplet", "n-tuple",
 * "labeled-pair", "labeled-list"), one JSON object per training example, loadable with
 * `datasets.load_dataset("json", ...)`. What must hold: sentence-transformers feeds columns to the loss by
 * position and every line must have the same columns, so keys are written in column order (anchor, positive,
 * negative...) and an ntuple line is written only for a record with exactly --num-neg negatives (as
 * sentence-transformers drops incomplete rows). Score columns use sentence-transformers' names (`positive_score`,
 * `negative_score`; ntuple: `score` = [positive, negative_1..n], the label column its losses read). The labeled
 * layouts feed CrossEncoder training, whose `CrossEncoderDataCollator` takes the first of "label", "labels", "score",
 * "scores" as the label and every other column as model input: so they have exactly one label column (with
 * --with-scores the scores replace the 0/1 labels) and no extras, and name the text columns after --question-key and
 * --text-key as `mine_hard_negatives` names them after the input dataset's anchor and positive columns.
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

/**
 * One line per (query, passage): each distinct positive with label 1, then each negative with label 0, as
 * `mine_hard_negatives(output_format="labeled-pair")` writes them (a record without negatives still gives its
 * positives' lines, as there); with --with-scores, `score` (the retriever's) in place of `label`.
 */
export const labeledPairFormat: OutputFormat = {
  description: 'sentence-transformers CrossEncoder: {"<question-key>","<text-key>","label"} per (query, passage), 1 = positive, 0 = negative',
  consumer: 'sentence-transformers CrossEncoder (BinaryCrossEntropyLoss; MSELoss with --with-scores)',
  lines(mined: MinedRecord, context: FormatContext): FormattedRecord {
    const positives = examplePositives(mined, context);
    if (positives.length === 0) return { lines: [], skipped: 'no-positive' };
    const { corpus, questionKey, textKey } = context;
    const row = (text: string, label: number, score: number) =>
      JSON.stringify({ [questionKey]: mined.query, [textKey]: text, ...(context.withScores ? { score } : { label }) });
    const lines = positives.map((p) => row(p.text, 1, context.withScores ? requiredScore(p, mined) : 0));
    for (const negative of mined.negatives) lines.push(row(corpus.text(negative.docOrdinal), 0, negative.score));
    return { lines };
  },
};

/**
 * One line per record: the query, its passages (the distinct positives, then the negatives in rank order) and their
 * labels (1 per positive, 0 per negative), as `mine_hard_negatives(output_format="labeled-list")` writes a row;
 * with --with-scores, `scores` in place of `labels`. A record without negatives gets no line, as there.
 */
export const labeledListFormat: OutputFormat = {
  description: 'sentence-transformers CrossEncoder: {"<question-key>","<text-key>":[passages],"labels":[1,...,0,...]} per record',
  consumer: 'sentence-transformers CrossEncoder (LambdaLoss, ListNetLoss, ...)',
  lines(mined: MinedRecord, context: FormatContext): FormattedRecord {
    const positives = examplePositives(mined, context);
    if (positives.length === 0) return { lines: [], skipped: 'no-positive' };
    if (mined.negatives.length === 0) return { lines: [], skipped: 'no-negative' };
    const { corpus, questionKey, textKey } = context;
    const passages = [...positives.map((p) => p.text), ...mined.negatives.map((n) => corpus.text(n.docOrdinal))];
    const labelColumn = context.withScores
      ? { scores: [...positives.map((p) => requiredScore(p, mined)), ...mined.negatives.map((n) => n.score)] }
      : { labels: [...positives.map(() => 1), ...mined.negatives.map(() => 0)] };
    return { lines: [JSON.stringify({ [questionKey]: mined.query, [textKey]: passages, ...labelColumn })] };
  },
};
