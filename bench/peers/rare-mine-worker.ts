/**
 * Benchmark worker for rare-mine itself, through the same code paths as the CLI: `index` runs the body of
 * `rare-mine index bm25` (JSONL → doc store → BM25 index on disk, reopened for reading); `search` opens that
 * index dir as `rare-mine bm25 --index-dir` does and times `Bm25Index.search` at top-k on one thread.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { register as registerIndex, runIndex } from '../../src/commands/index-cmd.js';
import { openRetriever } from '../../src/retrievers/retriever-kind.js';
import { bm25 } from '../../src/retrievers/bm25.js';
import type { Candidate } from '../../src/retriever.js';
import { cpuSeconds, parseConfig, readQueries, report, timeSearch } from './worker-protocol.js';

/** The `index bm25` command, whose path options runIndex checks (as the CLI does). */
function indexBm25Command(): Command {
  const program = new Command();
  registerIndex(program);
  return program.commands[0].commands.find((command) => command.name() === 'bm25')!;
}

const BM25 = { lang: 'en', k1: 0.9, b: 0.4, bm25Variant: 'lucene' };

const config = parseConfig(process.argv);
const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const notes: string[] = [];

let docs: number | undefined;
let indexSeconds: number | undefined;
let indexCpuSeconds: number | undefined;
if (config.phase === 'index' || config.phase === 'all') {
  const cpuStarted = cpuSeconds();
  const started = performance.now();
  await runIndex(bm25, {
    ...BM25,
    corpus: config.corpus,
    indexDir: config.indexDir,
    corpusIdKey: '_id',
    corpusTextKey: 'text',
    corpusTitleKey: 'title',
    rebuild: true,
    threads: 1,
    onError: 'fail',
  }, indexBm25Command());
  indexSeconds = (performance.now() - started) / 1000;
  indexCpuSeconds = cpuSeconds() - cpuStarted;
  notes.push('index: runIndex(bm25) (the `rare-mine index bm25` command body) with --rebuild: corpus fingerprint, doc store, BM25 index, reopen');
}

if (config.phase === 'search' || config.phase === 'all') {
  const opened = performance.now();
  const retriever = await openRetriever(bm25, undefined, { ...BM25, indexDir: config.indexDir, rebuild: false, threads: 1 }, 'eval');
  const openSeconds = (performance.now() - opened) / 1000;
  docs = retriever.corpus.docCount;
  const queries = readQueries(config.queries, config.queryLimit);
  const timing = timeSearch(
    queries,
    (text) => retriever.index.search(text, config.k),
    (found: Candidate[]) => ({ docIds: found.map((c) => retriever.corpus.id(c.docOrdinal)), scores: found.map((c) => c.score) }),
    config.runFile,
    config.minSearchSeconds,
  );
  retriever.close();
  notes.push('search: Bm25Index.search(query, k) on an index opened from disk (as `rare-mine bm25 --index-dir`)');
  report({ engine: 'rare-mine', engineVersion: version, phase: config.phase, docs, indexSeconds, indexCpuSeconds, openSeconds, ...timing, notes });
} else {
  report({ engine: 'rare-mine', engineVersion: version, phase: config.phase, indexSeconds, indexCpuSeconds, notes });
}
