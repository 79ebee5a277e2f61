/**
 * BM25 benchmark: rare-mine side by side with Xapian (C++, via python3-xapian), wink-bm25-text-search and
 * okapibm25 (npm), in one run, on one corpus. Each engine runs in its own child process (bench/peers/), so peak
 * RSS is that engine's alone; engines run one after another, never concurrently. Prints ONE JSON object on
 * stdout: absolute figures, ratios against Xapian, and the targets of issue 2 marked met or not met.
 *
 *   npm run build && node dist/bench/bm25-bench.js            # scale-mix (~195k docs), built in a temp dir
 *   node dist/bench/bm25-bench.js --quick                     # SciFact alone, under a minute
 *   node dist/bench/bm25-bench.js --help                      # every flag
 */
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readQrels } from '../src/eval/beir.js';
import { evaluate, type Qrels } from '../src/eval/metrics.js';
import { summarizeCpuProfile, type ProfileSummary } from './cpu-profile-summary.js';
import type { WorkerConfig, WorkerReport } from './peers/worker-protocol.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const peers = fileURLToPath(new URL('./peers/', import.meta.url));
const sharedData = process.env.RARE_MINE_SHARED_DATA ?? resolve(repoRoot, '..', 'shared', 'data');

const ENGINES = ['rare-mine', 'xapian', 'wink-bm25-text-search', 'okapibm25'] as const;
type Engine = (typeof ENGINES)[number];

const TARGETS = { searchRatioVsXapian: 3, indexRatioVsXapian: 1, rareMinePeakRssMB: 450 };

const HELP = `usage: node dist/bench/bm25-bench.js [options]

Benchmarks BM25 indexing (docs/s), single-thread search (queries/s at top-k) and peak RSS of rare-mine,
Xapian, wink-bm25-text-search and okapibm25, each in its own child process, and prints one JSON object.

  --quick                  SciFact alone (5,183 docs), shorter timing: finishes in under a minute
  --corpus-dir DIR         a BEIR folder (corpus.jsonl, queries.test.jsonl or queries.jsonl, qrels/test.tsv);
                           default: the scale-mix corpus, built with make-scale-mix.sh into the work dir
  --work-dir DIR           where corpora, indexes and runs go (default: a temp dir, removed at the end)
  --keep                   keep the work dir
  --engines LIST           comma-separated subset of ${ENGINES.join(',')} (default: all)
  --k N                    results per query (default 110)
  --min-search-seconds S   warm search time per engine after the first pass (default 3; --quick 1)
  --rounds N               rounds of rare-mine and Xapian, interleaved; medians are reported (default 3; --quick 1)
  --okapi-queries N        queries okapibm25 runs (it rescans every document per query; default 8; --quick 20)
  --python PATH            interpreter with python3-xapian (default /usr/bin/python3)
  --cpu-prof DIR           run rare-mine's workers under node --cpu-prof into DIR; the JSON gets a summary
  --help                   this text

Shared data: $RARE_MINE_SHARED_DATA or ../shared/data beside the repository.`;

interface Options {
  quick: boolean;
  corpusDir?: string;
  workDir?: string;
  keep: boolean;
  engines: Engine[];
  k: number;
  minSearchSeconds: number;
  rounds: number;
  okapiQueries: number;
  python: string;
  cpuProf?: string;
}

function nonNegative(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new Error(`${name} must be a non-negative number, got "${value}"`);
  return number;
}

function parseOptions(): Options | undefined {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'corpus-dir': { type: 'string' },
      'work-dir': { type: 'string' },
      keep: { type: 'boolean', default: false },
      engines: { type: 'string' },
      k: { type: 'string' },
      'min-search-seconds': { type: 'string' },
      'okapi-queries': { type: 'string' },
      rounds: { type: 'string' },
      python: { type: 'string', default: '/usr/bin/python3' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return undefined;
  }
  const engines = (values.engines?.split(',').map((e) => e.trim()) ?? [...ENGINES]) as Engine[];
  for (const engine of engines) if (!ENGINES.includes(engine)) throw new Error(`unknown engine "${engine}"; choose from ${ENGINES.join(', ')}`);
  return {
    quick: values.quick,
    corpusDir: values['corpus-dir'],
    workDir: values['work-dir'],
    keep: values.keep,
    engines,
    k: nonNegative('--k', values.k, 110),
    minSearchSeconds: nonNegative('--min-search-seconds', values['min-search-seconds'], values.quick ? 1 : 3),
    rounds: Math.max(1, Math.round(nonNegative('--rounds', values.rounds, values.quick ? 1 : 3))),
    okapiQueries: nonNegative('--okapi-queries', values['okapi-queries'], values.quick ? 20 : 8),
    python: values.python,
    cpuProf: values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined,
  };
}

interface Corpus {
  name: string;
  corpus: string;
  queries: string;
  qrels: string;
}

function beirFolder(dir: string, name: string): Corpus {
  const queries = existsSync(join(dir, 'queries.test.jsonl')) ? join(dir, 'queries.test.jsonl') : join(dir, 'queries.jsonl');
  const corpus: Corpus = { name, corpus: join(dir, 'corpus.jsonl'), queries, qrels: join(dir, 'qrels', 'test.tsv') };
  for (const path of [corpus.corpus, corpus.queries, corpus.qrels]) if (!existsSync(path)) throw new Error(`${path} not found (expected a BEIR folder)`);
  return corpus;
}

function prepareCorpus(options: Options, workDir: string): Corpus {
  if (options.corpusDir) return beirFolder(resolve(options.corpusDir), resolve(options.corpusDir));
  if (options.quick) return beirFolder(join(sharedData, 'scifact'), 'scifact');
  const out = join(workDir, 'scale-mix');
  const script = join(sharedData, 'make-scale-mix.sh');
  if (!existsSync(script)) throw new Error(`${script} not found: set RARE_MINE_SHARED_DATA or pass --corpus-dir`);
  execFileSync(script, [out], { stdio: ['ignore', 'ignore', 'inherit'] });
  return beirFolder(out, 'scale-mix');
}

async function countLines(path: string): Promise<number> {
  let lines = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) if (line.trim().length > 0) lines++;
  return lines;
}

interface QuerySet {
  /** Judged queries, in file order, as the workers read them. */
  path: string;
  ids: string[];
}

/** The queries that have judgments, written to the work dir so every engine searches exactly the same set. */
function judgedQueries(corpus: Corpus, qrels: Qrels, workDir: string): QuerySet {
  const judged: Array<{ id: string; line: string }> = [];
  for (const line of readFileSync(corpus.queries, 'utf8').split('\n')) {
    if (line.trim().length === 0) continue;
    const value = JSON.parse(line) as { _id?: unknown; id?: unknown };
    const id = String(value._id ?? value.id);
    if (qrels.has(id)) judged.push({ id, line });
  }
  const path = join(workDir, 'queries.judged.jsonl');
  writeFileSync(path, judged.map((q) => q.line).join('\n') + '\n');
  return { path, ids: judged.map((q) => q.id) };
}

interface Child {
  report?: WorkerReport;
  error?: string;
  wallSeconds: number;
}

/** Run one worker; its stderr is passed through with a prefix, its last stdout line is the report. */
function runWorker(label: string, command: string, args: string[]): Promise<Child> {
  const started = performance.now();
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RARE_MINE_LOG_FORMAT: 'json' } });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    createInterface({ input: child.stderr }).on('line', (line) => process.stderr.write(`[${label}] ${line}\n`));
    child.on('error', (error) => done({ error: `${label}: ${error.message}`, wallSeconds: (performance.now() - started) / 1000 }));
    child.on('close', (code, signal) => {
      const wallSeconds = (performance.now() - started) / 1000;
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) return done({ error: `${label} exited with ${code ?? signal}`, wallSeconds });
      try {
        done({ report: JSON.parse(last) as WorkerReport, wallSeconds });
      } catch {
        done({ error: `${label} printed no report (stdout: ${JSON.stringify(last.slice(0, 200))})`, wallSeconds });
      }
    });
  });
}

function nodeWorker(script: string, config: WorkerConfig, nodeFlags: string[] = []): [string, string[]] {
  return [process.execPath, [...nodeFlags, join(peers, script), JSON.stringify(config)]];
}

interface EngineResult {
  version?: string;
  error?: string;
  docs?: number;
  index_seconds?: number;
  index_docs_per_second?: number;
  index_docs_per_second_rounds?: number[];
  index_docs_per_cpu_second?: number;
  prepare_seconds?: number;
  open_seconds?: number;
  queries_timed_per_round?: number;
  search_queries_per_second?: number;
  search_queries_per_second_rounds?: number[];
  warm_repeat_queries_per_second?: number;
  warm_repeat_queries_per_cpu_second?: number;
  peak_rss_mb?: number;
  peak_rss_mb_by_phase?: Record<string, number>;
  'ndcg@10'?: number;
  'recall@100'?: number;
  ndcg_queries?: number;
  'ndcg@10_on_okapi_sample'?: number;
  notes: string[];
}

/** Raw figures of one engine over its rounds, before medians are taken. */
interface Samples {
  indexSeconds: number[];
  indexDocsPerSecond: number[];
  indexDocsPerCpuSecond: number[];
  openSeconds: number[];
  queriesPerSecond: number[];
  queriesPerCpuSecond: number[];
  firstPassQueriesPerSecond: number[];
  rssByPhase: Record<string, number>;
}

const mb = (kib: number) => round((kib * 1024) / 1e6, 1);

function round(value: number, digits = 3): number {
  return Number(value.toFixed(digits));
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** nDCG@10 and Recall@100 of a run file over the given queries (a query with no results scores 0). */
function scoreRun(runFile: string, queryIds: readonly string[], qrels: Qrels): { ndcg: number; recall: number; queries: number } {
  const rankings = new Map<string, string[]>(queryIds.map((id) => [id, []]));
  if (existsSync(runFile)) {
    for (const line of readFileSync(runFile, 'utf8').split('\n')) {
      if (line.length === 0) continue;
      const [queryId, docId] = line.split('\t');
      rankings.get(queryId)?.push(docId);
    }
  }
  const scores = evaluate(rankings, qrels);
  return { ndcg: round(scores['ndcg@10'], 4), recall: round(scores['recall@100'], 4), queries: scores.queries };
}

/** Engines measured in several interleaved rounds (the two the targets compare); the others run once. */
const ROUNDED: readonly Engine[] = ['rare-mine', 'xapian'];

/** The commit rare-mine was benchmarked at, and whether src/ had uncommitted changes (figures are of the built dist/). */
function gitDescription(): { commit: string | null; src_modified: boolean | null } {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { commit: git('rev-parse', '--short', 'HEAD'), src_modified: git('status', '--porcelain', '--', 'src').length > 0 };
  } catch {
    return { commit: null, src_modified: null };
  }
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (!options) return;
  const startedAt = new Date();
  const loadStart = loadavg();
  const workDir = options.workDir ? resolve(options.workDir) : mkdtempSync(join(tmpdir(), 'rare-mine-bench-'));
  mkdirSync(workDir, { recursive: true });
  if (options.cpuProf) mkdirSync(options.cpuProf, { recursive: true });
  try {
    const corpus = prepareCorpus(options, workDir);
    const qrels = await readQrels(corpus.qrels);
    const querySet = judgedQueries(corpus, qrels, workDir);
    const docCount = await countLines(corpus.corpus);
    const okapiSample = querySet.ids.slice(0, options.okapiQueries);
    const base = { corpus: corpus.corpus, queries: querySet.path, k: options.k, minSearchSeconds: options.minSearchSeconds };
    const runFile = (engine: Engine) => join(workDir, `${engine}.run.tsv`);

    /** The worker processes of one engine's round, in order. */
    const phasesOf = (engine: Engine, roundNo: number): Array<{ label: string; command: [string, string[]] }> => {
      const indexDir = join(workDir, `${engine}-index`);
      const config = { ...base, indexDir, runFile: runFile(engine) };
      const tag = options.rounds > 1 ? ` (round ${roundNo})` : '';
      if (engine === 'rare-mine') {
        // Profile the first round only, so the profiler's overhead touches at most one of the rounds behind the medians.
        const prof = (phase: string) =>
          options.cpuProf && roundNo === 1 ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProf}`, `--cpu-prof-name=rare-mine-${phase}.cpuprofile`] : [];
        return [
          { label: `rare-mine index${tag}`, command: nodeWorker('rare-mine-worker.js', { ...config, phase: 'index' }, prof('index')) },
          { label: `rare-mine search${tag}`, command: nodeWorker('rare-mine-worker.js', { ...config, phase: 'search' }, prof('search')) },
        ];
      }
      if (engine === 'xapian') {
        const script = join(repoRoot, 'bench', 'peers', 'xapian_bm25.py');
        return [
          { label: `xapian index${tag}`, command: [options.python, [script, JSON.stringify({ ...config, phase: 'index' })]] },
          { label: `xapian search${tag}`, command: [options.python, [script, JSON.stringify({ ...config, phase: 'search' })]] },
        ];
      }
      if (engine === 'wink-bm25-text-search') {
        // Its in-memory index of the scale-mix corpus can outgrow V8's default heap limit.
        return [{ label: 'wink', command: nodeWorker('wink-worker.js', { ...config, phase: 'all' }, ['--max-old-space-size=8192']) }];
      }
      return [
        {
          label: 'okapibm25',
          command: nodeWorker('okapi-worker.js', { ...config, phase: 'all', minSearchSeconds: 0, queryLimit: okapiSample.length }, ['--max-old-space-size=8192']),
        },
      ];
    };
    const schedule: Array<{ engine: Engine; roundNo: number }> = [];
    for (let roundNo = 1; roundNo <= options.rounds; roundNo++) {
      for (const engine of options.engines) if (ROUNDED.includes(engine)) schedule.push({ engine, roundNo });
    }
    for (const engine of options.engines) if (!ROUNDED.includes(engine)) schedule.push({ engine, roundNo: 1 });

    const results: Partial<Record<Engine, EngineResult>> = {};
    const samples: Partial<Record<Engine, Samples>> = {};
    let failed = false;
    for (const { engine, roundNo } of schedule) {
      const result = (results[engine] ??= { notes: [] });
      const got = (samples[engine] ??= {
        indexSeconds: [],
        indexDocsPerSecond: [],
        indexDocsPerCpuSecond: [],
        openSeconds: [],
        queriesPerSecond: [],
        queriesPerCpuSecond: [],
        firstPassQueriesPerSecond: [],
        rssByPhase: {},
      });
      if (result.error) continue;
      for (const { label, command } of phasesOf(engine, roundNo)) {
        process.stderr.write(`# ${label} ...\n`);
        const child = await runWorker(label, command[0], command[1]);
        if (!child.report) {
          result.error = engine === 'xapian' ? `${child.error} (needs Debian python3-xapian under --python, default /usr/bin/python3)` : child.error;
          failed = true;
          break;
        }
        const report = child.report;
        result.version = report.engineVersion;
        const rss = mb(report.maxRssKiB);
        got.rssByPhase[report.phase] = Math.max(got.rssByPhase[report.phase] ?? 0, rss);
        if (report.docs !== undefined) result.docs = report.docs;
        if (report.indexSeconds !== undefined) {
          const docs = report.docs ?? docCount;
          got.indexSeconds.push(report.indexSeconds);
          got.indexDocsPerSecond.push(docs / report.indexSeconds);
          if (report.indexCpuSeconds) got.indexDocsPerCpuSecond.push(docs / report.indexCpuSeconds);
        }
        if (report.prepareSeconds !== undefined) result.prepare_seconds = round(report.prepareSeconds);
        if (report.openSeconds !== undefined) got.openSeconds.push(report.openSeconds);
        if (report.queriesPerSecond !== undefined) {
          got.queriesPerSecond.push(report.queriesPerSecond);
          if (report.queriesPerCpuSecond) got.queriesPerCpuSecond.push(report.queriesPerCpuSecond);
          got.firstPassQueriesPerSecond.push((report.queriesSearched ?? 0) / Math.max(report.firstPassSeconds ?? 0, 1e-9));
          result.queries_timed_per_round = (report.queriesSearched ?? 0) * Math.max(report.warmPasses ?? 0, 1);
        }
        for (const note of report.notes) if (!result.notes.includes(note)) result.notes.push(note);
        process.stderr.write(`# ${label}: ${child.wallSeconds.toFixed(1)} s wall, peak RSS ${rss} MB\n`);
      }
    }

    for (const engine of options.engines) {
      const result = results[engine];
      const got = samples[engine];
      if (!result || !got) continue;
      const put = <K extends keyof EngineResult>(key: K, value: number | undefined, digits: number) => {
        if (value !== undefined) (result[key] as number) = round(value, digits);
      };
      put('index_seconds', median(got.indexSeconds), 3);
      put('index_docs_per_second', median(got.indexDocsPerSecond), 0);
      if (got.indexDocsPerSecond.length > 1) result.index_docs_per_second_rounds = got.indexDocsPerSecond.map((v) => round(v, 0));
      put('index_docs_per_cpu_second', median(got.indexDocsPerCpuSecond), 0);
      put('open_seconds', median(got.openSeconds), 3);
      // okapibm25 runs well under one query a second: keep three decimals below 10.
      const rate = (value: number | undefined) => (value === undefined ? undefined : round(value, value < 10 ? 3 : 1));
      // The headline is the first pass: every query distinct and searched once, as mining does. The warm rate
      // repeats the same queries (memoised analysis, hot caches) and is kept only as a secondary figure.
      result.search_queries_per_second = rate(median(got.firstPassQueriesPerSecond));
      if (got.firstPassQueriesPerSecond.length > 1) result.search_queries_per_second_rounds = got.firstPassQueriesPerSecond.map((v) => rate(v) as number);
      result.warm_repeat_queries_per_second = rate(median(got.queriesPerSecond));
      result.warm_repeat_queries_per_cpu_second = rate(median(got.queriesPerCpuSecond));
      const phases = Object.values(got.rssByPhase);
      if (phases.length > 0) result.peak_rss_mb = Math.max(...phases);
      if (phases.length > 1) result.peak_rss_mb_by_phase = got.rssByPhase;
      if (result.docs === undefined && got.indexSeconds.length > 0) result.docs = docCount;
      if (!result.error) {
        const scored = scoreRun(runFile(engine), engine === 'okapibm25' ? okapiSample : querySet.ids, qrels);
        result['ndcg@10'] = scored.ndcg;
        result['recall@100'] = scored.recall;
        result.ndcg_queries = scored.queries;
      }
    }
    const profiles: ProfileSummary[] = [];
    if (options.cpuProf) {
      for (const phase of ['index', 'search']) {
        const path = join(options.cpuProf, `rare-mine-${phase}.cpuprofile`);
        if (existsSync(path)) profiles.push(summarizeCpuProfile(path, 12));
      }
    }

    // Every engine's nDCG@10 on okapibm25's query sample too, so its figure can be compared like for like.
    if (results.okapibm25 && !results.okapibm25.error) {
      for (const engine of options.engines) {
        const result = results[engine];
        if (result && !result.error) result['ndcg@10_on_okapi_sample'] = scoreRun(runFile(engine), okapiSample, qrels).ndcg;
      }
    }

    const xapian = results.xapian;
    const ratios: Record<string, Record<string, number | null>> = {};
    for (const engine of options.engines) {
      const result = results[engine];
      if (!result || engine === 'xapian' || !xapian) continue;
      const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? Number((a / b).toPrecision(3)) : null);
      ratios[`${engine}/xapian`] = {
        search_queries_per_second: ratio(result.search_queries_per_second, xapian.search_queries_per_second),
        warm_repeat_queries_per_cpu_second: ratio(result.warm_repeat_queries_per_cpu_second, xapian.warm_repeat_queries_per_cpu_second),
        index_docs_per_second: ratio(result.index_docs_per_second, xapian.index_docs_per_second),
        index_docs_per_cpu_second: ratio(result.index_docs_per_cpu_second, xapian.index_docs_per_cpu_second),
        peak_rss: ratio(result.peak_rss_mb, xapian.peak_rss_mb),
      };
    }
    const rare = results['rare-mine'];
    const rareVsXapian = ratios['rare-mine/xapian'];
    const verdict = (value: number | null | undefined, met: (v: number) => boolean) =>
      value === null || value === undefined ? 'not measured' : met(value) ? 'met' : 'not met';
    const targets = [
      {
        target: `search queries/s >= ${TARGETS.searchRatioVsXapian}x Xapian's, one thread, top-${options.k}, distinct queries, one pass`,
        value: rareVsXapian?.search_queries_per_second ?? null,
        status: verdict(rareVsXapian?.search_queries_per_second, (v) => v >= TARGETS.searchRatioVsXapian),
      },
      {
        target: 'index docs/s faster than Xapian',
        value: rareVsXapian?.index_docs_per_second ?? null,
        value_per_cpu_second: rareVsXapian?.index_docs_per_cpu_second ?? null,
        status: verdict(rareVsXapian?.index_docs_per_second, (v) => v > TARGETS.indexRatioVsXapian),
      },
      {
        target: `rare-mine peak RSS < ${TARGETS.rareMinePeakRssMB} MB (10^6 bytes; max over its index and search processes)`,
        value: rare?.peak_rss_mb ?? null,
        status: verdict(rare?.peak_rss_mb, (v) => v < TARGETS.rareMinePeakRssMB),
      },
    ];

    const cpu = cpus();
    const output = {
      benchmark: 'rare-mine BM25 vs peers',
      date: startedAt.toISOString(),
      mode: options.quick ? 'quick' : 'full',
      command: `node ${process.argv.slice(1).join(' ')}`,
      machine: {
        cpu: cpu[0]?.model ?? 'unknown',
        logical_cpus: cpu.length,
        memory_gb: round(totalmem() / 1e9, 1),
        os: `${osType()} ${release()}`,
        load_average_at_start: loadStart.map((v) => round(v, 2)),
        load_average_at_end: loadavg().map((v) => round(v, 2)),
        note: 'engines run one after another, each in its own process; other work on the machine is not controlled (see load averages)',
      },
      node: process.version,
      rare_mine: gitDescription(),
      corpus: {
        name: corpus.name,
        path: corpus.corpus,
        docs: docCount,
        bytes: statSync(corpus.corpus).size,
        queries: querySet.ids.length,
        queries_file: corpus.queries,
        qrels: corpus.qrels,
      },
      settings: {
        k: options.k,
        k1: 0.9,
        b: 0.4,
        threads: 1,
        min_search_seconds: options.minSearchSeconds,
        rounds: options.rounds,
        okapi_queries: okapiSample.length,
        timing:
          'index: wall time in the worker from opening the corpus JSONL to a searchable index (disk engines: written and committed); ' +
          'search: a first (cold) pass over all judged queries writes the ranking for nDCG, then whole passes are repeated until min_search_seconds; ' +
          'search_queries_per_second is the first pass (distinct queries, each searched once, as mining does); warm_repeat_* repeat the same queries (caches, not mining) and are secondary; *_per_cpu_second divide by process CPU time (user + system, all threads) instead of wall time; ' +
          'rare-mine and Xapian run `rounds` interleaved rounds and their figures are medians (peak RSS: the maximum); peak RSS is the kernel maxrss of each worker process',
      },
      // Notes last in each engine's object, after the figures.
      // Figures are medians over the rounds (rare-mine and Xapian) or single runs (the others).
      engines: Object.fromEntries(Object.entries(results).map(([engine, { notes, ...figures }]) => [engine, { ...figures, notes }])),
      ratios_vs_xapian: ratios,
      targets,
      ...(profiles.length > 0 ? { profiles } : {}),
      work_dir: options.keep || options.workDir ? workDir : undefined,
    };
    process.stdout.write(JSON.stringify(output, null, 2) + '\n');
    if (failed) process.exitCode = 1;
  } finally {
    if (!options.keep && !options.workDir) rmSync(workDir, { recursive: true, force: true });
    else if (!options.workDir) process.stderr.write(`# work dir kept: ${workDir}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bm25-bench: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
