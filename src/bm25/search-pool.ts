/**
 * BM25 search on N worker threads over ONE copy of the index: the index is loaded once into SharedArrayBuffers
 * (index-reader.ts) and every worker wraps the same memory, so RSS does not grow by the index per thread. A
 * batch of queries is split into N contiguous shares; results come back as flat typed arrays (transferred, not
 * cloned) and are reassembled in query order, so the output is the same for every N (search is exact and
 * deterministic).
 */
import { Worker } from 'node:worker_threads';
import type { Candidate } from '../retriever.js';
import { runScope, type Ownership } from '../run-scope.js';
import type { Bm25IndexData } from './index-reader.js';
import type { AnalyzerChoice } from '../text/analyzer.js';

/** A search request to a worker, and its answer (flat: counts[i] candidates of query i, in order). */
export interface SearchRequest {
  id: number;
  queries: string[];
  k: number;
}
export interface SearchAnswer {
  id: number;
  counts: Uint32Array;
  docs: Uint32Array;
  scores: Float64Array;
  error?: string;
}

interface Pending {
  resolve: (answer: SearchAnswer) => void;
  reject: (error: Error) => void;
}

class SearchWorker {
  private readonly pending = new Map<number, Pending>();
  private failure?: Error;

  constructor(readonly worker: Worker) {
    worker.on('message', (answer: SearchAnswer) => {
      const waiting = this.pending.get(answer.id);
      if (!waiting) return;
      this.pending.delete(answer.id);
      if (answer.error) waiting.reject(new Error(`BM25 search thread: ${answer.error}`));
      else waiting.resolve(answer);
    });
    worker.on('error', (error: Error) => this.fail(error));
    worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`BM25 search thread exited with code ${code}`));
    });
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }

  request(message: SearchRequest): Promise<SearchAnswer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<SearchAnswer>((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject });
      this.worker.postMessage(message);
    });
  }
}

/** Stop worker threads (terminate resolves once each has stopped). */
async function terminateAll(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.terminate()));
}

export class Bm25SearchPool {
  private nextId = 0;

  private constructor(
    private readonly workers: SearchWorker[],
    private readonly threadsOwned: Ownership,
  ) {}

  /**
   * Start `threads` workers over already-loaded index data; resolves when every worker has wrapped it. The threads
   * are owned by the run scope (src/run-scope.ts) from the moment they start: an error anywhere after this (or while
   * they start) cannot leave them keeping the process alive.
   */
  static async start(data: Bm25IndexData, analyzer: string | AnalyzerChoice, threads: number): Promise<Bm25SearchPool> {
    const workers = Array.from({ length: threads }, () => new Worker(new URL('./search-worker.js', import.meta.url), { workerData: { data, analyzer } }));
    const owned = runScope().own(`BM25 search threads (${threads})`, () => terminateAll(workers));
    try {
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((resolve, reject) => {
              worker.once('message', () => resolve());
              worker.once('error', reject);
            }),
        ),
      );
    } catch (error) {
      await owned.release();
      throw error;
    }
    return new Bm25SearchPool(
      workers.map((worker) => new SearchWorker(worker)),
      owned,
    );
  }

  get threads(): number {
    return this.workers.length;
  }

  /** The exact top-k of each query, in query order (the same as one thread's). */
  async search(queries: readonly string[], k: number): Promise<Candidate[][]> {
    const share = Math.ceil(queries.length / this.workers.length);
    const parts = await Promise.all(
      this.workers.map((worker, i) => {
        const slice = queries.slice(i * share, (i + 1) * share);
        return slice.length === 0 ? undefined : worker.request({ id: this.nextId++, queries: slice, k });
      }),
    );
    const results: Candidate[][] = [];
    for (const part of parts) {
      if (!part) continue;
      let at = 0;
      for (const count of part.counts) {
        const candidates: Candidate[] = new Array(count);
        for (let j = 0; j < count; j++) candidates[j] = { docOrdinal: part.docs[at + j], score: part.scores[at + j] };
        results.push(candidates);
        at += count;
      }
    }
    return results;
  }

  /** Stop the threads (once; the run scope does it if the run ends first). */
  close(): Promise<void> {
    return this.threadsOwned.release();
  }
}
