/**
 * One call from CLI options to a ready Embedder: choose the model (`--model`, else the `--lang` /
 * `--model-size` default), resolve it to a directory (path, $RARE_MINE_MODELS, hub cache, hub download),
 * open the ONNX encoder and put the embedding cache in front. What must hold: the model actually used is
 * logged once, with where it came from and its fingerprint; `--no-cache` is the only way to skip the cache.
 */
import { withDefaultSignals } from '../terminal/signals.js';
import { CachedEmbedder } from './cached-embedder.js';
import { defaultModelFor } from './default-models.js';
import type { Embedder } from './embedder.js';
import { OnnxEmbedder, type OnnxEmbedderOptions } from './onnx-embedder.js';
import { resolveModel, type ResolveModelOptions, type ResolvedModel } from './resolve-model.js';

/** CLI-level embedder options: model choice, resolution, encoder settings, cache. */
export interface OpenEmbedderOptions extends OnnxEmbedderOptions, Omit<ResolveModelOptions, 'onnxFile'> {
  /** `--model`: a path or hub repo id. Default: the language default. */
  model?: string;
  /** `--lang en|zh|fr|other` (any other code counts as other). Default en. */
  lang?: string;
  /** `--model-size small|base|large`. Default small. */
  modelSize?: string;
  /** Use the embedding cache. Default true. */
  cache?: boolean;
  /** Embedding cache directory. Default `<cache root>/embeddings/<fingerprint>/`. */
  cacheDir?: string;
}

/** What openEmbedder returns. */
export interface OpenedEmbedder {
  embedder: Embedder;
  /** The ONNX encoder inside (for its stats: model runs, real vs padded tokens). */
  onnx: OnnxEmbedder;
  model: ResolvedModel;
}

/**
 * Resolve, open and (by default) cache an embedding model.
 * @throws ModelError when the model cannot be found, downloaded or read; UsageError for a bad --model-size
 */
export async function openEmbedder(options: OpenEmbedderOptions): Promise<OpenedEmbedder> {
  const name = options.model ?? defaultModelFor(options.lang, options.modelSize);
  const model = await resolveModel(name, options);
  // Reading and hashing a large model blocks the event loop: SIGINT/SIGTERM act at once meanwhile.
  const onnx = await withDefaultSignals(() => OnnxEmbedder.open(model.dir, { ...options, name: model.name }));
  const embedder = options.cache === false ? onnx : new CachedEmbedder(onnx, { cacheDir: options.cacheDir });
  return { embedder, onnx, model };
}
