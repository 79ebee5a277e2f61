/**
 * `rare-mine report OUT.jsonl -o report.html`: one self-contained HTML file (no script, no network) describing a
 * mining run: the run itself (from --stats-json), score and rank distributions, the filter funnel, false negatives
 * against --qrels, the likeliest false negatives and a seeded sample of records.
 * What must hold: the output file is read once, streaming, through the same reader as `rare-mine stats`, so the
 * report's statistics are that command's; memory is bounded (src/report/collector.ts); the HTML file appears
 * whole or not at all (written aside and renamed); the same inputs and seed give the same bytes.
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { log } from '../log.js';
import { addReadBackOptions, addReportOptions, DEFAULT_KEYS, inputArgument } from '../cli/options.js';
import { commandPathPlan } from '../cli/path-plan.js';
import { checkPaths } from '../io/path-safety.js';
import { directOutput, partialPath } from '../io/output.js';
import { writeSideFile } from '../io/side-file.js';
import { inputName } from '../io/line-reader.js';
import { writeStdout } from '../io/write-stdout.js';
import { readQrels } from '../eval/beir.js';
import { rareMineVersion, readRunStats } from '../mine/run-info.js';
import { ReportCollector } from '../report/collector.js';
import { renderReport, type ReportInput } from '../report/html.js';
import { LAYOUT_NAMES, readOutputLines, withRunOptions, type GivenReadOptions, type ResolvedReadOptions } from '../formats/output-reader.js';

export interface ReportOptions extends GivenReadOptions {
  /** Where the HTML goes; stdout when absent. */
  output?: string;
  /** The mining run's --stats-json: run information, the funnel, and the layout, keys and --num-neg it recorded. */
  statsJson?: string;
  /** BEIR qrels TSV: measure the share of negatives judged relevant. */
  qrels?: string;
  /** The record field holding the query id (with --qrels; default "_id"). */
  queriesKey?: string;
  seed: number;
  reviewRows: number;
  samples: number;
}

/** Build the report's HTML for an output file (or stdin for undefined / "-"). */
export async function buildReport(path: string | undefined, options: ReportOptions): Promise<string> {
  if (options.queriesKey !== undefined && options.qrels === undefined) {
    throw new UsageError('--queries-key names the query-id field for --qrels; pass --qrels QRELS.tsv too');
  }
  const runStats = options.statsJson ? readRunStats(options.statsJson) : undefined;
  const read = withRunOptions(options, runStats?.run, options.statsJson);
  const { numNeg, positiveIdsKey } = read;
  const qrels = options.qrels ? { judgments: await readQrels(options.qrels), queriesKey: options.queriesKey ?? DEFAULT_KEYS.queryId, file: options.qrels } : undefined;
  const collector = new ReportCollector({
    questionKey: read.questionKey,
    textKey: read.textKey,
    positiveIdsKey,
    numNeg,
    seed: options.seed,
    reviewRows: options.reviewRows,
    sampleRecords: options.samples,
    qrels,
  });
  const file = inputName(path);
  for await (const line of readOutputLines(path, read)) collector.add(line, file);
  const data = collector.finish();

  const notes: string[] = [];
  const fileReport = data.statistics.toJSON();
  if (runStats && (runStats.records !== fileReport.records || runStats.negatives !== fileReport.negatives)) {
    const note =
      `${options.statsJson} describes ${runStats.records} records and ${runStats.negatives ?? '?'} negatives, this output holds ${fileReport.records} and ${fileReport.negatives}: ` +
      'the run section and the funnel may belong to another run (flag outputs leave out records without a positive or a negative; a sharded or resumed run counts only its part).';
    notes.push(note);
    log().warn({ statsJson: options.statsJson, runRecords: runStats.records, fileRecords: fileReport.records }, 'the --stats-json does not describe this output');
  }
  if (numNeg !== undefined && read.fromRun.includes('--num-neg')) notes.push(`Short records are counted against --num-neg ${numNeg}, from the run's options.`);
  const keysFromRun = read.fromRun.filter((flag) => flag !== '--num-neg');
  if (keysFromRun.length > 0) notes.push(`Read with the run's ${keysFromRun.map((flag) => `${flag} ${JSON.stringify(read[RUN_FIELD[flag]])}`).join(', ')}.`);
  const input: ReportInput = {
    source: file,
    data,
    runStats: runStats && options.statsJson ? { file: options.statsJson, report: runStats } : undefined,
    notes,
    seed: options.seed,
    version: rareMineVersion(),
  };
  return renderReport(input);
}

/** The reading option each flag of ResolvedReadOptions.fromRun names, for the note. */
const RUN_FIELD: Record<string, keyof ResolvedReadOptions> = {
  '--format': 'format',
  '--output-key': 'outputKey',
  '--question-key': 'questionKey',
  '--text-key': 'textKey',
  '--positive-ids-key': 'positiveIdsKey',
};

/** The command body: write the HTML to -o (aside, then renamed) or stdout. `command`: the `report` command, whose path options the write gate checks. */
export async function runReport(path: string | undefined, options: ReportOptions, command: Command): Promise<void> {
  const output = options.output;
  checkPaths(commandPathPlan(command, options, [path], { siblings: { '-o': output === undefined || output === '-' || directOutput(output) ? [] : [partialPath(output)] } }));
  const html = await buildReport(path, options);
  if (!options.output) {
    await writeStdout(html);
    return;
  }
  await writeSideFile(options.output, html);
  log().info({ report: options.output, bytes: Buffer.byteLength(html) }, 'report written');
}

export function register(program: Command): void {
  const command = program
    .command('report')
    .summary('a self-contained HTML report of a mining run: plots, filter funnel, likeliest false negatives')
    .description(
      'Write one offline HTML file (no script, no network) about an existing rare-mine output: the run (command line, ' +
        'version, retriever, corpus, options, timings: from --stats-json), histograms of positive and negative scores and ' +
        'their difference, the rank each negative came from, the filter funnel (from --stats-json), records short of ' +
        'negatives, the negatives scoring closest to their positive, a seeded sample of records, and with --qrels the share ' +
        `of negatives judged relevant. Reads the ${LAYOUT_NAMES.join(' and ')} formats (docs/REPORT.md).`,
    )
    .addArgument(inputArgument('[output]', 'an output JSONL of rare-mine (default: stdin)'));
  addReportOptions(command);
  addReadBackOptions(command, {
    runFlag: '--stats-json',
    runHelp: "the run's --stats-json: shows the run (command, version, retriever, options, timings) and the filter funnel, and gives the --format, keys and --num-neg it recorded, for those not given here",
    questionKey: true,
  });
  command
    .action(async (output: string | undefined, options: ReportOptions) => {
      await runReport(output, options, command);
    });
}
