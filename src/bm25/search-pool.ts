/**
 * BM25 search on N worker threads over ONE copy of the index: the index is loaded once into SharedArrayBuffers
 * (index-reader.ts) and every worker wraps the same memory, so RSS does not grow by the index per thread.
 * Scheduling: a search is cut into chunks of CHUNK queries and every chunk is offered to every worker; the first
 * worker to reach it claims it (an atomic compare-and-swap in a shared claims table) and the others pass over it.
 * So a worker never waits while another has queries queued (the threads finish a run together instead of one
 * finishing a share of it alone), and no claim waits on this thread's event loop, which may be busy selecting and
 * writing. Results come back as flat typed arrays (transferred, not cloned) and are reassembled in query order,
 * so the output is the same for every N (search is exact and deterministic).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Candidate } from '../mine/retriever.js';
import type { Bm25IndexData } from './index-reader.js';
import type { AnalyzerChoice } from '../text/analyzer.js';

/** A chunk of queries offered to every worker (the one that claims `id` answers), and its answer. */
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

/** Queries per chunk: a few ms of search at corpus scale, so a message and a claim cost nothing beside it. */
const CHUNK = 8;

/**
 * Slots of the claims table. Chunk `id` is claimed in slot id % CLAIM_SLOTS, which holds the last id claimed
 * there (−1 at first). The pool offers a chunk only while it is fewer than CLAIM_SLOTS ids after the oldest
 * unanswered one, so two unanswered chunks never share a slot (see claimChunk). Ids are int32: 2^31 chunks of
 * CHUNK queries (17 billion) a run.
 */
export const CLAIM_SLOTS = 4096;

/**
 * Claim chunk `id` for this thread: true for exactly one of the threads that call it. A slot holding `id` (or a
 * later id: then `id` was answered long ago) means it is taken; an earlier id is an answered chunk's, replaced
 * by whichever thread's compare-and-swap lands first.
 */
export function claimChunk(claims: Int32Array, id: number): boolean {
  const slot = id % CLAIM_SLOTS;
  const seen = Atomics.load(claims, slot);
  return seen < id && Atomics.compareExchange(claims, slot, seen, id) === seen;
}

/** The default for --threads: every core the process may use. */
export function defaultThreads(): number {
  return availableParallelism();
}

interface Pending {
  resolve: (answer: SearchAnswer) => void;
  reject: (error: Error) => void;
}

export class Bm25SearchPool {
  private nextId = 0;
  /** Offered chunks not yet answered, by id; a Map keeps insertion order, so the first key is the oldest. */
  private readonly pending = new Map<number, Pending>();
  /** Chunks waiting to be offered (see CLAIM_SLOTS). */
  private readonly backlog: Array<{ queries: string[]; k: number; waiting: Pending }> = [];
  private failure?: Error;

  private constructor(private readonly workers: Worker[]) {
    for (const worker of workers) {
      worker.on('message', (answer: SearchAnswer) => this.answered(answer));
      worker.on('error', (error: Error) => this.fail(error));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`BM25 search thread exited with code ${code}`));
      });
    }
  }

  /** Start `threads` workers over already-loaded index data; resolves when every worker has wrapped it. */
  static async start(data: Bm25IndexData, analyzer: string | AnalyzerChoice, threads: number): Promise<Bm25SearchPool> {
    const claims = new Int32Array(new SharedArrayBuffer(CLAIM_SLOTS * Int32Array.BYTES_PER_ELEMENT)).fill(-1);
    const workers = Array.from({ length: threads }, () => new Worker(new URL('./search-worker.js', import.meta.url), { workerData: { data, analyzer, claims } }));
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.once('message', () => resolve());
            worker.once('error', reject);
          }),
      ),
    );
    return new Bm25SearchPool(workers);
  }

  get threads(): number {
    return this.workers.length;
  }

  /** The exact top-k of each query, in query order (the same as one thread's). */
  async search(queries: readonly string[], k: number): Promise<Candidate[][]> {
    const chunks: Array<Promise<SearchAnswer>> = [];
    for (let from = 0; from < queries.length; from += CHUNK) {
      chunks.push(
        new Promise<SearchAnswer>((resolve, reject) => {
          this.backlog.push({ queries: queries.slice(from, from + CHUNK), k, waiting: { resolve, reject } });
        }),
      );
    }
    this.offer();
    const results: Candidate[][] = [];
    for (const answer of await Promise.all(chunks)) {
      let at = 0;
      for (const count of answer.counts) {
        const candidates: Candidate[] = new Array(count);
        for (let j = 0; j < count; j++) candidates[j] = { docOrdinal: answer.docs[at + j], score: answer.scores[at + j] };
        results.push(candidates);
        at += count;
      }
    }
    return results;
  }

  /** Offer waiting chunks to every worker, as far as the claims table allows. */
  private offer(): void {
    if (this.failure) {
      for (const { waiting } of this.backlog.splice(0)) waiting.reject(this.failure);
      return;
    }
    while (this.backlog.length > 0) {
      const oldest = this.pending.keys().next();
      if (!oldest.done && this.nextId - oldest.value >= CLAIM_SLOTS) return;
      const { queries, k, waiting } = this.backlog.shift()!;
      const request: SearchRequest = { id: this.nextId++, queries, k };
      this.pending.set(request.id, waiting);
      for (const worker of this.workers) worker.postMessage(request);
    }
  }

  private answered(answer: SearchAnswer): void {
    const waiting = this.pending.get(answer.id);
    if (!waiting) return;
    this.pending.delete(answer.id);
    if (answer.error) waiting.reject(new Error(`BM25 search thread: ${answer.error}`));
    else waiting.resolve(answer);
    this.offer();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
    this.offer();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
