/**
 * The contract every `--format` implements: a mined record in, zero or more output lines out, each line one JSON
 * value (no newline inside) that the format's consumer reads as one training example (or, for `record`, one record).
 * What must hold: a format either writes a complete example or writes nothing for the record and says why (a
 * SkipReason); it never writes half an example, so the consumer never meets an empty `pos`, `neg` or `negative_3`.
 * A format with side files (colbert's TSVs) hands their lines over with the record's, and every id a line names is
 * in a side file's lines of that record or of an earlier one.
 */
import type { MinedRecord } from '../mine/miner.js';
import type { CorpusView } from '../retriever.js';
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
   * --question-key and --text-key: the names of the query and passage columns of labeled-pair and labeled-list
   * (sentence-transformers' `mine_hard_negatives` names them after the input dataset's anchor and positive columns).
   */
  readonly questionKey: string;
  readonly textKey: string;
  /**
   * The corpus ordinal of each positive given by text, aligned with `mined.positives` (entry i for `mined.positives[i]`),
   * or undefined when that text is not a corpus document. Resolved by the mining stage, which knows the corpus'
   * text hashes; positives given by id (`mined.positiveOrdinals`) need no entry. Read for corpus ids (--with-ids)
   * and by colbert, which numbers a corpus document once however its positives name it.
   */
  positiveTextOrdinals(mined: MinedRecord): ReadonlyArray<number | undefined>;
}

/**
 * Why a format wrote no line for a record. The messages of the end-of-run summary are generated from this table,
 * so a new reason cannot be reported without being explained.
 */
export const SKIP_REASONS = {
  'no-positive': 'had no positive to pair the negatives with',
  'no-negative': 'got no negative',
  'fewer-negatives': 'got fewer negatives than --num-neg (ntuple needs the same columns on every line)',
} as const;

export type SkipReason = keyof typeof SKIP_REASONS;

/** A format's output for one record. */
export interface FormattedRecord {
  /** JSON lines, without their terminating newline; empty when `skipped` says why. */
  lines: string[];
  /** Set exactly when `lines` is empty. */
  skipped?: SkipReason;
  /** Lines to append to each of the format's side files, aligned with `OutputFormat.sideFiles` (colbert only). */
  side?: string[][];
}

/** A file a format writes beside its main output, as a stream of lines (colbert: its queries and collection TSVs). */
export interface SideFile {
  /** The file's name inside the side-file directory (--colbert-dir). */
  readonly fileName: string;
  /** What it holds, for the end-of-run summary. */
  readonly holds: string;
}

/**
 * One `--format`: a description for --help, who reads it, and the function that writes a record's lines. A format
 * that must remember earlier records (colbert numbers queries and passages as they come; flag notices a `prompt`
 * some records lack) keeps it in a State, made fresh for every run by `newState`.
 */
export interface OutputFormat<State = undefined> {
  /** One line for --help (the choices and their help text are generated from the FORMATS table). */
  readonly description: string;
  /** The tool that reads this layout, as docs/FORMATS.md names it. */
  readonly consumer: string;
  /** Files written beside the main output (a FormattedRecord's `side` lines, in this order); absent for most formats. */
  readonly sideFiles?: readonly SideFile[];
  /** This run's state; formats without one leave it out (their State is undefined). */
  newState?(context: FormatContext): State;
  /**
   * The record's output lines; may throw InputError for a bad field of the input record (colbert: query id; flag:
   * prompt, type), before changing `state`, so a rejected record leaves no trace.
   */
  lines(mined: MinedRecord, context: FormatContext, state: State): FormattedRecord;
  /** End-of-run warnings beyond the skip reasons (flag: a `prompt` only some lines have). */
  warnings?(state: State): string[];
}
