/**
 * A BM25 build on every core: documents go in chunks, round robin, to build threads (build-worker.ts) that analyze
 * them into postings under term ids of their own; the writer takes the answers back in chunk order and maps each
 * thread's ids to the build's (Bm25IndexWriter.addAnalyzed), so the files are byte-identical to a one-thread
 * build's. The writer's loop is synchronous (the doc store is read by a synchronous visitor and the posting
 * buffers are plain arrays), so answers are received synchronously: each thread answers on a MessagePort of its
 * own and bumps a shared counter, which the writer waits on (Atomics.wait) when the oldest chunk is not back yet.
 * What must hold: chunk i's answer is applied before chunk i + 1's; a thread that fails or dies is an error, never
 * a hang (the wait wakes up to look).
 */
import { runScope, type Ownership } from '../run-scope.js';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { AnalyzerChoice } from '../text/analyzer.js';
import type { TokenIds } from '../text/token-ids.js';

/** Documents per chunk sent to a build thread (~0.4 MB of text on MS MARCO-like passages). */
export const CHUNK_DOCS = 1024;
/** Chunks in flight per thread: one being analyzed, one waiting, so no thread idles while its answer is merged. */
const IN_FLIGHT = 2;
/** How long one wait lasts before the writer looks whether the thread it waits for is still alive. */
const WAIT_MS = 500;

/** A chunk of documents' indexed texts (title and text together), in ordinal order. */
export interface BuildRequest {
  texts: string[];
}

/** The postings of a chunk of documents, under the build thread's own term ids. */
export interface AnalyzedDocuments {
  /** Analyzed length (terms after stopwords) of each document. */
  lengths: Uint32Array;
  /** How many distinct terms each document has: its entries in `terms` and `tfs`. */
  termCounts: Uint32Array;
  /** Document by document, each distinct term id, ascending within a document. */
  terms: Uint32Array;
  /** The frequency of each entry of `terms` in its document. */
  tfs: Uint32Array;
}

/** A build thread's answer: the chunk's postings and the terms it saw first in this chunk, in id order. */
export interface AnalyzedChunk extends AnalyzedDocuments {
  /** The thread's new terms: its ids termCountBefore, termCountBefore + 1, …, in order of first occurrence. */
  newTerms: string[];
  /** What the thread's dictionary and token memo hold, roughly (counted against the build's memory budget). */
  memoryBytes: number;
}

/** Analyze `texts` into distinct (term id, tf) per document, ids from `tokenIds`. */
export function analyzeDocuments(texts: readonly string[], tokenIds: TokenIds): AnalyzedDocuments {
  const lengths = new Uint32Array(texts.length);
  const termCounts = new Uint32Array(texts.length);
  let terms = new Uint32Array(64 * texts.length + 64);
  let tfs = new Uint32Array(terms.length);
  let ids = new Uint32Array(1024);
  let used = 0;
  texts.forEach((text, d) => {
    let length = 0;
    tokenIds.forEachId(text, (id) => {
      if (length === ids.length) {
        const grown = new Uint32Array(2 * length);
        grown.set(ids);
        ids = grown;
      }
      ids[length++] = id;
    });
    lengths[d] = length;
    if (length === 0) return;
    if (used + length > terms.length) {
      const size = Math.max(2 * terms.length, used + length);
      const grownTerms = new Uint32Array(size);
      grownTerms.set(terms.subarray(0, used));
      terms = grownTerms;
      const grownTfs = new Uint32Array(size);
      grownTfs.set(tfs.subarray(0, used));
      tfs = grownTfs;
    }
    const sorted = ids.subarray(0, length).sort();
    const from = used;
    let run = 1;
    for (let i = 1; i <= length; i++) {
      if (i < length && sorted[i] === sorted[i - 1]) {
        run++;
        continue;
      }
      terms[used] = sorted[i - 1];
      tfs[used++] = run;
      run = 1;
    }
    termCounts[d] = used - from;
  });
  return { lengths, termCounts, terms: terms.slice(0, used), tfs: tfs.slice(0, used) };
}

/** Per build thread: its worker, the port it answers on, and the map from its term ids to the build's. */
interface BuildThread {
  worker: Worker;
  results: MessagePort;
  /** Answers taken so far (the shared counter is the number posted). */
  taken: number;
  /** idMap[threadTermId] = the build's term id. */
  idMap: Uint32Array;
  idCount: number;
  memoryBytes: number;
}

/** The build threads of one BM25 build; chunks are answered in the order they were submitted. */
export class Bm25BuildPool {
  private readonly signal: Int32Array;
  private readonly threads: BuildThread[];
  private submitted = 0;
  private applied = 0;
  /** The threads are the run scope's from the moment they start (src/run-scope.ts): an error or a signal ends them. */
  private readonly owned: Ownership;

  private constructor(analyzer: string | AnalyzerChoice, count: number) {
    this.signal = new Int32Array(new SharedArrayBuffer(4 * count));
    this.threads = Array.from({ length: count }, (_, slot) => {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(new URL('./build-worker.js', import.meta.url), {
        workerData: { analyzer, results: port2, signal: this.signal, slot },
        transferList: [port2],
      });
      return { worker, results: port1, taken: 0, idMap: new Uint32Array(1 << 16), idCount: 0, memoryBytes: 0 };
    });
    this.owned = runScope().own(`BM25 build threads (${count})`, () => this.terminate());
  }

  /** Start `threads` build threads analyzing with `analyzer`; resolves when each is running. */
  static async start(analyzer: string | AnalyzerChoice, threads: number): Promise<Bm25BuildPool> {
    const pool = new Bm25BuildPool(analyzer, threads);
    try {
      await Promise.all(
        pool.threads.map(
          ({ worker }) =>
            new Promise<void>((resolve, reject) => {
              worker.once('online', resolve);
              worker.once('error', reject);
            }),
        ),
      );
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** Chunks submitted and not yet taken back. */
  get pending(): number {
    return this.submitted - this.applied;
  }

  /** Whether another chunk can be submitted without waiting for an answer first. */
  get full(): boolean {
    return this.pending >= IN_FLIGHT * this.threads.length;
  }

  /** What the threads' dictionaries and memos hold, as they last reported. */
  get memoryBytes(): number {
    return this.threads.reduce((sum, thread) => sum + thread.memoryBytes, 0);
  }

  /** Send the next chunk of documents (indexed texts, in ordinal order) to its thread. */
  submit(texts: string[]): void {
    const request: BuildRequest = { texts };
    this.threads[this.submitted++ % this.threads.length].worker.postMessage(request);
  }

  /**
   * Block until the oldest pending chunk is analyzed, and give it back with the function that maps its thread's
   * term ids to the build's: `termIdOf` is called for each term the thread saw first in this chunk, in order.
   * @throws Error when the thread failed or is gone
   */
  take(termIdOf: (term: string) => number): { chunk: AnalyzedChunk; idMap: Uint32Array } {
    if (this.pending === 0) throw new Error('BM25 build: no chunk pending');
    const slot = this.applied % this.threads.length;
    const thread = this.threads[slot];
    for (;;) {
      const posted = Atomics.load(this.signal, slot);
      if (posted > thread.taken) break;
      if (Atomics.wait(this.signal, slot, posted, WAIT_MS) === 'timed-out' && thread.worker.threadId < 0) {
        throw new Error(`BM25 build thread ${slot} stopped before answering`);
      }
    }
    const received = receiveMessageOnPort(thread.results);
    if (!received) throw new Error(`BM25 build thread ${slot}: answer counted but not received`);
    const message = received.message as AnalyzedChunk | { error: string };
    if ('error' in message) throw new Error(`BM25 build thread: ${message.error}`);
    thread.taken++;
    this.applied++;
    thread.memoryBytes = message.memoryBytes;
    if (thread.idCount + message.newTerms.length > thread.idMap.length) {
      const grown = new Uint32Array(Math.max(2 * thread.idMap.length, thread.idCount + message.newTerms.length));
      grown.set(thread.idMap.subarray(0, thread.idCount));
      thread.idMap = grown;
    }
    for (const term of message.newTerms) thread.idMap[thread.idCount++] = termIdOf(term);
    return { chunk: message, idMap: thread.idMap };
  }

  /** Stop the threads (once, whether by close() or by the run scope). */
  close(): Promise<void> {
    return this.owned.release();
  }

  private async terminate(): Promise<void> {
    await Promise.all(
      this.threads.map(({ worker, results }) => {
        results.close();
        return worker.terminate();
      }),
    );
  }
}
