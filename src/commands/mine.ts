/**
 * The mining command body shared by `bm25`, `dense` and `hybrid`: resolve the corpus, open the retriever,
 * stream the input in batches through the Miner, write every record in input order, print the summary.
 * Invariant: records in = records written + records rejected (under --on-error skip), always.
 */
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileErrorFrom, FileError, IndexError, InputError, UsageError } from '../errors.js';
import { log, prettyAs } from '../log.js';
import { readRecords, RejectPolicy, type OnError } from '../io/jsonl.js';
import { inputName, isSeekable, spoolInput } from '../io/line-reader.js';
import { assertRegularPartial, directOutput, OutputSink, partialPath } from '../io/output.js';
import { checkPaths } from '../io/path-safety.js';
import { indexDirWrites } from '../index/layout.js';
import { readIndexDocStoreManifest } from '../index/index-dir.js';
import { Journal, journalPath, refuseOtherRun, resumeFrom, startCheckpoint, type Recovery } from '../io/journal.js';
import { parseShard, shardRange, shardSidecarPath, writeShardSidecar } from '../io/shards.js';
import { inputIdentity, outputOptions, type RunFingerprint } from '../io/run-fingerprint.js';
import { describeHolder, LeaseLock } from '../io/lease-lock.js';
import { Miner, type MiningOptions, type ParsedRecord } from '../mine/miner.js';
import type { Retriever } from '../mine/retriever.js';
import { RecordFormatter, type FormatOptions } from '../formats/formats.js';
import type { IfKeyExists } from '../formats/record.js';
import { MiningStatistics, type StatisticsReport } from '../mine/statistics.js';
import { rareMineVersion, scalarOptions, type RunInfo } from '../mine/run-info.js';
import { CrossEncoder } from '../rescore/cross-encoder.js';
import { corpusFileSource, corpusFromInput, fingerprintFile, type CorpusKeys, type CorpusSource } from '../corpus/corpus-source.js';
import { DocStore } from '../corpus/doc-store.js';
import { Progress } from '../terminal/progress.js';
import { setActiveOutput } from '../terminal/signals.js';

export interface RecordOptions {
  questionKey: string;
  textKey: string;
  positiveIdsKey?: string;
  outputKey: string;
  ifKeyExists: IfKeyExists;
  withScores: boolean;
  withIds: boolean;
  output?: string;
  onError: OnError;
  rejects?: string;
  maxLineBytes: number;
}

export interface CorpusOptions {
  corpus?: string;
  corpusIdKey: string;
  corpusTextKey: string;
  corpusTitleKey: string;
  indexDir?: string;
  rebuild: boolean;
}

export interface MineCommandOptions extends RecordOptions, CorpusOptions, FormatOptions, Omit<MiningOptions, 'questionKey' | 'textKey' | 'positiveIdsKey'> {
  /** Write the end-of-run statistics as JSON here. */
  statsJson?: string;
  /** Cross-encoder model dir for re-scoring. */
  rescoreModel?: string;
  /** Search threads (BM25's worker pool; the dense model's and USearch's threads); 1 = all in this thread. */
  threads?: number;
  batchSize: number;
  /** "I/N": process only shard I of N (0-based) of the input file. */
  shard?: string;
  /** Continue `<output>.partial` from its journal. */
  resume: boolean;
}

const INPUT_SOURCE_PREFIX = 'input texts of ';
/** In the input-corpus fingerprint: v2 names each text of a list of positives `line:N:i` (v1 gave them all `line:N`). */
const INPUT_CORPUS_VERSION = 'input-v2';

/**
 * The corpus to index: --corpus; else, when --index-dir already holds a doc store built from a corpus file,
 * that index as it is; else (DataFlow style) the distinct positive texts of the input.
 */
export async function resolveCorpusSource(options: CorpusOptions & { textKey: string }, inputPath: string, policy: RejectPolicy, displayName = inputPath): Promise<CorpusSource | undefined> {
  const keys: CorpusKeys = { idKey: options.corpusIdKey, textKey: options.corpusTextKey, titleKey: options.corpusTitleKey };
  if (options.corpus) return corpusFileSource(options.corpus, keys, policy);
  if (options.indexDir) {
    // A damaged doc store is an IndexError (exit 3), not "none": it must not be replaced by the input's texts
    // unless --rebuild says so.
    const hint = `rare-mine index bm25 --corpus CORPUS --index-dir ${options.indexDir}`;
    let manifest;
    try {
      manifest = readIndexDocStoreManifest(options.indexDir, hint);
    } catch (error) {
      if (!(options.rebuild && error instanceof IndexError)) throw error;
      log().warn({ reason: error.message }, '--rebuild: replacing a damaged doc store with the input texts');
    }
    if (manifest && !manifest.source.startsWith(INPUT_SOURCE_PREFIX)) {
      log().info({ corpus: manifest.source, docs: manifest.docCount }, 'no --corpus: using the corpus already indexed in --index-dir');
      return undefined;
    }
  }
  return {
    description: `${INPUT_SOURCE_PREFIX}${displayName}`,
    fingerprint: await fingerprintFile(inputPath, `${INPUT_CORPUS_VERSION};${options.textKey}`),
    documents: () => corpusFromInput(inputPath, options.textKey, policy, displayName),
  };
}

export type RetrieverFactory = (source: CorpusSource | undefined) => Promise<Retriever>;

/**
 * One writer per output: `<output>.lock` (a lease lock, src/io/lease-lock.ts) while the run lasts. A second run on
 * the same -o refuses at once (two writers would mix their bytes); a lock whose holder is gone is taken over.
 */
function lockOutput(output: string): LeaseLock | undefined {
  // A missing folder is reported by the path checks (exit 1); a FIFO or device is written directly, unlocked.
  if (!existsSync(dirname(resolve(output))) || directOutput(output)) return undefined;
  let lock: ReturnType<typeof LeaseLock.tryAcquire>;
  try {
    lock = LeaseLock.tryAcquire(`${output}.lock`, `writing ${output}`);
  } catch (error) {
    throw new UsageError(`-o ${output}: cannot create ${output}.lock (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  if (lock instanceof LeaseLock) return lock;
  throw new UsageError(`${output} is being written by another rare-mine run (${describeHolder(lock)})`, {
    hint: `two runs on one output would mix their bytes: let that run finish, or write elsewhere. A lock whose holder is gone goes stale after RARE_MINE_LOCK_LEASE_SECONDS (default 60) or at once on the holder's host.`,
  });
}

/** The identity of the index build the retriever reads: what its doc store manifest records. */
function indexIdentity(retriever: Retriever): Record<string, unknown> {
  const corpus = retriever.corpus;
  return corpus instanceof DocStore ? { corpusFingerprint: corpus.manifest.corpusFingerprint, docs: corpus.docCount } : { docs: corpus.docCount };
}

/** Run a mining command end to end (holding the output's writer lock with -o FILE). */
export async function runMine(inputPath: string | undefined, options: MineCommandOptions, openRetriever: RetrieverFactory): Promise<void> {
  const writerLock = options.output && options.output !== '-' ? lockOutput(options.output) : undefined;
  try {
    await mineLocked(inputPath, options, openRetriever);
  } finally {
    writerLock?.release();
  }
}

async function mineLocked(inputPath: string | undefined, options: MineCommandOptions, openRetriever: RetrieverFactory): Promise<void> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const times: Record<string, number> = {};
  const displayName = inputName(inputPath);
  const fromStdin = inputPath === undefined || inputPath === '-';
  const shard = options.shard ? parseShard(options.shard) : undefined;
  if (shard && fromStdin) throw new UsageError('--shard needs an input file (shards read byte ranges of it), not stdin');
  if (options.resume && (!options.output || fromStdin)) throw new UsageError('--resume needs an input file and -o FILE (it continues FILE.partial)');
  const seekable = fromStdin || isSeekable(inputPath!);
  if ((shard || options.resume) && !seekable) {
    throw new UsageError(`${shard ? '--shard' : '--resume'} needs a regular input file (it ${shard ? 'reads a byte range of it' : 'continues at a byte offset of it'}); ${inputPath} is a pipe, FIFO or device`, {
      hint: 'write the input to a file first (e.g. zcat in.jsonl.gz > in.jsonl)',
    });
  }
  const direct = options.output !== undefined && options.output !== '-' && directOutput(options.output);
  if ((shard || options.resume) && direct) {
    throw new UsageError(`${shard ? '--shard' : '--resume'} needs -o to be a regular file (it keeps a partial file and a sidecar beside it); ${options.output} is a FIFO or device`);
  }
  checkPathsBeforeWork(fromStdin ? undefined : inputPath, options);
  checkPaths({
    reads: [
      { option: 'input', path: fromStdin ? undefined : inputPath },
      { option: '--corpus', path: options.corpus },
    ],
    writes: [
      {
        option: '-o',
        path: options.output,
        siblings: options.output === undefined || direct ? [] : [partialPath(options.output), journalPath(partialPath(options.output)), shardSidecarPath(options.output), `${options.output}.lock`],
      },
      { option: '--rejects', path: options.rejects },
      { option: '--stats-json', path: options.statsJson },
      ...indexDirWrites(options.indexDir),
    ],
  });

  // Where to start: a shard's byte range, moved forward by a resumed checkpoint.
  let range: { startByte: number; endByte?: number; startLine: number } = { startByte: 0, startLine: 1 };
  if (shard) range = shardRange(inputPath!, shard);
  const start = startCheckpoint(range.startByte, range.startLine);
  const partial = options.output ? partialPath(options.output) : undefined;
  if (options.resume && partial) assertRegularPartial(partial);
  const journal = partial && options.output !== '-' ? new Journal(journalPath(partial)) : undefined;
  const previous = options.resume && journal && existsSync(partial!) ? journal.read() : undefined;
  if (options.resume && !previous) log().info({ output: options.output }, 'nothing to resume: starting from the beginning');
  const fingerprint: RunFingerprint = {
    rareMine: rareMineVersion(),
    command: '',
    // A pipe or FIFO is never hashed here: reading it would consume the input (and such runs never resume).
    input: fromStdin || !seekable ? { path: fromStdin ? '<stdin>' : inputPath!, bytes: -1, headTailSha256: '' } : inputIdentity(inputPath!),
    options: outputOptions(options),
    index: {},
    shard: shard ? `${shard.index}/${shard.count}` : null,
  };
  // Refuse another run's partial before opening (or building) anything.
  if (previous) refuseOtherRun(partial!, previous, fingerprint, ['rareMine', 'input', 'options', 'shard']);

  const policy = new RejectPolicy(options.onError, options.rejects, { append: previous !== undefined });
  let readPath = inputPath;
  if ((fromStdin || !seekable) && !options.corpus) {
    readPath = await spoolInput(inputPath);
    log().debug({ input: displayName, spool: readPath }, 'input spooled to a temporary file (it is also the corpus, and is read twice)');
  }
  // Fail fast: the re-scoring model is opened before any index is built.
  const rescorer = options.rescoreModel ? await CrossEncoder.open(options.rescoreModel, { threads: options.threads }) : undefined;
  const source = await resolveCorpusSource(options, readPath ?? '-', policy, displayName);
  let retriever: Retriever;
  try {
    retriever = await openRetriever(source);
  } catch (error) {
    await rescorer?.close();
    throw error;
  }
  const corpusSource =
    source?.description ??
    (options.indexDir ? readIndexDocStoreManifest(options.indexDir, `rare-mine index bm25 --corpus CORPUS --index-dir ${options.indexDir}`)?.source : undefined) ??
    'the corpus in --index-dir';
  times.index_seconds = (Date.now() - started) / 1000;
  fingerprint.command = retriever.name;
  fingerprint.index = indexIdentity(retriever);
  let resumed: Recovery | undefined;
  if (previous) {
    refuseOtherRun(partial!, previous, fingerprint, ['command', 'index']);
    resumed = resumeFrom(partial!, previous, start, options.rejects);
    if (resumed) range = { ...range, startByte: resumed.checkpoint.inputByte, startLine: resumed.checkpoint.inputLine };
  }
  journal?.begin(fingerprint, resumed ? [start, resumed.checkpoint] : [start]);

  const miner = new Miner(retriever, { ...options, onUnknownPositiveId: options.onError === 'skip' ? 'warn' : 'fail' }, displayName, rescorer);
  const formatter = new RecordFormatter(options.format, {
    corpus: retriever.corpus,
    inputName: displayName,
    outputKey: options.outputKey,
    ifKeyExists: options.ifKeyExists,
    withScores: options.withScores,
    withIds: options.withIds,
    withRanks: options.withRanks,
    numNeg: options.numNeg,
    queryIdKey: options.queryIdKey,
    positiveTextIds: (mined) => mined.positives.map((text) => {
      const ordinal = retriever.corpus.ordinalOfText(text);
      return ordinal === undefined ? undefined : retriever.corpus.id(ordinal);
    }),
  });
  const statistics = new MiningStatistics({ numNeg: options.numNeg, minRank: options.minRank, maxRank: options.maxRank, suggestFill: retriever.name === 'bm25' && options.fill === 'none' });
  const sink = new OutputSink(options.output, {
    append: resumed !== undefined,
    startBytes: resumed?.checkpoint.outputBytes,
    startLines: resumed?.checkpoint.outputLines,
    hash: resumed?.hash,
  });
  setActiveOutput(sink);
  const miningStarted = Date.now();
  let written = resumed?.checkpoint.recordsOut ?? 0;
  const rejectedBefore = resumed?.checkpoint.rejected ?? 0;
  // Bytes of the input file (or shard) when there is one: a percentage and an ETA; records and a rate otherwise.
  const totalBytes = readPath !== undefined && readPath !== '-' ? (range.endByte ?? statSync(readPath).size) - range.startByte : undefined;
  const progress = new Progress('mining', totalBytes === undefined ? { itemLabel: 'records' } : { unit: 'bytes', total: totalBytes, itemLabel: 'records' });
  let lastEndByte = range.startByte;
  const rejectsBytes = () => (options.rejects && existsSync(options.rejects) ? statSync(options.rejects).size : 0);
  try {
    let batch: ParsedRecord[] = [];
    let resumePoint = { inputByte: range.startByte, inputLine: range.startLine };
    const flush = async () => {
      if (batch.length > 0) {
        const mined = await miner.mine(batch);
        batch = [];
        for (const record of mined) {
          let lines: string[];
          try {
            lines = formatter.lines(record);
          } catch (error) {
            if (!(error instanceof InputError)) throw error;
            policy.reject(error, record.record.raw);
            continue;
          }
          statistics.add(record);
          for (const line of lines) {
            const wait = sink.write(line + '\n');
            if (wait) await wait;
          }
          written++;
        }
        progress.tick(mined.length, totalBytes === undefined ? undefined : lastEndByte - range.startByte);
      }
      if (journal) {
        await sink.settled();
        journal.record({
          ...resumePoint,
          outputBytes: sink.bytesWritten,
          outputLines: sink.linesWritten,
          outputSha256: sink.sha256()!,
          rejectsBytes: rejectsBytes(),
          recordsOut: written,
          rejected: rejectedBefore + policy.rejected,
        });
      }
    };
    const records = readRecords(readPath, {
      policy,
      maxLineBytes: options.maxLineBytes,
      displayName,
      startByte: range.startByte,
      endByte: range.endByte,
      startLine: range.startLine,
    });
    for await (const record of records) {
      if (sink.closed) break;
      let parsed: ParsedRecord;
      try {
        parsed = miner.parse(record);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        policy.reject(error, record.raw);
        continue;
      }
      batch.push(parsed);
      lastEndByte = record.endOffset;
      if (batch.length >= options.batchSize) {
        resumePoint = { inputByte: record.endOffset, inputLine: record.lineNumber + 1 };
        await flush();
      }
    }
    resumePoint = { inputByte: range.endByte ?? Number.MAX_SAFE_INTEGER, inputLine: 0 };
    await flush();
    progress.done();
    if (sink.closed) {
      log().debug('output closed by the reader (e.g. | head): stopping early, not an error');
      await sink.abort();
      return;
    }
    if (shard && options.output) {
      // Written before the rename: a final output never lacks its sidecar (merge checks size and checksum).
      writeShardSidecar(options.output, {
        fingerprint,
        shard,
        range: { startByte: start.inputByte, endByte: range.endByte!, startLine: start.inputLine },
        bytes: sink.bytesWritten,
        lines: sink.linesWritten,
        sha256: sink.sha256()!,
        records: written,
        rejected: rejectedBefore + policy.rejected,
      });
    } else if (options.output && options.output !== '-') rmSync(shardSidecarPath(options.output), { force: true });
    await sink.commit();
    journal?.remove();
  } catch (error) {
    progress.done();
    await sink.abort();
    journal?.remove();
    throw error;
  } finally {
    setActiveOutput(undefined);
    await retriever.close();
    await rescorer?.close();
  }
  times.mine_seconds = (Date.now() - miningStarted) / 1000;
  const c = miner.counters;
  if (log().isLevelEnabled('info')) {
    process.stderr.write(statistics.toTable());
    if (resumed) process.stderr.write(`(this table covers the ${(written - resumed.checkpoint.recordsOut).toLocaleString('en-US')} records mined in this run, not the ${resumed.checkpoint.recordsOut.toLocaleString('en-US')} resumed)\n`);
  }
  if (options.statsJson) {
    const run: RunInfo = {
      command: process.argv.slice(2),
      version: rareMineVersion(),
      started_at: startedAt,
      retriever: retriever.name,
      retriever_settings: retriever.describe(),
      input: displayName,
      output: options.output ?? null,
      corpus: { source: corpusSource, documents: retriever.corpus.docCount },
      index_dir: options.indexDir ?? null,
      options: scalarOptions(options),
      timings: { ...Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Number(v.toFixed(3))])), total_seconds: Number(((Date.now() - started) / 1000).toFixed(3)) },
    };
    writeStatsAfterOutput(options.statsJson, { ...statistics.toJSON(), run }, options.output, written);
  }
  for (const message of formatter.warnings()) log().warn(message);
  const summary = {
    records_in: written + policy.rejected,
    records_out: written,
    ...(resumed ? { records_resumed: resumed.checkpoint.recordsOut, records_mined_now: written - resumed.checkpoint.recordsOut } : {}),
    format: options.format,
    lines_out: formatter.tally.lines,
    rejected: policy.rejected,
    blank_lines: policy.blankLines,
    ...(shard ? { shard: `${shard.index}/${shard.count}` } : {}),
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
  if (recordsSeen(written, policy) === 0) log().warn({ input: displayName }, 'the input holds no records');
  if (c.short > 0) {
    log().warn({ short_records: c.short, asked: options.numNeg }, `${c.short} records got fewer than ${options.numNeg} negatives: widen --max-rank, lower --min-rank, loosen the score filters, or use a larger corpus`);
  }
}

/** The summary in words, for the one line a human reads (the JSON log object keeps every field for machines). */
export function summaryLine(s: Record<string, unknown>): string {
  const n = (value: unknown) => (typeof value === 'number' ? value : 0).toLocaleString('en-US');
  const seconds = (value: unknown) => (typeof value === 'number' ? value : 0).toFixed(1);
  const parts = [
    `${n(s.records_in)} records in, ${n(s.records_out)} out`,
    s.records_resumed !== undefined ? `the output holds ${n(s.records_out)}: ${n(s.records_resumed)} resumed from the partial output + ${n(s.records_mined_now)} mined now` : undefined,
    s.format === 'record' ? undefined : `${n(s.lines_out)} ${String(s.format)} lines`,
    s.rejected !== 0 ? `${n(s.rejected)} rejected` : undefined,
    s.blank_lines !== 0 ? `${n(s.blank_lines)} blank lines` : undefined,
    s.shard !== undefined ? `shard ${String(s.shard)}` : undefined,
    `${seconds(s.total_seconds)} s (index ${seconds(s.index_seconds)} s, mining ${seconds(s.mine_seconds)} s)`,
  ].filter((part): part is string => part !== undefined);
  return `summary: ${parts.join('; ')}`;
}
prettyAs('summary', summaryLine);

/** Fail fast: the input and corpus exist (the paths written are checked by checkPaths, src/io/path-safety.ts), before any long work (models are opened first by their own code). */
function checkPathsBeforeWork(inputPath: string | undefined, options: MineCommandOptions): void {
  const readable: Array<[string | undefined, string]> = [
    [inputPath, 'input'],
    [options.corpus, '--corpus'],
  ];
  for (const [path, what] of readable) {
    if (path !== undefined && !existsSync(path)) throw new InputError(path, undefined, `cannot open: no such file or directory (${what})`);
  }
  if (inputPath !== undefined && statSync(inputPath).isDirectory()) throw new InputError(inputPath, undefined, 'is a directory, not a JSONL file (input)');
}

/**
 * --stats-json is written after the output was committed: a failure here must say that the output is complete,
 * so a finished run is not mistaken for a lost one (exit 1 all the same: something asked for was not written).
 */
function writeStatsAfterOutput(path: string, report: StatisticsReport & { run: RunInfo }, output: string | undefined, written: number): void {
  try {
    writeFileSync(path, JSON.stringify(report, null, 2) + '\n');
  } catch (error) {
    const fileError = fileErrorFrom(error, path);
    if (!fileError) throw error;
    throw new FileError(fileError.path, `cannot write --stats-json: ${fileError.reason}`, {
      cause: error,
      hint: `the output ${output === undefined || output === '-' ? '(stdout)' : output} is complete (${written} records); only the statistics file is missing`,
    });
  }
}

function recordsSeen(written: number, policy: RejectPolicy): number {
  return written + policy.rejected;
}
