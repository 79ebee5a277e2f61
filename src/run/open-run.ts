/**
 * Stage 2 of a mining run, open the run: everything it reads and writes, opened in an order that fails fast (the
 * keys the options name, then the re-scoring model, then the corpus and the retriever), then the resumed
 * checkpoint, the journal's first entries, the miner, the format and the output sinks. What must hold: nothing is
 * built before the keys are checked; a resume is refused when the index differs from the partial's; whatever was
 * opened is closed again when a later step fails.
 */
import { log } from '../log.js';
import { RejectPolicy } from '../io/jsonl.js';
import { spoolInput } from '../io/line-reader.js';
import { OutputSink } from '../io/output.js';
import { refuseOtherRun, resumeFrom, type Recovery } from '../io/journal.js';
import { censusOfInput, checkKeys } from '../io/record-keys.js';
import { recordRows } from '../io/record-rows.js';
import { setActiveOutput } from '../terminal/signals.js';
import { readIndexDocStoreManifest } from '../corpus/doc-store-part.js';
import type { Retriever } from '../retriever.js';
import { Miner } from '../mine/miner.js';
import { MiningStatistics } from '../mine/statistics.js';
import { RecordFormatter } from '../formats/formats.js';
import type { CrossEncoder } from '../rescore/cross-encoder.js';
import { DocStore } from '../corpus/doc-store.js';
import { vectorFilesIdentity, type VectorInputOptions } from '../dense/vector-inputs.js';
import { inputKeyUses } from '../cli/options.js';
import { openRetriever, type IndexDirOptions, type RetrieverKind } from '../retrievers/retriever-kind.js';
import type { MineCommandOptions } from './mine-options.js';
import { indexHoldsCorpusFile, resolveCorpusSource } from './resolve-corpus-source.js';
import type { InputRange, StartPlan } from './plan-start.js';

/** When the run started and how long its phases took (index_seconds, mine_seconds), for the summary. */
export interface RunClock {
  readonly started: number;
  readonly times: Record<string, number>;
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

/** The identity of the index build the retriever reads: what its doc store manifest records. */
function indexIdentity(retriever: Retriever): Record<string, unknown> {
  const corpus = retriever.corpus;
  return corpus instanceof DocStore ? { corpusFingerprint: corpus.manifest.corpusFingerprint, docs: corpus.docCount } : { docs: corpus.docCount };
}

/** Everything a run reads and writes once it is open. */
export interface OpenRun {
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
export async function openRun<O extends IndexDirOptions>(plan: StartPlan, options: MineCommandOptions & O, kind: RetrieverKind<O>, clock: RunClock): Promise<OpenRun> {
  const { displayName, previous } = plan;
  await checkInputKeys(plan, options);
  const policy = new RejectPolicy(options.onError, options.rejects, { append: previous !== undefined });
  let readPath = plan.inputPath;
  const queryVectors = (options as Partial<VectorInputOptions>).queryVectors;
  if ((plan.fromStdin || !plan.seekable) && (!options.corpus || queryVectors !== undefined)) {
    readPath = await spoolInput(plan.inputPath, { maxLineBytes: options.maxLineBytes, skipOverLong: options.onError === 'skip' });
    log().debug({ input: displayName, spool: readPath }, `input spooled to a temporary file (${options.corpus ? 'its records are counted against --query-vectors' : 'it is also the corpus'}, and is read twice)`);
  }
  // --query-vectors: row i is the i-th record of the input, checked against the file before any index is built.
  const queries = queryVectors === undefined ? undefined : await recordRows(readPath!, displayName, options.maxLineBytes);
  // Fail fast: the re-scoring model is opened before any index is built.
  // Imported here: onnxruntime is loaded only by a run that re-scores (or embeds).
  const rescorer = options.rescoreModel ? await (await import('../rescore/cross-encoder.js')).CrossEncoder.open(options.rescoreModel, { threads: options.threads }) : undefined;
  let retriever: Retriever | undefined;
  try {
    const source = await resolveCorpusSource(options, readPath ?? '-', policy, displayName);
    retriever = await openRetriever(kind, source, options, 'mine', queries);
    return await openOutputs(plan, options, kind, clock, { policy, readPath, rescorer, retriever, source });
  } catch (error) {
    // A refused resume, a journal that cannot be written, a full disk: close what this stage opened (the run scope
    // would at exit; a caller in the same process gets it closed now).
    await retriever?.close();
    await rescorer?.close();
    throw error;
  }
}

/** The rest of stage 2, once the retriever is open: the resumed checkpoint, the journal, miner, format and sinks. */
async function openOutputs<O extends IndexDirOptions>(
  plan: StartPlan,
  options: MineCommandOptions & O,
  kind: RetrieverKind<O>,
  clock: RunClock,
  opened: { policy: RejectPolicy; readPath: string | undefined; rescorer?: CrossEncoder; retriever: Retriever; source: Awaited<ReturnType<typeof resolveCorpusSource>> },
): Promise<OpenRun> {
  const { displayName, previous, partial, fingerprint, start } = plan;
  const { policy, readPath, rescorer, retriever, source } = opened;
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
    for (const path of plan.sidePaths) sideSinks.push(new OutputSink(path));
  } catch (error) {
    for (const side of sideSinks) await side.abort();
    await sink.abort();
    throw error;
  }
  setActiveOutput(sink, sideSinks);
  return { policy, readPath, rescorer, retriever, corpusSource, resumed, range, miner, formatter, statistics, sink, sideSinks };
}
