/**
 * Stage 5 of a mining run, report: the statistics table (an event under --log-format json), --stats-json, the
 * format's warnings, the summary line and the warnings about what the run could not do. What must hold: the
 * figures cover the records this run mined (a resumed run says so); --stats-json is written after the output was
 * committed, and a failure to write it says the output is complete.
 */
import { writeFileAtomically } from '../io/output.js';
import { fileErrorFrom, FileError } from '../errors.js';
import { infoBlock, log, prettyAs } from '../log.js';
import type { RejectPolicy } from '../io/jsonl.js';
import type { StatisticsReport } from '../mine/statistics.js';
import { rareMineVersion, scalarOptions, type RunInfo } from '../mine/run-info.js';
import type { MineCommandOptions } from './mine-options.js';
import type { StartPlan } from './plan-start.js';
import type { OpenRun, RunClock } from './open-run.js';
import type { StreamOutcome } from './mine-stream.js';

/**
 * Stage 5, report the run: the statistics table on stderr (an event under --log-format json), --stats-json with the run record, the format's warnings, the
 * summary log line and the warnings about what the run could not do (unknown ids, no records, short records).
 */
export function reportRun(plan: StartPlan, run: OpenRun, options: MineCommandOptions, mined: StreamOutcome, clock: RunClock): void {
  const { retriever, statistics, formatter, policy, resumed, miner } = run;
  const { written } = mined;
  const { times, started } = clock;
  const c = miner.counters;
  // The table for people; for machines (--log-format json) one 'statistics' event with the --stats-json figures.
  const minedNow = resumed ? written - resumed.checkpoint.recordsOut : undefined;
  const resumedNote = resumed
    ? `(this table covers the ${minedNow!.toLocaleString('en-US')} records mined in this run, not the ${resumed.checkpoint.recordsOut.toLocaleString('en-US')} resumed)\n`
    : '';
  const coverage = resumed ? { covers: 'records mined in this run', records_resumed: resumed.checkpoint.recordsOut, records_mined_now: minedNow } : {};
  infoBlock({ ...statistics.toJSON(), ...coverage }, 'statistics', statistics.toTable() + resumedNote);
  if (options.statsJson) {
    const runInfo: RunInfo = {
      command: process.argv.slice(2),
      version: rareMineVersion(),
      started_at: new Date(started).toISOString(),
      retriever: retriever.name,
      retriever_settings: retriever.describe(),
      input: plan.displayName,
      output: options.output ?? null,
      corpus: { source: run.corpusSource, documents: retriever.corpus.docCount },
      index_dir: options.indexDir ?? null,
      options: scalarOptions(options),
      timings: { ...Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Number(v.toFixed(3))])), total_seconds: Number(((Date.now() - started) / 1000).toFixed(3)) },
    };
    writeStatsAfterOutput(options.statsJson, { ...statistics.toJSON(), run: runInfo }, options.output, written);
  }
  for (const message of formatter.warnings()) log().warn(message);
  // Input records are those written and the input's lines rejected; corpus lines rejected are counted apart.
  const inputRejected = policy.rejectedIn(plan.displayName);
  const summary = {
    records_in: written + inputRejected,
    records_out: written,
    ...(resumed ? { records_resumed: resumed.checkpoint.recordsOut, records_mined_now: written - resumed.checkpoint.recordsOut } : {}),
    format: options.format,
    lines_out: formatter.tally.lines,
    ...(run.sideSinks.length > 0 ? { side_files: Object.fromEntries(run.sideSinks.map((side, i) => [side.path!, formatter.tally.sideLines[i]])) } : {}),
    rejected: inputRejected,
    ...(policy.rejected > inputRejected ? { corpus_rejected: policy.rejected - inputRejected } : {}),
    blank_lines: policy.blankLines,
    ...(plan.shard ? { shard: `${plan.shard.index}/${plan.shard.count}` } : {}),
    negatives_per_record: c.records === 0 ? 0 : Number((c.negatives / c.records).toFixed(3)),
    short_records: c.short,
    filled_records: c.filledRecords,
    filled_negatives: c.filledNegatives,
    records_without_positives: c.withoutPositives,
    unknown_positive_ids: c.unknownPositiveIds,
    excluded: c.excluded,
    ...Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Number(v.toFixed(3))])),
    total_seconds: Number(((Date.now() - started) / 1000).toFixed(3)),
  };
  log().info(summary, 'summary');
  if (c.unknownPositiveIds > 0) log().warn({ unknown_positive_ids: c.unknownPositiveIds }, `${c.unknownPositiveIds} positive ids are not in the corpus (records were mined without them)`);
  if (recordsSeen(written, policy, plan.displayName) === 0) log().warn({ input: plan.displayName }, 'the input holds no records');
  if (c.short > 0) {
    log().warn({ short_records: c.short, asked: options.numNeg }, `${c.short} records got fewer than ${options.numNeg} negatives: widen --max-rank, lower --min-rank, loosen the score filters, or use a larger corpus`);
  }
  // Last, so it is the line a reader sees: nothing was excluded for these records.
  if (c.withoutPositives > 0) log().warn({ records_without_positives: c.withoutPositives, records: c.records }, withoutPositivesWarning(c.withoutPositives, c.records, options));
}

/** The warning about records mined without a positive: how many, what it risks, what to do. */
export function withoutPositivesWarning(count: number, records: number, options: Pick<MineCommandOptions, 'textKey' | 'positiveIdsKey'>): string {
  const where = `no text under --text-key "${options.textKey}"${options.positiveIdsKey === undefined ? ' and no --positive-ids-key' : ` and no known id under --positive-ids-key "${options.positiveIdsKey}"`}`;
  const share = count === records ? `all ${count.toLocaleString('en-US')} records` : `${count.toLocaleString('en-US')} of ${records.toLocaleString('en-US')} records`;
  return `${share} ${count === 1 && records !== 1 ? 'has' : 'have'} no positive (${where}): nothing was excluded for them, so their own answers may be among their negatives; check the keys, or pass --require-positives to make such a record an error`;
}

/** The summary in words, for the one line a human reads (the JSON log object keeps every field for machines). */
export function summaryLine(s: Record<string, unknown>): string {
  const n = (value: unknown) => (typeof value === 'number' ? value : 0).toLocaleString('en-US');
  const seconds = (value: unknown) => (typeof value === 'number' ? value : 0).toFixed(1);
  const parts = [
    `${n(s.records_in)} records in, ${n(s.records_out)} out`,
    s.records_resumed !== undefined ? `the output holds ${n(s.records_out)}: ${n(s.records_resumed)} resumed from the partial output + ${n(s.records_mined_now)} mined now` : undefined,
    s.format === 'record' ? undefined : `${n(s.lines_out)} ${String(s.format)} lines`,
    s.side_files !== undefined && typeof s.side_files === 'object'
      ? Object.entries(s.side_files as Record<string, number>).map(([path, lines]) => `${n(lines)} lines in ${path}`).join(', ')
      : undefined,
    s.rejected !== 0 ? `${n(s.rejected)} rejected` : undefined,
    s.corpus_rejected !== undefined ? `${n(s.corpus_rejected)} corpus lines rejected` : undefined,
    s.blank_lines !== 0 ? `${n(s.blank_lines)} blank lines` : undefined,
    s.shard !== undefined ? `shard ${String(s.shard)}` : undefined,
    `${seconds(s.total_seconds)} s (index ${seconds(s.index_seconds)} s, mining ${seconds(s.mine_seconds)} s)`,
  ].filter((part): part is string => part !== undefined);
  return `summary: ${parts.join('; ')}`;
}
prettyAs('summary', summaryLine);

/**
 * --stats-json is written after the output was committed: a failure here must say that the output is complete,
 * so a finished run is not mistaken for a lost one (exit 1 all the same: something asked for was not written).
 */
function writeStatsAfterOutput(path: string, report: StatisticsReport & { run: RunInfo }, output: string | undefined, written: number): void {
  try {
    writeFileAtomically(path, JSON.stringify(report, null, 2) + '\n');
  } catch (error) {
    const fileError = fileErrorFrom(error, path);
    if (!fileError) throw error;
    throw new FileError(fileError.path, `cannot write --stats-json: ${fileError.reason}`, {
      cause: error,
      hint: `the output ${output === undefined || output === '-' ? '(stdout)' : output} is complete (${written} records); only the statistics file is missing`,
    });
  }
}

function recordsSeen(written: number, policy: RejectPolicy, input: string): number {
  return written + policy.rejectedIn(input);
}
