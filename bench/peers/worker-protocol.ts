/**
 * What every benchmark worker (one engine, one child process) is given and reports back, and the one search
 * timing loop the Node workers share (bench/peers/xapian_bm25.py mirrors it in Python).
 * Invariant: a worker measures only its own process (peak RSS comes from the kernel's rusage of that process),
 * writes its ranking of every query it searched to `runFile`, and prints exactly one JSON line on stdout.
 */
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** The config a worker receives as its single command-line argument (JSON). */
export interface WorkerConfig {
  /** `index`: build only; `search`: open a built index and search; `all`: both in one process. */
  phase: 'index' | 'search' | 'all';
  /** BEIR corpus.jsonl. */
  corpus: string;
  /** BEIR queries JSONL ({"_id","text"}). */
  queries: string;
  /** Where a disk-based engine puts its index. */
  indexDir: string;
  /** Results per query (the benchmark's top-k). */
  k: number;
  /** After the first pass over the queries, repeat the whole set until this many seconds have been timed. */
  minSearchSeconds: number;
  /** Search only the first N queries (engines too slow to run them all); undefined: all. */
  queryLimit?: number;
  /** Where the ranking of the first pass goes: `qid<TAB>docid<TAB>score` lines, best first per query. */
  runFile: string;
}

/** What a worker prints (one JSON line on stdout). Seconds are wall-clock; RSS is the process's peak. */
export interface WorkerReport {
  engine: string;
  engineVersion: string;
  phase: WorkerConfig['phase'];
  docs?: number;
  /** Reading the corpus JSONL to a searchable (for disk engines: committed) index. */
  indexSeconds?: number;
  /** CPU time (user + system, all threads of the process) over the same span as indexSeconds. */
  indexCpuSeconds?: number;
  /** An engine without an index (okapibm25): reading and pre-analyzing the corpus once. */
  prepareSeconds?: number;
  /** Opening a built index for search (disk engines, search phase). */
  openSeconds?: number;
  queriesSearched?: number;
  /** First pass over the queries: cold (JIT, caches), also the pass whose ranking is written. */
  firstPassSeconds?: number;
  /** Repeated passes after the first; 0 when only the first pass ran. */
  warmPasses?: number;
  warmSeconds?: number;
  /** Headline rate: warm passes when there were any, else the first pass. */
  queriesPerSecond?: number;
  /** The same rate per second of process CPU time (user + system, all threads): robust to other load. */
  queriesPerCpuSecond?: number;
  maxRssKiB: number;
  notes: string[];
}

export interface Query {
  id: string;
  text: string;
}

export function parseConfig(argv: string[]): WorkerConfig {
  const raw = argv[2];
  if (!raw) throw new Error('usage: worker \'{"phase":...,"corpus":...}\' (started by bench/bm25-bench.ts)');
  return JSON.parse(raw) as WorkerConfig;
}

/** BEIR queries, in file order, cut to `limit` when given. */
export function readQueries(path: string, limit?: number): Query[] {
  const queries = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => {
      const value = JSON.parse(line) as { _id?: unknown; id?: unknown; text: string };
      return { id: String(value._id ?? value.id), text: value.text };
    });
  return limit === undefined ? queries : queries.slice(0, limit);
}

export interface CorpusRecord {
  id: string;
  title: string;
  text: string;
}

/** Corpus records streamed line by line (peers never hold the raw file in memory as one string). */
export async function* readCorpus(path: string): AsyncGenerator<CorpusRecord> {
  const lines = createInterface({ input: createReadStream(path, { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim().length === 0) continue;
    const value = JSON.parse(line) as { _id?: unknown; id?: unknown; title?: string; text: string };
    yield { id: String(value._id ?? value.id), title: value.title ?? '', text: value.text };
  }
}

/** Title and text as one field, as rare-mine indexes them (src/bm25/index-writer.ts `indexedText`). */
export function joinedText(record: CorpusRecord): string {
  return record.title.length > 0 ? `${record.title}\n${record.text}` : record.text;
}

export interface Ranking {
  docIds: string[];
  scores: number[];
}

export interface SearchTiming {
  queriesSearched: number;
  firstPassSeconds: number;
  warmPasses: number;
  warmSeconds: number;
  queriesPerSecond: number;
  queriesPerCpuSecond: number;
}

/** CPU seconds (user + system) this process has used so far. */
export function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * Time `search` over the queries: a first pass, whose results are turned into rankings (outside the timed
 * region) and written to `runFile`, then whole passes until `minSeconds` of warm search have been timed.
 * Only the engine's own top-k call is inside the timed region.
 */
export function timeSearch<R>(
  queries: readonly Query[],
  search: (text: string) => R,
  toRanking: (result: R) => Ranking,
  runFile: string,
  minSeconds: number,
): SearchTiming {
  const runLines: string[] = [];
  let firstPass = 0;
  let firstPassCpu = 0;
  for (const query of queries) {
    const cpuStarted = cpuSeconds();
    const started = performance.now();
    const result = search(query.text);
    firstPass += performance.now() - started;
    firstPassCpu += cpuSeconds() - cpuStarted;
    const { docIds, scores } = toRanking(result);
    docIds.forEach((docId, i) => runLines.push(`${query.id}\t${docId}\t${scores[i]}`));
  }
  writeFileSync(runFile, runLines.length > 0 ? runLines.join('\n') + '\n' : '');
  let warmPasses = 0;
  let warm = 0;
  let warmCpu = 0;
  let sink = 0;
  while (warm < minSeconds * 1000 && queries.length > 0) {
    const cpuStarted = cpuSeconds();
    const started = performance.now();
    for (const query of queries) {
      const result = search(query.text);
      if (result) sink++;
    }
    warm += performance.now() - started;
    warmCpu += cpuSeconds() - cpuStarted;
    warmPasses++;
  }
  if (sink < 0) console.error(sink); // keeps the results observable, so no pass can be optimised away
  const firstPassSeconds = firstPass / 1000;
  const warmSeconds = warm / 1000;
  const timed = warmPasses > 0 ? warmPasses * queries.length : queries.length;
  const queriesPerSecond = timed / (warmPasses > 0 ? warmSeconds : firstPassSeconds);
  const queriesPerCpuSecond = timed / (warmPasses > 0 ? warmCpu : firstPassCpu);
  return { queriesSearched: queries.length, firstPassSeconds, warmPasses, warmSeconds, queriesPerSecond, queriesPerCpuSecond };
}

/** Print the report, with this process's peak RSS (kernel rusage, KiB). */
export function report(fields: Omit<WorkerReport, 'maxRssKiB'>): void {
  const full: WorkerReport = { ...fields, maxRssKiB: process.resourceUsage().maxRSS };
  process.stdout.write(JSON.stringify(full) + '\n');
}

/** Version of an installed npm package (from its package.json). */
export function packageVersion(name: string): string {
  const url = new URL(`../../../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}
