/**
 * What a retriever kind is (one row of RETRIEVERS, src/retrievers/retrievers.ts) and the one way every kind is
 * opened: its fail-fast work first (a model resolved, an analyzer checked), then, under the index dir's build
 * lock, the doc store (built or reused) and the kind's own parts over it. What must hold: nothing is built before
 * the kind's `prepare` succeeded; every part of one retriever reads the same doc store.
 */
import type { Command } from 'commander';
import type { DocStore } from '../corpus/doc-store.js';
import type { CorpusSource } from '../corpus/corpus-source.js';
import { resolveIndexDir } from '../index/index-dir.js';
import { ensureDocStore } from '../corpus/doc-store-part.js';
import type { BuildContext } from '../index/parts.js';
import { withBuildLock } from '../index/build-lock.js';
import { INDEX_PARTS } from './index-parts.js';
import { phaseProgress } from '../terminal/progress.js';
import { withDefaultSignals } from '../terminal/signals.js';
import type { Retriever } from '../retriever.js';
import type { RecordRows } from '../io/record-rows.js';

/** The options every kind reads: where its index lives and whether to rebuild it. */
export interface IndexDirOptions {
  indexDir?: string;
  rebuild: boolean;
  /** --threads: the threads of every stage (decided once, by the option's default: every core). */
  threads: number;
}

/** Why a retriever is opened: mining a stream, evaluating on BEIR files, or building its index once (`index`). */
export type OpenPurpose = 'mine' | 'eval' | 'index';

/** Opens the kind's parts over a doc store in an index dir (called under the build lock). */
export type OpenOver<R extends Retriever = Retriever> = (docs: DocStore, indexDir: string) => Promise<R>;

/** Builds (or confirms) the kind's parts without loading them; returns the figures `index` logs (e.g. terms). */
export type BuildOver = (docs: DocStore, indexDir: string) => Promise<Readonly<Record<string, number>>>;

/** The mining defaults of a kind (its family's convention: DataFlow for BM25, RAGatouille for dense). */
export interface MiningDefaults {
  minRank: number;
  maxRank?: number;
  sample: 'top' | 'random';
  /** What --fill does for this kind (cli/options.ts FILL_HELP). */
  fillHelp: string;
}

/** One retriever kind: the mining command `rare-mine <name>`, `eval --retriever <name>` and `index <name>` come from it. */
export interface RetrieverKind<O extends IndexDirOptions, R extends Retriever = Retriever> {
  readonly name: string;
  /** The mining command's one-line summary and its description (--help). */
  readonly summary: string;
  readonly description: string;
  readonly mining: MiningDefaults;
  /**
   * True when the kind's ranking runs out before the corpus does (BM25 ranks only documents sharing a term with
   * the query): a run with short records and --fill none then suggests --fill random.
   */
  readonly rankingRunsOut: boolean;
  /** Declare the kind's own options (cli/options.ts groups) on a command. */
  options(command: Command): void;
  /** The command that rebuilds this kind's index, for error hints. */
  rebuildHint(options: O): string;
  /**
   * The fail-fast work (before any index is built); resolves to the opener of the kind's parts. `queries`: the
   * records of the query file the run will search (the mining input, eval's --queries), when it has one.
   */
  prepare(options: O, purpose: OpenPurpose, queries?: RecordRows): Promise<OpenOver<R>>;
  /** `rare-mine index <name>`, for kinds whose index is worth building ahead of mining runs. */
  readonly index?: {
    readonly description: string;
    /** The kind's options on `index <name>` (its own, plus e.g. --threads for a model). */
    options(command: Command): void;
    prepare(options: O): Promise<BuildOver>;
  };
}

/**
 * How a command's index parts are built: --rebuild, the rebuild hint, the terminal's progress line, and blocking
 * steps with SIGINT/SIGTERM at their default action (the process ends at once).
 */
export function buildContext(options: { rebuild: boolean; threads?: number }, rebuildHint: string): BuildContext {
  return { rebuild: options.rebuild, rebuildHint, progress: phaseProgress, blocking: withDefaultSignals, threads: options.threads };
}

/** Run `over` on the doc store of `options.indexDir` (built from `source` as needed), under its build lock. */
async function overDocStore<T>(source: CorpusSource | undefined, options: IndexDirOptions, rebuildHint: string, over: (docs: DocStore, indexDir: string) => Promise<T>): Promise<T> {
  const dir = resolveIndexDir(options.indexDir);
  return withBuildLock(dir, INDEX_PARTS, async () => over(await ensureDocStore(dir, source, buildContext(options, rebuildHint)), dir));
}

/** Open a retriever of `kind` over the corpus `source` (undefined: the doc store already in --index-dir). */
export async function openRetriever<O extends IndexDirOptions, R extends Retriever>(
  kind: RetrieverKind<O, R>,
  source: CorpusSource | undefined,
  options: O,
  purpose: OpenPurpose,
  queries?: RecordRows,
): Promise<R> {
  const openOver = await kind.prepare(options, purpose, queries);
  return overDocStore(source, options, kind.rebuildHint(options), openOver);
}

/** Build (or confirm) the doc store and `kind`'s index parts; the figures for the log, the doc count first. */
export async function buildIndex<O extends IndexDirOptions>(kind: RetrieverKind<O>, source: CorpusSource | undefined, options: O): Promise<Readonly<Record<string, number>>> {
  if (!kind.index) throw new Error(`${kind.name} has no index of its own`);
  const buildOver = await kind.index.prepare(options);
  return overDocStore(source, options, kind.rebuildHint(options), async (docs, dir) => {
    try {
      return { docs: docs.docCount, ...(await buildOver(docs, dir)) };
    } finally {
      docs.close();
    }
  });
}
