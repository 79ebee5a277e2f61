/**
 * Retrievers other than BM25 that `eval` and `hybrid` can open by name. Each entry opens (building as needed)
 * its index for a corpus source with the command's options. Dense and hybrid register here.
 */
import type { Retriever } from '../mine/retriever.js';
import type { CorpusSource } from '../corpus/corpus-source.js';

export type RetrieverOpener = (source: CorpusSource, options: Record<string, unknown>) => Promise<Retriever>;

export const RETRIEVER_OPENERS: Record<string, RetrieverOpener> = {};
