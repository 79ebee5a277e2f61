/**
 * `rare-mine stats OUT.jsonl`: the end-of-run summary of an existing output — score distributions of positives,
 * negatives and their difference, short records, and the histogram of the raw rank each negative came from.
 * Reads the two per-record layouts (`record` and `flag`) through src/formats/output-reader.ts. What must hold:
 * every line is either counted or reported as an InputError naming file:line.
 */
import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { integer, maxLineBytesOption } from '../cli/options.js';
import { checkPaths } from '../io/path-safety.js';
import { LAYOUT_NAMES, readOutputLines, type LayoutName } from '../formats/output-reader.js';
import { MiningStatistics } from '../mine/statistics.js';

export interface StatsOptions {
  /** auto (flag when the first record has "query", "pos" and "neg" lists; else record), record or flag. */
  format: 'auto' | LayoutName;
  /** record layout: the --output-key the output was mined with. */
  outputKey: string;
  /** record layout: the --text-key and --positive-ids-key it was mined with, to count records without positives (unknown without either). */
  textKey?: string;
  positiveIdsKey?: string;
  /** The --num-neg asked when mining; default: the most negatives any record has. */
  numNeg?: number;
  /** Print the JSON report instead of the table. */
  json: boolean;
  /** Also write the JSON report to this file. */
  statsJson?: string;
  maxLineBytes: number;
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
  if (report.records_without_positives !== null && report.records_without_positives > 0 && report.records_without_positives === report.records && !options.json && report.records > 0) {
    process.stderr.write(
      `rare-mine: no record has a positive${options.format === 'flag' ? '' : ` under "${options.textKey ?? '(no --text-key)'}"${options.positiveIdsKey === undefined ? '' : ` or "${options.positiveIdsKey}"`}: if the output was mined with another --text-key or with --positive-ids-key, pass the same here`}\n`,
    );
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
        'short of negatives, records without positives, and a histogram of the raw rank each negative came from (when mined with --with-ranks). ' +
        'Reads the record and flag formats (docs/FORMATS.md).',
    )
    .argument('[output]', 'an output JSONL of rare-mine (default: stdin)')
    .addOption(new Option('--format <name>', 'layout of the file: auto (flag when lines have "query", "pos" and "neg"; else record), record or flag').choices(['auto', ...LAYOUT_NAMES]).default('auto'))
    .option('--output-key <key>', 'record layout: the field holding the negatives (the --output-key it was mined with)', 'hard_negatives')
    .option('--text-key <key>', 'record layout: the field holding the positive text(s) (the --text-key it was mined with), to count records without positives', 'text')
    .option('--positive-ids-key <key>', 'record layout: the field holding positive corpus ids (the --positive-ids-key it was mined with), to count records without positives')
    .option('--num-neg <n>', 'the --num-neg it was mined with, to count short records (default: the most negatives any record has)', integer('--num-neg', 0))
    .option('--json', 'print the report as JSON (the --stats-json layout) instead of the table', false)
    .option('--stats-json <file>', 'also write the JSON report to this file')
    .addOption(maxLineBytesOption())
    .action(async (output: string | undefined, options: StatsOptions) => {
      await runStats(output, options);
    });
}
