/**
 * The dense part's place in an index dir (`dense/<model>-<precision>/`, one folder per variant): a light module, so
 * the table of parts (src/retrievers/index-parts.ts) loads no vector index (usearch) with it.
 */
import type { PartPlace } from '../index/layout.js';

export const DENSE_PART: PartPlace = { folder: 'dense', variants: true };
