/**
 * `rare-mine index bm25`: build (or confirm) the doc store and BM25 index of a corpus once, so that many mining
 * runs and shards can read it.
 */
import type { Command } from 'commander';
import { log } from '../log.js';
import { addBm25Options, addCorpusOptions, addDenseOptions, addRunOptions, badInputOptions } from '../cli/options.js';
import { RejectPolicy } from '../io/jsonl.js';
import { corpusFileSource } from '../corpus/corpus-source.js';
import { checkPaths } from '../io/path-safety.js';
import { indexDirWrites } from '../index/layout.js';
import { buildBm25Files, type Bm25Options } from './bm25.js';
import { openDense, type DenseOptions } from './dense.js';

export interface IndexOptions extends Bm25Options {
  corpus: string;
  corpusIdKey: string;
  corpusTextKey: string;
  corpusTitleKey: string;
  indexDir: string;
  rebuild: boolean;
  onError: 'fail' | 'skip';
  rejects?: string;
}

/** The corpus is read; the rejects file and the index dir's parts are written. */
function checkIndexPaths(options: IndexOptions): void {
  checkPaths({
    reads: [{ option: '--corpus', path: options.corpus }],
    writes: [{ option: '--rejects', path: options.rejects }, ...indexDirWrites(options.indexDir)],
  });
}

export async function runIndexBm25(options: IndexOptions): Promise<void> {
  checkIndexPaths(options);
  const keys = { idKey: options.corpusIdKey, textKey: options.corpusTextKey, titleKey: options.corpusTitleKey };
  const policy = new RejectPolicy(options.onError, options.rejects);
  const started = performance.now();
  // Built (or confirmed) without loading it: the command's memory stays within --memory-budget.
  const { docs, manifest } = await buildBm25Files(await corpusFileSource(options.corpus, keys, policy), options);
  log().info(
    { indexDir: options.indexDir, docs: docs.docCount, terms: manifest.termCount, rejected: policy.rejected, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) },
    'index ready',
  );
  docs.close();
}

export async function runIndexDense(options: IndexOptions & DenseOptions): Promise<void> {
  checkIndexPaths(options);
  const keys = { idKey: options.corpusIdKey, textKey: options.corpusTextKey, titleKey: options.corpusTitleKey };
  const policy = new RejectPolicy(options.onError, options.rejects);
  const started = performance.now();
  const retriever = await openDense(
    await corpusFileSource(options.corpus, keys, policy),
    options,
    Number.POSITIVE_INFINITY,
  );
  log().info({ indexDir: options.indexDir, docs: retriever.corpus.docCount, rejected: policy.rejected, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) }, 'index ready');
  await retriever.close();
}

/** The corpus and index-dir options of every `index` subcommand. */
function addIndexCorpusOptions(command: Command): Command {
  addCorpusOptions(command, true);
  for (const option of badInputOptions('corpus')) command.addOption(option);
  return command;
}

export function register(program: Command): void {
  const index = program.command('index').summary('build an index once, to mine many times');
  const bm25 = index
    .command('bm25')
    .description('Build the doc store and BM25 index of a corpus in --index-dir (reused when corpus and settings match).');
  addIndexCorpusOptions(bm25);
  addBm25Options(bm25);
  bm25.action(async (options: IndexOptions) => runIndexBm25(options));
  const dense = index
    .command('dense')
    .description(
      'Embed a corpus and build its dense (USearch) vector index in --index-dir for many mining runs. From 60,000 ' +
        'documents up the HNSW graph is built too; below that (or with --exact) exact search is faster and no graph is written.',
    );
  addIndexCorpusOptions(dense);
  addDenseOptions(dense);
  addRunOptions(dense, { mining: false });
  dense.action(async (options: IndexOptions & DenseOptions) => runIndexDense(options));
}
