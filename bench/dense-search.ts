/**
 * Dense search for mining (all queries known up front, throughput not latency): blocked exact search (GEMM on
 * onnxruntime) against usearch's exactSearch, and the IVF index (build time by phase, search q/s, recall@k
 * against exact) on seeded clustered unit vectors; optionally the HNSW graph at a precision.
 *
 * Data: `--centers` Gaussian centres on the unit sphere, each row a centre plus isotropic noise of norm
 * `--noise` (then normalised); queries are noisy copies of corpus rows (noise `--query-noise`). Seeded: the
 * same arguments give the same vectors. Prints ONE JSON object on stdout.
 *
 *   npm run build && node dist/bench/dense-search.js --docs 100000 --queries 1000 --ivf false   # exact vs usearch
 *   node dist/bench/dense-search.js --docs 200000 --queries 2000 --usearch false              # IVF
 *   node dist/bench/dense-search.js --docs 200000 --nlist-per-sqrt 1,2,4 --exact-queries 200  # choose nlist
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exactSearch, MetricKind } from 'usearch';
import { seededRandom } from '../src/seeded-random.js';
import type { Candidate } from '../src/retriever.js';
import { parsePrecision } from '../src/vector/precision.js';
import { VectorIndex, VectorIndexWriter } from '../src/vector/vector-index.js';

const { values: args } = parseArgs({
  options: {
    docs: { type: 'string', default: '200000' },
    dims: { type: 'string', default: '384' },
    queries: { type: 'string', default: '2000' },
    'exact-queries': { type: 'string', default: '' },
    k: { type: 'string', default: '100' },
    centers: { type: 'string', default: '1000' },
    noise: { type: 'string', default: '0.8' },
    'query-noise': { type: 'string', default: '0.8' },
    threads: { type: 'string', default: '2' },
    usearch: { type: 'string', default: 'true' },
    ivf: { type: 'string', default: 'true' },
    'nlist-per-sqrt': { type: 'string', default: '' },
    nprobe: { type: 'string', default: '' },
    hnsw: { type: 'string', default: '' },
    batch: { type: 'string', default: '' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write('usage: node dist/bench/dense-search.js [--docs N] [--dims N] [--queries N] [--exact-queries N] [--k N] [--centers N]\n' +
    '  [--noise X] [--query-noise X] [--threads N] [--usearch true|false] [--ivf true|false] [--nlist-per-sqrt 1,2,4] [--nprobe 4,8,16] [--hnsw i8] [--batch N]\n' +
    '  --batch: IVF and HNSW queries per search call (default: all at once; mining asks per batch of --batch-size records)\n');
  process.exit(0);
}
process.env.RARE_MINE_LOG_LEVEL ??= 'warn';
const docs = Number(args.docs);
const dims = Number(args.dims);
const queryCount = Number(args.queries);
const exactQueryCount = Number(args['exact-queries'] || args.queries);
const k = Number(args.k);
const threads = Number(args.threads);
const batch = Number(args.batch || Number.MAX_SAFE_INTEGER);

/** Search `all` in calls of `batch` queries, as mining does per batch. */
async function inBatches(all: Float32Array[], search: (some: Float32Array[]) => Promise<Candidate[][]>): Promise<Candidate[][]> {
  const found: Candidate[][] = [];
  for (let from = 0; from < all.length; from += batch) found.push(...(await search(all.slice(from, from + batch))));
  return found;
}

function gaussianSource(seed: number): () => number {
  const next = seededRandom(seed, 0);
  return () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

function normalise(v: Float32Array): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) v[i] *= scale;
  return v;
}

/** Unit centres, rows = centre + noise (norm ≈ `noise`), normalised. */
function clustered(): Float32Array[] {
  const gaussian = gaussianSource(7);
  const uniform = seededRandom(7, 1);
  const sigma = Number(args.noise) / Math.sqrt(dims);
  const centres = Array.from({ length: Number(args.centers) }, () => normalise(Float32Array.from({ length: dims }, gaussian)));
  return Array.from({ length: docs }, () => {
    const centre = centres[Math.floor(uniform() * centres.length)];
    return normalise(centre.map((x) => x + sigma * gaussian()));
  });
}

function noisyCopies(rows: readonly Float32Array[], count: number): Float32Array[] {
  const gaussian = gaussianSource(11);
  const uniform = seededRandom(11, 1);
  const sigma = Number(args['query-noise']) / Math.sqrt(dims);
  return Array.from({ length: count }, () => normalise(rows[Math.floor(uniform() * rows.length)].map((x) => x + sigma * gaussian())));
}

function recall(found: Candidate[][], truth: Candidate[][]): number {
  let hits = 0;
  let total = 0;
  truth.forEach((exact, q) => {
    const set = new Set(exact.map((c) => c.docOrdinal));
    hits += found[q].filter((c) => set.has(c.docOrdinal)).length;
    total += set.size;
  });
  return hits / total;
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const result: Record<string, unknown> = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg().map((x) => round(x, 2)) },
  docs, dims, queries: queryCount, batch: args.batch || 'all', exactQueries: exactQueryCount, k, threads, centers: Number(args.centers), noise: Number(args.noise), queryNoise: Number(args['query-noise']),
};

let started = performance.now();
const rows = clustered();
const queries = noisyCopies(rows, Math.max(queryCount, exactQueryCount));
result.generateMs = Math.round(performance.now() - started);
const root = mkdtempSync(join(tmpdir(), 'rare-mine-dense-search-'));
const identity = { model: { name: 'bench', fingerprint: '0'.repeat(64) }, corpusFingerprint: '0'.repeat(64) };

function writeIndex(name: string, precision = parsePrecision('f32'), buildGraph = false): { dir: string; ms: number } {
  const dir = join(root, name);
  const at = performance.now();
  const writer = new VectorIndexWriter(dir, { dims, precision, buildGraph, threads });
  for (let first = 0; first < rows.length; first += 8192) writer.add(rows.slice(first, first + 8192));
  writer.finish(identity);
  return { dir, ms: performance.now() - at };
}

try {
  const { dir } = writeIndex('f32');
  const index = VectorIndex.open(dir, { rebuildHint: 'bench' });
  const exactQueries = queries.slice(0, exactQueryCount);
  await index.search(exactQueries.slice(0, 8), k, { method: 'exact', threads }); // open the kernel, warm the page cache
  started = performance.now();
  const exact = await index.search(exactQueries, k, { method: 'exact', threads });
  const exactMs = performance.now() - started;
  result.blockedExact = { ms: Math.round(exactMs), queriesPerSecond: round((exactQueries.length / exactMs) * 1000), pairsPerSecond: Number(((exactQueries.length * docs) / exactMs * 1000).toExponential(2)) };

  if (args.usearch === 'true') {
    const flat = new Float32Array(docs * dims);
    rows.forEach((row, r) => flat.set(row, r * dims));
    const some = exactQueries.slice(0, Math.min(exactQueries.length, 256));
    const flatQueries = new Float32Array(some.length * dims);
    some.forEach((query, q) => flatQueries.set(query, q * dims));
    started = performance.now();
    exactSearch(flat, flatQueries, dims, k, MetricKind.Cos, threads);
    const ms = performance.now() - started;
    result.usearchExactSearch = { queries: some.length, ms: Math.round(ms), queriesPerSecond: round((some.length / ms) * 1000), note: 'in-memory matrix, no rescoring' };
  }

  if (args.ivf === 'true') {
    const perSqrt = args['nlist-per-sqrt'] ? args['nlist-per-sqrt'].split(',').map(Number) : [undefined];
    const ivf: unknown[] = [];
    for (const [i, factor] of perSqrt.entries()) {
      const copy = writeIndex(`ivf-${i}`).dir;
      const ivfIndex = VectorIndex.open(copy, { rebuildHint: 'bench' });
      started = performance.now();
      const params = await ivfIndex.buildIvf(threads, factor === undefined ? {} : { nlist: Math.round(factor * Math.sqrt(docs)) });
      const buildMs = performance.now() - started;
      started = performance.now();
      await ivfIndex.search(queries.slice(0, 1), k, { method: 'ivf', threads }); // load the lists and the list-ordered rows
      const loadMs = performance.now() - started;
      const probes = args.nprobe ? args.nprobe.split(',').map(Number) : [params.nprobe];
      for (const nprobe of probes) {
        started = performance.now();
        const found = await inBatches(queries.slice(0, queryCount), (some) => ivfIndex.search(some, k, { method: 'ivf', threads, nprobe }));
        const ms = performance.now() - started;
        ivf.push({
          nlist: params.nlist, nprobe, calibratedNprobe: params.nprobe, calibratedRecall: round(params.calibratedRecall, 4),
          buildMs: Math.round(buildMs), loadMs: Math.round(loadMs), searchMs: Math.round(ms), queriesPerSecond: round((queryCount / ms) * 1000),
          recallAtK: round(recall(found.slice(0, exactQueryCount), exact.slice(0, Math.min(queryCount, exactQueryCount))), 4),
        });
      }
      ivfIndex.close();
      rmSync(copy, { recursive: true, force: true });
    }
    result.ivf = ivf;
  }

  if (args.hnsw) {
    const precision = parsePrecision(args.hnsw);
    const graph = writeIndex(`hnsw-${precision}`, precision, true);
    const graphIndex = VectorIndex.open(graph.dir, { rebuildHint: 'bench' });
    await graphIndex.search(queries.slice(0, 8), k, { method: 'hnsw', threads });
    started = performance.now();
    const found = await inBatches(queries.slice(0, queryCount), (some) => graphIndex.search(some, k, { method: 'hnsw', threads }));
    const ms = performance.now() - started;
    result.hnsw = { precision, buildMs: Math.round(graph.ms), searchMs: Math.round(ms), queriesPerSecond: round((queryCount / ms) * 1000), recallAtK: round(recall(found.slice(0, exactQueryCount), exact.slice(0, Math.min(queryCount, exactQueryCount))), 4) };
    graphIndex.close();
  }
  index.close();
} finally {
  rmSync(root, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
