/**
 * `rare-mine hybrid`: BM25 and dense rankings fused by reciprocal rank fusion (src/hybrid/), mined with the same
 * stage as every retriever. Both indexes live in one index dir over one doc store.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { addCorpusOptions, addMiningOptions, addRecordOptions, integer, number } from '../cli/options.js';
import { addFormatOptions } from '../formats/formats.js';
import { ensureBm25Index, ensureDocStore, resolveIndexDir, type CorpusSource } from '../index/index-dir.js';
import { withBuildLock } from '../index/build-lock.js';
import { Bm25Retriever } from '../bm25/bm25-retriever.js';
import { VARIANT_NAMES } from '../bm25/scoring.js';
import { LANGUAGES } from '../embed/default-models.js';
import { HybridRetriever } from '../hybrid/hybrid-retriever.js';
import { addDenseOptions, openDenseOver, type DenseOptions } from './dense.js';
import { rebuildHint, type Bm25Options } from './bm25.js';
import { runMine, type MineCommandOptions } from './mine.js';
import { RETRIEVER_OPENERS } from './retrievers.js';

export interface HybridOptions extends DenseOptions, Bm25Options {
  rrfK: number;
  rrfWeights: number[];
  fusionDepth: number;
}

/** "1,0.5" → [1, 0.5]: one non-negative weight for BM25, one for dense. */
export function parseWeights(value: string): number[] {
  const weights = value.split(',').map((part) => Number(part.trim()));
  if (weights.length !== 2 || weights.some((w) => !Number.isFinite(w) || w < 0)) {
    throw new UsageError(`--rrf-weights must be two non-negative numbers "BM25,DENSE" (e.g. 1,0.5), got "${value}"`);
  }
  return weights;
}

export async function openHybrid(source: CorpusSource | undefined, options: HybridOptions): Promise<HybridRetriever> {
  const dir = resolveIndexDir(options.indexDir);
  return withBuildLock(dir, async () => {
    const hint = rebuildHint('bm25', options.indexDir);
    const docs = await ensureDocStore(dir, source, options.rebuild, hint);
    const bm25 = new Bm25Retriever(await ensureBm25Index(dir, docs, options.lang, { k1: options.k1, b: options.b, variant: options.bm25Variant }, options.rebuild, hint), docs);
    const dense = await openDenseOver(docs, dir, options);
    return new HybridRetriever([bm25, dense], { rrfK: options.rrfK, weights: options.rrfWeights, fusionDepth: options.fusionDepth });
  });
}

RETRIEVER_OPENERS.hybrid = (source, options) => openHybrid(source, options as unknown as HybridOptions);

/** BM25 settings and fusion options for hybrid (the language is shared with the dense model's --lang). */
export function addHybridOptions(command: Command): Command {
  return command
    .option('--k1 <k1>', 'BM25 k1', number('--k1', 0), 0.9)
    .option('--b <b>', 'BM25 b', number('--b', 0), 0.4)
    .addOption(new Option('--bm25-variant <name>', 'BM25 scoring formula').choices(VARIANT_NAMES).default('lucene'))
    .option('--rrf-k <k>', 'reciprocal rank fusion constant: score = Σ w/(k + rank)', integer('--rrf-k', 1), 60)
    .option('--rrf-weights <bm25,dense>', 'weight of each ranking in the fusion (e.g. 1,0.5 to trust BM25 more)', parseWeights, [1, 1])
    .option('--fusion-depth <n>', "depth of each engine's ranking that is fused (at least the requested depth)", integer('--fusion-depth', 1), 100);
}

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
  command.addOption(new Option('--lang <lang>', 'language: the BM25 analyzer and the default dense model').choices([...LANGUAGES]).default('en'));
  addDenseOptions(command, { lang: false });
  addHybridOptions(command);
  addMiningOptions(command, { minRank: 10, maxRank: 110, sample: 'random' });
  addFormatOptions(command);
  command.action(async (input: string | undefined, options: MineCommandOptions & HybridOptions) => {
    await runMine(input, options, (source) => openHybrid(source, options));
  });
}
