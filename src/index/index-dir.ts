/**
 * An index dir holds one corpus's doc store and the indexes built over it:
 *   <dir>/docs/   doc store (src/corpus/doc-store.ts)
 *   <dir>/bm25/   BM25 inverted index (src/bm25/)
 *   <dir>/dense/  vector indexes (src/vector/)
 * Each part carries a manifest with the corpus fingerprint and its own settings: a matching part is reused, a
 * stale one rebuilt (or always with --rebuild), and the log says which. Parts are built in a sibling folder and
 * renamed into place, so a reader never sees a half-built part and two builders never corrupt each other.
 * Without --index-dir a temporary dir is used and removed at exit.
 */
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../log.js';
import { ownedTempDir } from '../io/temp-dirs.js';
import { requireBuildLock } from './build-lock.js';
import { DocStore, DocStoreWriter, readDocStoreManifest, replaceDir, type CorpusDoc } from '../corpus/doc-store.js';
import { Bm25Index, readBm25Manifest } from '../bm25/index-reader.js';
import { Bm25IndexWriter, type Bm25Manifest, type Bm25Settings } from '../bm25/index-writer.js';
import { createAnalyzer, type AnalyzerChoice } from '../text/analyzer.js';
import { Progress } from '../cli/progress.js';

export interface CorpusSource {
  /** What the corpus is, for logs and manifests. */
  description: string;
  fingerprint: string;
  /** Documents in corpus order. Only called when the doc store must be (re)built. */
  documents(): AsyncIterable<CorpusDoc>;
  /** Byte size when known, for progress. */
  approximateDocs?: number;
}

/**
 * The index dir to use: the given one (created) or a fresh temporary one removed at exit (and by a later run
 * when a kill prevented that: src/io/temp-dirs.ts).
 */
export function resolveIndexDir(indexDir: string | undefined): string {
  if (indexDir) {
    mkdirSync(indexDir, { recursive: true });
    return indexDir;
  }
  return ownedTempDir('rare-mine-index-');
}

export interface PhaseTimes {
  [phase: string]: number;
}

function building(dir: string): string {
  return `${dir}.building-${process.pid}`;
}

/** Open the doc store, building it from `source` when missing, stale or `rebuild`. */
export async function ensureDocStore(indexDir: string, source: CorpusSource | undefined, rebuild: boolean, rebuildHint: string): Promise<DocStore> {
  const dir = join(indexDir, 'docs');
  const manifest = readDocStoreManifest(dir);
  if (!source) {
    if (!manifest) throw new (await import('../errors.js')).UsageError(`no corpus given and ${dir} holds no doc store`, { hint: 'pass --corpus FILE, or build the index first with `rare-mine index bm25 --corpus FILE --index-dir DIR`' });
    log().info({ dir, docs: manifest.docCount }, 'using existing doc store');
    return new DocStore(dir, rebuildHint);
  }
  if (manifest && manifest.corpusFingerprint === source.fingerprint && !rebuild) {
    log().info({ dir, docs: manifest.docCount }, 'reusing doc store: corpus fingerprint matches');
    return new DocStore(dir, rebuildHint);
  }
  const reason = rebuild ? '--rebuild' : manifest ? 'corpus changed (fingerprint differs)' : 'none built yet';
  requireBuildLock(`${dir}: ${reason}`);
  log().info({ dir, reason, corpus: source.description }, 'building doc store');
  const aside = building(dir);
  rmSync(aside, { recursive: true, force: true });
  const writer = new DocStoreWriter(aside);
  const progress = new Progress('reading corpus', { total: source.approximateDocs, itemLabel: 'documents' });
  for await (const doc of source.documents()) {
    writer.add(doc);
    progress.tick();
  }
  progress.done();
  writer.finish({ corpusFingerprint: source.fingerprint, source: source.description });
  replaceDir(dir, aside);
  return new DocStore(dir, rebuildHint);
}

/** Open the BM25 index over `docs`, building it when missing, stale (corpus, analyzer, k1, b, variant) or `rebuild`. */
export async function ensureBm25Index(indexDir: string, docs: DocStore, lang: string | AnalyzerChoice, settings: Bm25Settings, rebuild: boolean, rebuildHint: string): Promise<Bm25Index> {
  const dir = join(indexDir, 'bm25');
  const analyzer = createAnalyzer(lang);
  const manifest = readBm25Manifest(dir);
  const fingerprint = docs.manifest.corpusFingerprint;
  const matches =
    manifest !== undefined &&
    manifest.corpusFingerprint === fingerprint &&
    manifest.analyzer === analyzer.fingerprint &&
    manifest.k1 === settings.k1 &&
    manifest.b === settings.b &&
    manifest.variant === settings.variant;
  if (matches && !rebuild) {
    log().info({ dir, terms: manifest.termCount, postings: manifest.postingCount }, 'reusing BM25 index: corpus and settings match');
    return new Bm25Index(dir, analyzer, rebuildHint);
  }
  const reason = rebuild
    ? '--rebuild'
    : !manifest
      ? 'none built yet'
      : manifest.corpusFingerprint !== fingerprint
        ? 'corpus changed'
        : `settings changed (was ${manifest.analyzer}, k1=${manifest.k1}, b=${manifest.b}, ${manifest.variant})`;
  requireBuildLock(`${dir}: ${reason}`);
  log().info({ dir, reason, analyzer: analyzer.fingerprint, ...settings }, 'building BM25 index');
  const built = buildBm25(dir, docs, lang, settings, fingerprint);
  log().info({ terms: built.termCount, postings: built.postingCount, averageDocLength: Number(built.averageDocLength.toFixed(2)) }, 'BM25 index built');
  // A fresh analyzer: the build's term cache (the whole corpus vocabulary) is not kept alive while mining.
  return new Bm25Index(dir, createAnalyzer(lang), rebuildHint);
}

/** Build in its own frame so the writer's buffers are garbage before the reader opens. */
function buildBm25(dir: string, docs: DocStore, lang: string | AnalyzerChoice, settings: Bm25Settings, fingerprint: string): Bm25Manifest {
  const aside = building(dir);
  rmSync(aside, { recursive: true, force: true });
  const writer = new Bm25IndexWriter(aside, createAnalyzer(lang), settings);
  const progress = new Progress('indexing BM25', { total: docs.docCount, itemLabel: 'documents' });
  for (let ordinal = 0; ordinal < docs.docCount; ordinal++) {
    writer.add(docs.title(ordinal), docs.text(ordinal));
    progress.tick();
  }
  progress.done();
  const built = writer.finish(fingerprint);
  replaceDir(dir, aside);
  return built;
}

export function indexDirExists(dir: string): boolean {
  return existsSync(join(dir, 'docs', 'manifest.json'));
}
