/**
 * Rules over the parsed options of a command, checked before it runs (src/app/main.ts's preAction hook): each
 * names a combination that cannot do what its options' help says. What must hold: a rule reads only the options it
 * names and applies only where they exist; the first broken rule is a UsageError (exit 2).
 */
import { UsageError } from '../errors.js';

/** The option values the rules read (every field optional: a rule applies only where its options exist). */
export interface CombinationView {
  minRank?: number;
  maxRank?: number;
  minScore?: number;
  maxScore?: number;
  onError?: string;
  rejects?: string;
  format?: string;
  withIds?: boolean;
  withRanks?: boolean;
  output?: string;
  resume?: boolean;
  shard?: string;
  colbertDir?: string;
  questionKey?: string;
  textKey?: string;
}

/** The formats whose label column sentence-transformers' CrossEncoderDataCollator picks out of the row. */
const LABELED_FORMATS: readonly string[] = ['labeled-pair', 'labeled-list'];
/** CrossEncoderDataCollator.valid_label_columns: a text column with one of these names would be taken for the label. */
const LABEL_COLUMNS: readonly string[] = ['label', 'labels', 'score', 'scores'];

/** Each rule returns the problem, or undefined. */
const COMBINATION_RULES: ReadonlyArray<(o: CombinationView) => string | undefined> = [
  (o) =>
    o.minRank !== undefined && o.maxRank !== undefined && o.maxRank <= o.minRank
      ? `--max-rank ${o.maxRank} must be above --min-rank ${o.minRank} (negatives come from ranks min-rank ≤ r < max-rank, which would be empty)`
      : undefined,
  (o) =>
    o.minScore !== undefined && o.maxScore !== undefined && o.minScore > o.maxScore
      ? `--min-score ${o.minScore} must be at most --max-score ${o.maxScore} (no score could pass both)`
      : undefined,
  (o) =>
    o.rejects !== undefined && o.onError !== 'skip'
      ? `--rejects ${o.rejects} needs --on-error skip (with --on-error ${o.onError ?? 'fail'} the first bad line stops the run and nothing is written there)`
      : undefined,
  (o) =>
    o.format === 'colbert' && (o.withIds === true || o.withRanks === true)
      ? o.withIds
        ? '--with-ids does not apply to --format colbert (its triples are corpus ids already); drop it, or use --format record, flag, triplet or ntuple'
        : '--with-ranks does not apply to --format colbert (its triples have no place for ranks); use --format record, flag, triplet or ntuple'
      : undefined,
  (o) =>
    o.format !== undefined && LABELED_FORMATS.includes(o.format) && (o.withIds === true || o.withRanks === true)
      ? `${o.withIds ? '--with-ids' : '--with-ranks'} does not apply to --format ${o.format} (sentence-transformers' CrossEncoder feeds every column but the label to the model as text); use --format record, flag, triplet or ntuple`
      : undefined,
  (o) => {
    if (o.format === undefined || !LABELED_FORMATS.includes(o.format) || o.questionKey === undefined || o.textKey === undefined) return undefined;
    if (o.questionKey === o.textKey) return `--format ${o.format} names its two text columns after --question-key and --text-key, which are both "${o.textKey}"`;
    const clash = [o.questionKey, o.textKey].find((key) => LABEL_COLUMNS.includes(key));
    return clash === undefined
      ? undefined
      : `--format ${o.format} names a text column "${clash}" (after --question-key/--text-key), which sentence-transformers would take for the label column (${LABEL_COLUMNS.join(', ')}); rename that field in the input`;
  },
  (o) => (o.colbertDir !== undefined && o.format !== undefined && o.format !== 'colbert' ? `--colbert-dir applies to --format colbert only (here --format ${o.format})` : undefined),
  (o) =>
    o.format === 'colbert' && (o.output === undefined || o.output === '-') && o.colbertDir === undefined
      ? '--format colbert to stdout needs --colbert-dir DIR: the triples name queries and passages by integer ids, which its queries and collection files there resolve'
      : undefined,
  (o) =>
    o.format === 'colbert' && (o.resume === true || o.shard !== undefined)
      ? `${o.resume ? '--resume' : '--shard'} does not apply to --format colbert: it numbers queries and passages across the whole run (a shard's ids would collide with another's, and its TSV files are not journaled): run it whole`
      : undefined,
];

/** Throw a UsageError for the first rule the options break. */
export function checkCombinations(options: CombinationView): void {
  for (const rule of COMBINATION_RULES) {
    const problem = rule(options);
    if (problem) throw new UsageError(problem);
  }
}
