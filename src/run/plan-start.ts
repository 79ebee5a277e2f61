/**
 * Stage 1 of a mining run, plan the start: what the run reads and writes and where it starts, decided before
 * anything is opened or built. What must hold: every combination of --shard, --resume, stdin and -o that cannot
 * work is refused here (UsageError), every path is checked here, and another run's partial is never continued.
 */
import { existsSync, statSync } from '../io/fs.js';
import { dirname, join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { log } from '../log.js';
import { inputName, isSeekable } from '../io/line-reader.js';
import { assertRegularPartial, directOutput, partialPath } from '../io/output.js';
import { checkPaths } from '../io/path-safety.js';
import { miningPathTemplate } from '../cli/options.js';
import { commandPathPlan } from '../cli/path-plan.js';
import { Journal, journalPath, refuseOtherRun, startCheckpoint, type Checkpoint, type JournalContents } from '../io/journal.js';
import { parseShard, shardRange, shardSidecarPath, type Shard } from '../io/shards.js';
import { inputIdentity, outputOptions, type RunFingerprint } from '../io/run-fingerprint.js';
import { indexDirWrites } from '../index/layout.js';
import { INDEX_PARTS } from '../retrievers/index-parts.js';
import { rareMineVersion } from '../mine/run-info.js';
import { FORMATS } from '../formats/formats.js';
import type { VectorInputOptions } from '../dense/vector-inputs.js';
import type { MineCommandOptions } from './mine-options.js';

/** Where a run starts and what it may continue, decided before anything is opened or built. */
export interface StartPlan {
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
  /** The format's side files (colbert's TSVs), aligned with its `sideFiles`; empty for formats without them. */
  readonly sidePaths: readonly string[];
  /** This run's identity; `command` and `index` are filled in when the retriever is open. */
  readonly fingerprint: RunFingerprint;
}

export interface InputRange {
  startByte: number;
  endByte?: number;
  startLine: number;
}

/**
 * Stage 1, plan the start: the combinations of --shard, --resume, stdin and -o that cannot work, the paths read
 * and written, the shard's byte range, and the partial output a resume continues (refused when another run wrote
 * it), all before any index is opened or built.
 */
export function planStart(inputPath: string | undefined, options: MineCommandOptions): StartPlan {
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
  const sidePaths = sideFilePaths(options);
  if (sidePaths.length > 0 && direct && options.colbertDir === undefined) {
    throw new UsageError(`--format ${options.format} writing to ${options.output} (a FIFO or device) needs --colbert-dir DIR for its queries and collection files`);
  }
  checkPathsBeforeWork(fromStdin ? undefined : inputPath, options);
  // Every path option of the mining commands (the option table's declarations), and what the run derives from them.
  checkPaths(
    commandPathPlan(miningPaths(), options, [fromStdin ? undefined : inputPath], {
      siblings: {
        '-o': options.output === undefined || direct ? [] : [partialPath(options.output), journalPath(partialPath(options.output)), shardSidecarPath(options.output), `${options.output}.lock`],
      },
      writes: [
        ...indexDirWrites(options.indexDir, INDEX_PARTS),
        ...sidePaths.map((path) => ({ option: options.colbertDir === undefined ? `--format ${options.format} (beside -o)` : '--colbert-dir', path, siblings: [partialPath(path), `${path}.lock`] })),
      ],
    }),
  );

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
  return { displayName, inputPath, fromStdin, seekable, shard, range, start, partial, journal, previous, sidePaths, fingerprint };
}

let miningPathCommand: ReturnType<typeof miningPathTemplate> | undefined;

/** The path options of every mining command (src/cli/options.ts miningPathTemplate), declared once per process. */
function miningPaths(): ReturnType<typeof miningPathTemplate> {
  miningPathCommand ??= miningPathTemplate();
  return miningPathCommand;
}

/**
 * The side files of --format (colbert's queries and collection TSVs): in --colbert-dir, else beside -o. Empty for
 * formats without side files, and when there is no directory to put them in (stdout without --colbert-dir is a
 * usage error, src/cli/combination-rules.ts; a FIFO or device -o is refused in planStart).
 */
function sideFilePaths(options: MineCommandOptions): string[] {
  const sideFiles = FORMATS[options.format].sideFiles ?? [];
  if (sideFiles.length === 0) return [];
  const dir = options.colbertDir ?? (options.output !== undefined && options.output !== '-' ? dirname(options.output) : undefined);
  return dir === undefined ? [] : sideFiles.map((side) => join(dir, side.fileName));
}

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
