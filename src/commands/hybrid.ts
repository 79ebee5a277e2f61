/**
 * `rare-mine hybrid`: BM25 and dense rankings fused by reciprocal rank fusion (src/hybrid/), mined with the same
 * stage as every retriever. Both indexes live in one index dir over one doc store.
 */
import type { Command } from 'commander';
import { addBm25Options, addCorpusOptions, addDenseOptions, addFormatOptions, addFusionOptions, addMiningOptions, addRecordOptions, addRunOptions, FILL_HELP } from '../cli/options.js';
import { ensureBm25Index, ensureDocStore, resolveIndexDir } from '../index/index-dir.js';
import type { CorpusSource } from '../corpus/corpus-source.js';
import { withBuildLock } from '../index/build-lock.js';
import { Bm25Retriever } from '../bm25/bm25-retriever.js';
import { defaultThreads } from '../bm25/search-pool.js';
import { HybridRetriever } from '../hybrid/hybrid-retriever.js';
import { openDenseEmbedder, openDenseOver, type DenseOptions } from './dense.js';
import { createAnalyzer } from '../text/analyzer.js';
import { analyzerChoice, bm25Part, buildContext, rebuildHint, type Bm25Options } from './bm25.js';
import { runMine, type MineCommandOptions } from './mine.js';
import { RETRIEVER_OPENERS } from './retrievers.js';

export interface HybridOptions extends DenseOptions, Bm25Options {
  rrfK: number;
  rrfWeights: number[];
  fusionDepth: number;
}

export async function openHybrid(source: CorpusSource | undefined, options: HybridOptions): Promise<HybridRetriever> {
  // Fail fast: the model is resolved and the analyzer checked before the doc store is built.
  const model = await openDenseEmbedder(options);
  createAnalyzer(analyzerChoice(options));
  const dir = resolveIndexDir(options.indexDir);
  return withBuildLock(dir, async () => {
    const hint = rebuildHint('bm25', options.indexDir);
    const build = buildContext(options, hint);
    const docs = await ensureDocStore(dir, source, build);
    const index = await ensureBm25Index(dir, docs, bm25Part(options), build);
    const bm25 = await Bm25Retriever.open(index, docs, options.threads ?? defaultThreads(), analyzerChoice(options));
    const dense = await openDenseOver(docs, dir, options, model);
    return new HybridRetriever([bm25, dense], { rrfK: options.rrfK, weights: options.rrfWeights, fusionDepth: options.fusionDepth });
  });
}

RETRIEVER_OPENERS.hybrid = (source, options) => openHybrid(source, options as unknown as HybridOptions);

export function register(program: Command): void {
  const command = program
    .command('hybrid')
    .summary('mine hard negatives from BM25 and dense rankings fused by reciprocal rank fusion')
    .description(
      'Mine hard negatives from the reciprocal rank fusion (RRF, k=60) of a BM25 and a dense ranking. ' +
        'Defaults: --min-rank 10 --max-rank 110 --sample random, as for dense. Scores are RRF scores.',
    )
    .argument('[input]', 'input JSONL (default: stdin)');
  addRecordOptions(command);
  addCorpusOptions(command);
  addDenseOptions(command, { langHelp: 'language: the BM25 analyzer and the default dense model' });
  addBm25Options(command, { lang: false });
  addFusionOptions(command);
  addMiningOptions(command, { minRank: 10, maxRank: 110, sample: 'random', fillHelp: FILL_HELP.dense });
  addFormatOptions(command);
  addRunOptions(command, { mining: true });
  command.action(async (input: string | undefined, options: MineCommandOptions & HybridOptions) => {
    await runMine(input, options, (source) => openHybrid(source, options));
  });
}
