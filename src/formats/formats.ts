/**
 * The table of output formats and everything generated from it: the `--format` choices and their help text (declared
 * in src/cli/options.ts from this table), and the RecordFormatter the mining command writes through. What must hold: a format
 * exists exactly when it has a row in FORMATS — choices, help, docs/FORMATS.md's list and the tests all follow
 * the table — and every record a formatter sees is either written as lines or counted under a SkipReason.
 */
import type { MinedRecord } from '../mine/miner.js';
import { colbertFormat } from './colbert.js';
import { flagFormat } from './flag.js';
import { recordFormat } from './record-format.js';
import { labeledListFormat, labeledPairFormat, ntupleFormat, tripletFormat } from './sentence-transformers.js';
import { SKIP_REASONS, type FormatContext, type FormattedRecord, type OutputFormat, type SkipReason } from './output-format.js';

export type { FormatContext, FormattedRecord, OutputFormat, SideFile, SkipReason } from './output-format.js';

/** Every `--format`, by name; the first is the default. */
export const FORMATS = {
  record: recordFormat,
  flag: flagFormat,
  triplet: tripletFormat,
  ntuple: ntupleFormat,
  'labeled-pair': labeledPairFormat,
  'labeled-list': labeledListFormat,
  colbert: colbertFormat,
} as const satisfies Record<string, OutputFormat<any>>; // each row has its own State; RecordFormatter pairs them

export type FormatName = keyof typeof FORMATS;

export const FORMAT_NAMES = Object.keys(FORMATS) as FormatName[];

export const DEFAULT_FORMAT: FormatName = 'record';

/** The options `addFormatOptions` declares, as commander hands them to the command. */
export interface FormatOptions {
  /** --format: one of FORMAT_NAMES. */
  format: FormatName;
  /** --query-id-key: the record field holding the query id (colbert: the third column of its queries file). */
  queryIdKey: string;
  /** --colbert-dir: where colbert writes its queries and collection TSVs (default: -o's directory). */
  colbertDir?: string;
  /** --with-ranks: write each negative's raw rank. */
  withRanks: boolean;
}

/** Counts of what a RecordFormatter wrote and skipped, for the end-of-run summary. */
export interface FormatTally {
  records: number;
  lines: number;
  /** Records that produced no line, by reason. */
  skipped: Record<SkipReason, number>;
  /** Lines written to each side file, aligned with the format's `sideFiles`. */
  sideLines: number[];
}

/** A format bound to its context: turns mined records into lines and keeps the tally. */
export class RecordFormatter {
  /** The row; its State (`any` here) is made by its own newState and handed back only to its own lines/warnings. */
  readonly format: OutputFormat<any>;
  private readonly state: unknown;
  readonly tally: FormatTally;

  constructor(readonly name: FormatName, readonly context: FormatContext) {
    this.format = FORMATS[name];
    this.state = this.format.newState?.(context);
    this.tally = {
      records: 0,
      lines: 0,
      skipped: Object.fromEntries(Object.keys(SKIP_REASONS).map((reason) => [reason, 0])) as Record<SkipReason, number>,
      sideLines: (this.format.sideFiles ?? []).map(() => 0),
    };
  }

  /**
   * The record's output lines (without newlines) and its side files' lines; counts the record, its lines, and why
   * it has none. An InputError (a bad field of the record) leaves the tally and the format's state untouched.
   */
  formatRecord(mined: MinedRecord): FormattedRecord {
    const result = this.format.lines(mined, this.context, this.state);
    this.tally.records++;
    this.tally.lines += result.lines.length;
    if (result.skipped) this.tally.skipped[result.skipped]++;
    result.side?.forEach((lines, i) => (this.tally.sideLines[i] += lines.length));
    return result;
  }

  /** The record's output lines only (a format with side files is written through `formatRecord`). */
  lines(mined: MinedRecord): string[] {
    return this.formatRecord(mined).lines;
  }

  /** One warning per kind of loss, generated from SKIP_REASONS: "12 records got no negative: no flag line written". */
  warnings(): string[] {
    const messages: string[] = [];
    for (const reason of Object.keys(SKIP_REASONS) as SkipReason[]) {
      const count = this.tally.skipped[reason];
      if (count > 0) messages.push(`${count} record${count === 1 ? '' : 's'} ${SKIP_REASONS[reason]}: no ${this.name} line written`);
    }
    messages.push(...(this.format.warnings?.(this.state) ?? []));
    return messages;
  }
}
