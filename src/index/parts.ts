/**
 * What every index part (doc store, BM25, dense) goes through, written once: inspect what is there, reuse it or
 * say why not, take the build lock, build aside and rename into place (src/storage/build-aside.ts), log each step.
 * A part brings only what is its own: how to read its manifest and judge it, and how to build into a folder.
 * What must hold: a damaged part is an error (inspect throws), never "not built"; a part is built only under the
 * build lock (requireBuildLock); the log names the part, its folder and the reason for every build or reuse.
 * Progress is reported through the caller's callback: this folder draws nothing.
 */
import { log } from '../log.js';
import { buildAside } from '../storage/build-aside.js';
import { requireBuildLock } from './build-lock.js';

/** One phase's progress, drawn by whoever passed the reporter (the CLI's progress line on a terminal). */
export interface PhaseProgress {
  /** `count` more items done; in a phase measured in bytes, `bytesDone` says how far into the source it is. */
  tick(count?: number, bytesDone?: number): void;
  /** The phase is over. */
  done(): void;
}

/**
 * Starts the progress of a phase: its label, its total when known, what an item is called, and the unit the total
 * counts (`bytes`: the phase reads a file of known size and counts its items beside the bytes; default items).
 */
export type ProgressReporter = (label: string, total: number | undefined, itemLabel: string, unit?: 'items' | 'bytes') => PhaseProgress;

/** Reports nothing (library callers, tests). */
export const NO_PROGRESS: ProgressReporter = () => ({ tick: () => undefined, done: () => undefined });

/** How the parts of one open are built: --rebuild, the command quoted in error hints, where progress goes. */
export interface BuildContext {
  rebuild: boolean;
  rebuildHint: string;
  progress: ProgressReporter;
  /**
   * Runs a build step that blocks the event loop for minutes (the BM25 build). The CLI passes withDefaultSignals
   * (src/terminal/signals.ts), so SIGINT/SIGTERM end the process at once meanwhile instead of waiting for the
   * step; what the kill leaves, the next build removes. Without it the step just runs.
   */
  blocking?: <T>(step: () => T) => Promise<T>;
  /** Threads a part's build may use (--threads; the doc store hashes texts on a second one). Default 1. */
  threads?: number;
}

/** What is in a part's folder: a part to reuse (its manifest), or one that is stale (why). */
export type ExistingPart<M> = { manifest: M } | { stale: string };

/** One part of an index dir as ensurePart sees it; `M` is its manifest. */
export interface IndexPart<M> {
  /** For logs: "doc store", "BM25 index", "dense index". */
  name: string;
  /** Its folder (its `PartPlace` in the index dir, src/index/layout.ts). */
  dir: string;
  /** Why a part that is there is reused, for the log ("corpus and settings match"). */
  reuseReason: string;
  /**
   * The part in `dir`, judged against this run; undefined when there is none.
   * @throws IndexError when it is damaged, or when it must not be replaced (the doc store of another corpus)
   */
  inspect(): ExistingPart<M> | undefined;
  /** Log fields of a manifest (sizes, counts). */
  describe(manifest: M): Record<string, unknown>;
  /** Log fields of a build about to start (settings). */
  settings?: Record<string, unknown>;
  /** Write the part into `aside` (an empty folder) and return its manifest. */
  build(aside: string, progress: ProgressReporter): M | Promise<M>;
}

/**
 * Reuse the part when it is there and fits, else build it (under the build lock, aside, renamed into place).
 * @returns the manifest of the part now in place
 */
export async function ensurePart<M>(part: IndexPart<M>, context: BuildContext): Promise<M> {
  const existing = context.rebuild ? undefined : part.inspect();
  if (existing && 'manifest' in existing) {
    log().info({ dir: part.dir, ...part.describe(existing.manifest) }, `reusing ${part.name}: ${part.reuseReason}`);
    return existing.manifest;
  }
  const reason = context.rebuild ? '--rebuild' : (existing?.stale ?? 'none built yet');
  requireBuildLock(`${part.dir}: ${reason}`);
  log().info({ dir: part.dir, reason, ...part.settings }, `building ${part.name}`);
  const manifest = await buildAside(part.dir, (aside) => part.build(aside, context.progress));
  log().info({ dir: part.dir, ...part.describe(manifest) }, `${part.name} built`);
  return manifest;
}
