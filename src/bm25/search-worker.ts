/**
 * A worker thread for parallel BM25 search (`eval --threads N`): opens the same on-disk index read-only and
 * searches its share of the queries. Results are the same as one thread's (search is exact and deterministic).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createAnalyzer, type AnalyzerChoice } from '../text/analyzer.js';
import { Bm25Index } from './index-reader.js';

interface Job {
  dir: string;
  lang: string | AnalyzerChoice;
  queries: string[];
  k: number;
}

const job = workerData as Job;
const index = new Bm25Index(job.dir, createAnalyzer(job.lang), 'rare-mine index bm25 --rebuild');
parentPort!.postMessage('ready');
parentPort!.once('message', () => {
  const started = performance.now();
  const results = job.queries.map((query) => index.search(query, job.k));
  parentPort!.postMessage({ results, seconds: (performance.now() - started) / 1000 });
});
