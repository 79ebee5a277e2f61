/**
 * The mining commands, one per row of RETRIEVERS (src/retrievers/retrievers.ts), and the run they share, in the
 * stages of docs/ARCHITECTURE.md's flow: plan the start (shards, resume, paths), open the run (input, retriever,
 * rescorer, output), mine the stream (batches), finish the output (sidecar, rename, journal), report (table,
 * --stats-json, summary). Invariant: records in = records written + records rejected (under --on-error skip), always.
 */
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileErrorFrom, FileError, IndexError, InputError, UsageError } from '../errors.js';
import { infoBlock, log, prettyAs } from '../log.js';
import { readRecords, RejectPolicy, type OnError } from '../io/jsonl.js';
import { inputName, isSeekable, spoolInput } from '../io/line-reader.js';
import { assertRegularPartial, directOutput, OutputSink, partialPath } from '../io/output.js';
import { checkPaths } from '../io/path-safety.js';
import { indexDirWrites } from '../index/layout.js';
import { readIndexDocStoreManifest } from '../index/index-dir.js';
import { Journal, journalPath, refuseOtherRun, resumeFrom, startCheckpoint, type Checkpoint, type JournalContents, type Recovery } from '../io/journal.js';
import { parseShard, shardRange, shardSidecarPath, writeShardSidecar, type Shard } from '../io/shards.js';
import { inputIdentity, outputOptions, type RunFingerprint } from '../io/run-fingerprint.js';
import { describeHolder, LeaseLock } from '../io/lease-lock.js';
import { Miner, type MiningOptions, type ParsedRecord } from '../mine/miner.js';
import type { Retriever } from '../retriever.js';
import { FORMATS, RecordFormatter, type FormatOptions, type FormattedRecord } from '../formats/formats.js';
import type { IfKeyExists } from '../formats/record.js';
import { MiningStatistics, type StatisticsReport } from '../mine/statistics.js';
import { rareMineVersion, scalarOptions, type RunInfo } from '../mine/run-info.js';
import { CrossEncoder } from '../rescore/cross-encoder.js';
import { corpusFileSource, corpusFromInput, fingerprintFile, regularFileBytes, type CorpusKeys, type CorpusSource } from '../corpus/corpus-source.js';
import { DocStore } from '../corpus/doc-store.js';
import { addCorpusOptions, addFormatOptions, addMiningOptions, addRecordOptions, addRunOptions, corpusKeyUses, inputKeyUses } from '../cli/options.js';
import { censusOfInput, checkKeys } from '../io/record-keys.js';
import { Progress } from '../terminal/progress.js';
import { setActiveOutput } from '../terminal/signals.js';
import { RETRIEVERS } from '../retrievers/retrievers.js';
import { openRetriever, type IndexDirOptions, type RetrieverKind } from '../retrievers/retriever-kind.js';
import type { Command } from 'commander';
import { recordRows } from '../io/record-rows.js';
import { vectorFilesIdentity, type VectorInputOptions } from '../dense/vector-inputs.js';

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
  threads: number;
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
  if (options.corpus) return corpusFileSource(options.corpus, keys, policy, corpusKeyUses(options));
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
    totalBytes: regularFileBytes(inputPath),
    documents: () => corpusFromInput(inputPath, options.textKey, policy, displayName),
  };
}

/** Whether --index-dir holds a doc store built from a corpus file (which a run without --corpus then uses). */
function indexHoldsCorpusFile(options: CorpusOptions): boolean {
  if (!options.indexDir) return false;
  try {
    const manifest = readIndexDocStoreManifest(options.indexDir, '');
    return manifest !== undefined && !manifest.source.startsWith(INPUT_SOURCE_PREFIX);
  } catch {
    return false; // a damaged doc store is reported when the corpus is resolved (resolveCorpusSource)
  }
}

/**
 * Keys checked before any work: the fields the options name must be in the first records of the input (the
 * shard's, or the resumed range's), before a model, the corpus or an index is opened or built. A one-pass input
 * is peeked and replayed (src/io/line-reader.ts peekInput): the run still reads every record.
 */
async function checkInputKeys(plan: StartPlan, options: MineCommandOptions): Promise<void> {
  const corpusIsInput = !options.corpus && !indexHoldsCorpusFile(options);
  const census = await censusOfInput(plan.inputPath, { seekable: plan.seekable, startByte: plan.range.startByte, endByte: plan.range.endByte, displayName: plan.displayName });
  checkKeys(census, inputKeyUses(options, corpusIsInput));
}

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

/**
 * Another run took over this run's output: its writer lock went stale (no heartbeat for a whole lease: the process
 * was frozen, or the filesystem stalled) and was taken. This run stops writing at once and leaves the partial and
 * its journal to that run. Exit 1.
 */
class OutputTakenOver extends FileError {}

/** Throw OutputTakenOver unless this run still holds the output's writer lock (checked before every write). */
function assertStillWriter(lock: LeaseLock | undefined, output: string | undefined): void {
  if (!lock || lock.stillHeld()) return;
  throw new OutputTakenOver(output!, `another rare-mine run took over this output (${output}.lock had no heartbeat from this run for a whole lease); stopped without writing, renaming or removing ${partialPath(output!)}`, {
    hint: 'that run now writes it. A run is taken over only when its heartbeat stops for RARE_MINE_LOCK_LEASE_SECONDS (default 60): a frozen (stopped, swapped-out) process or a stalled filesystem',
  });
}

/** The identity of the index build the retriever reads: what its doc store manifest records. */
function indexIdentity(retriever: Retriever): Record<string, unknown> {
  const corpus = retriever.corpus;
  return corpus instanceof DocStore ? { corpusFingerprint: corpus.manifest.corpusFingerprint, docs: corpus.docCount } : { docs: corpus.docCount };
}

/**
 * Run a mining command end to end (holding the output's writer lock with -o FILE), in the stages of
 * docs/ARCHITECTURE.md's flow: plan the start, open the run, mine the stream, finish the output, report.
 */
export async function runMine<O extends IndexDirOptions>(inputPath: string | undefined, options: MineCommandOptions & O, kind: RetrieverKind<O>): Promise<void> {
  const writerLock = options.output && options.output !== '-' ? lockOutput(options.output) : undefined;
  const sideLocks: LeaseLock[] = [];
  try {
    const clock: RunClock = { started: Date.now(), times: {} };
    const plan = planStart(inputPath, options);
    // After the path checks, so a side file that is -o itself is reported as such, not as a lock held by this run.
    for (const path of sideFilePaths(options)) {
      const lock = lockOutput(path);
      if (lock) sideLocks.push(lock);
    }
    const run = await openRun(plan, options, kind, clock);
    let mined: StreamOutcome;
    try {
      mined = await mineStream(plan, run, options, writerLock);
      if (mined.complete) await finishOutput(plan, run, options, mined, writerLock);
      else for (const side of run.sideSinks) await side.abort();
    } catch (error) {
      if (error instanceof OutputTakenOver) {
        run.sink.abandon();
        for (const side of run.sideSinks) side.abandon();
        throw error;
      }
      await run.sink.abort();
      for (const side of run.sideSinks) await side.abort();
      plan.journal?.remove();
      throw error;
    } finally {
      setActiveOutput(undefined);
      await run.retriever.close();
      await run.rescorer?.close();
    }
    clock.times.mine_seconds = (Date.now() - mined.started) / 1000;
    if (mined.complete) report(plan, run, options, mined, clock);
  } finally {
    for (const lock of sideLocks) lock.release();
    writerLock?.release();
  }
}

/**
 * The side files of --format (colbert's queries and collection TSVs): in --colbert-dir, else beside -o. Empty for
 * formats without side files, and when there is no directory to put them in (stdout without --colbert-dir is a
 * usage error, src/cli/options.ts; a FIFO or device -o is refused in planStart).
 */
function sideFilePaths(options: MineCommandOptions): string[] {
  const sideFiles = FORMATS[options.format].sideFiles ?? [];
  if (sideFiles.length === 0) return [];
  const dir = options.colbertDir ?? (options.output !== undefined && options.output !== '-' ? dirname(options.output) : undefined);
  return dir === undefined ? [] : sideFiles.map((side) => join(dir, side.fileName));
}

/** When the run started and how long its phases took (index_seconds, mine_seconds), for the summary. */
interface RunClock {
  readonly started: number;
  readonly times: Record<string, number>;
}

/** Where a run starts and what it may continue, decided before anything is opened or built. */
interface StartPlan {
  /** The input as logs and errors name it ("<stdin>" for stdin). */
  readonly displayName: string;
  readonly inputPath: string | undefined;
  readonly fromStdin: boolean;
  /** A regular file (or stdin): positioned reads work. A pipe, FIFO or device is read once, in order. */
  readonly seekable: boolean;
  readonly shard?: Shard;
  /** The bytes and first line this run reads: the shard's range, or the whole input. */
  readonly range: InputRange;
  /** The first checkpoint (the range's start), before any resumed one. */
  readonly start: Checkpoint;
  readonly partial?: string;
  readonly journal?: Journal;
  /** The journal of the run this one resumes (--resume with a partial output). */
  readonly previous?: JournalContents;
  /** This run's identity; `command` and `index` are filled in when the retriever is open. */
  readonly fingerprint: RunFingerprint;
}

interface InputRange {
  startByte: number;
  endByte?: number;
  startLine: number;
}

/**
 * Stage 1, plan the start: the combinations of --shard, --resume, stdin and -o that cannot work, the paths read
 * and written, the shard's byte range, and the partial output a resume continues (refused when another run wrote
 * it), all before any index is opened or built.
 */
function planStart(inputPath: string | undefined, options: MineCommandOptions): StartPlan {
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
  if (sideFilePaths(options).length > 0 && direct && options.colbertDir === undefined) {
    throw new UsageError(`--format ${options.format} writing to ${options.output} (a FIFO or device) needs --colbert-dir DIR for its queries and collection files`);
  }
  checkPathsBeforeWork(fromStdin ? undefined : inputPath, options);
  const vectorFiles = options as Partial<VectorInputOptions>;
  const sidePaths = sideFilePaths(options);
  checkPaths({
    reads: [
      { option: 'input', path: fromStdin ? undefined : inputPath },
      { option: '--corpus', path: options.corpus },
      { option: '--corpus-vectors', path: vectorFiles.corpusVectors },
      { option: '--query-vectors', path: vectorFiles.queryVectors },
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
      ...sidePaths.map((path) => ({ option: options.colbertDir === undefined ? `--format ${options.format} (beside -o)` : '--colbert-dir', path, siblings: [partialPath(path), `${path}.lock`] })),
    ],
  });

  // Where to start: a shard's byte range (moved forward by a resumed checkpoint when the run is open).
  const range: InputRange = shard ? shardRange(inputPath!, shard) : { startByte: 0, startLine: 1 };
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
  return { displayName, inputPath, fromStdin, seekable, shard, range, start, partial, journal, previous, fingerprint };
}

/** Everything a run reads and writes once it is open. */
interface OpenRun {
  readonly policy: RejectPolicy;
  /** The file records are read from: the input, or its spooled copy (stdin or a pipe that is also the corpus). */
  readonly readPath: string | undefined;
  readonly rescorer?: CrossEncoder;
  readonly retriever: Retriever;
  /** What the corpus is, for --stats-json. */
  readonly corpusSource: string;
  /** The partial output's checkpoint this run continues from (--resume). */
  readonly resumed?: Recovery;
  /** The plan's range, moved to the resumed checkpoint. */
  readonly range: InputRange;
  readonly miner: Miner;
  readonly formatter: RecordFormatter;
  readonly statistics: MiningStatistics;
  readonly sink: OutputSink;
  /** The format's side files (colbert's TSVs), aligned with its `sideFiles`; committed before the main output. */
  readonly sideSinks: OutputSink[];
}

/**
 * Stage 2, open the run: the reject policy, the input (spooled when it must be read twice), the re-scoring model
 * (before any index is built), the corpus and the retriever over it, the resumed checkpoint (refused when the
 * index differs from the partial's), the journal's first entries, the miner, the output format and the output.
 */
async function openRun<O extends IndexDirOptions>(plan: StartPlan, options: MineCommandOptions & O, kind: RetrieverKind<O>, clock: RunClock): Promise<OpenRun> {
  const { displayName, previous, partial, fingerprint, start } = plan;
  await checkInputKeys(plan, options);
  const policy = new RejectPolicy(options.onError, options.rejects, { append: previous !== undefined });
  let readPath = plan.inputPath;
  const queryVectors = (options as Partial<VectorInputOptions>).queryVectors;
  if ((plan.fromStdin || !plan.seekable) && (!options.corpus || queryVectors !== undefined)) {
    readPath = await spoolInput(plan.inputPath);
    log().debug({ input: displayName, spool: readPath }, `input spooled to a temporary file (${options.corpus ? 'its records are counted against --query-vectors' : 'it is also the corpus'}, and is read twice)`);
  }
  // --query-vectors: row i is the i-th record of the input, checked against the file before any index is built.
  const queries = queryVectors === undefined ? undefined : await recordRows(readPath!, displayName, options.maxLineBytes);
  // Fail fast: the re-scoring model is opened before any index is built.
  const rescorer = options.rescoreModel ? await CrossEncoder.open(options.rescoreModel, { threads: options.threads }) : undefined;
  const source = await resolveCorpusSource(options, readPath ?? '-', policy, displayName);
  let retriever: Retriever;
  try {
    retriever = await openRetriever(kind, source, options, 'mine', queries);
  } catch (error) {
    await rescorer?.close();
    throw error;
  }
  const corpusSource =
    source?.description ??
    (options.indexDir ? readIndexDocStoreManifest(options.indexDir, `rare-mine index bm25 --corpus CORPUS --index-dir ${options.indexDir}`)?.source : undefined) ??
    'the corpus in --index-dir';
  clock.times.index_seconds = (Date.now() - clock.started) / 1000;
  fingerprint.command = retriever.name;
  fingerprint.index = { ...indexIdentity(retriever), ...vectorFilesIdentity(options as Partial<VectorInputOptions>) };
  let resumed: Recovery | undefined;
  let range = plan.range;
  if (previous) {
    refuseOtherRun(partial!, previous, fingerprint, ['command', 'index']);
    resumed = resumeFrom(partial!, previous, start, options.rejects);
    if (resumed) range = { ...range, startByte: resumed.checkpoint.inputByte, startLine: resumed.checkpoint.inputLine };
  }
  plan.journal?.begin(fingerprint, resumed ? [start, resumed.checkpoint] : [start]);

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
    questionKey: options.questionKey,
    textKey: options.textKey,
    positiveTextOrdinals: (mined) => mined.positives.map((text) => retriever.corpus.ordinalOfText(text)),
  });
  const statistics = new MiningStatistics({ numNeg: options.numNeg, minRank: options.minRank, maxRank: options.maxRank, suggestFill: kind.rankingRunsOut && options.fill === 'none' });
  const sink = new OutputSink(options.output, {
    append: resumed !== undefined,
    startBytes: resumed?.checkpoint.outputBytes,
    startLines: resumed?.checkpoint.outputLines,
    hash: resumed?.hash,
  });
  const sideSinks: OutputSink[] = [];
  try {
    for (const path of sideFilePaths(options)) sideSinks.push(new OutputSink(path));
  } catch (error) {
    for (const side of sideSinks) await side.abort();
    await sink.abort();
    await retriever.close();
    await rescorer?.close();
    throw error;
  }
  setActiveOutput(sink, sideSinks);
  return { policy, readPath, rescorer, retriever, corpusSource, resumed, range, miner, formatter, statistics, sink, sideSinks };
}

/** What mining the stream did. */
interface StreamOutcome {
  /** When mining began (after the run was open). */
  readonly started: number;
  /** Records written, the resumed ones included. */
  readonly written: number;
  /** Records rejected by runs this one resumes. */
  readonly rejectedBefore: number;
  /** False when the reader closed the output early (`| head`): nothing to commit or report. */
  readonly complete: boolean;
}

/**
 * Stage 3, mine the stream: records read in input order, parsed, mined a batch at a time, formatted and written,
 * a journal checkpoint after each batch (every record is written or rejected; a checkpoint never claims bytes the
 * output has not got).
 */
async function mineStream(plan: StartPlan, run: OpenRun, options: MineCommandOptions, writerLock: LeaseLock | undefined): Promise<StreamOutcome> {
  const { range, readPath, miner, formatter, statistics, sink, sideSinks, policy } = run;
  const started = Date.now();
  let written = run.resumed?.checkpoint.recordsOut ?? 0;
  const rejectedBefore = run.resumed?.checkpoint.rejected ?? 0;
  // Bytes of the input file (or shard) when there is one: a percentage and an ETA; records and a rate otherwise.
  const totalBytes = readPath !== undefined && readPath !== '-' ? (range.endByte ?? statSync(readPath).size) - range.startByte : undefined;
  const progress = new Progress('mining', totalBytes === undefined ? { itemLabel: 'records' } : { unit: 'bytes', total: totalBytes, itemLabel: 'records' });
  let lastEndByte = range.startByte;
  const rejectsBytes = () => (options.rejects && existsSync(options.rejects) ? statSync(options.rejects).size : 0);
  try {
    type ResumePoint = { inputByte: number; inputLine: number };
    let batch: ParsedRecord[] = [];
    // A full batch is searched ahead (off-thread search) while the one before it is selected and written.
    let waiting: { batch: ParsedRecord[]; resumePoint: ResumePoint } | undefined;
    const flush = async (ready: ParsedRecord[], resumePoint: ResumePoint) => {
      if (ready.length > 0) {
        const mined = await miner.mine(ready);
        assertStillWriter(writerLock, options.output);
        for (const record of mined) {
          let formatted: FormattedRecord;
          try {
            formatted = formatter.formatRecord(record);
          } catch (error) {
            if (!(error instanceof InputError)) throw error;
            policy.reject(error, record.record.raw);
            continue;
          }
          statistics.add(record);
          // Side lines first: the ids a main line names are on their way to the side files before it is.
          for (const [i, sideLines] of (formatted.side ?? []).entries()) {
            for (const line of sideLines) {
              const wait = sideSinks[i].write(line + '\n');
              if (wait) await wait;
            }
          }
          for (const line of formatted.lines) {
            const wait = sink.write(line + '\n');
            if (wait) await wait;
          }
          written++;
        }
        progress.tick(mined.length, totalBytes === undefined ? undefined : lastEndByte - range.startByte);
      }
      if (plan.journal) {
        await sink.settled();
        assertStillWriter(writerLock, options.output);
        plan.journal.record({
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
    /**
     * Search `next` ahead, then mine and write the batch waiting before it. The rejections of lines read while
     * that batch waited belong after it: they are held back until it is written (and checkpointed).
     */
    const handOver = async (next: { batch: ParsedRecord[]; resumePoint: ResumePoint } | undefined) => {
      const readAhead = policy.stopHolding();
      if (next) miner.searchAhead(next.batch);
      if (waiting) await flush(waiting.batch, waiting.resumePoint);
      policy.rejectHeld(readAhead);
      waiting = next;
      if (waiting) policy.hold();
    };
    const records = readRecords(readPath, {
      policy,
      maxLineBytes: options.maxLineBytes,
      displayName: plan.displayName,
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
        await handOver({ batch, resumePoint: { inputByte: record.endOffset, inputLine: record.lineNumber + 1 } });
        batch = [];
      }
    }
    await handOver({ batch, resumePoint: { inputByte: range.endByte ?? Number.MAX_SAFE_INTEGER, inputLine: 0 } });
    await handOver(undefined);
  } finally {
    progress.done();
  }
  if (sink.closed) {
    log().debug('output closed by the reader (e.g. | head): stopping early, not an error');
    await sink.abort();
    return { started, written, rejectedBefore, complete: false };
  }
  return { started, written, rejectedBefore, complete: true };
}

/**
 * Stage 4, finish the output: a shard's sidecar (written before the rename: a final output never lacks its
 * sidecar, which merge checks), the output committed (renamed into place), the journal removed.
 */
async function finishOutput(plan: StartPlan, run: OpenRun, options: MineCommandOptions, mined: StreamOutcome, writerLock: LeaseLock | undefined): Promise<void> {
  const { sink, policy } = run;
  await sink.settled();
  assertStillWriter(writerLock, options.output);
  if (plan.shard && options.output) {
    writeShardSidecar(options.output, {
      fingerprint: plan.fingerprint,
      shard: plan.shard,
      range: { startByte: plan.start.inputByte, endByte: run.range.endByte!, startLine: plan.start.inputLine },
      bytes: sink.bytesWritten,
      lines: sink.linesWritten,
      sha256: sink.sha256()!,
      records: mined.written,
      rejected: mined.rejectedBefore + policy.rejected,
    });
  } else if (options.output && options.output !== '-') rmSync(shardSidecarPath(options.output), { force: true });
  // The side files first: a committed main output never names an id its side files lack.
  for (const side of run.sideSinks) await side.commit();
  await sink.commit();
  plan.journal?.remove();
}

/**
 * Stage 5, report: the statistics table on stderr (an event under --log-format json), --stats-json with the run record, the format's warnings, the
 * summary log line and the warnings about what the run could not do (unknown ids, no records, short records).
 */
function report(plan: StartPlan, run: OpenRun, options: MineCommandOptions, mined: StreamOutcome, clock: RunClock): void {
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
  const summary = {
    records_in: written + policy.rejected,
    records_out: written,
    ...(resumed ? { records_resumed: resumed.checkpoint.recordsOut, records_mined_now: written - resumed.checkpoint.recordsOut } : {}),
    format: options.format,
    lines_out: formatter.tally.lines,
    ...(run.sideSinks.length > 0 ? { side_files: Object.fromEntries(run.sideSinks.map((side, i) => [side.path!, formatter.tally.sideLines[i]])) } : {}),
    rejected: policy.rejected,
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
  if (recordsSeen(written, policy) === 0) log().warn({ input: plan.displayName }, 'the input holds no records');
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

/** `rare-mine <kind> [input]`: the mining command of one retriever kind, its options generated from the row. */
function registerKind<O extends IndexDirOptions>(program: Command, kind: RetrieverKind<O>): void {
  const command = program.command(kind.name).summary(kind.summary).description(kind.description).argument('[input]', 'input JSONL (default: stdin)');
  addRecordOptions(command);
  addCorpusOptions(command);
  kind.options(command);
  addMiningOptions(command, kind.mining);
  addFormatOptions(command);
  addRunOptions(command, { mining: true });
  command.action(async (input: string | undefined, options: MineCommandOptions & O) => runMine(input, options, kind));
}

/** One mining command per row of RETRIEVERS, in table order. */
export function register(program: Command): void {
  for (const kind of RETRIEVERS) registerKind(program, kind);
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
  const vectorFiles = options as Partial<VectorInputOptions>;
  readable.push([vectorFiles.corpusVectors, '--corpus-vectors'], [vectorFiles.queryVectors, '--query-vectors']);
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
