/**
 * The dense retriever kind: embed the corpus with an ONNX model, keep the vectors in a USearch index in the index
 * dir (`dense/<model>-<precision>`), rank by cosine similarity.
 * Model choice: `--model` (a directory, a hub name, or `use-lite`, the built-in offline model) or else the
 * `--lang`/`--model-size` default (RAGatouille's table). The model that ran is always logged and recorded in the
 * index manifest; nothing falls back to another model silently. The model is resolved (and downloaded) before
 * the doc store is built.
 */
import { UsageError } from '../errors.js';
import type { ModelIdentity } from '../vector/index-manifest.js';
import { log } from '../log.js';
import { addDenseOptions, addRunOptions, FILL_HELP } from '../cli/options.js';
import { ensureDenseIndex } from '../index/index-dir.js';
import type { DocStore } from '../corpus/doc-store.js';
import { openEmbedder } from '../embed/open-embedder.js';
import { CachedEmbedder } from '../embed/cached-embedder.js';
import type { Embedder } from '../embed/embedder.js';
import type { PoolingMode } from '../embed/model-dir.js';
import { denseRebuildHint } from '../dense/dense-index.js';
import { DenseRetriever } from '../dense/dense-retriever.js';
import type { Precision } from '../vector/precision.js';
import { planSearch } from '../vector/search-plan.js';
import { prepareUseLite, USE_LITE_MODEL_NAME } from '../models/use-lite/prepare-use-lite.js';
import { UseLiteEncoder } from '../models/use-lite/use-lite-encoder.js';
import { buildContext, type IndexDirOptions, type RetrieverKind } from './retriever-kind.js';

export interface DenseOptions extends IndexDirOptions {
  model?: string;
  lang: string;
  modelSize: string;
  /** --revision: hub branch, tag or commit. */
  revision?: string;
  /** --onnx-file: the ONNX file inside the model directory. */
  onnxFile?: string;
  queryPrefix?: string;
  docPrefix?: string;
  maxLength?: number;
  pooling?: PoolingMode;
  precision?: Precision;
  exact: boolean;
  embedBatchSize?: number;
  cache: boolean;
}

/** An opened embedder and where its files came from (recorded in the index manifest). */
export interface DenseModel {
  embedder: Embedder;
  source: Omit<ModelIdentity, 'name' | 'fingerprint'>;
}

/** Open the embedder the options name; use-lite is prepared (converted) on first use. */
export async function openDenseEmbedder(options: DenseOptions): Promise<DenseModel> {
  if (options.model === USE_LITE_MODEL_NAME) {
    if (options.revision !== undefined || options.onnxFile !== undefined) {
      throw new UsageError(`--revision and --onnx-file apply to hub models and model directories, not to the built-in ${USE_LITE_MODEL_NAME}`);
    }
    const { dir } = await prepareUseLite();
    const encoder = await UseLiteEncoder.open(dir, { threads: options.threads ?? 1, batchSize: options.embedBatchSize });
    log().info({ model: encoder.name, dims: encoder.dims, fingerprint: encoder.fingerprint.slice(0, 12), dir }, 'model');
    return { embedder: options.cache ? new CachedEmbedder(encoder) : encoder, source: {} };
  }
  const { embedder, model } = await openEmbedder({
    model: options.model,
    lang: options.lang,
    modelSize: options.modelSize,
    queryPrefix: options.queryPrefix,
    docPrefix: options.docPrefix,
    maxLength: options.maxLength,
    pooling: options.pooling,
    revision: options.revision,
    onnxFile: options.onnxFile,
    threads: options.threads,
    batchSize: options.embedBatchSize,
    cache: options.cache,
  });
  if (options.revision !== undefined && (model.source === 'path' || model.source === 'models dir')) {
    await embedder.close();
    throw new UsageError(`--revision ${options.revision} applies to hub models; ${model.dir} is a local directory (${model.source}), whose files are used as they are`);
  }
  const source = { revision: options.revision, commit: model.commit, onnxFile: options.onnxFile };
  log().info({ model: model.name, source: model.source, dir: model.dir, dims: embedder.dims, fingerprint: embedder.fingerprint.slice(0, 12), ...source }, 'model');
  return { embedder, source };
}

/** Open (building when missing, stale or --rebuild) the dense index of `docs` and its retriever. */
export async function openDenseOver(docs: DocStore, indexDir: string, options: DenseOptions, model: DenseModel, expectedQueryCount?: number): Promise<DenseRetriever> {
  const { embedder } = model;
  const plan = planSearch({ docCount: docs.docCount, queryCount: expectedQueryCount, graphBuilt: false, forceExact: options.exact });
  const index = await ensureDenseIndex(
    indexDir,
    docs,
    { embedder, modelSource: model.source, precision: options.precision, buildGraph: plan.method === 'hnsw', buildIvf: plan.method === 'ivf', threads: options.threads },
    buildContext(options, denseRebuildHint(embedder.name)),
  );
  return new DenseRetriever({ corpus: docs, embedder, index, exact: options.exact, expectedQueryCount, threads: options.threads });
}

export const dense: RetrieverKind<DenseOptions, DenseRetriever> = {
  name: 'dense',
  summary: 'mine hard negatives with a dense (embedding) model',
  description:
    'Mine hard negatives with dense retrieval: an ONNX embedding model and a USearch index on disk (cosine). ' +
    'Defaults as RAGatouille: --min-rank 10 --max-rank 110 --sample random (seeded by --seed). ' +
    `Offline on any machine: --model ${USE_LITE_MODEL_NAME}.`,
  mining: { minRank: 10, maxRank: 110, sample: 'random', fillHelp: FILL_HELP.dense },
  rankingRunsOut: false,
  options: (command) => addDenseOptions(command),
  rebuildHint: (options) => denseRebuildHint(options.model ?? 'MODEL'),
  async prepare(options) {
    const model = await openDenseEmbedder(options);
    return async (docs, indexDir) => openDenseOver(docs, indexDir, options, model);
  },
  index: {
    description:
      'Embed a corpus and build its dense vector index in --index-dir for many mining runs. From 50,000 documents up ' +
      'an IVF index is built too (k-means lists; the lists probed per query are calibrated for recall@100 >= 0.97, ' +
      'scores stay exact); below that (or with --exact) search is exact and only the vectors are written.',
    options(command) {
      addDenseOptions(command);
      addRunOptions(command, { mining: false });
    },
    async prepare(options) {
      const model = await openDenseEmbedder(options);
      return async (docs, indexDir) => {
        // Every query count is expected: the graph is built whenever the corpus is large enough to want one.
        const retriever = await openDenseOver(docs, indexDir, options, model, Number.POSITIVE_INFINITY);
        await retriever.close();
        return {};
      };
    },
  },
};
