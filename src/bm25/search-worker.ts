/**
 * A BM25 search thread (src/bm25/search-pool.ts): wraps the index data the pool shares (SharedArrayBuffers, no
 * copy) and answers search requests in the order they come, with flat typed arrays transferred back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createAnalyzer, type AnalyzerChoice } from '../text/analyzer.js';
import { Bm25Index, type Bm25IndexData } from './index-reader.js';
import type { SearchAnswer, SearchRequest } from './search-pool.js';

const { data, analyzer } = workerData as { data: Bm25IndexData; analyzer: string | AnalyzerChoice };
const index = new Bm25Index(data, createAnalyzer(analyzer));
const port = parentPort!;
port.postMessage('ready');
port.on('message', ({ id, queries, k }: SearchRequest) => {
  try {
    const results = queries.map((query) => index.search(query, k));
    const total = results.reduce((sum, candidates) => sum + candidates.length, 0);
    const counts = new Uint32Array(results.length);
    const docs = new Uint32Array(total);
    const scores = new Float64Array(total);
    let at = 0;
    results.forEach((candidates, i) => {
      counts[i] = candidates.length;
      for (const { docOrdinal, score } of candidates) {
        docs[at] = docOrdinal;
        scores[at++] = score;
      }
    });
    const answer: SearchAnswer = { id, counts, docs, scores };
    port.postMessage(answer, [counts.buffer, docs.buffer, scores.buffer]);
  } catch (error) {
    port.postMessage({ id, counts: new Uint32Array(0), docs: new Uint32Array(0), scores: new Float64Array(0), error: (error as Error).stack ?? String(error) });
  }
});
