/**
 * The dense retriever kind: embed the corpus with an ONNX model, keep the vectors in a USearch index in the index
 * dir (`dense/<model>-<precision>`), rank by cosine similarity.
 * Model choice: `--model` (a directory, a hub name, or `use-lite`, the built-in offline model) or else the
 * `--lang`/`--model-size` default (RAGatouille's table). The model that ran is always logged and recorded in the
 * index manifest; nothing falls back to another model silently. The model is resolved (and downloaded) before
 * the doc store is built. This row is light (options, help, defaults); what opens a dense retriever — onnxruntime,
 * usearch — is in dense-open.ts, imported when a dense retriever is prepared, never by `rare-mine bm25`.
 */
import { addDenseOptions, addRunOptions, FILL_HELP } from '../cli/options.js';
import type { ModelIdentity } from '../vector/index-manifest.js';
import type { Embedder } from '../embed/embedder.js';
import { denseRebuildHint } from '../dense/rebuild-hint.js';
import type { DenseRetriever } from '../dense/dense-retriever.js';
import { USE_LITE_MODEL_NAME } from '../models/use-lite/prepare-use-lite.js';
import type { IndexDirOptions, RetrieverKind } from './retriever-kind.js';
import type { VectorInputOptions } from '../dense/vector-inputs.js';
import type { Device } from '../embed/device.js';
import type { PoolingMode } from '../embed/model-dir.js';
import type { Precision } from '../vector/precision.js';

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
    const { prepareDense, openDenseOver } = await import('./dense-open.js');
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
      const { prepareDense, ensureDenseOver } = await import('./dense-open.js');
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
