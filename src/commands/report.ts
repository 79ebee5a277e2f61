/**
 * `rare-mine report OUT.jsonl -o report.html`: one self-contained HTML file (no script, no network) describing a
 * mining run: the run itself (from --stats-json), score and rank distributions, the filter funnel, false negatives
 * against --qrels, the likeliest false negatives and a seeded sample of records.
 * What must hold: the output file is read once, streaming, through the same reader as `rare-mine stats`, so the
 * report's statistics are that command's; memory is bounded (src/report/collector.ts); the HTML file appears
 * whole or not at all (written aside and renamed); the same inputs and seed give the same bytes.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomically } from '../io/output.js';
import { Option, type Command } from 'commander';
import { InputError, UsageError } from '../errors.js';
import { log } from '../log.js';
import { integer, maxLineBytesOption, parseInRange } from '../cli/options.js';
import { inputName } from '../io/line-reader.js';
import { describe } from '../io/jsonl.js';
import { readQrels } from '../eval/beir.js';
import { rareMineVersion, type RunInfo } from '../mine/run-info.js';
import type { StatisticsReport } from '../mine/statistics.js';
import { ReportCollector } from '../report/collector.js';
import { renderReport, type ReportInput } from '../report/html.js';
import { writeStdout } from './stats.js';
import { readOutputLines, type OutputReadOptions } from '../formats/output-reader.js';

export interface ReportOptions extends OutputReadOptions {
  /** Where the HTML goes; stdout when absent. */
  output?: string;
  /** The mining run's --stats-json: run information and the funnel. */
  statsJson?: string;
  /** BEIR qrels TSV: measure the share of negatives judged relevant. */
  qrels?: string;
  /** The record field holding the query id (with --qrels; default "_id"). */
  queriesKey?: string;
  questionKey: string;
  textKey: string;
  /** record layout: the field holding positive ids (default: the run's --positive-ids-key, from --stats-json). */
  positiveIdsKey?: string;
  numNeg?: number;
  seed: number;
  reviewRows: number;
  samples: number;
}

/** The default --queries-key: the BEIR query id field, as `--query-id-key` of the colbert format. */
export const DEFAULT_QUERIES_KEY = '_id';

type RunStats = Partial<StatisticsReport> & { run?: RunInfo };

function readRunStats(file: string): RunStats {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(file, undefined, `cannot open (${(error as Error).message})`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(file, undefined, `malformed JSON (${(error as Error).message})`, { cause: error, hint: '--stats-json takes the file a mining run wrote with --stats-json' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { records?: unknown }).records !== 'number') {
    throw new InputError(file, undefined, `expected the statistics object a mining run writes with --stats-json, found ${describe(value)}${typeof value === 'object' && value !== null && !Array.isArray(value) ? ' without "records"' : ''}`);
  }
  return value as RunStats;
}

/** Build the report's HTML for an output file (or stdin for undefined / "-"). */
export async function buildReport(path: string | undefined, options: ReportOptions): Promise<string> {
  if (options.queriesKey !== undefined && options.qrels === undefined) {
    throw new UsageError('--queries-key names the query-id field for --qrels; pass --qrels QRELS.tsv too');
  }
  const runStats = options.statsJson ? readRunStats(options.statsJson) : undefined;
  const runNumNeg = runStats?.run?.options.numNeg;
  const numNeg = options.numNeg ?? (typeof runNumNeg === 'number' ? runNumNeg : undefined);
  const qrels = options.qrels ? { judgments: await readQrels(options.qrels), queriesKey: options.queriesKey ?? DEFAULT_QUERIES_KEY, file: options.qrels } : undefined;
  const runIdsKey = runStats?.run?.options.positiveIdsKey;
  const positiveIdsKey = options.positiveIdsKey ?? (typeof runIdsKey === 'string' ? runIdsKey : undefined);
  const collector = new ReportCollector({
    questionKey: options.questionKey,
    textKey: options.textKey,
    positiveIdsKey,
    numNeg,
    seed: options.seed,
    reviewRows: options.reviewRows,
    sampleRecords: options.samples,
    qrels,
  });
  const file = inputName(path);
  for await (const line of readOutputLines(path, { ...options, positiveIdsKey })) collector.add(line, file);
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
  if (numNeg !== undefined && options.numNeg === undefined) notes.push(`Short records are counted against --num-neg ${numNeg}, from the run's options.`);
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

/** The command body: write the HTML to -o (aside, then renamed) or stdout. */
export async function runReport(path: string | undefined, options: ReportOptions): Promise<void> {
  const html = await buildReport(path, options);
  if (!options.output) {
    await writeStdout(html);
    return;
  }
  writeFileAtomically(options.output, html);
  log().info({ report: options.output, bytes: Buffer.byteLength(html) }, 'report written');
}

export function register(program: Command): void {
  program
    .command('report')
    .summary('a self-contained HTML report of a mining run: plots, filter funnel, likeliest false negatives')
    .description(
      'Write one offline HTML file (no script, no network) about an existing rare-mine output: the run (command line, ' +
        'version, retriever, corpus, options, timings: from --stats-json), histograms of positive and negative scores and ' +
        'their difference, the rank each negative came from, the filter funnel (from --stats-json), records short of ' +
        'negatives, the negatives scoring closest to their positive, a seeded sample of records, and with --qrels the share ' +
        'of negatives judged relevant. Reads the record and flag formats (docs/REPORT.md).',
    )
    .argument('[output]', 'an output JSONL of rare-mine (default: stdin)')
    .option('-o, --output <file>', 'write the HTML here (atomically) instead of stdout')
    .option('--stats-json <file>', "the run's --stats-json: shows the run (command, version, retriever, options, timings) and the filter funnel")
    .option('--qrels <file>', 'BEIR qrels TSV (query-id, corpus-id, score): measure the false-negative rate (needs an output mined with --with-ids)')
    .option('--queries-key <key>', `with --qrels: the record field holding the query id (default "${DEFAULT_QUERIES_KEY}")`)
    .addOption(new Option('--format <name>', 'layout of the file: auto (flag when lines have "query", "pos" and "neg"; else record), record or flag').choices(['auto', 'record', 'flag']).default('auto'))
    .option('--output-key <key>', 'record layout: the field holding the negatives (the --output-key it was mined with)', 'hard_negatives')
    .option('--question-key <key>', 'record layout: the field holding the query text (the --question-key it was mined with)', 'question')
    .option('--text-key <key>', 'record layout: the field holding the positive text(s) (the --text-key it was mined with)', 'text')
    .option('--positive-ids-key <key>', "record layout: the field holding positive corpus ids, to name a positive given by id (default: the run's, from --stats-json)")
    .option('--num-neg <n>', "the --num-neg it was mined with, to count short records (default: the run's, from --stats-json; else the most negatives any record has)", integer('--num-neg', 0))
    .option('--seed <n>', 'seed of the record sample (same seed, same report)', integer('--seed', 0), 42)
    .option('--review-rows <n>', 'rows in the likeliest-false-negatives table (1..1000)', (v: string) => parseInRange('--review-rows', { min: 1, max: 1000, integer: true }, v), 30)
    .option('--samples <n>', 'records in the seeded sample (0..1000)', (v: string) => parseInRange('--samples', { min: 0, max: 1000, integer: true }, v), 8)
    .addOption(maxLineBytesOption())
    .action(async (output: string | undefined, options: ReportOptions) => {
      await runReport(output, options);
    });
}
