/**
 * An index dir holds one corpus's doc store and the indexes built over it (layout.ts): each part is opened here,
 * reused or built through ensurePart (parts.ts: lock, build aside, rename, logging), and each part's own module
 * does its build into the folder it is given — buildDocStore (src/corpus/doc-store.ts), buildBm25Index
 * (src/bm25/index-writer.ts), writeDenseIndex (src/dense/dense-index.ts); this module only judges and wires. Each part carries a checksummed manifest with the corpus fingerprint, its own
 * settings and its build id (src/storage/manifest.ts). What must hold: the doc store is the corpus — an existing
 * one is reused when the corpus matches and is never replaced by another corpus without --rebuild (IndexError,
 * exit 3); parts derived from it (bm25/, dense/) are rebuilt when stale (settings or model changed, or built over
 * another doc store build), and the log says why; a damaged part is an IndexError with a rebuild hint, never "not
 * built". Without --index-dir a temporary dir is used and removed at exit.
 */
import { existsSync } from 'node:fs';
import { IndexError, StaleIndexError, UsageError } from '../errors.js';
import { log } from '../log.js';
import { ownedTempDir } from '../io/temp-dirs.js';
import type { CorpusSource } from '../corpus/corpus-source.js';
import { buildDocStore, DocStore, readDocStoreManifest, type DocStoreManifest } from '../corpus/doc-store.js';
import { Bm25Index } from '../bm25/index-reader.js';
import { buildBm25Index, type Bm25Settings } from '../bm25/index-writer.js';
import { readBm25Manifest, type Bm25Manifest } from '../bm25/format.js';
import { createAnalyzer, type AnalyzerChoice } from '../text/analyzer.js';
import type { Embedder } from '../embed/embedder.js';
import { denseRebuildHint, openDenseIndexAt, writeDenseIndex, type DocumentVectors } from '../dense/dense-index.js';
import { readVectorIndexManifest, type HnswParams, type ModelIdentity, type VectorIndexManifest } from '../vector/index-manifest.js';
import { defaultPrecision, type Precision } from '../vector/precision.js';
import type { VectorIndex } from '../vector/vector-index.js';
import { builtDensePrecisions, indexLayout } from './layout.js';
import { ensurePart, type BuildContext } from './parts.js';
import { makeDirs } from '../io/make-dirs.js';

/**
 * The index dir to use: the given one (created) or a fresh temporary one removed at exit (and by a later run
 * when a kill prevented that: src/io/temp-dirs.ts).
 */
export function resolveIndexDir(indexDir: string | undefined): string {
  if (indexDir) {
    if (!existsSync(indexDir)) log().info({ indexDir }, 'creating a new index dir (it did not exist)');
    makeDirs(indexDir);
    return indexDir;
  }
  return ownedTempDir('rare-mine-index-');
}

/** The verified manifest of the doc store of `indexDir`; undefined when none was built. */
export function readIndexDocStoreManifest(indexDir: string, rebuildHint: string): DocStoreManifest | undefined {
  return readDocStoreManifest(indexLayout(indexDir).docs, rebuildHint);
}

/**
 * Open the doc store, building it from `source` when none exists or with `rebuild`.
 * @throws IndexError when the existing doc store is damaged, or holds another corpus (without `rebuild`);
 *   UsageError when there is no corpus and no doc store
 */
export async function ensureDocStore(indexDir: string, source: CorpusSource | undefined, build: BuildContext): Promise<DocStore> {
  const dir = indexLayout(indexDir).docs;
  if (!source) {
    const manifest = readDocStoreManifest(dir, build.rebuildHint);
    if (!manifest) throw new UsageError(`no corpus given and ${dir} holds no doc store`, { hint: 'pass --corpus FILE, or build the index first with `rare-mine index bm25 --corpus FILE --index-dir DIR`' });
    log().info({ dir, docs: manifest.docCount }, 'using existing doc store');
    return new DocStore(dir, build.rebuildHint);
  }
  await ensurePart<DocStoreManifest>(
    {
      name: 'doc store',
      dir,
      reuseReason: 'corpus fingerprint matches',
      inspect: () => {
        const manifest = readDocStoreManifest(dir, build.rebuildHint);
        if (manifest && manifest.corpusFingerprint !== source.fingerprint) {
          throw new IndexError(
            `${indexDir} holds the index of another corpus (${manifest.source}, ${manifest.docCount} documents, built ${manifest.createdAt}); this run's corpus is ${source.description}`,
            { hint: 'pass --rebuild to replace that index with this corpus, or choose another --index-dir' },
          );
        }
        return manifest && { manifest };
      },
      describe: (manifest) => ({ docs: manifest.docCount }),
      settings: { corpus: source.description },
      build: async (aside, progress) => {
        // By bytes when the source's size is known (a regular file): a percentage and an ETA, as mining shows.
        const byBytes = source.totalBytes !== undefined && source.totalBytes > 0;
        const reading = byBytes ? progress('reading corpus', source.totalBytes, 'documents', 'bytes') : progress('reading corpus', undefined, 'documents');
        try {
          return await buildDocStore(aside, source.documents(), { corpusFingerprint: source.fingerprint, source: source.description }, (doc) => reading.tick(1, byBytes ? doc.endByte : undefined));
        } finally {
          reading.done();
        }
      },
    },
    build,
  );
  return new DocStore(dir, build.rebuildHint);
}

/** What a BM25 part is built with: the analyzer, the scoring settings, the memory budget of the build. */
export interface Bm25PartOptions {
  analyzer: string | AnalyzerChoice;
  scoring: Bm25Settings;
  /** Bytes of buffered postings before a sorted run is flushed (default DEFAULT_MEMORY_BUDGET). */
  memoryBudget?: number;
}

/**
 * Open the BM25 index over `docs`, building it when missing, stale (corpus, doc store build, analyzer, k1, b,
 * variant) or `rebuild`.
 * @throws IndexError when an existing BM25 part is damaged (without `rebuild`)
 */
export async function ensureBm25Index(indexDir: string, docs: DocStore, options: Bm25PartOptions, build: BuildContext): Promise<Bm25Index> {
  await ensureBm25IndexFiles(indexDir, docs, options, build);
  // A fresh analyzer: a build's term cache (the whole corpus vocabulary) is not kept alive while mining.
  return Bm25Index.open(indexLayout(indexDir).bm25, createAnalyzer(options.analyzer), build.rebuildHint, docs.manifest.buildId);
}

/**
 * Build the BM25 index files when missing, stale or `rebuild`, without loading the index (so `index bm25`
 * stays within --memory-budget); returns its manifest.
 * @throws IndexError when an existing BM25 part is damaged (without `rebuild`)
 */
export async function ensureBm25IndexFiles(indexDir: string, docs: DocStore, options: Bm25PartOptions, build: BuildContext): Promise<Bm25Manifest> {
  const dir = indexLayout(indexDir).bm25;
  const analyzer = createAnalyzer(options.analyzer);
  const { scoring, memoryBudget } = options;
  const fingerprint = docs.manifest.corpusFingerprint;
  const docsBuildId = docs.manifest.buildId;
  let runs: number | undefined;
  return ensurePart<Bm25Manifest>(
    {
      name: 'BM25 index',
      dir,
      reuseReason: 'corpus and settings match',
      inspect: () => {
        const manifest = readBm25Manifest(dir, build.rebuildHint);
        if (!manifest) return undefined;
        const stale =
          manifest.corpusFingerprint !== fingerprint
            ? 'corpus changed'
            : manifest.docsBuildId !== docsBuildId
              ? 'the doc store was rebuilt'
              : manifest.analyzer !== analyzer.fingerprint || manifest.k1 !== scoring.k1 || manifest.b !== scoring.b || manifest.variant !== scoring.variant
                ? `settings changed (was ${manifest.analyzer}, k1=${manifest.k1}, b=${manifest.b}, ${manifest.variant})`
                : undefined;
        return stale === undefined ? { manifest } : { stale };
      },
      describe: (manifest) => ({
        terms: manifest.termCount,
        postings: manifest.postingCount,
        averageDocLength: Number(manifest.averageDocLength.toFixed(2)),
        ...(runs === undefined ? {} : { runs, memoryBudget }),
      }),
      settings: { analyzer: analyzer.fingerprint, ...scoring },
      // The build is synchronous (minutes on millions of passages), so a JS signal handler could only run after
      // it: it runs as the context's blocking step (the CLI's lets SIGINT and SIGTERM end the process at once, so
      // a batch scheduler's preemption takes effect within its grace period; see BuildContext.blocking).
      build: (aside, progress) =>
        (build.blocking ?? runNow)(() => {
          const indexing = progress('indexing BM25', docs.docCount, 'documents');
          try {
            // A fresh analyzer per build, so its term cache is garbage once the build is done.
            const built = buildBm25Index(aside, docs, { analyzer: createAnalyzer(options.analyzer), settings: scoring, memoryBudget, corpusFingerprint: fingerprint, docsBuildId }, () => indexing.tick());
            runs = built.runs;
            return built.manifest;
          } finally {
            indexing.done();
          }
        }),
    },
    build,
  );
}

/** A blocking build step run as it is (no BuildContext.blocking). */
async function runNow<T>(step: () => T): Promise<T> {
  return step();
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
  return openDenseIndexAt(indexLayout(indexDir).dense(options.embedder.name, precision), { ...options, precision });
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
  const dir = indexLayout(indexDir).dense(embedder.name, precision);
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
