/**
 * `--format flag`: FlagEmbedding's fine-tuning layout, one `{"query","pos":[...],"neg":[...]}` line per record
 * (BGE/BGE-M3 `--train_data`; with scores, `pos_scores`/`neg_scores` for its knowledge distillation).
 * What must hold: `pos` and `neg` are never empty — FlagEmbedding's dataset draws `random.choice(pos)` and divides
 * by `len(neg)` — so a record without a positive or without a negative is skipped with its reason; the score lists
 * are aligned with `pos` and `neg`. The input record's `prompt` and `type` are kept when present (FlagEmbedding's
 * `AbsEmbedderSameDatasetTrainDataset._create_batch_data` formats the query with `prompt` and sizes the group by `type`),
 * and must be strings there. FLAG_FIELDS names every field; `rare-mine stats` reads the same names.
 */
import { InputError } from '../errors.js';
import { describe } from '../io/jsonl.js';
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
  /** Kept from the input record when present: the instruction FlagEmbedding puts before this line's query. */
  prompt: 'prompt',
  /** Kept from the input record when present: FlagEmbedding's task type (only_1neg, symmetric_sts, ...). */
  type: 'type',
  /** --with-ids: aligned with `pos`; null for a text positive that is not a corpus document. */
  positiveIds: 'pos_ids',
  /** --with-ids: aligned with `neg`. */
  negativeIds: 'neg_ids',
  /** --with-ranks: the 0-based raw rank of each negative. */
  negativeRanks: 'neg_ranks',
} as const;

/** Which lines carried `prompt` and `type`: datasets gives a column every line, so mixing them misleads the trainer. */
interface FlagState {
  lines: number;
  withPrompt: number;
  withType: number;
  /** The first two distinct `type` values (two are enough to know the file mixes them). */
  types: string[];
}

export const flagFormat: OutputFormat<FlagState> = {
  description: 'FlagEmbedding fine-tuning: {"query","pos":[...],"neg":[...]} per record',
  consumer: 'FlagEmbedding (BGE, BGE-M3) fine-tuning --train_data',
  newState: () => ({ lines: 0, withPrompt: 0, withType: 0, types: [] }),
  lines(mined: MinedRecord, context: FormatContext, state: FlagState): FormattedRecord {
    const positives = examplePositives(mined, context);
    if (positives.length === 0) return { lines: [], skipped: 'no-positive' };
    if (mined.negatives.length === 0) return { lines: [], skipped: 'no-negative' };
    const { corpus } = context;
    const f = FLAG_FIELDS;
    const kept = keptFields(mined, context);
    const line: Record<string, unknown> = {
      [f.query]: mined.query,
      [f.positives]: positives.map((p) => p.text),
      [f.negatives]: mined.negatives.map((n) => corpus.text(n.docOrdinal)),
    };
    if (context.withScores) {
      line[f.positiveScores] = positives.map((p) => requiredScore(p, mined));
      line[f.negativeScores] = mined.negatives.map((n) => n.score);
    }
    Object.assign(line, kept);
    state.lines++;
    if (kept.prompt !== undefined) state.withPrompt++;
    if (kept.type !== undefined) {
      state.withType++;
      if (state.types.length < 2 && !state.types.includes(kept.type)) state.types.push(kept.type);
    }
    if (context.withIds) {
      line[f.positiveIds] = positives.map((p) => p.id ?? null);
      line[f.negativeIds] = mined.negatives.map((n) => corpus.id(n.docOrdinal));
    }
    if (context.withRanks) line[f.negativeRanks] = mined.negatives.map((n) => n.rank);
    return { lines: [JSON.stringify(line)] };
  },
  warnings(state: FlagState): string[] {
    const messages: string[] = [];
    if (state.withPrompt > 0 && state.withPrompt < state.lines) {
      messages.push(`${state.withPrompt} of ${state.lines} flag lines have a "prompt": datasets.load_dataset gives the others prompt = null, which FlagEmbedding formats into their query as "None"; give every record a prompt, or none`);
    }
    if ((state.withType > 0 && state.withType < state.lines) || state.types.length > 1) {
      const seen = state.types.map((t) => JSON.stringify(t)).join(' and ');
      messages.push(`the flag lines do not share one "type" (${state.withType} of ${state.lines} have one; seen: ${seen}): FlagEmbedding asserts one type per batch of a file; split the output by type`);
    }
    return messages;
  },
};

/** The input record's `prompt` and `type`, when present (null counts as absent); any other type is an InputError. */
function keptFields(mined: MinedRecord, context: FormatContext): { prompt?: string; type?: string } {
  const kept: { prompt?: string; type?: string } = {};
  for (const key of [FLAG_FIELDS.prompt, FLAG_FIELDS.type] as const) {
    const value = mined.record.value[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') {
      throw new InputError(context.inputName, mined.record.lineNumber, `field "${key}" must be a string (FlagEmbedding reads it as text), found ${describe(value)}`);
    }
    kept[key] = value;
  }
  return kept;
}
