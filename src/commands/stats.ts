/**
 * `rare-mine stats OUT.jsonl`: the end-of-run summary of an existing output — score distributions of positives,
 * negatives and their difference, short records, and the histogram of the raw rank each negative came from.
 * Reads the two per-record layouts (`record` and `flag`); their field names come from the formats themselves
 * (recordFields, FLAG_FIELDS), so writer and reader cannot drift apart. What must hold: every line is either
 * counted or reported as an InputError naming file:line; a score or rank list that does not match the negatives
 * is an error, never silently truncated.
 */
import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { InputError } from '../errors.js';
import { integer, maxLineBytesOption } from '../cli/options.js';
import { describe, readRecords, RejectPolicy, type JsonRecord } from '../io/jsonl.js';
import { inputName } from '../io/line-reader.js';
import { checkPaths } from '../io/path-safety.js';
import { FLAG_FIELDS } from '../formats/flag.js';
import { recordFields } from '../formats/record-format.js';
import { MiningStatistics, type RecordObservation } from '../mine/statistics.js';

/** Where a layout keeps what the statistics need. `positives` is set where the positive texts are (flag). */
export interface LayoutFields {
  negatives: string;
  negativeScores: string;
  negativeRanks: string;
  negativeIds: string;
  positiveScores: string;
  positives?: string;
}

/** The layouts `rare-mine stats` reads, by --format name; the choices and the detection follow this table. */
const READABLE_LAYOUTS = {
  record: (outputKey: string): LayoutFields => recordFields(outputKey),
  flag: (): LayoutFields => FLAG_FIELDS,
} as const;

export type LayoutName = keyof typeof READABLE_LAYOUTS;

export interface StatsOptions {
  /** auto (flag when the first record has "query", "pos" and "neg" lists; else record), record or flag. */
  format: 'auto' | LayoutName;
  /** record layout: the --output-key the output was mined with. */
  outputKey: string;
  /** The --num-neg asked when mining; default: the most negatives any record has. */
  numNeg?: number;
  /** Print the JSON report instead of the table. */
  json: boolean;
  /** Also write the JSON report to this file. */
  statsJson?: string;
  maxLineBytes: number;
}

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
  return { positiveScores, negativeCount: negatives.length, negativeScores, negativeRanks };
}

/** One line of an output as the readers see it: the record, its layout and what the statistics need of it. */
export interface OutputLine {
  record: JsonRecord;
  layout: LayoutName;
  fields: LayoutFields;
  observation: RecordObservation;
}

/** The reading options `rare-mine stats` and `rare-mine report` share. */
export type OutputReadOptions = Pick<StatsOptions, 'format' | 'outputKey' | 'maxLineBytes'>;

/**
 * Every line of an output file (or stdin for undefined / "-"), with its layout (detected from the first line
 * unless forced) and its observation; an InputError naming file:line for a line that does not fit the layout.
 */
export async function* readOutputLines(path: string | undefined, options: OutputReadOptions): AsyncGenerator<OutputLine> {
  const file = inputName(path);
  let layout: LayoutName | undefined = options.format === 'auto' ? undefined : options.format;
  let fields: LayoutFields | undefined;
  let hint = '';
  for await (const record of readRecords(path, { policy: new RejectPolicy('fail'), maxLineBytes: options.maxLineBytes })) {
    if (!fields) {
      layout ??= isFlagLine(record.value) ? 'flag' : 'record';
      fields = READABLE_LAYOUTS[layout](options.outputKey);
      const readable = 'rare-mine stats reads record and flag outputs (triplet, ntuple and colbert lines hold one example each, not a record)';
      hint =
        layout === 'flag'
          ? `a flag line is {"query","pos":[...],"neg":[...]}; ${readable}`
          : `a record output keeps its negatives under --output-key (here "${options.outputKey}"): pass the key it was mined with; ${readable}`;
    }
    yield { record, layout: layout!, fields, observation: observationOf(file, record, fields, hint) };
  }
}

/** Read an output file (or stdin for undefined / "-") and return its statistics. */
export async function summarizeOutput(path: string | undefined, options: Omit<StatsOptions, 'json' | 'statsJson'>): Promise<MiningStatistics> {
  const statistics = new MiningStatistics({ numNeg: options.numNeg });
  for await (const line of readOutputLines(path, options)) statistics.addObservation(line.observation);
  return statistics;
}

/** The command body: print the table (or the JSON report) to stdout. */
export async function runStats(path: string | undefined, options: StatsOptions): Promise<void> {
  checkPaths({ reads: [{ option: 'input', path }], writes: [{ option: '--stats-json', path: options.statsJson }] });
  const statistics = await summarizeOutput(path, options);
  const report = statistics.toJSON();
  if (options.statsJson) writeFileSync(options.statsJson, JSON.stringify(report, null, 2) + '\n');
  const text = options.json ? JSON.stringify(report, null, 2) + '\n' : statistics.toTable();
  if (report.scores.negative.count === 0 && report.negatives > 0 && !options.json) {
    process.stderr.write('rare-mine: no scores: the output has no negative scores, so the score table is empty (mine with --with-scores to record them)\n');
  }
  if (report.rank_histogram === null && !options.json) {
    process.stderr.write('rare-mine: no rank histogram: the output has no negative ranks (mine with --with-ranks to record them)\n');
  }
  await writeStdout(text);
}

/** Write to stdout; a reader that went away (`rare-mine stats out.jsonl | head -3`) is not an error. */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const closedPipe = (error: NodeJS.ErrnoException | null | undefined) => !error || error.code === 'EPIPE';
    // Stays attached: with a large text the socket reports the closed pipe again after the write's callback.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => (closedPipe(error) ? resolve() : reject(error)));
    process.stdout.write(text, (error) => {
      if (closedPipe(error)) resolve();
      else reject(error);
    });
  });
}

export function register(program: Command): void {
  program
    .command('stats')
    .summary('summarise an existing output: scores, short records, rank histogram')
    .description(
      'Print the end-of-run summary of an existing rare-mine output: count, mean, std, min, quartiles and max of positive ' +
        'scores, negative scores and their difference (scores are there when it was mined with --with-scores), records ' +
        'short of negatives, and a histogram of the raw rank each negative came from (when mined with --with-ranks). ' +
        'Reads the record and flag formats (docs/FORMATS.md).',
    )
    .argument('[output]', 'an output JSONL of rare-mine (default: stdin)')
    .addOption(new Option('--format <name>', 'layout of the file: auto (flag when lines have "query", "pos" and "neg"; else record), record or flag').choices(['auto', ...Object.keys(READABLE_LAYOUTS)]).default('auto'))
    .option('--output-key <key>', 'record layout: the field holding the negatives (the --output-key it was mined with)', 'hard_negatives')
    .option('--num-neg <n>', 'the --num-neg it was mined with, to count short records (default: the most negatives any record has)', integer('--num-neg', 0))
    .option('--json', 'print the report as JSON (the --stats-json layout) instead of the table', false)
    .option('--stats-json <file>', 'also write the JSON report to this file')
    .addOption(maxLineBytesOption())
    .action(async (output: string | undefined, options: StatsOptions) => {
      await runStats(output, options);
    });
}
