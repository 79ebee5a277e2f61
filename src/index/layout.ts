/**
 * The layout of an index dir, known here and nowhere else:
 *   <dir>/docs/                        the doc store (src/corpus/doc-store.ts)
 *   <dir>/bm25/                        the BM25 inverted index (src/bm25/)
 *   <dir>/dense/<model>-<precision>/   one vector index per model and precision (src/vector/)
 *   <dir>/.build.lock                  the build lock (build-lock.ts)
 * Parts never compute their own paths: they are handed the folder to write or read. What must hold: every part
 * folder a build may replace is listed by indexDirWrites, so the path checks of every command cover it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PathUse } from '../io/path-safety.js';
import { PRECISION_NAMES, type Precision } from '../vector/precision.js';

/** The folder name of each part (dense holds one sub-folder per model and precision). */
export const INDEX_PARTS = { docs: 'docs', bm25: 'bm25', dense: 'dense' } as const;

/** Where each part of the index dir `root` lives. */
export interface IndexLayout {
  root: string;
  docs: string;
  bm25: string;
  /** The folder of every dense index. */
  denseRoot: string;
  /** The dense index of one model at one precision. */
  dense(modelName: string, precision: Precision): string;
}

/** A file-name-safe short name of a model: the last path part of "org/name" or of a directory. */
export function modelShortName(modelName: string): string {
  const last = modelName.split(/[\\/]/).filter(Boolean).pop() ?? 'model';
  return last.replace(/[^A-Za-z0-9._-]+/g, '_');
}

export function indexLayout(root: string): IndexLayout {
  const denseRoot = join(root, INDEX_PARTS.dense);
  return {
    root,
    docs: join(root, INDEX_PARTS.docs),
    bm25: join(root, INDEX_PARTS.bm25),
    denseRoot,
    dense: (modelName, precision) => join(denseRoot, `${modelShortName(modelName)}-${precision}`),
  };
}

/** The precisions at which `root` holds a dense index of `modelName`. */
export function builtDensePrecisions(root: string, modelName: string): Precision[] {
  const layout = indexLayout(root);
  return PRECISION_NAMES.filter((precision) => existsSync(layout.dense(modelName, precision)));
}

/**
 * The parts of an index dir a command may write: the dir itself, and each part replaced whole. (Its build lock is
 * created exclusively, so it can never overwrite anything: it needs no check.)
 */
export function indexDirWrites(indexDir: string | undefined): PathUse[] {
  if (indexDir === undefined) return [];
  return [
    { option: '--index-dir', path: indexDir, kind: 'dir' },
    ...Object.values(INDEX_PARTS).map((part): PathUse => ({ option: '--index-dir', path: join(indexDir, part), kind: 'tree' })),
  ];
}
