/**
 * Reading rare-mine's outputs back (`rare-mine stats`, `rare-mine report`): the two per-record layouts (`record`
 * and `flag`), whose field names come from the formats themselves (recordFields, FLAG_FIELDS), so writer and
 * reader cannot drift apart. What must hold: every line is either yielded or reported as an InputError naming
 * file:line; a score or rank list that does not match the negatives is an error, never silently truncated.
 */
import { InputError } from '../errors.js';
import { describe, readRecords, RejectPolicy, type JsonRecord } from '../io/jsonl.js';
import { inputName } from '../io/line-reader.js';
import type { RecordObservation } from '../mine/statistics.js';
import { FLAG_FIELDS } from './flag.js';
import { FORMAT_NAMES } from './formats.js';
import { recordFields } from './record-format.js';

/** Where a layout keeps what the statistics need. `positives` is set where the positive texts are (flag). */
export interface LayoutFields {
  negatives: string;
  negativeScores: string;
  negativeRanks: string;
  negativeIds: string;
  positiveScores: string;
  positives?: string;
  /** record layout: the fields the positives were read from when mining (--text-key, --positive-ids-key). */
  positiveTexts?: string;
  positiveIds?: string;
}

/** The layouts `rare-mine stats` reads, by --format name; the choices and the detection follow this table. */
const READABLE_LAYOUTS = {
  record: (outputKey: string, keys: PositiveKeys): LayoutFields => ({ ...recordFields(outputKey), positiveTexts: keys.textKey, positiveIds: keys.positiveIdsKey }),
  flag: (): LayoutFields => FLAG_FIELDS,
} as const;

export type LayoutName = keyof typeof READABLE_LAYOUTS;

/** The --format outputs stats cannot read back, for its hints (generated, so a new format is named there too). */
const UNREADABLE_FORMATS: readonly string[] = FORMAT_NAMES.filter((name) => !(name in READABLE_LAYOUTS));

/** The layout names, for `--format` choices. */
export const LAYOUT_NAMES = Object.keys(READABLE_LAYOUTS) as LayoutName[];

/** What stats reads and what it cannot, for the hints of its refusals. */
const READABLE = `rare-mine stats reads ${LAYOUT_NAMES.join(' and ')} outputs (${UNREADABLE_FORMATS.join(', ')} lines hold one example each, not a record)`;

function isFlagLine(value: Record<string, unknown>): boolean {
  return typeof value[FLAG_FIELDS.query] === 'string' && Array.isArray(value[FLAG_FIELDS.positives]) && Array.isArray(value[FLAG_FIELDS.negatives]);
}

function numberList(file: string, record: JsonRecord, key: string, integers: boolean): number[] | undefined {
  const value = record.value[key];
  if (value === undefined || value === null) return undefined;
  const ok = Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v) && (!integers || (Number.isInteger(v) && v >= -1)));
  if (!ok) {
    const want = integers ? 'a list of ranks (integers ≥ 0, or −1 for a filled negative)' : 'a list of numbers';
    throw new InputError(file, record.lineNumber, `field "${key}" must be ${want}, found ${Array.isArray(value) ? 'a list with other values' : describe(value)}`);
  }
  return value as number[];
}

/** One output line → what the statistics need; InputError naming the line when a field is missing or inconsistent. */
export function observationOf(file: string, record: JsonRecord, fields: LayoutFields, hint: string): RecordObservation {
  const negatives = record.value[fields.negatives];
  if (!Array.isArray(negatives)) {
    const reason = negatives === undefined ? `missing field "${fields.negatives}"` : `field "${fields.negatives}" must be a list, found ${describe(negatives)}`;
    throw new InputError(file, record.lineNumber, reason, { hint });
  }
  const negativeScores = numberList(file, record, fields.negativeScores, false) ?? [];
  const negativeRanks = numberList(file, record, fields.negativeRanks, true) ?? [];
  const positiveScores = numberList(file, record, fields.positiveScores, false) ?? [];
  for (const [key, list] of [[fields.negativeScores, negativeScores], [fields.negativeRanks, negativeRanks]] as const) {
    if (list.length > 0 && list.length !== negatives.length) {
      throw new InputError(file, record.lineNumber, `field "${key}" has ${list.length} values for ${negatives.length} negatives`);
    }
  }
  if (fields.positives && positiveScores.length > 0) {
    const positives = record.value[fields.positives];
    const count = Array.isArray(positives) ? positives.length : 0;
    if (count !== positiveScores.length) {
      throw new InputError(file, record.lineNumber, `field "${fields.positiveScores}" has ${positiveScores.length} values for ${count} positives`);
    }
  }
  return { positiveScores, negativeCount: negatives.length, negativeScores, negativeRanks, positiveCount: positiveCountOf(record, fields) };
}

/** How many strings `value` holds: 1 for a non-empty string, the non-empty strings of a list, else 0. */
function stringCount(value: unknown): number {
  if (typeof value === 'string') return value.trim().length > 0 ? 1 : 0;
  return Array.isArray(value) ? value.filter((item) => typeof item === 'string' && item.trim().length > 0).length : 0;
}

/** The positives a line shows (flag: its "pos"; record: the --text-key texts and --positive-ids-key ids); undefined when unknown. */
function positiveCountOf(record: JsonRecord, fields: LayoutFields): number | undefined {
  const own = (key: string | undefined) => (key !== undefined && Object.hasOwn(record.value, key) ? record.value[key] : undefined);
  if (fields.positives !== undefined) return stringCount(own(fields.positives));
  if (fields.positiveTexts === undefined && fields.positiveIds === undefined) return undefined;
  return stringCount(own(fields.positiveTexts)) + stringCount(own(fields.positiveIds));
}

/** One line of an output as the readers see it: the record, its layout and what the statistics need of it. */
export interface OutputLine {
  record: JsonRecord;
  layout: LayoutName;
  fields: LayoutFields;
  observation: RecordObservation;
}

/** The reading options `rare-mine stats` and `rare-mine report` share. */
export interface OutputReadOptions {
  /** auto (flag when the first record has "query", "pos" and "neg" lists; else record), record or flag. */
  format: 'auto' | LayoutName;
  /** record layout: the --output-key the output was mined with. */
  outputKey: string;
  maxLineBytes: number;
  /** record layout: the --text-key and --positive-ids-key it was mined with, to count records without positives. */
  textKey?: string;
  positiveIdsKey?: string;
}

/** Where a record output's positives are (the mining run's keys). */
type PositiveKeys = Pick<OutputReadOptions, 'textKey' | 'positiveIdsKey'>;

/**
 * Every line of an output file (or stdin for undefined / "-"), with its layout (detected from the first line
 * unless forced) and its observation; an InputError naming file:line for a line that does not fit the layout.
 */
export async function* readOutputLines(path: string | undefined, options: OutputReadOptions): AsyncGenerator<OutputLine> {
  const file = inputName(path);
  let layout: LayoutName | undefined = options.format === 'auto' ? undefined : options.format;
  let fields: LayoutFields | undefined;
  let hint = '';
  const records = readRecords(path, { policy: new RejectPolicy('fail'), maxLineBytes: options.maxLineBytes });
  for await (const record of withReadableHint(records)) {
    if (!fields) {
      layout ??= isFlagLine(record.value) ? 'flag' : 'record';
      fields = READABLE_LAYOUTS[layout](options.outputKey, options);
      hint =
        layout === 'flag'
          ? `a flag line is {"query","pos":[...],"neg":[...]}; ${READABLE}`
          : `a record output keeps its negatives under --output-key (here "${options.outputKey}"): pass the key it was mined with; ${READABLE}`;
    }
    yield { record, layout: layout!, fields, observation: observationOf(file, record, fields, hint) };
  }
}

/** A line that is not a JSON object (a colbert triple is an array) is refused with the hint of what stats reads. */
async function* withReadableHint(records: AsyncGenerator<JsonRecord>): AsyncGenerator<JsonRecord> {
  try {
    yield* records;
  } catch (error) {
    if (!(error instanceof InputError) || error.hint !== undefined) throw error;
    throw new InputError(error.file, error.line, error.reason, { cause: error, hint: READABLE });
  }
}
