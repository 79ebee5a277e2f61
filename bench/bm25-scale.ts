/**
 * BM25 at corpus scale, measured as mining uses it (issue 14): distinct queries, ONE pass each, no warm repeats.
 *  - index: `rare-mine index bm25` through the CLI (docs/s, peak RSS), unless the index dir already holds it;
 *  - search, the modes interleaved by slices of 25 queries: exhaustive (the reference scorer) vs `search` (what
 *    mining runs: MaxScore, or exhaustive for a query with few postings) vs MaxScore alone, at each k, one pass
 *    each with a fresh analyzer (after a JIT warm-up, every mode at every k, on 200 OTHER queries: the first
 *    sentences of the passages after the sampled ones),
 *    q/s (wall and CPU) and postings scored per query; the two rankings are compared for exact equality;
 *  - mining: `rare-mine bm25 --num-neg 3` end to end at each --threads value, records/s and peak RSS, outputs
 *    compared byte for byte; --mine-rounds rounds (default 3), the values taking turns, medians reported;
 *  - peers: Xapian in-memory and on-disk (bench/peers/xapian_bm25_scale.py, Debian python3-xapian), same queries,
 *    one pass per k; bm25s (bench/peers/bm25s_scale.py) only when BM25S_SRC points at a checkout of xhluca/bm25s
 *    (skipped, with the reason), run by --bm25s-python (a Python with numpy and scipy; PyStemmer if available).
 *    Every peer builds its own index from the corpus in this run, so build docs/s sit side by side too;
 *  - baseline (--baseline DIR): another build of rare-mine (a checkout with `npm ci && npm run build` done, e.g. at
 *    3224186, where issue 14 was filed and every query was scored exhaustively) builds its own index (or reuses
 *    --baseline-index-dir) and mines the first --baseline-records records (default 1,000) with the same command,
 *    its run taking turns with this build's `--threads 1` on the same records in every round; records/s of each,
 *    the median paired ratio, and whether the outputs are byte-identical.
 * Query recipe (generated corpora, --sample-queries N): walk the corpus, take every ⌊docs/N⌋-th passage, split
 * its text into sentences at [.!?] + space, keep the first sentence of 8–60 words not seen before (normalised:
 * lower case, single spaces); the mining input pairs it (question) with its passage (text, the positive).
 * With --queries FILE (BEIR queries), mining input uses the query alone (no positive).
 * Usage: node dist/bench/bm25-scale.js --corpus C.jsonl --index-dir DIR (--queries Q.jsonl | --sample-queries N)
 *        [--ks 10,100] [--threads 1,2] [--mine-records N] [--mine-rounds R] [--search-queries N] [--xapian] [--bm25s-python PY]
 *        [--xapian-backends inmemory,disk] [--peer-memory-limit SIZE (each peer process's address space, e.g. 16G, by prlimit)]
 *        [--project N (default 500000: the build of this run + the median index open + N / the median records/s, per --threads)]
 *        [--memory-budget SIZE] [--baseline DIR [--baseline-index-dir DIR] [--baseline-records N]] [--work DIR] [--out F.json]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bm25Index, loadBm25IndexData } from '../src/bm25/index-reader.js';
import { createAnalyzer } from '../src/text/analyzer.js';
import { byteSize } from '../src/cli/option-spec.js';
import type { SearchWork } from '../src/bm25/max-score.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(repoRoot, 'bin', 'rare-mine.js');

const { values } = parseArgs({
  options: {
    corpus: { type: 'string' },
    'index-dir': { type: 'string' },
    queries: { type: 'string' },
    'sample-queries': { type: 'string' },
    ks: { type: 'string', default: '10,100' },
    threads: { type: 'string', default: '1,2' },
    'mine-records': { type: 'string' },
    'mine-rounds': { type: 'string', default: '3' },
    'search-queries': { type: 'string' },
    xapian: { type: 'boolean', default: false },
    'xapian-backends': { type: 'string', default: 'inmemory,disk' },
    'peer-memory-limit': { type: 'string' },
    project: { type: 'string', default: '500000' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'bm25s-python': { type: 'string', default: 'python3' },
    'memory-budget': { type: 'string' },
    baseline: { type: 'string' },
    'baseline-index-dir': { type: 'string' },
    'baseline-records': { type: 'string', default: '1000' },
    work: { type: 'string', default: '/tmp/rare-mine-bm25-scale' },
    out: { type: 'string' },
  },
});
if (!values.corpus || !values['index-dir'] || (!values.queries && !values['sample-queries'])) {
  process.stderr.write('usage: node dist/bench/bm25-scale.js --corpus C.jsonl --index-dir DIR (--queries Q.jsonl | --sample-queries N) [--ks 10,100] [--threads 1,2] [--xapian]\n');
  process.exit(2);
}
const corpus = values.corpus;
const indexDir = values['index-dir'];
const work = values.work!;
mkdirSync(work, { recursive: true });
const ks = values.ks!.split(',').map(Number);
const threadCounts = values.threads!.split(',').map(Number);
// Each --threads value is mined this many times (see step 4).
const rounds = Number(values['mine-rounds']);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`--mine-rounds must be a whole number ≥ 1, got "${values['mine-rounds']}"\n`);
  process.exit(2);
}
const baselineRecordsWanted = Number(values['baseline-records']);
if (!Number.isInteger(baselineRecordsWanted) || baselineRecordsWanted < 1) {
  process.stderr.write(`--baseline-records must be a whole number ≥ 1, got "${values['baseline-records']}"\n`);
  process.exit(2);
}
const projectRecords = Number(values.project);
if (!Number.isInteger(projectRecords) || projectRecords < 1) {
  process.stderr.write(`--project must be a whole number ≥ 1, got "${values.project}"\n`);
  process.exit(2);
}
const xapianBackends = values['xapian-backends']!.split(',');
if (xapianBackends.some((backend) => backend !== 'inmemory' && backend !== 'disk')) {
  process.stderr.write(`--xapian-backends takes inmemory and/or disk, comma-separated, got "${values['xapian-backends']}"\n`);
  process.exit(2);
}
// Checked before any work (not when the peers' turn comes, after the long runs).
let peerLimitBytes: number | undefined;
try {
  peerLimitBytes = values['peer-memory-limit'] === undefined ? undefined : byteSize('--peer-memory-limit', 1 << 20)(values['peer-memory-limit']);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
const baselineCli = values.baseline ? join(resolve(values.baseline), 'bin', 'rare-mine.js') : undefined;
if (baselineCli && !existsSync(baselineCli)) {
  process.stderr.write(`--baseline: no ${baselineCli} (a checkout of rare-mine, built)\n`);
  process.exit(2);
}
const round = (x: number, digits = 3) => Number(x.toFixed(digits));
/** Queries the JIT warm-up searches (other than the timed ones). */
const WARMUP_QUERIES = 200;

/** What a peer script prints (bench/peers/*_scale.py). */
interface PeerReport {
  docs: number;
  index_seconds: number;
  index_cpu_seconds: number;
  search?: Record<string, { queries_per_cpu_second: number }>;
}

/** Run a command under GNU time: wall and CPU seconds, peak RSS (MB), exit status, stdout and stderr. */
function timed(command: string, args: string[]): { seconds: number; cpuSeconds: number; peakRssMb: number; status: number | null; stdout: string; stderr: string } {
  const started = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', 'TIME %M %U %S', command, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: { ...process.env, RARE_MINE_LOG_FORMAT: 'json', RARE_MINE_NO_PROGRESS: '1' },
  });
  const seconds = (performance.now() - started) / 1000;
  const peak = /TIME (\d+) ([\d.]+) ([\d.]+)/.exec(result.stderr ?? '');
  return {
    seconds,
    cpuSeconds: peak ? Number(peak[2]) + Number(peak[3]) : NaN,
    peakRssMb: peak ? Number(peak[1]) / 1024 : NaN,
    status: result.status,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
  };
}

async function* corpusLines(path: string): AsyncGenerator<{ text: string; title: string }> {
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (line.trim().length === 0) continue;
    const record = JSON.parse(line) as { text: string; title?: string };
    yield { text: record.text, title: record.title ?? '' };
  }
}

/**
 * The recipe in the header: distinct one-sentence queries, each with the passage it came from. One pass over the
 * corpus serves several samples: sample i takes every ⌊docs/count_i⌋-th passage starting at offset_i.
 */
async function sampleQueries(samples: ReadonlyArray<{ count: number; offset: number }>, docCount: number): Promise<Array<Array<{ question: string; text: string }>>> {
  const takers = samples.map(({ count, offset }) => ({ count, offset, step: Math.max(1, Math.floor(docCount / count)), seen: new Set<string>(), out: [] as Array<{ question: string; text: string }> }));
  let ordinal = 0;
  for await (const { text } of corpusLines(corpus)) {
    const at = ordinal++;
    for (const taker of takers) {
      if (at % taker.step !== taker.offset % taker.step || taker.out.length >= taker.count) continue;
      for (const sentence of text.split(/(?<=[.!?])\s+/)) {
        const words = sentence.trim().split(/\s+/);
        const key = words.join(' ').toLowerCase();
        if (words.length < 8 || words.length > 60 || taker.seen.has(key)) continue;
        taker.seen.add(key);
        taker.out.push({ question: sentence.trim(), text });
        break;
      }
    }
  }
  return takers.map((taker) => taker.out);
}

const report: Record<string, unknown> = {
  benchmark: 'bm25-scale',
  corpus,
  machine: { cpus: cpus().length, model: cpus()[0]?.model, load_average_at_start: loadavg().map((x) => round(x, 2)) },
  node: process.version,
};

// 1. Index.
if (!existsSync(join(indexDir, 'bm25', 'manifest.json'))) {
  const args = [cli, 'index', 'bm25', '--corpus', corpus, '--index-dir', indexDir, ...(values['memory-budget'] ? ['--memory-budget', values['memory-budget']] : [])];
  const run = timed(process.execPath, args);
  if (run.status !== 0) throw new Error(`index build failed:\n${run.stderr.slice(-4000)}`);
  const docs = (JSON.parse(readFileSync(join(indexDir, 'docs', 'manifest.json'), 'utf8')) as { docCount: number }).docCount;
  report.index = {
    docs,
    seconds: round(run.seconds),
    cpu_seconds: round(run.cpuSeconds),
    docs_per_second: round(docs / run.seconds, 0),
    docs_per_cpu_second: round(docs / run.cpuSeconds, 0),
    peak_rss_mb: round(run.peakRssMb, 0),
    memory_budget: values['memory-budget'] ?? 'default',
  };
} else {
  report.index = { reused: indexDir };
}
const docCount = (JSON.parse(readFileSync(join(indexDir, 'docs', 'manifest.json'), 'utf8')) as { docCount: number }).docCount;

// 2. Queries.
let mining: Array<{ question: string; text?: string }>;
let queriesPath: string;
// The JIT warm-up's queries: first sentences of the passages just after the sampled ones (see step 3).
const warmupSample = { count: WARMUP_QUERIES, offset: 1 };
let warmupQueries: string[];
if (values.queries) {
  queriesPath = values.queries;
  mining = readFileSync(queriesPath, 'utf8').trim().split('\n').map((line) => ({ question: (JSON.parse(line) as { text: string }).text }));
  report.queries = { source: queriesPath, count: mining.length };
  warmupQueries = (await sampleQueries([warmupSample], docCount))[0].map((q) => q.question);
} else {
  const [timed, warmup] = await sampleQueries([{ count: Number(values['sample-queries']), offset: 0 }, warmupSample], docCount);
  mining = timed;
  warmupQueries = warmup.map((q) => q.question);
  queriesPath = join(work, 'queries.jsonl');
  writeFileSync(queriesPath, mining.map((q, i) => JSON.stringify({ _id: `q${i}`, text: q.question })).join('\n') + '\n');
  report.queries = { recipe: 'every ⌊docs/N⌋-th passage, its first new sentence of 8-60 words (see header)', count: mining.length, mean_words: round(mining.reduce((s, q) => s + q.question.split(/\s+/).length, 0) / mining.length, 1) };
}
// The search passes use the first --search-queries of them (all by default); mining uses --mine-records.
const queryTexts = mining.slice(0, Number(values['search-queries'] ?? mining.length)).map((q) => q.question);
if (queryTexts.length < mining.length) {
  // The peers search the same subset.
  queriesPath = join(work, 'search-queries.jsonl');
  writeFileSync(queriesPath, queryTexts.map((text, i) => JSON.stringify({ _id: `q${i}`, text })).join('\n') + '\n');
  (report.queries as Record<string, unknown>).searched = queryTexts.length;
}

// 3. Search: exhaustive vs MaxScore, one pass each, fresh analyzer per pass.
const rssBefore = process.memoryUsage().rss;
const loadStarted = performance.now();
const data = loadBm25IndexData(join(indexDir, 'bm25'), createAnalyzer('en').fingerprint, 'bench');
const search: Record<string, unknown> = { load_seconds: round((performance.now() - loadStarted) / 1000), index_rss_mb: round((process.memoryUsage().rss - rssBefore) / 2 ** 20, 0) };
// JIT warm-up, so that no timed pass pays for V8 compiling the search (each peer at its best): every mode at every
// k over WARMUP_QUERIES other queries (first sentences of the passages just after the sampled ones, none equal to a
// timed query), on a throwaway analyzer; the timed passes below each start with a fresh, empty analyzer cache.
{
  const timed = new Set(queryTexts);
  const others = warmupQueries.filter((q) => !timed.has(q));
  const warm = new Bm25Index(data, createAnalyzer('en'));
  for (const k of ks) {
    for (const q of others) {
      warm.search(q, k);
      warm.searchPruned(q, k);
      warm.searchExhaustive(q, k);
    }
  }
  search.warmup_queries = others.length;
}
for (const k of ks) {
  // pruned: `search`, what mining runs (MaxScore, exhaustive for queries under EXHAUSTIVE_BELOW postings);
  // maxscore_only: MaxScore for every query. Each mode searches every query once, with its own fresh analyzer;
  // the modes take turns by slices of SLICE queries (the first mode rotating), so that a change in the
  // machine's load during the run falls on all of them alike instead of on whichever ran last.
  const modes = ['exhaustive', 'pruned', 'maxscore_only'] as const;
  const SLICE = 25;
  const passes = Object.fromEntries(
    modes.map((mode) => {
      const index = new Bm25Index(data, createAnalyzer('en'));
      const method = { exhaustive: index.searchExhaustive, pruned: index.search, maxscore_only: index.searchPruned }[mode];
      return [mode, { index, method, seconds: 0, cpuSeconds: 0, work: { postingsScored: 0, documentsScored: 0 } as SearchWork, results: [] as Array<Array<{ docOrdinal: number; score: number }>> }];
    }),
  ) as Record<(typeof modes)[number], { index: Bm25Index; method: Bm25Index['search']; seconds: number; cpuSeconds: number; work: SearchWork; results: Array<Array<{ docOrdinal: number; score: number }>> }>;
  for (let from = 0, turn = 0; from < queryTexts.length; from += SLICE, turn++) {
    const slice = queryTexts.slice(from, from + SLICE);
    for (let i = 0; i < modes.length; i++) {
      const pass = passes[modes[(i + turn) % modes.length]];
      const cpu = process.cpuUsage();
      const started = performance.now();
      for (const q of slice) pass.results.push(pass.method.call(pass.index, q, k, pass.work));
      pass.seconds += (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      pass.cpuSeconds += (used.user + used.system) / 1e6;
    }
  }
  const figures = (mode: (typeof modes)[number]) => ({
    queries_per_second: round(queryTexts.length / passes[mode].seconds, 1),
    queries_per_cpu_second: round(queryTexts.length / passes[mode].cpuSeconds, 1),
    postings_scored_per_query: round(passes[mode].work.postingsScored / queryTexts.length, 0),
  });
  const same = (a: typeof passes.pruned) => passes.exhaustive.results.every((r, i) => JSON.stringify(r) === JSON.stringify(a.results[i]));
  const identical = same(passes.pruned) && same(passes.maxscore_only);
  search[`k${k}`] = {
    exhaustive: figures('exhaustive'),
    pruned: figures('pruned'),
    maxscore_only: figures('maxscore_only'),
    pruned_over_exhaustive_cpu: round(passes.exhaustive.cpuSeconds / passes.pruned.cpuSeconds, 2),
    rankings_identical: identical,
  };
}
report.search = search;

// 4. Mining end to end at each --threads.
const mineRecords = Math.min(Number(values['mine-records'] ?? mining.length), mining.length);
const mineInput = join(work, 'mine-input.jsonl');
writeFileSync(mineInput, mining.slice(0, mineRecords).map((q, i) => JSON.stringify(q.text === undefined ? { id: i, question: q.question } : { id: i, question: q.question, text: q.text })).join('\n') + '\n');
const mine: Record<string, unknown> = { records: mineRecords };
// Each --threads value runs --mine-rounds times, the values taking turns within a round, so a change of load (this
// machine is a shared VM) falls on all of them; the speed-up is the median of the rounds' paired ratios.
const rates = new Map<number, number[]>(threadCounts.map((threads) => [threads, []]));
const openSeconds = new Map<number, number[]>(threadCounts.map((threads) => [threads, []]));
const runs = new Map<number, { seconds: number; peakRssMb: number; identical: boolean }>();
let firstOutput: Buffer | undefined;
// The baseline (--baseline): its own index, then in every round its run and this build's --threads 1 on the same
// first --baseline-records records, in turns.
const baselineRecords = Math.min(baselineRecordsWanted, mineRecords);
const baselineInput = join(work, 'baseline-input.jsonl');
const baselineIndexDir = values['baseline-index-dir'] ?? join(work, 'baseline-index');
const baselineRuns: Record<'ours' | 'theirs', Array<{ rate: number; perCpuSecond: number; peakRssMb: number; output: Buffer }>> = { ours: [], theirs: [] };
let baselineIndex: Record<string, unknown> | undefined;
if (baselineCli) {
  writeFileSync(baselineInput, readFileSync(mineInput, 'utf8').split('\n').slice(0, baselineRecords).join('\n') + '\n');
  const prebuilt = existsSync(join(baselineIndexDir, 'bm25', 'manifest.json'));
  const build = timed(process.execPath, [baselineCli, 'index', 'bm25', '--corpus', corpus, '--index-dir', baselineIndexDir]);
  if (build.status !== 0) throw new Error(`baseline index build failed:\n${build.stderr.slice(-4000)}`);
  baselineIndex = prebuilt
    ? { reused: baselineIndexDir }
    : { seconds: round(build.seconds, 1), cpu_seconds: round(build.cpuSeconds, 1), peak_rss_mb: round(build.peakRssMb, 0), docs_per_second: round(docCount / build.seconds, 0) };
}
/** Mine `input` with `command` (this build's CLI or the baseline's): records/s of the mining phase and per CPU-second of the run. */
function mineOnce(command: string, extra: string[], input: string, output: string, records: number, index: string) {
  const run = timed(process.execPath, [command, 'bm25', '--index-dir', index, '--num-neg', '3', ...extra, input, '-o', output]);
  if (run.status !== 0) throw new Error(`mining failed (${command}):\n${run.stderr.slice(-4000)}`);
  const summary = run.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; mine_seconds?: number; index_seconds?: number }).find((l) => l.msg === 'summary');
  return { run, rate: records / (summary?.mine_seconds ?? run.seconds), openSeconds: summary?.index_seconds ?? Number.NaN, perCpuSecond: records / run.cpuSeconds, peakRssMb: run.peakRssMb, output: readFileSync(output) };
}
for (let turn = 0; turn < rounds; turn++) {
  if (baselineCli) {
    const pair = [
      () => baselineRuns.ours.push(mineOnce(cli, ['--threads', '1'], baselineInput, join(work, 'baseline-ours.jsonl'), baselineRecords, indexDir)),
      () => baselineRuns.theirs.push(mineOnce(baselineCli, [], baselineInput, join(work, 'baseline-theirs.jsonl'), baselineRecords, baselineIndexDir)),
    ];
    for (const run of turn % 2 === 0 ? pair : pair.reverse()) run();
  }
  for (const threads of threadCounts) {
    const { run, rate, openSeconds: open, output: bytes } = mineOnce(cli, ['--threads', String(threads)], mineInput, join(work, `mined-${threads}.jsonl`), mineRecords, indexDir);
    firstOutput ??= bytes;
    rates.get(threads)!.push(rate);
    openSeconds.get(threads)!.push(open);
    const before = runs.get(threads);
    runs.set(threads, { seconds: run.seconds, peakRssMb: Math.max(before?.peakRssMb ?? 0, run.peakRssMb), identical: (before?.identical ?? true) && bytes.equals(firstOutput) });
  }
}
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[sorted.length >> 1] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};
mine.rounds = rounds;
for (const threads of threadCounts) {
  const run = runs.get(threads)!;
  mine[`threads${threads}`] = {
    records_per_second: round(median(rates.get(threads)!), 1),
    records_per_second_each_round: rates.get(threads)!.map((rate) => round(rate, 1)),
    end_to_end_seconds_last_round: round(run.seconds, 2),
    index_open_seconds_median: round(median(openSeconds.get(threads)!), 2),
    peak_rss_mb: round(run.peakRssMb, 0),
    output_identical_to_first: run.identical,
  };
}
if (threadCounts.length > 1) {
  const first = rates.get(threadCounts[0])!;
  const last = rates.get(threadCounts[threadCounts.length - 1])!;
  const ratios = last.map((rate, i) => rate / first[i]);
  mine[`speedup_threads${threadCounts[threadCounts.length - 1]}_over_threads${threadCounts[0]}`] = round(median(ratios), 2);
  mine[`speedup_each_round`] = ratios.map((ratio) => round(ratio, 2));
}
// The issue's projection (issue 26: 500k questions at 8.8M): this run's build (when it built the index) + the median
// index open + N / the median mining records/s, for each --threads value. Its basis is in the report beside it.
{
  const records = projectRecords;
  const built = report.index as { seconds?: number };
  const projection: Record<string, unknown> = {
    records,
    basis: 'build seconds of this run (absent when the index was reused) + median index open + records / median mining records/s',
  };
  for (const threads of threadCounts) {
    const open = median(openSeconds.get(threads)!);
    const mining = records / median(rates.get(threads)!);
    const seconds = (built.seconds ?? 0) + open + mining;
    projection[`threads${threads}`] = { build_seconds: built.seconds ?? null, open_seconds: round(open, 1), mining_seconds: round(mining, 0), total_seconds: round(seconds, 0), total_minutes: round(seconds / 60, 1) };
  }
  mine.projection = projection;
}
if (baselineCli) {
  const { ours, theirs } = baselineRuns;
  const ratios = ours.map((run, i) => run.rate / theirs[i].rate);
  const commit = spawnSync('git', ['-C', values.baseline!, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  mine.baseline = {
    build: values.baseline,
    commit: commit.status === 0 ? commit.stdout.trim() : undefined,
    records: baselineRecords,
    index: baselineIndex,
    baseline_records_per_second: round(median(theirs.map((run) => run.rate)), 1),
    baseline_records_per_cpu_second_whole_run: round(median(theirs.map((run) => run.perCpuSecond)), 1),
    baseline_peak_rss_mb: round(Math.max(...theirs.map((run) => run.peakRssMb)), 0),
    threads1_records_per_second: round(median(ours.map((run) => run.rate)), 1),
    threads1_records_per_cpu_second_whole_run: round(median(ours.map((run) => run.perCpuSecond)), 1),
    speedup_threads1_over_baseline: round(median(ratios), 2),
    speedup_each_round: ratios.map((ratio) => round(ratio, 2)),
    speedup_per_cpu_second_whole_run: round(median(ours.map((run, i) => run.perCpuSecond / theirs[i].perCpuSecond)), 2),
    outputs_identical: [...ours, ...theirs].every((run) => run.output.equals(theirs[0].output)),
  };
}
report.mine = mine;

// 5. Peers, each in its own process (under `prlimit --as` with --peer-memory-limit: a peer that needs more fails
// with its own out-of-memory error, reported, instead of pushing the machine into swap or the OOM killer).
const peers: Record<string, unknown> = {};
function runPeer(python: string, script: string, config: unknown): string {
  const args = [join(repoRoot, 'bench', 'peers', script), JSON.stringify(config)];
  const [command, argv] = peerLimitBytes === undefined ? [python, args] : ['prlimit', [`--as=${peerLimitBytes}`, '--', python, ...args]];
  return execFileSync(command, argv, { encoding: 'utf8', maxBuffer: 1 << 26 });
}
if (values.xapian) {
  for (const backend of ['inmemory', 'disk']) {
    if (!xapianBackends.includes(backend)) {
      peers[`xapian-${backend}`] = { skipped: `not in --xapian-backends (${values['xapian-backends']})` };
      continue;
    }
    const config = { corpus, queries: queriesPath, backend, indexDir: join(work, 'xapian-db'), ks };
    try {
      const out = runPeer(values.python!, 'xapian_bm25_scale.py', config);
      peers[`xapian-${backend}`] = JSON.parse(out.trim().split('\n').pop()!);
    } catch (error) {
      peers[`xapian-${backend}`] = { error: `${(error as Error).message.slice(0, 400)} (needs Debian python3-xapian under --python)` };
    }
  }
}
if (process.env.BM25S_SRC) {
  const config = { corpus, queries: queriesPath, ks, src: process.env.BM25S_SRC };
  try {
    const out = runPeer(values['bm25s-python']!, 'bm25s_scale.py', config);
    peers.bm25s = JSON.parse(out.trim().split('\n').pop()!);
  } catch (error) {
    peers.bm25s = { error: `${(error as Error).message.slice(0, 400)} (needs numpy and scipy under --bm25s-python)` };
  }
} else {
  peers.bm25s = { skipped: 'BM25S_SRC is not set (point it at a checkout of xhluca/bm25s to include it)' };
}
report.peers = peers;
if (peerLimitBytes !== undefined) report.peer_memory_limit_bytes = peerLimitBytes;

// 6. Ratios, in one run.
const ratios: Record<string, number> = {};
for (const k of ks) {
  const mine = (search[`k${k}`] as { pruned: { queries_per_cpu_second: number }; exhaustive: { queries_per_cpu_second: number } });
  ratios[`k${k}_pruned_over_exhaustive`] = round(mine.pruned.queries_per_cpu_second / mine.exhaustive.queries_per_cpu_second, 2);
  for (const name of ['xapian-inmemory', 'xapian-disk', 'bm25s']) {
    const peer = peers[name] as PeerReport | undefined;
    const theirs = peer?.search?.[String(k)];
    if (theirs) ratios[`k${k}_pruned_over_${name.replace('-', '_')}`] = round(mine.pruned.queries_per_cpu_second / theirs.queries_per_cpu_second, 2);
  }
}
// Index builds (when this run built rare-mine's): docs per second, wall and CPU, against each peer's own build.
const built = report.index as { docs_per_second?: number; docs_per_cpu_second?: number };
for (const name of ['xapian-inmemory', 'xapian-disk', 'bm25s']) {
  const peer = peers[name] as PeerReport | undefined;
  if (built.docs_per_second === undefined || !peer?.index_seconds) continue;
  ratios[`index_docs_per_second_over_${name.replace('-', '_')}`] = round(built.docs_per_second / (peer.docs / peer.index_seconds), 2);
  ratios[`index_docs_per_cpu_second_over_${name.replace('-', '_')}`] = round(built.docs_per_cpu_second! / (peer.docs / peer.index_cpu_seconds), 2);
}
report.ratios_cpu_seconds = ratios;
report.load_average_at_end = loadavg().map((x) => round(x, 2));
const json = JSON.stringify(report, null, 2) + '\n';
if (values.out) writeFileSync(values.out, json);
process.stdout.write(json);
