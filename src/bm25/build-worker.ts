/**
 * A BM25 build thread (src/bm25/build-pool.ts): analyzes chunks of documents into (term, tf) postings with term
 * ids of its own. Its ids are dense and assigned in order of first occurrence in the documents it was sent, and
 * each answer lists the terms first seen in that chunk in that order, so the writer can map them to the build's
 * ids exactly as a single-threaded build would assign them (see Bm25IndexWriter.addAnalyzed).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createAnalyzer, type Analyzer, type AnalyzerChoice } from '../text/analyzer.js';
import { TokenIds } from '../text/token-ids.js';
import { analyzeDocuments, type AnalyzedChunk, type BuildRequest } from './build-pool.js';

/** Rough cost of one dictionary entry beyond its characters (as the writer counts its own). */
const BYTES_PER_TERM_ENTRY = 80;

const { analyzer: choice, results, signal, slot } = workerData as { analyzer: string | AnalyzerChoice; results: MessagePort; signal: Int32Array; slot: number };
const termIds = new Map<string, number>();
let newTerms: string[] = [];
let termBytes = 0;
/** Why this thread cannot analyze (its analyzer failed to load): every request is answered with it. */
let failure: string | undefined;
let analyzer: Analyzer | undefined;
try {
  analyzer = createAnalyzer(choice);
} catch (error) {
  failure = (error as Error).stack ?? String(error);
}
const tokenIds = new TokenIds(analyzer!, (term) => {
  let id = termIds.get(term);
  if (id === undefined) {
    id = termIds.size;
    termIds.set(term, id);
    newTerms.push(term);
    termBytes += 2 * term.length + BYTES_PER_TERM_ENTRY;
  }
  return id;
});

function answer(message: AnalyzedChunk | { error: string }, transfer: ArrayBuffer[]): void {
  results.postMessage(message, transfer);
  // The writer waits on this counter (Atomics.wait) while it runs synchronously.
  Atomics.add(signal, slot, 1);
  Atomics.notify(signal, slot);
}

parentPort!.on('message', ({ texts }: BuildRequest) => {
  try {
    if (failure !== undefined) throw new Error(failure);
    newTerms = [];
    const chunk = analyzeDocuments(texts, tokenIds);
    const message: AnalyzedChunk = { ...chunk, newTerms, memoryBytes: termBytes + tokenIds.bytes };
    answer(message, [chunk.lengths.buffer, chunk.termCounts.buffer, chunk.terms.buffer, chunk.tfs.buffer] as ArrayBuffer[]);
  } catch (error) {
    answer({ error: (error as Error).stack ?? String(error) }, []);
  }
});
