/**
 * The BM25 index as a part of an index dir: its folder (`bm25/`) and its `ensure…` through ensurePart
 * (src/index/parts.ts). What must hold: a BM25 part is rebuilt when stale (corpus, doc store build, analyzer, k1,
 * b, variant) and the log says why; a damaged one is an IndexError with a rebuild hint, never "not built".
 */
import { join } from 'node:path';
import type { PartPlace } from '../index/layout.js';
import { ensurePart, type BuildContext } from '../index/parts.js';
import type { DocStore } from '../corpus/doc-store.js';
import { createAnalyzer, type AnalyzerChoice } from '../text/analyzer.js';
import { Bm25Index } from './index-reader.js';
import { buildBm25Index, type Bm25Settings } from './index-writer.js';
import { readBm25Manifest, type Bm25Manifest } from './format.js';

/** Where the BM25 index lives in an index dir. */
export const BM25_PART: PartPlace = { folder: 'bm25' };

/** The BM25 part's folder in the index dir `indexDir`. */
function bm25Dir(indexDir: string): string {
  return join(indexDir, BM25_PART.folder);
}

/** What a BM25 part is built with: the analyzer, the scoring settings, the memory budget of the build. */
export interface Bm25PartOptions {
  analyzer: string | AnalyzerChoice;
  scoring: Bm25Settings;
  /** Bytes of buffered postings before a sorted run is flushed (default DEFAULT_MEMORY_BUDGET). */
  memoryBudget?: number;
  /** Threads that analyze documents during a build (default 1); the files are the same bytes for any count. */
  threads?: number;
}

/**
 * Open the BM25 index over `docs`, building it when missing, stale (corpus, doc store build, analyzer, k1, b,
 * variant) or `rebuild`.
 * @throws IndexError when an existing BM25 part is damaged (without `rebuild`)
 */
export async function ensureBm25Index(indexDir: string, docs: DocStore, options: Bm25PartOptions, build: BuildContext): Promise<Bm25Index> {
  await ensureBm25IndexFiles(indexDir, docs, options, build);
  // A fresh analyzer: a build's term cache (the whole corpus vocabulary) is not kept alive while mining.
  return Bm25Index.open(bm25Dir(indexDir), createAnalyzer(options.analyzer), build.rebuildHint, docs.manifest.buildId);
}

/**
 * Build the BM25 index files when missing, stale or `rebuild`, without loading the index (so `index bm25`
 * stays within --memory-budget); returns its manifest.
 * @throws IndexError when an existing BM25 part is damaged (without `rebuild`)
 */
export async function ensureBm25IndexFiles(indexDir: string, docs: DocStore, options: Bm25PartOptions, build: BuildContext): Promise<Bm25Manifest> {
  const dir = bm25Dir(indexDir);
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
      // The build is synchronous (minutes on millions of passages) but for starting and stopping its threads, so a
      // JS signal handler could only run after it: it runs as the context's blocking step (the CLI's lets SIGINT and SIGTERM end the process at once, so
      // a batch scheduler's preemption takes effect within its grace period; see BuildContext.blocking).
      build: async (aside, progress) =>
        await (build.blocking ?? runNow)(async () => {
          const indexing = progress('indexing BM25', docs.docCount, 'documents');
          try {
            // A fresh analyzer per build (made by the build), so its term cache is garbage once the build is done.
            const built = await buildBm25Index(aside, docs, { analyzer: options.analyzer, settings: scoring, memoryBudget, corpusFingerprint: fingerprint, docsBuildId, threads: options.threads }, () => indexing.tick());
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
async function runNow<T>(step: () => T | Promise<T>): Promise<T> {
  return step();
}
