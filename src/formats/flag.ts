/**
 * `--format flag`: FlagEmbedding's fine-tuning layout, one `{"query","pos":[...],"neg":[...]}` line per record
 * (BGE/BGE-M3 `--train_data`; with scores, `pos_scores`/`neg_scores` for its knowledge distillation).
 * What must hold: `pos` and `neg` are never empty — FlagEmbedding's dataset draws `random.choice(pos)` and divides
 * by `len(neg)` — so a record without a positive or without a negative is skipped with its reason; the score lists
 * are aligned with `pos` and `neg`. FLAG_FIELDS names every field; `rare-mine stats` reads the same names.
 */
import type { MinedRecord } from '../mine/miner.js';
import { examplePositives, requiredScore } from './example-positives.js';
import type { FormatContext, FormattedRecord, OutputFormat } from './output-format.js';

/** The field names of a flag line. */
export const FLAG_FIELDS = {
  query: 'query',
  positives: 'pos',
  negatives: 'neg',
  /** --with-scores: aligned with `pos`. */
  positiveScores: 'pos_scores',
  /** --with-scores: aligned with `neg`. */
  negativeScores: 'neg_scores',
  /** --with-ids: aligned with `pos`; null for a text positive that is not a corpus document. */
  positiveIds: 'pos_ids',
  /** --with-ids: aligned with `neg`. */
  negativeIds: 'neg_ids',
  /** --with-ranks: the 0-based raw rank of each negative. */
  negativeRanks: 'neg_ranks',
} as const;

export const flagFormat: OutputFormat = {
  description: 'FlagEmbedding fine-tuning: {"query","pos":[...],"neg":[...]} per record',
  consumer: 'FlagEmbedding (BGE, BGE-M3) fine-tuning --train_data',
  lines(mined: MinedRecord, context: FormatContext): FormattedRecord {
    const positives = examplePositives(mined, context);
    if (positives.length === 0) return { lines: [], skipped: 'no-positive' };
    if (mined.negatives.length === 0) return { lines: [], skipped: 'no-negative' };
    const { corpus } = context;
    const f = FLAG_FIELDS;
    const line: Record<string, unknown> = {
      [f.query]: mined.query,
      [f.positives]: positives.map((p) => p.text),
      [f.negatives]: mined.negatives.map((n) => corpus.text(n.docOrdinal)),
    };
    if (context.withScores) {
      line[f.positiveScores] = positives.map((p) => requiredScore(p, mined));
      line[f.negativeScores] = mined.negatives.map((n) => n.score);
    }
    if (context.withIds) {
      line[f.positiveIds] = positives.map((p) => p.id ?? null);
      line[f.negativeIds] = mined.negatives.map((n) => corpus.id(n.docOrdinal));
    }
    if (context.withRanks) line[f.negativeRanks] = mined.negatives.map((n) => n.rank);
    return { lines: [JSON.stringify(line)] };
  },
};
