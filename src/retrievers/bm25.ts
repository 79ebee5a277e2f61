/**
 * The BM25 retriever kind (Lucene scoring, k1=0.9 b=0.4 as Anserini/pyserini/DataFlow) over an on-disk inverted
 * index in the index dir's `bm25/` (built, or reused when it matches). What must hold: the analyzer is checked
 * (a bad --stopwords FILE) before the doc store is built.
 */
import { addBm25Options, addRunOptions, FILL_HELP } from '../cli/options.js';
import { Bm25Retriever } from '../bm25/bm25-retriever.js';
import { ensureBm25Index, ensureBm25IndexFiles, type Bm25PartOptions } from '../bm25/bm25-part.js';
import { createAnalyzer, type AnalyzerChoice } from '../text/analyzer.js';
import { buildContext, type IndexDirOptions, type OpenOver, type RetrieverKind } from './retriever-kind.js';

export interface Bm25Options extends IndexDirOptions {
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

/** The BM25 part the options describe. */
function bm25Part(options: Bm25Options): Bm25PartOptions {
  return { analyzer: analyzerChoice(options), scoring: { k1: options.k1, b: options.b, variant: options.bm25Variant }, memoryBudget: options.memoryBudget, threads: options.threads };
}

/** `rare-mine index <kind> ...`, the hint of an index error. */
export function rebuildHint(kind: string, indexDir: string | undefined): string {
  return `rare-mine index ${kind} --corpus CORPUS${indexDir ? ` --index-dir ${indexDir}` : ''}`;
}



export const bm25: RetrieverKind<Bm25Options, Bm25Retriever> = {
  name: 'bm25',
  summary: 'mine hard negatives with BM25',
  description:
    'Mine hard negatives with BM25 (Lucene scoring, k1=0.9 b=0.4 as Anserini/pyserini/DataFlow). Reads JSONL records ' +
    '(stdin when INPUT is absent or "-") and writes each one back, in order, with the negatives added.\n' +
    'Defaults: --min-rank 0, no --max-rank, --sample top (DataFlow BM25HardNeg: the top --num-neg non-positive passages).',
  mining: { minRank: 0, sample: 'top', fillHelp: FILL_HELP.bm25 },
  rankingRunsOut: true,
  options: (command) => addBm25Options(command),
  rebuildHint: (options) => rebuildHint('bm25', options.indexDir),
  async prepare(options, purpose): Promise<OpenOver<Bm25Retriever>> {
    createAnalyzer(analyzerChoice(options)); // fail fast: a bad --stopwords FILE before the doc store is built
    return async (docs, indexDir) => {
      const index = await ensureBm25Index(indexDir, docs, bm25Part(options), buildContext(options, rebuildHint('bm25', options.indexDir)));
      return Bm25Retriever.open(index, docs, options.threads, analyzerChoice(options));
    };
  },
  index: {
    description: 'Build the doc store and BM25 index of a corpus in --index-dir (reused when corpus and settings match).',
    options(command) {
      addBm25Options(command);
      addRunOptions(command, { mining: false });
    },
    async prepare(options) {
      createAnalyzer(analyzerChoice(options)); // fail fast, as for mining
      // Built (or confirmed) without loading it: the command's memory stays within --memory-budget.
      return async (docs, indexDir) => {
        const manifest = await ensureBm25IndexFiles(indexDir, docs, bm25Part(options), buildContext(options, rebuildHint('bm25', options.indexDir)));
        return { terms: manifest.termCount };
      };
    },
  },
};
