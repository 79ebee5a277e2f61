/**
 * The dense part's build and open: every document embedded (through the embedding cache when the embedder has
 * one) and written to a vector index in the folder it is given (src/index/ decides which folder, builds it aside
 * and renames it into place, and reports progress through the callback it passes).
 * What must hold: row i is doc ordinal i of the corpus (the doc store's ordinals); the text embedded for a
 * document is its title and text joined by a space, as BEIR's dense evaluation does ("text" alone when
 * the title is empty); memory stays flat in the corpus size while embedding (documents go through in
 * blocks; only the graph grows, by design).
 */
import { createHash } from 'node:crypto';
import type { Embedder } from '../embed/embedder.js';
import { log } from '../log.js';
import type { CorpusView } from '../retriever.js';
import type { HnswParams, ModelIdentity, VectorIndexManifest } from '../vector/index-manifest.js';
import type { IvfBuildOptions } from '../vector/ivf-index.js';
import type { Precision } from '../vector/precision.js';
import { denseRebuildHint } from './rebuild-hint.js';
import { VectorIndex, VectorIndexWriter } from '../vector/vector-index.js';

/** Documents embedded per embedder call: enough to sort by length well, small enough to bound memory. */
export const EMBED_BLOCK_DOCS = 1024;

/** The corpus a dense index reads: ordinals, texts and (optionally) titles. The doc store is one. */
export type DenseCorpus = Pick<CorpusView, 'docCount' | 'text'> & { title?(docOrdinal: number): string };

/** What the vectors of an index are: the model's name, fingerprint and dims (or a vector file's, src/dense/vector-inputs.ts). */
export type VectorSpace = Pick<Embedder, 'name' | 'fingerprint' | 'dims'>;

/** Document rows computed elsewhere (--corpus-vectors): row i is doc ordinal i. */
export interface DocumentVectors extends VectorSpace {
  /** Rows `first`..`first + count − 1`, L2-normalised. */
  block(first: number, count: number): Float32Array[];
}

/** Options of writeDenseIndex. */
export interface WriteDenseIndexOptions {
  /** The folder to write the index into (created). */
  dir: string;
  corpus: DenseCorpus;
  /** Title of a document, for corpora whose view has no title(); default: the view's title(), else none. */
  title?: (docOrdinal: number) => string;
  /** Where the rows come from: the model embeds each document, or a vector file gives them (row i = ordinal i). */
  embedder: Embedder | DocumentVectors;
  /** Graph storage precision (`--precision`). */
  precision: Precision;
  /** The corpus fingerprint the doc store recorded; default: sha256 over the titles and texts embedded. */
  corpusFingerprint?: string;
  /** The doc store build the rows follow (recorded, and checked on open). */
  docsBuildId?: string;
  /** Build the HNSW graph now. Default true; false writes only exact vectors (see search-plan.ts). */
  buildGraph?: boolean;
  hnsw?: Partial<HnswParams>;
  /** Build the IVF index (index.ivf) once the vectors are written. Default false (see search-plan.ts). */
  buildIvf?: boolean;
  /** IVF lists and recall target; defaults in src/vector/ivf-index.ts. */
  ivf?: IvfBuildOptions;
  /** USearch insertion and IVF build (matrix-product) threads, ≥ 1. Default 1. */
  threads: number;
  /** Where the model's files came from (--revision, hub commit, --onnx-file), recorded in the manifest. */
  modelSource?: Omit<ModelIdentity, 'name' | 'fingerprint'>;
  /** Called as documents are embedded, with the number just done (progress). */
  onEmbedded?: (documents: number) => void;
}

/** Where the index went and its manifest. */
export interface BuiltDenseIndex {
  dir: string;
  manifest: VectorIndexManifest;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The text embedded for a document: "title text", or the text alone when there is no title. */
export function documentEmbeddingText(title: string, text: string): string {
  return title.length > 0 ? `${title} ${text}` : text;
}

/** The command that rebuilds a dense index, for error hints (src/dense/rebuild-hint.ts). */
export { denseRebuildHint };

/**
 * Embed every document of the corpus and write the dense index into `options.dir`.
 * @throws ModelError from the embedder; IndexError when the index cannot be written
 */
export async function writeDenseIndex(options: WriteDenseIndexOptions): Promise<BuiltDenseIndex> {
  const { corpus, embedder, dir, precision } = options;
  const rowsOf = 'block' in embedder ? embedder.block.bind(embedder) : undefined;
  const titleOf = options.title ?? (corpus.title ? (ordinal: number) => corpus.title!(ordinal) : () => '');
  const writer = new VectorIndexWriter(dir, {
    dims: embedder.dims,
    precision,
    buildGraph: options.buildGraph ?? true,
    hnsw: options.hnsw,
    threads: options.threads,
  });
  const corpusHash = createHash('sha256');
  const started = performance.now();
  let lastLog = started;
  log().debug({ model: embedder.name, docs: corpus.docCount, precision, dir }, 'dense index: embedding the corpus');
  try {
    for (let first = 0; first < corpus.docCount; first += EMBED_BLOCK_DOCS) {
      const last = Math.min(first + EMBED_BLOCK_DOCS, corpus.docCount);
      const texts: string[] = [];
      for (let ordinal = first; ordinal < last; ordinal++) {
        const title = titleOf(ordinal);
        const text = corpus.text(ordinal);
        corpusHash.update(title).update('\u0000').update(text).update('\n');
        texts.push(documentEmbeddingText(title, text));
      }
      let rows: Float32Array[];
      if (rowsOf) {
        rows = rowsOf(first, last - first);
        options.onEmbedded?.(rows.length);
      } else rows = await (embedder as Embedder).embedDocuments(texts, options.onEmbedded);
      writer.add(rows);
      const now = performance.now();
      if (now - lastLog > 10_000 || last === corpus.docCount) {
        lastLog = now;
        log().debug({ docs: last, of: corpus.docCount, docsPerSecond: Math.round(last / ((now - started) / 1000)) }, 'embedding documents');
      }
    }
    const manifest = writer.finish({
      model: { name: embedder.name, fingerprint: embedder.fingerprint, ...definedOnly(options.modelSource ?? {}) },
      corpusFingerprint: options.corpusFingerprint ?? corpusHash.digest('hex'),
      docsBuildId: options.docsBuildId,
    });
    if (!options.buildIvf) return { dir, manifest };
    const index = VectorIndex.open(dir, { rebuildHint: denseRebuildHint(embedder.name) });
    try {
      await index.buildIvf(options.threads, options.ivf);
      return { dir, manifest: index.manifest };
    } finally {
      index.close();
    }
  } catch (error) {
    writer.abort();
    throw error;
  }
}

/** What an opened dense index must agree with. */
export interface OpenDenseIndexOptions {
  embedder: VectorSpace;
  precision: Precision;
  /** When given, the index must have been built from this corpus. */
  corpusFingerprint?: string;
  /** When given, the index must have been built over this doc store build. */
  docsBuildId?: string;
}

/**
 * Open the dense index in `dir`, checking model fingerprint, dims, precision and corpus.
 * @throws StaleIndexError when it is missing or was built with another model, corpus or doc store build;
 *   IndexError when it is damaged (both say to rebuild)
 */
export function openDenseIndexAt(dir: string, options: OpenDenseIndexOptions): VectorIndex {
  const { embedder } = options;
  return VectorIndex.open(dir, {
    modelFingerprint: embedder.fingerprint,
    modelName: embedder.name,
    dims: embedder.dims,
    precision: options.precision,
    corpusFingerprint: options.corpusFingerprint,
    docsBuildId: options.docsBuildId,
    rebuildHint: denseRebuildHint(embedder.name),
  });
}
