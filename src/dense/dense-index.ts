/**
 * Building and opening the dense index of a corpus: every document embedded (through the embedding cache
 * when the embedder has one) and written to a vector index at `<indexDir>/dense/<model>-<precision>/`.
 * What must hold: row i is doc ordinal i of the corpus (the doc store's ordinals); the text embedded for a
 * document is its title and text joined by a space, as BEIR's dense evaluation does ("text" alone when
 * the title is empty); memory stays flat in the corpus size while embedding (documents go through in
 * blocks; only the graph grows, by design).
 */
import { Progress } from '../cli/progress.js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Embedder } from '../embed/embedder.js';
import { IndexError } from '../errors.js';
import { log } from '../log.js';
import type { CorpusView } from '../mine/retriever.js';
import type { HnswParams, ModelIdentity, VectorIndexManifest } from '../vector/index-manifest.js';
import { defaultPrecision, PRECISION_NAMES, type Precision } from '../vector/precision.js';
import { VectorIndex, VectorIndexWriter } from '../vector/vector-index.js';

/** Documents embedded per embedder call: enough to sort by length well, small enough to bound memory. */
export const EMBED_BLOCK_DOCS = 1024;

/** The corpus a dense index reads: ordinals, texts and (optionally) titles. The doc store is one. */
export type DenseCorpus = Pick<CorpusView, 'docCount' | 'text'> & { title?(docOrdinal: number): string };

/** Options of buildDenseIndex. */
export interface BuildDenseIndexOptions {
  corpus: DenseCorpus;
  /** Title of a document, for corpora whose view has no title(); default: the view's title(), else none. */
  title?: (docOrdinal: number) => string;
  embedder: Embedder;
  /** The index root (`--index-dir`); the dense index goes to `<indexDir>/dense/<model>-<precision>/`. */
  indexDir: string;
  /** Graph storage precision (`--precision`). Default: f32, i8 above 500k documents (precision.ts). */
  precision?: Precision;
  /** The corpus fingerprint the doc store recorded; default: sha256 over the titles and texts embedded. */
  corpusFingerprint?: string;
  /** The doc store build the rows follow (recorded, and checked on open). */
  docsBuildId?: string;
  /** Build the HNSW graph now. Default true; false writes only exact vectors (see search-plan.ts). */
  buildGraph?: boolean;
  hnsw?: Partial<HnswParams>;
  /** USearch insertion threads, ≥ 1. Default 1. */
  threads?: number;
  /** Where the model's files came from (--revision, hub commit, --onnx-file), recorded in the manifest. */
  modelSource?: Omit<ModelIdentity, 'name' | 'fingerprint'>;
}

/** Where the index went and its manifest. */
export interface BuiltDenseIndex {
  dir: string;
  manifest: VectorIndexManifest;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A file-name-safe short name of a model: the last path part of "org/name" or of a directory. */
export function modelShortName(modelName: string): string {
  const last = modelName.split(/[\\/]/).filter(Boolean).pop() ?? 'model';
  return last.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** `<indexDir>/dense/<model short name>-<precision>`. */
export function denseIndexDir(indexDir: string, modelName: string, precision: Precision): string {
  return join(indexDir, 'dense', `${modelShortName(modelName)}-${precision}`);
}

/** The text embedded for a document: "title text", or the text alone when there is no title. */
export function documentEmbeddingText(title: string, text: string): string {
  return title.length > 0 ? `${title} ${text}` : text;
}

/** The command that rebuilds a dense index, for error hints. */
export function denseRebuildHint(modelName: string): string {
  return `rare-mine index dense --model ${modelName} --corpus CORPUS --index-dir DIR`;
}

/**
 * Embed every document of the corpus and write the dense index.
 * @throws ModelError from the embedder; IndexError when the index cannot be written
 */
export async function buildDenseIndex(options: BuildDenseIndexOptions): Promise<BuiltDenseIndex> {
  const { corpus, embedder } = options;
  const precision = options.precision ?? defaultPrecision(corpus.docCount);
  const dir = denseIndexDir(options.indexDir, embedder.name, precision);
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
  const progress = new Progress('embedding', { total: corpus.docCount, itemLabel: 'documents' });
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
      const rows = await embedder.embedDocuments(texts, (done) => progress.tick(done));
      writer.add(rows);
      const now = performance.now();
      if (now - lastLog > 10_000 || last === corpus.docCount) {
        lastLog = now;
        log().debug({ docs: last, of: corpus.docCount, docsPerSecond: Math.round(last / ((now - started) / 1000)) }, 'embedding documents');
      }
    }
    progress.done();
    const manifest = writer.finish({
      model: { name: embedder.name, fingerprint: embedder.fingerprint, ...definedOnly(options.modelSource ?? {}) },
      corpusFingerprint: options.corpusFingerprint ?? corpusHash.digest('hex'),
      docsBuildId: options.docsBuildId,
    });
    return { dir, manifest };
  } catch (error) {
    progress.done();
    writer.abort();
    throw error;
  }
}

/** Options of openDenseIndex. */
export interface OpenDenseIndexOptions {
  indexDir: string;
  embedder: Pick<Embedder, 'name' | 'fingerprint' | 'dims'>;
  /** Precision of the index to open. Default: the only dense index of this model under indexDir, else f32. */
  precision?: Precision;
  /** When given, the index must have been built from this corpus. */
  corpusFingerprint?: string;
  /** When given, the index must have been built over this doc store build. */
  docsBuildId?: string;
}

/**
 * Open the dense index of a model under an index root, checking model fingerprint, dims and corpus.
 * @throws StaleIndexError when it is missing or was built with another model, corpus or doc store build;
 *   IndexError when it is damaged (both say to rebuild)
 */
export function openDenseIndex(options: OpenDenseIndexOptions): VectorIndex {
  const { embedder } = options;
  let precision = options.precision;
  if (!precision) {
    const built = PRECISION_NAMES.filter((candidate) =>
      existsSync(denseIndexDir(options.indexDir, embedder.name, candidate)),
    );
    if (built.length > 1) {
      throw new IndexError(`${options.indexDir} holds dense indexes of ${embedder.name} at ${built.join(', ')}`, { hint: `choose one with --precision ${built.join('|')}` });
    }
    precision = built[0] ?? 'f32';
  }
  return VectorIndex.open(denseIndexDir(options.indexDir, embedder.name, precision), {
    modelFingerprint: embedder.fingerprint,
    modelName: embedder.name,
    dims: embedder.dims,
    precision,
    corpusFingerprint: options.corpusFingerprint,
    docsBuildId: options.docsBuildId,
    rebuildHint: denseRebuildHint(embedder.name),
  });
}
