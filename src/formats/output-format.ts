/**
 * The contract every `--format` implements: a mined record in, zero or more output lines out, each line one JSON
 * value (no newline inside) that the format's consumer reads as one training example (or, for `record`, one record).
 * What must hold: a format either writes a complete example or writes nothing for the record and says why (a
 * SkipReason); it never writes half an example, so the consumer never meets an empty `pos`, `neg` or `negative_3`.
 */
import type { MinedRecord } from '../mine/miner.js';
import type { CorpusView } from '../mine/retriever.js';
import type { IfKeyExists } from './record.js';

/** What a format needs besides the mined record; built once per run by the mining command. */
export interface FormatContext {
  /** The corpus the negatives' (and id-given positives') ordinals point into: texts and ids. */
  readonly corpus: CorpusView;
  /** The input's display name, for InputErrors naming file:line (colbert: a query id that is neither string nor number). */
  readonly inputName: string;
  /**
   * --output-key (record format only): the field the negatives are written to. The other record fields derive
   * from it: `<key>_scores`, `<key>_ids`, `<key>_ranks`, `<key>_positive_scores`.
   */
  readonly outputKey: string;
  /** --if-key-exists (record format only): a record that already has a key the format writes is refused, or its value replaced. */
  readonly ifKeyExists: IfKeyExists;
  /** --with-scores: add the retriever's score of every negative and positive (field names per format, docs/FORMATS.md). */
  readonly withScores: boolean;
  /** --with-ids: add corpus ids (record, flag, triplet, ntuple; colbert always names passages by id). */
  readonly withIds: boolean;
  /** --with-ranks: add each negative's 0-based raw rank (record, flag, triplet, ntuple); `rare-mine stats` reads it. */
  readonly withRanks: boolean;
  /** --num-neg: ntuple writes a record only when it has exactly this many negatives (same columns on every line). */
  readonly numNeg: number;
  /**
   * --query-id-key (colbert): the record field holding the query id, a string or a number. When the key is the
   * default "_id" and the record has none, "id" is used; when neither is there, `line:N` (N = input line number).
   */
  readonly queryIdKey: string;
  /**
   * The corpus id of each positive given by text, aligned with `mined.positives` (entry i for `mined.positives[i]`),
   * or undefined when that text is not a corpus document. Resolved by the mining stage, which knows the corpus'
   * text hashes; positives given by id (`mined.positiveOrdinals`) need no entry. Only colbert and --with-ids read it.
   */
  positiveTextIds(mined: MinedRecord): ReadonlyArray<string | undefined>;
}

/**
 * Why a format wrote no line for a record. The messages of the end-of-run summary are generated from this table,
 * so a new reason cannot be reported without being explained.
 */
export const SKIP_REASONS = {
  'no-positive': 'had no positive to pair the negatives with',
  'no-negative': 'got no negative',
  'fewer-negatives': 'got fewer negatives than --num-neg (ntuple needs the same columns on every line)',
  'no-positive-id': 'had no positive with a corpus id (colbert triples name passages by corpus id)',
} as const;

export type SkipReason = keyof typeof SKIP_REASONS;

/** A format's output for one record. */
export interface FormattedRecord {
  /** JSON lines, without their terminating newline; empty when `skipped` says why. */
  lines: string[];
  /** Set exactly when `lines` is empty. */
  skipped?: SkipReason;
  /** Positives left out of this record's examples because they have no corpus id (colbert only). */
  positivesWithoutId?: number;
}

/** One `--format`: a description for --help, who reads it, and the function that writes a record's lines. */
export interface OutputFormat {
  /** One line for --help (the choices and their help text are generated from the FORMATS table). */
  readonly description: string;
  /** The tool that reads this layout, as docs/FORMATS.md names it. */
  readonly consumer: string;
  /** The record's output lines; may throw InputError for a bad field of the input record (colbert: query id). */
  lines(mined: MinedRecord, context: FormatContext): FormattedRecord;
}
