/**
 * The dense index as a part of an index dir: its folder (`dense/`, one sub-folder per model and precision,
 * `dense/<model>-<precision>/`) and its `ensure…` through ensurePart (src/index/parts.ts). What must hold: a
 * dense part is rebuilt when stale (another model, corpus or doc store build) and the log says why; a damaged one
 * is an IndexError with a rebuild hint, never "not built"; several precisions of one model are never chosen
 * between silently.
 */
import { existsSync } from '../io/fs.js';
import { join } from 'node:path';
import { IndexError, StaleIndexError } from '../errors.js';
import { ensurePart, type BuildContext } from '../index/parts.js';
import type { DocStore } from '../corpus/doc-store.js';
import type { Embedder } from '../embed/embedder.js';
import { readVectorIndexManifest, type HnswParams, type ModelIdentity, type VectorIndexManifest } from '../vector/index-manifest.js';
import { defaultPrecision, PRECISION_NAMES, type Precision } from '../vector/precision.js';
import type { VectorIndex } from '../vector/vector-index.js';
import { denseRebuildHint, openDenseIndexAt, writeDenseIndex, type DocumentVectors } from './dense-index.js';
import { DENSE_PART } from './dense-place.js';

/** Where the dense indexes live in an index dir: one sub-folder each, beside which a build leaves its leftovers. */
export { DENSE_PART };

/** A file-name-safe short name of a model: the last path part of "org/name" or of a directory. */
export function modelShortName(modelName: string): string {
  const last = modelName.split(/[\\/]/).filter(Boolean).pop() ?? 'model';
  return last.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** The dense index of one model at one precision in the index dir `indexDir`. */
export function denseDir(indexDir: string, modelName: string, precision: Precision): string {
  return join(indexDir, DENSE_PART.folder, `${modelShortName(modelName)}-${precision}`);
}

/** The precisions at which `indexDir` holds a dense index of `modelName`. */
export function builtDensePrecisions(indexDir: string, modelName: string): Precision[] {
  return PRECISION_NAMES.filter((precision) => existsSync(denseDir(indexDir, modelName, precision)));
}

/** The dense index of `indexDir` to open: which model, at which precision, over which corpus. */
export interface OpenDenseOptions {
  embedder: Pick<Embedder, 'name' | 'fingerprint' | 'dims'>;
  /** Default: the only precision built for this model, else the corpus size's default (precision.ts). */
  precision?: Precision;
  corpusFingerprint?: string;
  docsBuildId?: string;
}

/**
 * The precision a dense index of `modelName` is used at: the one asked for, else the only one built, else the
 * corpus size's default.
 * @throws IndexError when several are built and none is asked for
 */
function densePrecision(indexDir: string, modelName: string, asked: Precision | undefined, docCount: number): Precision {
  if (asked) return asked;
  const built = builtDensePrecisions(indexDir, modelName);
  if (built.length > 1) throw new IndexError(`${indexDir} holds dense indexes of ${modelName} at ${built.join(', ')}`, { hint: `choose one with --precision ${built.join('|')}` });
  return built[0] ?? defaultPrecision(docCount);
}

/**
 * Open the dense index of a model in `indexDir`, checking model fingerprint, dims and corpus.
 * @throws StaleIndexError when it is missing or was built with another model, corpus or doc store build;
 *   IndexError when it is damaged (both say to rebuild)
 */
export function openDenseIndex(indexDir: string, options: OpenDenseOptions): VectorIndex {
  const precision = densePrecision(indexDir, options.embedder.name, options.precision, 0);
  return openDenseIndexAt(denseDir(indexDir, options.embedder.name, precision), { ...options, precision });
}

/** What a dense part is built with. */
export interface DensePartOptions {
  /** The model that embeds every document, or the rows of --corpus-vectors. */
  embedder: Embedder | DocumentVectors;
  /** Where the model's files came from, recorded in the manifest. */
  modelSource?: Omit<ModelIdentity, 'name' | 'fingerprint'>;
  /** `--precision`; default as densePrecision. */
  precision?: Precision;
  /** Build the HNSW graph (else exact vectors only; src/vector/search-plan.ts decides). */
  buildGraph: boolean;
  hnsw?: Partial<HnswParams>;
  /** Build the IVF index (index.ivf) with the vectors (src/vector/search-plan.ts decides). Default false. */
  buildIvf?: boolean;
  /** Embedding and USearch insertion threads. */
  threads: number;
}

/**
 * Open the dense index of `docs` for a model, building it when missing, stale (another model, corpus or doc
 * store build) or `rebuild`.
 * @throws IndexError when an existing dense part is damaged (without `rebuild`); ModelError from the embedder
 */
export async function ensureDenseIndex(indexDir: string, docs: DocStore, options: DensePartOptions, build: BuildContext): Promise<VectorIndex> {
  const { embedder } = options;
  const precision = densePrecision(indexDir, embedder.name, options.precision, docs.docCount);
  const dir = denseDir(indexDir, embedder.name, precision);
  const expected = { embedder, precision, corpusFingerprint: docs.manifest.corpusFingerprint, docsBuildId: docs.manifest.buildId };
  const rebuildHint = denseRebuildHint(embedder.name);
  await ensurePart<VectorIndexManifest>(
    {
      name: 'dense index',
      dir,
      reuseReason: 'model and corpus match',
      inspect: () => {
        if (!existsSync(dir)) return undefined;
        const expect = { modelFingerprint: embedder.fingerprint, modelName: embedder.name, dims: embedder.dims, precision, corpusFingerprint: expected.corpusFingerprint, docsBuildId: expected.docsBuildId, rebuildHint };
        try {
          return { manifest: readVectorIndexManifest(dir, expect) };
        } catch (error) {
          // Built for another model or corpus: rebuilt. Damaged: an error with a rebuild hint (exit 3).
          if (!(error instanceof StaleIndexError)) throw error;
          return { stale: error.message };
        }
      },
      describe: (manifest) => ({ model: manifest.model.name, docs: manifest.count, precision: manifest.precision, graph: manifest.hnsw !== null, ivf: manifest.ivf ? `${manifest.ivf.nlist} lists, nprobe ${manifest.ivf.nprobe}` : false }),
      settings: { model: embedder.name, docs: docs.docCount, precision },
      build: async (aside, progress) => {
        const embedding = progress('embedding', docs.docCount, 'documents');
        try {
          const built = await writeDenseIndex({
            dir: aside,
            corpus: docs,
            embedder,
            precision,
            corpusFingerprint: expected.corpusFingerprint,
            docsBuildId: expected.docsBuildId,
            buildGraph: options.buildGraph,
            hnsw: options.hnsw,
            buildIvf: options.buildIvf,
            threads: options.threads,
            modelSource: options.modelSource,
            onEmbedded: (documents) => embedding.tick(documents),
          });
          return built.manifest;
        } finally {
          embedding.done();
        }
      },
    },
    build,
  );
  return openDenseIndexAt(dir, expected);
}
