/**
 * The layout of an index dir: each part has one folder in it, named by the part's own module (a `PartPlace`:
 * src/corpus/doc-store-part.ts `docs/`, src/bm25/bm25-part.ts `bm25/`, src/dense/dense-part.ts
 * `dense/<model>-<precision>/`), listed in the table of parts (src/retrievers/index-parts.ts); `<dir>/.build.lock`
 * is the build lock (build-lock.ts). Parts never compute the index dir's paths beyond their own folder: they are
 * handed the folder to write or read. What must hold: every part folder a build may replace is in the table, so
 * indexDirWrites gives the path checks of every command all of them.
 */
import { join } from 'node:path';
import type { PathUse } from '../io/path-safety.js';

/** A part's place in an index dir: its folder, and whether it holds one sub-folder per variant (dense: per model and precision). */
export interface PartPlace {
  readonly folder: string;
  /** One sub-folder per variant: builds happen aside inside the folder, so their leftovers are there too. */
  readonly variants?: boolean;
}

/**
 * The parts of an index dir a command may write: the dir itself, and each part (of `parts`, in order) replaced
 * whole. (Its build lock is created exclusively, so it can never overwrite anything: it needs no check.)
 */
export function indexDirWrites(indexDir: string | undefined, parts: readonly PartPlace[]): PathUse[] {
  if (indexDir === undefined) return [];
  return [
    { option: '--index-dir', path: indexDir, kind: 'dir' },
    ...parts.map((part): PathUse => ({ option: '--index-dir', path: join(indexDir, part.folder), kind: 'tree' })),
  ];
}

/** The folders where a build of one of `parts` leaves its leftovers: the index dir, and each part folder with variants. */
export function buildAsideDirs(indexDir: string, parts: readonly PartPlace[]): string[] {
  return [indexDir, ...parts.filter((part) => part.variants).map((part) => join(indexDir, part.folder))];
}
