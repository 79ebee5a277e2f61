/**
 * An index dir holds one corpus's doc store and the indexes built over it:
 *   <dir>/docs/   doc store (src/corpus/doc-store.ts)
 *   <dir>/bm25/   BM25 inverted index (src/bm25/)
 *   <dir>/dense/  vector indexes (src/vector/)
 * Each part carries a checksummed manifest with the corpus fingerprint, its own settings and its build id
 * (src/storage/manifest.ts). The doc store is the corpus: an existing one is reused when the corpus matches and
 * is never replaced by another corpus without --rebuild (IndexError, exit 3). Parts derived from it (bm25/,
 * dense/) are rebuilt when stale (settings changed, or built over another doc store build), and the log says
 * why. A damaged part (manifest missing, garbled, edited) is an IndexError with a rebuild hint, never "not
 * built". Parts are built in a sibling folder and renamed into place, so a reader never sees a half-built part
 * and two builders never corrupt each other. Without --index-dir a temporary dir is used and removed at exit.
 */
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import { IndexError, UsageError } from '../errors.js';
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
    if (!existsSync(indexDir)) log().info({ indexDir }, 'creating a new index dir (it did not exist)');
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

/**
 * Open the doc store, building it from `source` when none exists or with `rebuild`.
 * @throws IndexError when the existing doc store is damaged, or holds another corpus (without `rebuild`);
 *   UsageError when there is no corpus and no doc store
 */
export async function ensureDocStore(indexDir: string, source: CorpusSource | undefined, rebuild: boolean, rebuildHint: string): Promise<DocStore> {
  const dir = join(indexDir, 'docs');
  // With --rebuild and a corpus, whatever is there (even a damaged part) is replaced: it is not read.
  const manifest = rebuild && source ? undefined : readDocStoreManifest(dir, rebuildHint);
  if (!source) {
    if (!manifest) throw new UsageError(`no corpus given and ${dir} holds no doc store`, { hint: 'pass --corpus FILE, or build the index first with `rare-mine index bm25 --corpus FILE --index-dir DIR`' });
    log().info({ dir, docs: manifest.docCount }, 'using existing doc store');
    return new DocStore(dir, rebuildHint);
  }
  if (manifest && manifest.corpusFingerprint === source.fingerprint) {
    log().info({ dir, docs: manifest.docCount }, 'reusing doc store: corpus fingerprint matches');
    return new DocStore(dir, rebuildHint);
  }
  if (manifest) {
    throw new IndexError(
      `${indexDir} holds the index of another corpus (${manifest.source}, ${manifest.docCount} documents, built ${manifest.createdAt}); this run's corpus is ${source.description}`,
      { hint: 'pass --rebuild to replace that index with this corpus, or choose another --index-dir' },
    );
  }
  const reason = rebuild ? '--rebuild' : 'none built yet';
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

/**
 * Open the BM25 index over `docs`, building it when missing, stale (corpus, doc store build, analyzer, k1, b,
 * variant) or `rebuild`.
 * @throws IndexError when an existing BM25 part is damaged (without `rebuild`)
 */
export async function ensureBm25Index(indexDir: string, docs: DocStore, lang: string | AnalyzerChoice, settings: Bm25Settings, rebuild: boolean, rebuildHint: string, memoryBudget?: number): Promise<Bm25Index> {
  ensureBm25IndexFiles(indexDir, docs, lang, settings, rebuild, rebuildHint, memoryBudget);
  // A fresh analyzer: a build's term cache (the whole corpus vocabulary) is not kept alive while mining.
  return Bm25Index.open(join(indexDir, 'bm25'), createAnalyzer(lang), rebuildHint, docs.manifest.buildId);
}

/**
 * Build the BM25 index files when missing, stale or `rebuild`, without loading the index (so `index bm25`
 * stays within --memory-budget); returns its manifest.
 * @throws IndexError when an existing BM25 part is damaged (without `rebuild`)
 */
export function ensureBm25IndexFiles(indexDir: string, docs: DocStore, lang: string | AnalyzerChoice, settings: Bm25Settings, rebuild: boolean, rebuildHint: string, memoryBudget?: number): Bm25Manifest {
  const dir = join(indexDir, 'bm25');
  const analyzer = createAnalyzer(lang);
  const manifest = rebuild ? undefined : readBm25Manifest(dir, rebuildHint);
  const fingerprint = docs.manifest.corpusFingerprint;
  const docsBuildId = docs.manifest.buildId;
  const stale =
    manifest === undefined
      ? undefined
      : manifest.corpusFingerprint !== fingerprint
        ? 'corpus changed'
        : manifest.docsBuildId !== docsBuildId
          ? 'the doc store was rebuilt'
          : manifest.analyzer !== analyzer.fingerprint || manifest.k1 !== settings.k1 || manifest.b !== settings.b || manifest.variant !== settings.variant
            ? `settings changed (was ${manifest.analyzer}, k1=${manifest.k1}, b=${manifest.b}, ${manifest.variant})`
            : undefined;
  if (manifest && !stale) {
    log().info({ dir, terms: manifest.termCount, postings: manifest.postingCount }, 'reusing BM25 index: corpus and settings match');
    return manifest;
  }
  const reason = rebuild ? '--rebuild' : (stale ?? 'none built yet');
  requireBuildLock(`${dir}: ${reason}`);
  log().info({ dir, reason, analyzer: analyzer.fingerprint, ...settings }, 'building BM25 index');
  const { manifest: built, runs } = buildBm25(dir, docs, lang, settings, fingerprint, memoryBudget);
  log().info({ terms: built.termCount, postings: built.postingCount, averageDocLength: Number(built.averageDocLength.toFixed(2)), runs, memoryBudget }, 'BM25 index built');
  return built;
}

/** Build in its own frame so the writer's buffers are garbage before the reader opens. */
function buildBm25(dir: string, docs: DocStore, lang: string | AnalyzerChoice, settings: Bm25Settings, fingerprint: string, memoryBudget?: number): { manifest: Bm25Manifest; runs: number } {
  const aside = building(dir);
  rmSync(aside, { recursive: true, force: true });
  const writer = new Bm25IndexWriter(aside, createAnalyzer(lang), settings, memoryBudget);
  const progress = new Progress('indexing BM25', { total: docs.docCount, itemLabel: 'documents' });
  docs.forEachDocument((title, text) => {
    writer.add(title, text);
    progress.tick();
  });
  progress.done();
  const manifest = writer.finish(fingerprint, docs.manifest.buildId);
  replaceDir(dir, aside);
  return { manifest, runs: writer.runCount };
}
