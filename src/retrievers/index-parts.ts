/**
 * The table of index parts: every part an index dir may hold, one row each, in the order the path checks name them.
 * A part's row is its own module's `PartPlace` (its folder); its `ensure…` is called by the retriever kinds that
 * read it (bm25.ts, dense.ts, hybrid.ts). What must hold: every part a build may replace is here, so the path
 * checks of every command (indexDirWrites) and the build lock's clean-up (withBuildLock) cover it.
 */
import type { PartPlace } from '../index/layout.js';
import { DOC_STORE_PART } from '../corpus/doc-store-part.js';
import { BM25_PART } from '../bm25/bm25-part.js';
import { DENSE_PART } from '../dense/dense-place.js';

export const INDEX_PARTS: readonly PartPlace[] = [DOC_STORE_PART, BM25_PART, DENSE_PART];
