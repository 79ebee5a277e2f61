/**
 * `rare-mine bm25`: mine negatives with BM25 over an on-disk inverted index (built, or reused when it matches).
 */
import type { Command } from 'commander';
import { addBm25Options, addCorpusOptions, addFormatOptions, addMiningOptions, addRecordOptions, addRunOptions, FILL_HELP } from '../cli/options.js';
import { Bm25Retriever } from '../bm25/bm25-retriever.js';
import { ensureBm25Index, ensureBm25IndexFiles, ensureDocStore, resolveIndexDir, type Bm25PartOptions } from '../index/index-dir.js';
import type { BuildContext } from '../index/parts.js';
import type { CorpusSource } from '../corpus/corpus-source.js';
import type { DocStore } from '../corpus/doc-store.js';
import type { Bm25Manifest } from '../bm25/format.js';
import { phaseProgress } from '../terminal/progress.js';
import { defaultThreads } from '../bm25/search-pool.js';
import { withBuildLock } from '../index/build-lock.js';
import { runMine, type MineCommandOptions } from './mine.js';
import { createAnalyzer, type AnalyzerChoice } from '../text/analyzer.js';

export interface Bm25Options {
  lang: string;
  /** --stemmer: replaces the language's stemmer. */
  stemmer?: string;
  /** --stopwords: a named list or a file, replacing the language's list. */
  stopwords?: string;
  k1: number;
  b: number;
  bm25Variant: string;
  /** Bytes a BM25 build may buffer before flushing sorted runs (default DEFAULT_MEMORY_BUDGET). */
  memoryBudget?: number;
}

/** The analyzer the BM25 options name (part of the index fingerprint). */
export function analyzerChoice(options: Bm25Options): AnalyzerChoice {
  return { lang: options.lang, stemmer: options.stemmer, stopwords: options.stopwords };
}

export function rebuildHint(kind: string, indexDir: string | undefined): string {
  return `rare-mine index ${kind} --corpus CORPUS${indexDir ? ` --index-dir ${indexDir}` : ''}`;
}

/** The BM25 part the options describe. */
export function bm25Part(options: Bm25Options): Bm25PartOptions {
  return { analyzer: analyzerChoice(options), scoring: { k1: options.k1, b: options.b, variant: options.bm25Variant }, memoryBudget: options.memoryBudget };
}

/** How a command's index parts are built: --rebuild, the rebuild hint, the terminal's progress line. */
export function buildContext(options: { rebuild: boolean }, rebuildHint: string): BuildContext {
  return { rebuild: options.rebuild, rebuildHint, progress: phaseProgress };
}

/**
 * Open (building as needed) the doc store and BM25 index for a corpus source; `threads` > 1 starts a pool of
 * search threads over the one loaded index.
 */
export async function openBm25(source: CorpusSource | undefined, options: Bm25Options & { indexDir?: string; rebuild: boolean }, threads = 1): Promise<Bm25Retriever> {
  const hint = rebuildHint('bm25', options.indexDir);
  createAnalyzer(analyzerChoice(options)); // fail fast: a bad --stopwords FILE before the doc store is built
  const dir = resolveIndexDir(options.indexDir);
  return withBuildLock(dir, async () => {
    const build = buildContext(options, hint);
    const docs = await ensureDocStore(dir, source, build);
    const index = await ensureBm25Index(dir, docs, bm25Part(options), build);
    return Bm25Retriever.open(index, docs, threads, analyzerChoice(options));
  });
}

/** Build (or confirm) the doc store and BM25 index files without loading the index (`index bm25`). */
export async function buildBm25Files(source: CorpusSource | undefined, options: Bm25Options & { indexDir?: string; rebuild: boolean }): Promise<{ docs: DocStore; manifest: Bm25Manifest }> {
  const hint = rebuildHint('bm25', options.indexDir);
  createAnalyzer(analyzerChoice(options)); // fail fast, as openBm25
  const dir = resolveIndexDir(options.indexDir);
  return withBuildLock(dir, async () => {
    const build = buildContext(options, hint);
    const docs = await ensureDocStore(dir, source, build);
    const manifest = await ensureBm25IndexFiles(dir, docs, bm25Part(options), build);
    return { docs, manifest };
  });
}

export function register(program: Command): void {
  const command = program
    .command('bm25')
    .summary('mine hard negatives with BM25')
    .description(
      'Mine hard negatives with BM25 (Lucene scoring, k1=0.9 b=0.4 as Anserini/pyserini/DataFlow). Reads JSONL records ' +
        '(stdin when INPUT is absent or "-") and writes each one back, in order, with the negatives added.\n' +
        'Defaults: --min-rank 0, no --max-rank, --sample top (DataFlow BM25HardNeg: the top --num-neg non-positive passages).',
    )
    .argument('[input]', 'input JSONL (default: stdin)');
  addRecordOptions(command);
  addCorpusOptions(command);
  addBm25Options(command);
  addMiningOptions(command, { minRank: 0, sample: 'top', fillHelp: FILL_HELP.bm25 });
  addFormatOptions(command);
  addRunOptions(command, { mining: true });
  command.action(async (input: string | undefined, options: MineCommandOptions & Bm25Options) => {
    await runMine(input, options, (source) => openBm25(source, options, options.threads ?? defaultThreads()));
  });
}
