/**
 * Search many queries on N threads: the queries are split into N contiguous shares, each searched by a worker
 * that opened the index itself (src/bm25/search-worker.ts). Workers open the index before the clock starts, so
 * the reported time is search only. Results come back in query order.
 */
import type { AnalyzerChoice } from '../text/analyzer.js';
import { Worker } from 'node:worker_threads';
import type { Candidate } from '../mine/retriever.js';

export async function parallelSearch(dir: string, lang: string | AnalyzerChoice, queries: readonly string[], k: number, threads: number): Promise<{ results: Candidate[][]; seconds: number }> {
  const share = Math.ceil(queries.length / threads);
  const workers = Array.from({ length: threads }, (_, i) => {
    const worker = new Worker(new URL('./search-worker.js', import.meta.url), {
      workerData: { dir, lang, queries: queries.slice(i * share, (i + 1) * share), k },
    });
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return { worker, ready };
  });
  await Promise.all(workers.map((w) => w.ready));
  const started = performance.now();
  const parts = await Promise.all(
    workers.map(
      ({ worker }) =>
        new Promise<Candidate[][]>((resolve, reject) => {
          worker.once('message', (message: { results: Candidate[][] }) => resolve(message.results));
          worker.once('error', reject);
          worker.postMessage('go');
        }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(workers.map(({ worker }) => worker.terminate()));
  return { results: parts.flat(), seconds };
}
