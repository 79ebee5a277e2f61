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
import { ntupleFormat, tripletFormat } from './sentence-transformers.js';
import { SKIP_REASONS, type FormatContext, type OutputFormat, type SkipReason } from './output-format.js';

export type { FormatContext, FormattedRecord, OutputFormat, SkipReason } from './output-format.js';

/** Every `--format`, by name; the first is the default. */
export const FORMATS = {
  record: recordFormat,
  flag: flagFormat,
  triplet: tripletFormat,
  ntuple: ntupleFormat,
  colbert: colbertFormat,
} as const satisfies Record<string, OutputFormat>;

export type FormatName = keyof typeof FORMATS;

export const FORMAT_NAMES = Object.keys(FORMATS) as FormatName[];

export const DEFAULT_FORMAT: FormatName = 'record';

/** The options `addFormatOptions` declares, as commander hands them to the command. */
export interface FormatOptions {
  /** --format: one of FORMAT_NAMES. */
  format: FormatName;
  /** --query-id-key: the record field holding the query id (colbert). */
  queryIdKey: string;
  /** --with-ranks: write each negative's raw rank. */
  withRanks: boolean;
}

/** Counts of what a RecordFormatter wrote and skipped, for the end-of-run summary. */
export interface FormatTally {
  records: number;
  lines: number;
  /** Records that produced no line, by reason. */
  skipped: Record<SkipReason, number>;
  /** Positives left out of examples for want of a corpus id (colbert). */
  positivesWithoutId: number;
}

/** A format bound to its context: turns mined records into lines and keeps the tally. */
export class RecordFormatter {
  readonly format: OutputFormat;
  readonly tally: FormatTally = {
    records: 0,
    lines: 0,
    skipped: Object.fromEntries(Object.keys(SKIP_REASONS).map((reason) => [reason, 0])) as Record<SkipReason, number>,
    positivesWithoutId: 0,
  };

  constructor(readonly name: FormatName, readonly context: FormatContext) {
    this.format = FORMATS[name];
  }

  /** The record's output lines (without newlines); counts the record, its lines, and why it has none. */
  lines(mined: MinedRecord): string[] {
    const result = this.format.lines(mined, this.context);
    this.tally.records++;
    this.tally.lines += result.lines.length;
    if (result.skipped) this.tally.skipped[result.skipped]++;
    this.tally.positivesWithoutId += result.positivesWithoutId ?? 0;
    return result.lines;
  }

  /** One warning per kind of loss, generated from SKIP_REASONS: "12 records got no negative: no flag line written". */
  warnings(): string[] {
    const messages: string[] = [];
    for (const reason of Object.keys(SKIP_REASONS) as SkipReason[]) {
      const count = this.tally.skipped[reason];
      if (count > 0) messages.push(`${count} record${count === 1 ? '' : 's'} ${SKIP_REASONS[reason]}: no ${this.name} line written`);
    }
    if (this.tally.positivesWithoutId > 0) {
      const count = this.tally.positivesWithoutId;
      messages.push(`${count} positive${count === 1 ? '' : 's'} given by text ${count === 1 ? 'is' : 'are'} not in the corpus: left out of the ${this.name} triples (give positives by id with --positive-ids-key)`);
    }
    return messages;
  }
}
