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
import { ensureDenseIndex } from '../dense/dense-part.js';
import type { DocStore } from '../corpus/doc-store.js';
import { openEmbedder } from '../embed/open-embedder.js';
import { CachedEmbedder } from '../embed/cached-embedder.js';
import type { Embedder } from '../embed/embedder.js';
import type { PoolingMode } from '../embed/model-dir.js';
import { denseRebuildHint } from '../dense/dense-index.js';
import { DenseRetriever } from '../dense/dense-retriever.js';
import type { Precision } from '../vector/precision.js';
import { planSearch } from '../vector/search-plan.js';
import type { VectorIndex } from '../vector/vector-index.js';
import { prepareUseLite, USE_LITE_MODEL_NAME } from '../models/use-lite/prepare-use-lite.js';
import { UseLiteEncoder } from '../models/use-lite/use-lite-encoder.js';
import { buildContext, type IndexDirOptions, type RetrieverKind } from './retriever-kind.js';
import { openVectorInputs, type OpenedVectorInputs, type VectorInputOptions } from '../dense/vector-inputs.js';
import type { RecordRows } from '../io/record-rows.js';
import { probeDevice, type Device } from '../embed/device.js';

export interface DenseOptions extends IndexDirOptions, VectorInputOptions {
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
  /** --device: where the model encodes. */
  device: Device;
}

/** An opened embedder and where its files came from (recorded in the index manifest). */
export interface DenseModel {
  embedder: Embedder;
  source: Omit<ModelIdentity, 'name' | 'fingerprint'>;
}

/** Open the embedder the options name; use-lite is prepared (converted) on first use. */
export async function openDenseEmbedder(options: DenseOptions): Promise<DenseModel> {
  await probeDevice(options.device ?? 'cpu');
  if (options.model === USE_LITE_MODEL_NAME) {
    if (options.revision !== undefined || options.onnxFile !== undefined) {
      throw new UsageError(`--revision and --onnx-file apply to hub models and model directories, not to the built-in ${USE_LITE_MODEL_NAME}`);
    }
    const { dir } = await prepareUseLite();
    const encoder = await UseLiteEncoder.open(dir, { threads: options.threads, batchSize: options.embedBatchSize, device: options.device });
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
    device: options.device,
  });
  if (options.revision !== undefined && (model.source === 'path' || model.source === 'models dir')) {
    await embedder.close();
    throw new UsageError(`--revision ${options.revision} applies to hub models; ${model.dir} is a local directory (${model.source}), whose files are used as they are`);
  }
  const source = { revision: options.revision, commit: model.commit, onnxFile: options.onnxFile };
  log().info({ model: model.name, source: model.source, dir: model.dir, dims: embedder.dims, fingerprint: embedder.fingerprint.slice(0, 12), ...source }, 'model');
  return { embedder, source };
}

/**
 * The dense index of `docs` (built when missing, stale or --rebuild), with the parts the search plan wants for
 * `expectedQueryCount` queries (an IVF index, or an HNSW graph).
 */
async function ensureDenseOver(docs: DocStore, indexDir: string, options: DenseOptions, model: DenseModel | undefined, vectors: OpenedVectorInputs, expectedQueryCount?: number): Promise<VectorIndex> {
  const rows = vectors.corpus ?? model?.embedder;
  if (!rows) throw new Error('ensureDenseOver: neither a model nor corpus vectors');
  vectors.corpus?.checkDocCount(docs.docCount);
  const plan = planSearch({ docCount: docs.docCount, queryCount: expectedQueryCount, graphBuilt: false, forceExact: options.exact });
  return ensureDenseIndex(
    indexDir,
    docs,
    { embedder: rows, modelSource: vectors.corpus ? {} : model?.source, precision: options.precision, buildGraph: plan.method === 'hnsw', buildIvf: plan.method === 'ivf', threads: options.threads },
    buildContext(options, denseRebuildHint(rows.name)),
  );
}

/** Open (building when missing, stale or --rebuild) the dense index of `docs` and its retriever. */
export async function openDenseOver(docs: DocStore, indexDir: string, options: DenseOptions, model: DenseModel | undefined, vectors: OpenedVectorInputs, expectedQueryCount?: number): Promise<DenseRetriever> {
  const index = await ensureDenseOver(docs, indexDir, options, model, vectors, expectedQueryCount);
  vectors.corpus?.close(); // its rows are in the index now
  return new DenseRetriever({
    corpus: docs,
    embedder: model?.embedder,
    queryRows: vectors.query,
    corpusRows: vectors.corpus !== undefined,
    index,
    exact: options.exact,
    expectedQueryCount,
    threads: options.threads,
  });
}

/**
 * The vector files and the model of a run, opened and checked against each other before any index is built: the
 * model is opened unless both sides come from files (or --model is given all the same, for positives outside the
 * corpus); its dims must be the files'.
 */
async function prepareDense(options: DenseOptions, queries: RecordRows | undefined, needsQueries: boolean): Promise<{ model?: DenseModel; vectors: OpenedVectorInputs }> {
  const vectors = openVectorInputs(options);
  const closeVectors = () => {
    vectors.corpus?.close();
    vectors.query?.close();
  };
  try {
    if (vectors.query) {
      if (!queries) throw new UsageError('--query-vectors: this command has no query file whose records the rows could belong to');
      vectors.query.bind(queries);
    }
    const bothSides = vectors.corpus !== undefined && (vectors.query !== undefined || !needsQueries);
    const model = bothSides && options.model === undefined ? undefined : await openDenseEmbedder(options);
    const fileDims = vectors.corpus?.dims ?? vectors.query?.dims;
    if (model && fileDims !== undefined && model.embedder.dims !== fileDims) {
      const file = vectors.corpus ? `--corpus-vectors ${options.corpusVectors}` : `--query-vectors ${options.queryVectors}`;
      await model.embedder.close();
      throw new UsageError(`${file} has ${fileDims}-d rows, the model ${model.embedder.name} makes ${model.embedder.dims}-d vectors: both sides must come from one model`, {
        hint: vectors.corpus && !vectors.query ? 'give --model the model that made the corpus vectors, or --query-vectors too' : 'give --model the model that made the query vectors, or --corpus-vectors too',
      });
    }
    return { model, vectors };
  } catch (error) {
    closeVectors();
    throw error;
  }
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
  async prepare(options, _purpose, queries) {
    const { model, vectors } = await prepareDense(options, queries, true);
    return async (docs, indexDir) => openDenseOver(docs, indexDir, options, model, vectors, queries?.records);
  },
  index: {
    description:
      'Embed a corpus and build its dense vector index in --index-dir for many mining runs. From 50,000 documents up ' +
      'an IVF index is built too (k-means lists; the lists probed per query are calibrated for recall@100 >= 0.97, ' +
      'scores stay exact); below that (or with --exact) search is exact and only the vectors are written.',
    options(command) {
      addDenseOptions(command, { queryVectors: false });
      addRunOptions(command, { mining: false });
    },
    async prepare(options) {
      const { model, vectors } = await prepareDense(options, undefined, false);
      return async (docs, indexDir) => {
        // Every query count is expected: the IVF index is built whenever the corpus is large enough to want one.
        const index = await ensureDenseOver(docs, indexDir, options, model, vectors, Number.POSITIVE_INFINITY);
        index.close();
        await model?.embedder.close();
        vectors.corpus?.close();
        return {};
      };
    },
  },
};
