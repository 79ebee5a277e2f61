/**
 * Dense retrieval at scale (issue 22): rare-mine's whole dense run (index + mining, from .npy vectors) side by side
 * with hnswlib and FAISS building and searching the same vectors, in one run, one process at a time.
 *  - data: bench/peers/make_dense_vectors.py writes seeded clustered unit vectors (corpus.npy, queries.npy: noisy
 *    copies of distinct corpus rows), corpus.jsonl, queries.jsonl and the exact top-100 of a seeded sample of the
 *    queries (truth.npy), cached in --work under a name made of every generation parameter;
 *  - rare-mine: `rare-mine dense --corpus-vectors corpus.npy --query-vectors queries.npy ... --num-neg 100 --min-rank 0
 *    --max-rank 110 --sample top` into a fresh index dir, timed whole under /usr/bin/time (wall, CPU, peak RSS); the
 *    phases from its JSON log (each line's time since the start, and the summary's *_seconds). With --split the index
 *    is also built alone (`rare-mine index dense`, into another fresh dir) and mined from, timed apart. Recall@100 on
 *    the sample: its raw top-100 rebuilt from the negatives' ids and ranks (--with-ranks) plus the positive, which
 *    mining excludes, at the one rank in 0..99 no negative holds;
 *  - peers (bench/peers/hnswlib_dense.py, faiss_dense.py, Debian python3-hnswlib / python3-faiss under --python): one
 *    process per build setting; each builds with --threads threads, sweeps its search parameter on the sample (not
 *    timed as search), then searches every query at top-110 in ONE pass at the first value reaching --target recall;
 *  - the report: build vectors/s, search queries/s, recall@100, peak RSS, where the time goes, per engine; ratios of
 *    rare-mine's whole run against hnswlib's build + search (M=32/efC=200, and the fastest setting reaching the
 *    target), wall and CPU; the issue's targets when the run has their sizes; machine facts, load averages before and
 *    after each step, commit and command line.
 * JSON goes to --out (stdout without it); stderr gets one line per step and a short summary.
 *
 *   npm run -s bench:dense -- --docs 200000 --queries 2000 --out bench/results/dense-scale-200k.json      # all peers
 *   npm run -s bench:dense -- --docs 1000000 --queries 100000 --peers hnswlib,faiss-hnsw \
 *     --hnswlib-configs 32:200,16:100 --faiss-hnsw-configs 32:40 --out bench/results/dense-scale-1m.json
 * On 2 idle cores, extrapolated from CPU seconds at 10k-20k: 200k about 25 min in all (FAISS HNSW efC=200 ~6 min and
 * IVF ~8 min of it), 1M as above about 40 min and 4 GB of disk. FAISS IVF at 1M (nlist 4,000) would add over half an
 * hour: its k-means and list assignment run on Debian's reference BLAS (~3.7 GFLOP/s here); --ivf-nlist 1000 is ~7 min.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const peersDir = join(repoRoot, 'bench', 'peers');
const PEERS = ['hnswlib', 'faiss-hnsw', 'faiss-ivf'] as const;
type PeerName = (typeof PEERS)[number];
/** Top-k every engine searches (mining's window, --max-rank 110) and the k recall is measured at. */
const SEARCH_K = 110;
const RECALL_K = 100;
const EF_SWEEP = [110, 128, 160, 200, 256, 320, 400, 512, 640, 800, 1024, 1280, 1600, 2048];
const NPROBE_SWEEP = [1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];

const USAGE = `usage: node dist/bench/dense-scale.js --docs N --queries Q [--dims 384] [--dtype f32|f16] [--work DIR]
  [--peers hnswlib,faiss-hnsw,faiss-ivf | none] [--hnswlib-configs M:efC,...] [--faiss-hnsw-configs M:efC,...]
  [--ivf-nlist N] [--ivf-niter N] [--ivf-train-points N] [--threads 2] [--target 0.95] [--sample 200]
  [--spread 2] [--query-noise 0.5] [--seed 22] [--split] [--rare-mine CHECKOUT | --no-rare-mine]
  [--python /usr/bin/python3] [--label TEXT] [--out F.json]
rare-mine's whole dense run from .npy vectors next to hnswlib and FAISS on the same files (docs/BENCHMARKS.md).
`;

const { values } = parseArgs({
  options: {
    docs: { type: 'string' },
    queries: { type: 'string' },
    dims: { type: 'string', default: '384' },
    dtype: { type: 'string', default: 'f32' },
    work: { type: 'string', default: '/tmp/rare-mine-dense-scale' },
    peers: { type: 'string', default: PEERS.join(',') },
    // hnswlib: the issue's M=32/efC=200, hnswlib's own defaults (M=16, efC=200) and two cheaper builds, the candidates
    // for its fastest setting reaching the target.
    'hnswlib-configs': { type: 'string', default: '32:200,16:200,16:100,8:100' },
    // FAISS HNSWFlat: the same M=32/efC=200, and FAISS's own default efConstruction (40).
    'faiss-hnsw-configs': { type: 'string', default: '32:200,32:40' },
    'ivf-nlist': { type: 'string' },
    'ivf-niter': { type: 'string', default: '10' },
    'ivf-train-points': { type: 'string' },
    threads: { type: 'string', default: '2' },
    target: { type: 'string', default: '0.95' },
    sample: { type: 'string', default: '200' },
    spread: { type: 'string', default: '2' },
    'query-noise': { type: 'string', default: '0.5' },
    seed: { type: 'string', default: '22' },
    split: { type: 'boolean', default: false },
    'no-rare-mine': { type: 'boolean', default: false },
    'rare-mine': { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    out: { type: 'string' },
    label: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
/** A whole number ≥ 1 from option `name`, or exit 2 with the usage. */
function count(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a whole number ≥ 1, got "${value ?? ''}"\n${USAGE}`);
    process.exit(2);
  }
  return n;
}
const docs = count('docs', values.docs);
const queryCount = count('queries', values.queries);
const dims = count('dims', values.dims);
const threads = count('threads', values.threads);
const sampleSize = count('sample', values.sample);
const target = Number(values.target);
if (values.dtype !== 'f32' && values.dtype !== 'f16') {
  process.stderr.write(`--dtype must be f32 or f16, got "${values.dtype}"\n`);
  process.exit(2);
}
const peerNames = values.peers === 'none' ? [] : values.peers!.split(',').map((name) => name.trim());
for (const name of peerNames) {
  if (!(PEERS as readonly string[]).includes(name)) {
    process.stderr.write(`--peers: unknown peer "${name}" (choices: ${PEERS.join(', ')}, or none)\n`);
    process.exit(2);
  }
}
/** "M:efC,M:efC" → pairs. */
function graphConfigs(name: string): Array<{ M: number; efConstruction: number }> {
  return values[name as 'hnswlib-configs']!.split(',').map((pair) => {
    const [M, efConstruction] = pair.split(':').map(Number);
    if (!Number.isInteger(M) || !Number.isInteger(efConstruction)) {
      process.stderr.write(`--${name}: "${pair}" is not M:efConstruction\n`);
      process.exit(2);
    }
    return { M, efConstruction };
  });
}
const hnswlibConfigs = graphConfigs('hnswlib-configs');
// The rare-mine measured: this checkout's, or another built one (--rare-mine DIR, e.g. a branch's worktree).
const rareMineRoot = resolve(values['rare-mine'] ?? repoRoot);
const cli = join(rareMineRoot, 'bin', 'rare-mine.js');
if (!values['no-rare-mine'] && !existsSync(cli)) {
  process.stderr.write(`--rare-mine: no ${cli} (a checkout of rare-mine, built)\n`);
  process.exit(2);
}
const faissHnswConfigs = graphConfigs('faiss-hnsw-configs');

const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const say = (line: string) => process.stderr.write(`[dense-scale ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const load = () => loadavg().map((x) => round(x, 2));

interface Timed {
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  status: number | null;
  stdout: string;
  stderr: string;
  startedAtMs: number;
}

/** Run a command under GNU time: wall and CPU seconds (user + system, all threads), peak RSS (MiB), output. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Timed {
  const startedAtMs = Date.now();
  const started = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', 'TIME %M %U %S', command, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: { ...process.env, ...env },
  });
  const seconds = (performance.now() - started) / 1000;
  const figures = /TIME (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(result.stderr ?? '');
  return {
    seconds,
    cpuSeconds: figures ? Number(figures[2]) + Number(figures[3]) : NaN,
    peakRssMb: figures ? Number(figures[1]) / 1024 : NaN,
    status: result.error ? -1 : result.status,
    stdout: result.stdout ?? '',
    stderr: (result.stderr ?? '') + (result.error ? String(result.error) : ''),
    startedAtMs,
  };
}

/** The last `chars` characters of a process's stderr, for an error entry. */
const tail = (text: string, chars = 1500) => (text.length > chars ? '…' + text.slice(-chars) : text);

// ---------------------------------------------------------------------------------------------------------------
// Machine facts.
const git = (args: string[], root = repoRoot) => spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' }).stdout.trim();
const pythonVersion = spawnSync(values.python!, ['--version'], { encoding: 'utf8' });
const report: Record<string, unknown> = {
  bench: 'dense-scale (issue 22)',
  // What this run is (e.g. "dry run on a busy machine"), as given by --label.
  ...(values.label ? { label: values.label } : {}),
  command: ['node', ...process.argv.slice(1).map((arg) => (arg.startsWith(repoRoot) ? arg.slice(repoRoot.length + 1) : arg))].join(' '),
  commit: git(['rev-parse', '--short', 'HEAD']),
  commit_dirty: git(['status', '--porcelain', '--untracked-files=no']).length > 0,
  started_at: new Date().toISOString(),
  machine: {
    nproc: cpus().length,
    cpu_model: cpus()[0]?.model,
    memory_gib: round(totalmem() / 2 ** 30, 1),
    // The SIMD the CPU offers: rare-mine's usearch picks its kernels at run time; Debian's hnswlib and FAISS builds are
    // compiled for baseline x86-64 (SSE), whatever this says.
    simd: (/^flags\s*:(.*)$/m.exec(existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '')?.[1] ?? '').split(' ').filter((flag) => ['sse4_2', 'avx2', 'fma', 'avx512f', 'avx512_bf16', 'avx512_vnni'].includes(flag)),
    node: process.version,
    python: `${values.python} ${(pythonVersion.stdout || pythonVersion.stderr).trim()}`,
    load_average_at_start: load(),
  },
  settings: { docs, queries: queryCount, dims, dtype: values.dtype, threads, search_k: SEARCH_K, recall_k: RECALL_K, target_recall: target, recall_sample: sampleSize },
};

// ---------------------------------------------------------------------------------------------------------------
// 1. Data, cached by its parameters.
const dataName = `n${docs}-q${queryCount}-d${dims}-${values.dtype}-spread${values.spread}-qn${values['query-noise']}-seed${values.seed}-s${sampleSize}`;
const data = join(values.work!, dataName);
const file = (name: string) => join(data, name);
if (existsSync(file('meta.json'))) {
  say(`data: reusing ${data}`);
  report.data = { dir: data, reused: true, meta: JSON.parse(readFileSync(file('meta.json'), 'utf8')) };
} else {
  say(`data: writing ${data}`);
  mkdirSync(data, { recursive: true });
  const made = timed(values.python!, [join(peersDir, 'make_dense_vectors.py'), '--docs', String(docs), '--queries', String(queryCount), '--dims', String(dims), '--dtype', values.dtype!, '--spread', values.spread!, '--query-noise', values['query-noise']!, '--seed', values.seed!, '--sample', String(sampleSize), '--k', String(RECALL_K), '--out', data]);
  if (made.status !== 0) {
    process.stderr.write(`make_dense_vectors.py failed (exit ${made.status}):\n${tail(made.stderr, 4000)}`);
    process.exit(1);
  }
  report.data = { dir: data, reused: false, seconds: round(made.seconds, 1), peak_rss_mb: round(made.peakRssMb, 0), meta: JSON.parse(readFileSync(file('meta.json'), 'utf8')) };
}
(report.data as Record<string, unknown>).bytes = Object.fromEntries(['corpus.npy', 'queries.npy', 'corpus.jsonl', 'queries.jsonl'].map((name) => [name, statSync(file(name)).size]));

// ---------------------------------------------------------------------------------------------------------------
// .npy reading (int64, C order), for sample.npy, truth.npy and sources.npy.
function readNpyInt64(path: string): { shape: number[]; values: BigInt64Array } {
  const bytes = readFileSync(path);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.subarray(headerStart, headerStart + headerLength).toString('latin1');
  if (!/'descr':\s*'<i8'/.test(header) || /'fortran_order':\s*True/.test(header)) throw new Error(`${path}: expected a C-order <i8 array, header ${header}`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)![1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const body = bytes.subarray(headerStart + headerLength);
  const values = new BigInt64Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  return { shape, values };
}
/**
 * Read the input files once before each engine's step, so that none pays for first reads from disk that another was
 * spared (the data may be cached from an earlier run, or written just now). Skipped when they would fill more than
 * half of the memory (then the page cache cannot hold them for every engine anyway); the report says which.
 */
const INPUT_FILES = ['corpus.npy', 'queries.npy', 'corpus.jsonl', 'queries.jsonl'];
const inputBytes = INPUT_FILES.reduce((sum, name) => sum + statSync(file(name)).size, 0);
const warmPageCache = inputBytes < totalmem() / 2;
(report.data as Record<string, unknown>).page_cache_warmed_before_each_step = warmPageCache;
function warm(): void {
  if (!warmPageCache) return;
  const buffer = Buffer.allocUnsafe(8 << 20);
  for (const name of INPUT_FILES) {
    const fd = openSync(file(name), 'r');
    try {
      while (readSync(fd, buffer, 0, buffer.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
}
const sample = Array.from(readNpyInt64(file('sample.npy')).values, Number);
const truthNpy = readNpyInt64(file('truth.npy'));
const truthK = truthNpy.shape[1];
const truth = sample.map((_, row) => new Set(Array.from(truthNpy.values.subarray(row * truthK, row * truthK + RECALL_K), Number)));
const sources = readNpyInt64(file('sources.npy')).values;

// ---------------------------------------------------------------------------------------------------------------
// 2. rare-mine: the CLI, as a user runs it.
interface LogLine {
  msg?: string;
  time?: number;
  level?: number | string;
  [key: string]: unknown;
}
/** The JSON log lines of a run's stderr. */
function logLines(stderr: string): LogLine[] {
  return stderr.split('\n').filter((line) => line.startsWith('{')).flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}
/** Where a run's time went: each log line's offset from the process start, and the summary's *_seconds fields. */
function phases(run: Timed): Record<string, unknown> {
  const lines = logLines(run.stderr);
  const summary = lines.find((line) => line.msg === 'summary');
  // "building X" … "X built": how long each part of the index took.
  const built: Record<string, number> = {};
  for (const line of lines) {
    const part = /^building (.+)$/.exec(line.msg ?? '')?.[1];
    const done = part && lines.find((other) => other.msg === `${part} built`);
    if (part && done && typeof line.time === 'number' && typeof done.time === 'number') built[part] = round((done.time - line.time) / 1000, 2);
  }
  // What rare-mine built: precision, graph or none, HNSW settings (the fields of its "dense index built" line).
  const dense = lines.find((line) => line.msg === 'dense index built');
  return {
    ...(dense ? { dense_index: Object.fromEntries(Object.entries(dense).filter(([key]) => !['level', 'time', 'msg', 'pid', 'hostname'].includes(key))) } : {}),
    index_parts_seconds: built,
    log: lines.filter((line) => typeof line.time === 'number').map((line) => ({ at_seconds: round(((line.time as number) - run.startedAtMs) / 1000, 2), msg: line.msg })),
    summary_seconds: summary ? Object.fromEntries(Object.entries(summary).filter(([key]) => key.endsWith('_seconds'))) : undefined,
  };
}
const RUN_ENV = { RARE_MINE_LOG_FORMAT: 'json', RARE_MINE_NO_PROGRESS: '1' };

/**
 * Recall@RECALL_K of a mining output on the sample. Mining drops the positive (the query's source row) from its
 * ranking, so the raw top-100 is the negatives of rank < 100 plus the positive at the one rank in 0..99 that no
 * negative holds (none missing: the positive ranked 100 or later, or was not found). Records are in input order.
 */
async function miningRecall(output: string): Promise<Record<string, unknown>> {
  try {
    return await readMiningRecall(output);
  } catch (error) {
    // A long run's timings are kept even when its output cannot be read back.
    return { recall_error: (error as Error).message };
  }
}
async function readMiningRecall(output: string): Promise<Record<string, unknown>> {
  const wanted = new Map(sample.map((queryOrdinal, row) => [queryOrdinal, row]));
  let recalled = 0;
  let positiveInTop = 0;
  let irregular = 0;
  let line = 0;
  let seen = 0;
  for await (const text of createInterface({ input: createReadStream(output), crlfDelay: Infinity })) {
    const row = wanted.get(line++);
    if (row === undefined) continue;
    seen++;
    const record = JSON.parse(text) as { hard_negatives_ids?: string[]; hard_negatives_ranks?: number[] };
    const ids = record.hard_negatives_ids ?? [];
    const ranks = record.hard_negatives_ranks;
    if (!ranks || ranks.length !== ids.length) throw new Error(`${output}:${line}: no hard_negatives_ranks beside hard_negatives_ids (run with --with-ranks --with-ids)`);
    const top = new Set<number>();
    const held = new Set<number>();
    ids.forEach((id, i) => {
      if (ranks[i] < RECALL_K) {
        top.add(Number(id.slice(1)));
        held.add(ranks[i]);
      }
    });
    const missing = RECALL_K - held.size;
    if (missing === 1) {
      top.add(Number(sources[sample[row]]));
      positiveInTop++;
    } else if (missing > 1) irregular++;
    let hits = 0;
    for (const ordinal of top) if (truth[row].has(ordinal)) hits++;
    recalled += hits / RECALL_K;
  }
  if (seen !== sample.length) throw new Error(`${output}: ${line} records, the sample needs records up to ${Math.max(...sample)}`);
  return {
    [`recall_at_${RECALL_K}`]: round(recalled / sample.length, 4),
    positive_in_top_share: round(positiveInTop / sample.length, 4),
    ...(irregular ? { records_with_more_than_one_rank_missing: irregular } : {}),
  };
}

/** The mining command of issue 22 (the flags --corpus-vectors / --query-vectors come with the .npy input work). */
function mineArgs(indexDir: string, output: string): string[] {
  return [
    cli, 'dense', '--corpus', file('corpus.jsonl'), '--corpus-vectors', file('corpus.npy'), '--query-vectors', file('queries.npy'),
    '--index-dir', indexDir, '--num-neg', String(RECALL_K), '--min-rank', '0', '--max-rank', String(SEARCH_K), '--sample', 'top',
    '--with-ids', '--with-ranks', '--positive-ids-key', 'pos_ids', '--threads', String(threads), file('queries.jsonl'), '-o', output,
  ];
}
/** A fresh directory (removed first if it exists). */
function fresh(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  return dir;
}
/** A failed rare-mine step: the exit status, stderr's end, and a hint when the vector flags are not there yet. */
function failure(what: string, run: Timed): Record<string, unknown> {
  const unknownFlag = /unknown option '--(corpus|query)-vectors'/.test(run.stderr);
  return {
    error: `${what} exited ${run.status}`,
    ...(unknownFlag ? { hint: 'this build has no --corpus-vectors / --query-vectors (the .npy input of issue 22); merge main once they land and rebuild' } : {}),
    stderr_tail: tail(run.stderr),
    seconds: round(run.seconds, 2),
  };
}

const rareMine: Record<string, unknown> = {};
if (!values['no-rare-mine']) {
  const version = spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8' }).stdout.trim();
  rareMine.engine = 'rare-mine';
  rareMine.engine_version = version;
  rareMine.checkout = rareMineRoot === repoRoot ? 'this one' : rareMineRoot;
  rareMine.commit = git(['rev-parse', '--short', 'HEAD'], rareMineRoot);
  const indexDir = fresh(join(values.work!, 'rare-mine-index'));
  const output = join(values.work!, 'rare-mine-out.jsonl');
  const args = mineArgs(indexDir, output);
  rareMine.command = ['node', ...args.map((arg) => arg.replace(rareMineRoot + '/', '').replace(data + '/', '').replace(values.work! + '/', '$WORK/'))].join(' ');
  say(`rare-mine: whole run (index + mining), ${docs.toLocaleString('en-US')} × ${dims}, ${queryCount.toLocaleString('en-US')} queries`);
  warm();
  const before = load();
  const run = timed(process.execPath, args, RUN_ENV);
  if (run.status !== 0) {
    rareMine.whole_run = failure('rare-mine dense', run);
    say(`rare-mine: FAILED (exit ${run.status}); see rare_mine.whole_run.error in the report`);
  } else {
    rareMine.whole_run = {
      seconds: round(run.seconds, 2),
      cpu_seconds: round(run.cpuSeconds, 2),
      peak_rss_mb: round(run.peakRssMb, 0),
      vectors_per_second_whole_run: round(docs / run.seconds, 1),
      queries_per_second_whole_run: round(queryCount / run.seconds, 1),
      ...(await miningRecall(output)),
      where_the_time_goes: phases(run),
      load_average_before: before,
      load_average_after: load(),
    };
  }
  if (values.split && run.status === 0) {
    // The index alone, then mining from it: the two halves of the whole run, each timed.
    const splitDir = fresh(join(values.work!, 'rare-mine-index-split'));
    say('rare-mine: --split, index dense alone');
    warm();
    const build = timed(process.execPath, [cli, 'index', 'dense', '--corpus', file('corpus.jsonl'), '--corpus-vectors', file('corpus.npy'), '--index-dir', splitDir, '--threads', String(threads)], RUN_ENV);
    if (build.status !== 0) rareMine.index_alone = failure('rare-mine index dense', build);
    else {
      rareMine.index_alone = { seconds: round(build.seconds, 2), cpu_seconds: round(build.cpuSeconds, 2), peak_rss_mb: round(build.peakRssMb, 0), vectors_per_second: round(docs / build.seconds, 1), where_the_time_goes: phases(build) };
      say('rare-mine: --split, mining from that index');
      const splitOutput = join(values.work!, 'rare-mine-out-split.jsonl');
      const mine = timed(process.execPath, mineArgs(splitDir, splitOutput), RUN_ENV);
      rareMine.mining_from_built_index =
        mine.status !== 0
          ? failure('rare-mine dense (reusing the index)', mine)
          : { seconds: round(mine.seconds, 2), cpu_seconds: round(mine.cpuSeconds, 2), peak_rss_mb: round(mine.peakRssMb, 0), queries_per_second: round(queryCount / mine.seconds, 1), ...(await miningRecall(splitOutput)), where_the_time_goes: phases(mine) };
    }
  }
}
report.rare_mine = rareMine;

// ---------------------------------------------------------------------------------------------------------------
// 3. Peers, one process per build setting.
interface PeerReport {
  engine: string;
  config: string;
  build_seconds: number;
  build_cpu_seconds: number;
  build_plus_search_seconds: number;
  search: { seconds: number; cpu_seconds: number; target_reached: boolean; [key: string]: unknown };
  error?: string;
  [key: string]: unknown;
}
const peerRuns: Record<string, PeerReport> = {};
function runPeer(key: string, script: string, config: Record<string, unknown>): void {
  say(`peer ${key}`);
  warm();
  const before = load();
  const run = timed(values.python!, [join(peersDir, script), JSON.stringify({ work: data, k: SEARCH_K, recallK: RECALL_K, threads, target, ...config })]);
  const last = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !last.startsWith('{')) {
    peerRuns[key] = { error: `${script} exited ${run.status}`, stderr_tail: tail(run.stderr) } as unknown as PeerReport;
    say(`peer ${key}: FAILED (exit ${run.status})`);
    return;
  }
  peerRuns[key] = { ...(JSON.parse(last) as PeerReport), process: { seconds: round(run.seconds, 2), cpu_seconds: round(run.cpuSeconds, 2), peak_rss_mb: round(run.peakRssMb, 0) }, load_average_before: before, load_average_after: load() };
}
for (const name of peerNames as PeerName[]) {
  if (name === 'hnswlib') for (const c of hnswlibConfigs) runPeer(`hnswlib M${c.M} efC${c.efConstruction}`, 'hnswlib_dense.py', { ...c, efs: EF_SWEEP });
  if (name === 'faiss-hnsw') for (const c of faissHnswConfigs) runPeer(`faiss-hnsw M${c.M} efC${c.efConstruction}`, 'faiss_dense.py', { kind: 'hnsw', ...c, sweep: EF_SWEEP });
  if (name === 'faiss-ivf') {
    const ivf: Record<string, unknown> = { kind: 'ivf', niter: count('ivf-niter', values['ivf-niter']), sweep: NPROBE_SWEEP };
    if (values['ivf-nlist']) ivf.nlist = count('ivf-nlist', values['ivf-nlist']);
    if (values['ivf-train-points']) ivf.trainPoints = count('ivf-train-points', values['ivf-train-points']);
    runPeer('faiss-ivf', 'faiss_dense.py', ivf);
  }
}
report.peers = peerRuns;

// ---------------------------------------------------------------------------------------------------------------
// 4. Ratios and targets.
const wholeRun = rareMine.whole_run as { seconds: number; cpu_seconds: number; error?: string; [key: string]: unknown } | undefined;
const whole = wholeRun?.error === undefined ? wholeRun : undefined;
const ratios: Record<string, unknown> = {};
const ok = (peer: PeerReport | undefined): peer is PeerReport => peer !== undefined && peer.error === undefined;
const hnswlibRuns = Object.entries(peerRuns).filter(([key, peer]) => key.startsWith('hnswlib') && ok(peer));
const reference = peerRuns['hnswlib M32 efC200'];
const fastest = hnswlibRuns.filter(([, peer]) => peer.search.target_reached).sort(([, a], [, b]) => a.build_plus_search_seconds - b.build_plus_search_seconds)[0];
if (whole?.seconds !== undefined) {
  // Each peer's build + search seconds over rare-mine's whole run (> 1: rare-mine is faster), by wall and CPU time.
  const speedups: Record<string, { wall: number; cpu: number }> = {};
  for (const [key, peer] of Object.entries(peerRuns)) {
    if (!ok(peer)) continue;
    speedups[key] = {
      wall: round(peer.build_plus_search_seconds / whole.seconds, 2),
      cpu: round((peer.build_cpu_seconds + peer.search.cpu_seconds) / whole.cpu_seconds, 2),
    };
  }
  ratios.rare_mine_whole_run_speedup_over_peer_build_plus_search = speedups;
  if (fastest) ratios.hnswlib_fastest_reaching_target = fastest[0];
}
report.ratios = ratios;

const targets: Record<string, unknown> = {};
const recall = whole?.[`recall_at_${RECALL_K}`] as number | undefined;
if (docs === 200_000 && dims === 384 && queryCount === 2_000) {
  const speedup = ok(reference) && whole?.seconds ? reference.build_plus_search_seconds / whole.seconds : undefined;
  const speedupFastest = fastest && whole?.seconds ? fastest[1].build_plus_search_seconds / whole.seconds : undefined;
  targets['200k x 384, 2,000 queries: whole run >= 2x faster than hnswlib build + search, recall@100 >= 0.95'] = {
    speedup_over_hnswlib_M32_efC200: speedup === undefined ? null : round(speedup, 2),
    speedup_over_hnswlib_fastest_reaching_target: speedupFastest === undefined ? null : round(speedupFastest, 2),
    recall_at_100: recall ?? null,
    status: speedup === undefined || recall === undefined ? 'not measured' : speedup >= 2 && recall >= 0.95 ? 'met' : 'not met',
  };
}
if (docs === 1_000_000 && dims === 384 && queryCount === 100_000) {
  targets['1M x 384, 100k queries: index + mining <= 10 minutes on 2 cores'] = {
    seconds: whole?.seconds ?? null,
    recall_at_100: recall ?? null,
    status: whole?.seconds === undefined ? 'not measured' : whole.seconds <= 600 ? 'met' : 'not met',
  };
}
report.targets = targets;
(report.machine as Record<string, unknown>).load_average_at_end = load();
report.finished_at = new Date().toISOString();

const json = JSON.stringify(report, null, 2) + '\n';
if (values.out) writeFileSync(values.out, json);
else process.stdout.write(json);

// Short summary on stderr.
const line = (name: string, seconds: number, cpuSeconds: number, extra: string) => say(`${name.padEnd(24)} ${seconds.toFixed(1).padStart(7)} s (CPU ${cpuSeconds.toFixed(1)} s)  ${extra}`);
if (whole?.seconds !== undefined) line('rare-mine whole run', whole.seconds, whole.cpu_seconds, `recall@100 ${recall ?? whole.recall_error}, peak ${whole.peak_rss_mb as number} MB`);
else if (!values['no-rare-mine']) say(`rare-mine: ${wholeRun?.error ?? 'not run'}`);
for (const [key, peer] of Object.entries(peerRuns)) {
  if (!ok(peer)) say(`${key}: ${(peer as { error?: string }).error}`);
  else line(key, peer.build_plus_search_seconds, peer.build_cpu_seconds + peer.search.cpu_seconds, `build ${peer.build_seconds.toFixed(1)} s + search ${peer.search.seconds.toFixed(1)} s, recall@100 ${peer.search[`recall_at_${RECALL_K}`] as number}, peak ${peer.peak_rss_mb as number} MB`);
}
for (const [name, value] of Object.entries(targets)) say(`target ${name}: ${(value as { status: string }).status}`);
if (values.out) say(`report: ${values.out}`);
