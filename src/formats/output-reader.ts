/**
 * Reading rare-mine's outputs back (`rare-mine stats`, `rare-mine report`): the two per-record layouts (`record`
 * and `flag`), whose field names come from the formats themselves (recordFields, FLAG_FIELDS), so writer and
 * reader cannot drift apart. What must hold: every line is either yielded or reported as an InputError naming
 * file:line; a score or rank list that does not match the negatives is an error, never silently truncated.
 * The layout and keys come from the command line, else from the mining run's --stats-json (`withRunOptions`), else
 * the mining defaults; an option given that disagrees with the run's is used, with a warning.
 */
import { InputError, UsageError } from '../errors.js';
import { describe, readRecords, RejectPolicy, type JsonRecord } from '../io/jsonl.js';
import { inputName } from '../io/line-reader.js';
import { log } from '../log.js';
import type { RunInfo } from '../mine/run-info.js';
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

/** The reading options as the command line gave them: unset ones come from the run (withRunOptions). */
export interface GivenReadOptions {
  format?: 'auto' | LayoutName;
  outputKey?: string;
  questionKey?: string;
  textKey?: string;
  positiveIdsKey?: string;
  numNeg?: number;
  maxLineBytes: number;
}

/** The reading options resolved: the command line's, else the run's, else the mining defaults. */
export interface ResolvedReadOptions extends OutputReadOptions {
  questionKey: string;
  textKey: string;
  numNeg?: number;
  /** The options taken from the run, as their flags (for the report's notes and the log). */
  fromRun: string[];
}

/** What a mining run records of each reading option (RunInfo.options, by camelCase name), its flag and mining default. */
const RECORDED: ReadonlyArray<{ key: keyof GivenReadOptions & keyof RunInfo['options']; flag: string; fallback?: string | number; recordOnly: boolean }> = [
  { key: 'format', flag: '--format', fallback: 'auto', recordOnly: false },
  { key: 'outputKey', flag: '--output-key', fallback: 'hard_negatives', recordOnly: true },
  { key: 'questionKey', flag: '--question-key', fallback: 'question', recordOnly: true },
  { key: 'textKey', flag: '--text-key', fallback: 'text', recordOnly: true },
  { key: 'positiveIdsKey', flag: '--positive-ids-key', recordOnly: true },
  { key: 'numNeg', flag: '--num-neg', recordOnly: false },
];

/**
 * The reading options of an output: each given one, else the one `run` (the `run` section of the --stats-json
 * named by `runFile`) recorded, else the mining default. A given option that disagrees with the run's is used, with a
 * warning (the output may be another run's); a run that wrote a format stats cannot read is a UsageError unless
 * --format is given.
 */
export function withRunOptions(given: GivenReadOptions, run: RunInfo | undefined, runFile: string | undefined): ResolvedReadOptions {
  const recorded = run?.options ?? {};
  const values: Record<string, unknown> = {};
  const fromRun: string[] = [];
  const runFormat = recorded.format;
  const layoutRecorded = typeof runFormat === 'string' ? runFormat : undefined;
  if (given.format === undefined && layoutRecorded !== undefined && !(LAYOUT_NAMES as string[]).includes(layoutRecorded)) {
    throw new UsageError(`${runFile} records --format ${layoutRecorded}, which ${READABLE}`, { hint: 'pass --format record or flag if the output was written in one of them' });
  }
  const flagLayout = (given.format ?? layoutRecorded) === 'flag';
  for (const { key, flag, fallback, recordOnly } of RECORDED) {
    const mine = given[key];
    const theirs = recorded[key];
    const theirsUsable = key === 'numNeg' ? typeof theirs === 'number' : typeof theirs === 'string';
    if (mine !== undefined) {
      values[key] = mine;
      const differs = theirsUsable && theirs !== mine && !(key === 'format' && mine === 'auto') && !(recordOnly && flagLayout);
      if (differs) {
        log().warn(
          { option: flag, given: mine, recorded: theirs, stats_json: runFile },
          `${flag} ${JSON.stringify(mine)} differs from the ${JSON.stringify(theirs)} the run recorded in ${runFile}: reading with ${JSON.stringify(mine)} (is this output that run's?)`,
        );
      }
    } else if (theirsUsable) {
      values[key] = theirs;
      fromRun.push(flag);
    } else values[key] = fallback;
  }
  if (fromRun.length > 0) log().debug({ stats_json: runFile, from_run: fromRun }, 'reading options taken from the run');
  return { ...(values as Omit<ResolvedReadOptions, 'maxLineBytes' | 'fromRun'>), maxLineBytes: given.maxLineBytes, fromRun };
}
