/**
 * `rare-mine index bm25`: build (or confirm) the doc store and BM25 index of a corpus once, so that many mining
 * runs and shards can read it.
 */
import { Option, type Command } from 'commander';
import { log } from '../log.js';
import { addBm25Options } from '../cli/options.js';
import { RejectPolicy } from '../io/jsonl.js';
import { corpusFileSource } from '../corpus/corpus-source.js';
import { openBm25, type Bm25Options } from './bm25.js';
import { addDenseOptions, openDense, type DenseOptions } from './dense.js';

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

export async function runIndexBm25(options: IndexOptions): Promise<void> {
  const keys = { idKey: options.corpusIdKey, textKey: options.corpusTextKey, titleKey: options.corpusTitleKey };
  const policy = new RejectPolicy(options.onError, options.rejects);
  const started = performance.now();
  const retriever = await openBm25(
    await corpusFileSource(options.corpus, keys, policy),
    options,
  );
  log().info(
    { indexDir: options.indexDir, docs: retriever.corpus.docCount, terms: retriever.index.termCount, rejected: policy.rejected, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) },
    'index ready',
  );
  await retriever.close();
}

export async function runIndexDense(options: IndexOptions & DenseOptions): Promise<void> {
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
  return command
    .requiredOption('--corpus <file>', 'corpus JSONL (or .json array): {"_id","title","text"}')
    .requiredOption('--index-dir <dir>', 'where the index is written')
    .option('--corpus-id-key <key>', 'corpus id field (falls back to "id")', '_id')
    .option('--corpus-text-key <key>', 'corpus text field', 'text')
    .option('--corpus-title-key <key>', 'corpus title field', 'title')
    .option('--rebuild', 'rebuild even when it matches', false)
    .addOption(new Option('--on-error <policy>', 'bad corpus line: fail or skip').choices(['fail', 'skip']).default('fail'))
    .option('--rejects <file>', 'with --on-error skip: where bad lines go');
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
    .description('Embed a corpus and build its dense (USearch) index in --index-dir, with the HNSW graph, for many mining runs.');
  addIndexCorpusOptions(dense);
  addDenseOptions(dense);
  dense.action(async (options: IndexOptions & DenseOptions) => runIndexDense(options));
}
