/**
 * `--format record` (the default): every input record written back, byte for byte, with the negatives appended
 * (src/formats/record.ts does the splicing). A record that already has one of the keys is refused (InputError
 * naming the line and --output-key) unless --if-key-exists replace. One line per record, always — a record with no negative is written
 * with an empty list, so records in = records out. The field names derive from --output-key; `rare-mine stats`
 * reads them back through RECORD_FIELDS.
 */
import type { MinedRecord } from '../mine/miner.js';
import { InputError } from '../errors.js';
import { existingKeys, withFields } from './record.js';
import type { FormatContext, FormattedRecord, OutputFormat } from './output-format.js';

/** The fields the record format writes, named from --output-key. `rare-mine stats` reads the same names. */
export function recordFields(outputKey: string) {
  return {
    /** Negative passages, in rank order. */
    negatives: outputKey,
    /** --with-scores: the retriever's score of each negative. */
    negativeScores: `${outputKey}_scores`,
    /** --with-ids: the corpus id of each negative. */
    negativeIds: `${outputKey}_ids`,
    /** --with-ranks: the 0-based raw rank each negative came from. */
    negativeRanks: `${outputKey}_ranks`,
    /** --with-scores, when the mining stage scored positives: one score per positive, texts first, then ids. */
    positiveScores: `${outputKey}_positive_scores`,
  };
}

export const recordFormat: OutputFormat = {
  description: 'the input record with the negatives added under --output-key (default)',
  consumer: 'your own pipeline; rare-mine stats',
  lines(mined: MinedRecord, context: FormatContext): FormattedRecord {
    const names = recordFields(context.outputKey);
    const { corpus } = context;
    const fields: Record<string, unknown> = { [names.negatives]: mined.negatives.map((n) => corpus.text(n.docOrdinal)) };
    if (context.withScores) fields[names.negativeScores] = mined.negatives.map((n) => n.score);
    if (context.withIds) fields[names.negativeIds] = mined.negatives.map((n) => corpus.id(n.docOrdinal));
    if (context.withRanks) fields[names.negativeRanks] = mined.negatives.map((n) => n.rank);
    if (context.withScores && mined.positiveScores.length > 0) fields[names.positiveScores] = mined.positiveScores;
    const clashes = existingKeys(mined.record.value, fields);
    if (clashes.length > 0 && context.ifKeyExists === 'fail') {
      const list = clashes.map((name) => `"${name}"`).join(', ');
      throw new InputError(context.inputName, mined.record.lineNumber, `the record already has ${list} (an earlier rare-mine run?): not overwritten`, {
        hint: 'write this run under another key (e.g. --output-key dense_negatives), or pass --if-key-exists replace to overwrite',
      });
    }
    return { lines: [withFields(mined.record.raw, mined.record.value, fields)] };
  },
};
