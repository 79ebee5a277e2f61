/**
 * The dense retriever's heavy half, loaded only when a dense retriever opens (`import()` in dense.ts): the model
 * (onnxruntime), the vector index (usearch) and the vector files. What must hold: no module of this file's imports
 * is loaded by a command that opens no dense retriever (`rare-mine bm25` loads no native module but its own).
 */
import { UsageError } from '../errors.js';
import { log } from '../log.js';
import { ensureDenseIndex } from '../dense/dense-part.js';
import type { DocStore } from '../corpus/doc-store.js';
import { openEmbedder } from '../embed/open-embedder.js';
import { CachedEmbedder } from '../embed/cached-embedder.js';
import { denseRebuildHint } from '../dense/rebuild-hint.js';
import { DenseRetriever } from '../dense/dense-retriever.js';
import { planSearch } from '../vector/search-plan.js';
import type { VectorIndex } from '../vector/vector-index.js';
import { prepareUseLite, USE_LITE_MODEL_NAME } from '../models/use-lite/prepare-use-lite.js';
import { UseLiteEncoder } from '../models/use-lite/use-lite-encoder.js';
import { buildContext } from './retriever-kind.js';
import { openVectorInputs, type OpenedVectorInputs } from '../dense/vector-inputs.js';
import type { RecordRows } from '../io/record-rows.js';
import { probeDevice } from '../embed/device.js';
import type { DenseModel, DenseOptions } from './dense.js';

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
export async function ensureDenseOver(docs: DocStore, indexDir: string, options: DenseOptions, model: DenseModel | undefined, vectors: OpenedVectorInputs, expectedQueryCount?: number): Promise<VectorIndex> {
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
export async function prepareDense(options: DenseOptions, queries: RecordRows | undefined, needsQueries: boolean): Promise<{ model?: DenseModel; vectors: OpenedVectorInputs }> {
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

