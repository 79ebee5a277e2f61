/**
 * `rare-mine stats OUT.jsonl`: the end-of-run summary of an existing output — score distributions of positives,
 * negatives and their difference, short records, and the histogram of the raw rank each negative came from.
 * Reads the two per-record layouts (`record` and `flag`) through src/formats/output-reader.ts, with the layout and
 * keys given, else those the run recorded (--run-stats: its --stats-json), else the mining defaults. What must hold:
 * every line is either counted or reported as an InputError naming file:line.
 */
import { writeFileAtomically } from '../io/output.js';
import type { Command } from 'commander';
import { addReadBackOptions, addStatsOutputOptions } from '../cli/options.js';
import { InputError } from '../errors.js';
import { checkPaths } from '../io/path-safety.js';
import { writeStdout } from '../io/write-stdout.js';
import { log } from '../log.js';
import { LAYOUT_NAMES, readOutputLines, withRunOptions, type GivenReadOptions, type OutputReadOptions } from '../formats/output-reader.js';
import { readRunStats } from '../mine/run-info.js';
import { MiningStatistics } from '../mine/statistics.js';

export interface StatsOptions extends GivenReadOptions {
  /** The mining run's --stats-json: the layout, keys and --num-neg it recorded, for those not given. */
  runStats?: string;
  /** Print the JSON report instead of the table. */
  json: boolean;
  /** Also write the JSON report to this file. */
  statsJson?: string;
}

/** Read an output file (or stdin for undefined / "-") and return its statistics. */
export async function summarizeOutput(path: string | undefined, options: OutputReadOptions & { numNeg?: number }): Promise<MiningStatistics> {
  const statistics = new MiningStatistics({ numNeg: options.numNeg });
  for await (const line of readOutputLines(path, options)) statistics.addObservation(line.observation);
  return statistics;
}

/** The command body: print the table (or the JSON report) to stdout. */
export async function runStats(path: string | undefined, options: StatsOptions): Promise<void> {
  checkPaths({
    reads: [
      { option: 'input', path },
      { option: '--run-stats', path: options.runStats },
    ],
    writes: [{ option: '--stats-json', path: options.statsJson }],
  });
  const run = options.runStats === undefined ? undefined : readRunStats(options.runStats, '--run-stats').run;
  if (options.runStats !== undefined && run === undefined) {
    throw new InputError(options.runStats, undefined, 'has no "run" section: it is not the --stats-json of a mining run (rare-mine stats --stats-json writes none)', {
      hint: '--run-stats takes the file a mining command wrote with --stats-json',
    });
  }
  const read = withRunOptions(options, run, options.runStats);
  const statistics = await summarizeOutput(path, read);
  const report = statistics.toJSON();
  if (options.statsJson) writeFileAtomically(options.statsJson, JSON.stringify(report, null, 2) + '\n');
  const text = options.json ? JSON.stringify(report, null, 2) + '\n' : statistics.toTable();
  if (report.scores.negative.count === 0 && report.negatives > 0 && !options.json) {
    log().warn({ negatives: report.negatives }, 'no scores: the output has no negative scores, so the score table is empty (mine with --with-scores to record them)');
  }
  if (report.records_without_positives !== null && report.records_without_positives > 0 && report.records_without_positives === report.records && !options.json && report.records > 0) {
    log().warn(
      { records_without_positives: report.records_without_positives },
      `no record has a positive${read.format === 'flag' ? '' : ` under "${read.textKey}"${read.positiveIdsKey === undefined ? '' : ` or "${read.positiveIdsKey}"`}: if the output was mined with another --text-key or with --positive-ids-key, pass the same here`}`,
    );
  }
  if (report.rank_histogram === null && !options.json) {
    log().warn('no rank histogram: the output has no negative ranks (mine with --with-ranks to record them)');
  }
  await writeStdout(text);
}

export function register(program: Command): void {
  const command = program
    .command('stats')
    .summary('summarise an existing output: scores, short records, rank histogram')
    .description(
      'Print the end-of-run summary of an existing rare-mine output: count, mean, std, min, quartiles and max of positive ' +
        'scores, negative scores and their difference (scores are there when it was mined with --with-scores), records ' +
        'short of negatives, records without positives, and a histogram of the raw rank each negative came from (when mined with --with-ranks). ' +
        `Reads the ${LAYOUT_NAMES.join(' and ')} formats (docs/FORMATS.md); with --run-stats (the run's --stats-json) the format, keys and ` +
        '--num-neg it was mined with need not be repeated.',
    )
    .argument('[output]', 'an output JSONL of rare-mine (default: stdin)');
  addReadBackOptions(command, {
    runFlag: '--run-stats',
    runHelp: "the mining run's --stats-json (read): the --format, keys and --num-neg it recorded, for those not given here",
    questionKey: false,
  });
  addStatsOutputOptions(command);
  command.action(async (output: string | undefined, options: StatsOptions) => {
    await runStats(output, options);
  });
}
