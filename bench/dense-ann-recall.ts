/**
 * ANN benchmark (issue 3, done-means 2): for each storage precision, the recall of the HNSW top-k candidate
 * set (k = max-rank, 110) against exact search, graph build time, search queries/s and index file size, on
 * real passages (linux-doc-passages, then gcide-definitions when more are asked for) with real-looking
 * embeddings. Also the figures behind search-plan.ts: brute-force cost per document-query pair, graph
 * build cost per document, and where each search method wins.
 *
 * Embeddings: TF-IDF vectors (sublinear tf × idf over lower-cased word tokens) projected to `--dims`
 * dimensions by a sparse random projection (each term added to 16 seeded dimensions with random signs:
 * a Johnson–Lindenstrauss sketch, which keeps cosines between passages), then L2-normalised. They keep
 * the corpus's real topical structure — near-duplicates, clusters, long tails — that random vectors lack.
 * Queries are held-out passages (not in the index), embedded the same way.
 * Prints ONE JSON object on stdout. Single-threaded by default.
 *
 *   npm run build && node dist/bench/dense-ann-recall.js                 # 20k docs, all precisions
 *   node dist/bench/dense-ann-recall.js --docs 50000 --precisions f32,i8
 */
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { documentEmbeddingText } from '../src/dense/dense-index.js';
import type { Candidate } from '../src/retriever.js';
import { GRAPH_FILE, VECTORS_FILE } from '../src/vector/format.js';
import { parsePrecision, PRECISIONS } from '../src/vector/precision.js';
import { DEFAULT_HNSW_PARAMS, expansionFor } from '../src/vector/search-plan.js';
import { VectorIndex, VectorIndexWriter } from '../src/vector/vector-index.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const sharedData = process.env.RARE_MINE_SHARED_DATA ?? resolve(repoRoot, '..', 'shared', 'data');

const { values: args } = parseArgs({
  options: {
    docs: { type: 'string', default: '20000' },
    queries: { type: 'string', default: '300' },
    dims: { type: 'string', default: '384' },
    k: { type: 'string', default: '110' },
    precisions: { type: 'string', default: 'f32,f16,bf16,i8,e5m2' },
    oversample: { type: 'string', default: 'default' },
    threads: { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(`usage: node dist/bench/dense-ann-recall.js [--docs N] [--queries N] [--dims N] [--k N]
  [--precisions f32,f16,bf16,i8,e5m2] [--oversample default|1,2,...] [--threads N]
Recall of the HNSW top-k set vs exact search per precision (and per oversampling factor), build time,
search q/s and file sizes, on real passages with TF-IDF random-projection embeddings.\n`);
  process.exit(0);
}
process.env.RARE_MINE_LOG_LEVEL ??= 'warn';
const docCount = Number(args.docs);
const queryCount = Number(args.queries);
const dims = Number(args.dims);
const k = Number(args.k);
const threads = Number(args.threads);
const precisions = args.precisions.split(',').map(parsePrecision);
/** Oversampling factors to measure; "default" is each precision's own (precision.ts). */
const oversamples: (number | 'default')[] = args.oversample.split(',').map((value) => (value === 'default' ? 'default' : Number(value)));

async function readPassages(limit: number): Promise<string[]> {
  const out: string[] = [];
  for (const name of ['linux-doc-passages', 'gcide-definitions']) {
    const file = join(sharedData, name, 'corpus.jsonl');
    if (!existsSync(file)) continue;
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      if (!line) continue;
      const doc = JSON.parse(line) as { title?: string; text: string };
      out.push(documentEmbeddingText(doc.title ?? '', doc.text));
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/** 32-bit FNV-1a of a term with a seed, finished with a murmur-style mix. */
function termHash(term: string, seed: number): number {
  let hash = (0x811c9dc5 ^ Math.imul(seed + 1, 0x9e3779b9)) >>> 0;
  for (let i = 0; i < term.length; i++) hash = Math.imul(hash ^ term.charCodeAt(i), 0x01000193);
  hash ^= hash >>> 15;
  hash = Math.imul(hash, 0x2c1b3c6d);
  hash ^= hash >>> 12;
  return hash >>> 0;
}

/** TF-IDF sparse random projection to `dims`, L2-normalised (see the module header). */
function tfidfProjections(texts: string[]): Float32Array[] {
  const tokenized = texts.map((text) => text.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu) ?? []);
  const documentFrequency = new Map<string, number>();
  for (const tokens of tokenized) for (const term of new Set(tokens)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  return tokenized.map((tokens) => {
    const termFrequency = new Map<string, number>();
    for (const term of tokens) termFrequency.set(term, (termFrequency.get(term) ?? 0) + 1);
    const row = new Float32Array(dims);
    for (const [term, count] of termFrequency) {
      const weight = (1 + Math.log(count)) * Math.log(texts.length / documentFrequency.get(term)!);
      for (let seed = 0; seed < 16; seed++) {
        const hash = termHash(term, seed);
        row[hash % dims] += hash & 0x80000000 ? -weight : weight;
      }
    }
    const norm = Math.hypot(...row) || 1;
    for (let d = 0; d < dims; d++) row[d] /= norm;
    return row;
  });
}

function candidateSetRecall(found: Candidate[][], truth: Candidate[][]): number {
  let hits = 0;
  let total = 0;
  found.forEach((candidates, q) => {
    const exact = new Set(truth[q].map((candidate) => candidate.docOrdinal));
    for (const candidate of candidates) if (exact.has(candidate.docOrdinal)) hits++;
    total += exact.size;
  });
  return hits / total;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

const work = mkdtempSync(join(tmpdir(), 'rare-mine-ann-recall-'));
try {
  const embedStarted = performance.now();
  const texts = await readPassages(docCount + queryCount);
  if (texts.length < docCount + queryCount) throw new Error(`only ${texts.length} passages found under ${sharedData}`);
  const vectors = tfidfProjections(texts);
  const docs = vectors.slice(0, docCount);
  const queries = vectors.slice(docCount);
  const embedMs = performance.now() - embedStarted;
  const identity = { model: { name: 'tfidf-projection', fingerprint: 'bench' }, corpusFingerprint: 'bench' };

  let exact: Candidate[][] | undefined;
  let exactMs = 0;
  const rows: Record<string, unknown>[] = [];
  let f32: { buildMs: number; hnswQps: number } | undefined;
  for (const precision of precisions) {
    const dir = join(work, precision);
    const writer = new VectorIndexWriter(dir, { dims, precision, buildGraph: true, threads });
    const buildStarted = performance.now();
    for (let first = 0; first < docs.length; first += 4096) writer.add(docs.slice(first, first + 4096));
    const manifest = writer.finish(identity);
    const buildMs = performance.now() - buildStarted;
    const index = VectorIndex.open(dir, { rebuildHint: 'bench' });
    if (!exact) {
      const started = performance.now();
      exact = await index.search(queries, k, { method: 'exact', threads });
      exactMs = performance.now() - started;
    }
    for (const asked of oversamples) {
      const oversample = asked === 'default' ? PRECISIONS[precision].oversample : asked;
      await index.search(queries.slice(0, 10), k, { method: 'hnsw', threads, oversample }); // map the graph, warm the page cache
      const started = performance.now();
      const found = await index.search(queries, k, { method: 'hnsw', threads, oversample });
      const searchMs = performance.now() - started;
      const hnswQps = (queries.length / searchMs) * 1000;
      if (precision === 'f32' && f32 === undefined) f32 = { buildMs, hnswQps };
      rows.push({
        precision,
        oversample,
        expansionSearch: expansionFor(Math.ceil(k * oversample), manifest.hnsw!),
        recall: round(candidateSetRecall(found, exact), 4),
        searchQps: round(hnswQps),
        buildMs: Math.round(buildMs),
        graphBuildMs: manifest.buildMs.graph,
        graphFileMB: round(statSync(join(dir, GRAPH_FILE)).size / 2 ** 20, 2),
        vectorsFileMB: round(statSync(join(dir, VECTORS_FILE)).size / 2 ** 20, 2),
      });
    }
    index.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const exactQps = (queries.length / exactMs) * 1000;
  const exactMicrosPerDocQuery = (exactMs * 1000) / (docCount * queries.length);
  const report = {
    bench: 'dense-ann-recall',
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadAverage1m: loadavg()[0] },
    corpus: `${docCount} passages of linux-doc-passages${docCount + queryCount > 55_557 ? ' + gcide-definitions' : ''} (title + text)`,
    queries: `${queries.length} held-out passages`,
    embeddings: `TF-IDF sparse random projection to ${dims} dims, L2-normalised`,
    embedMs: Math.round(embedMs),
    k,
    threads,
    hnsw: DEFAULT_HNSW_PARAMS,
    exact: { searchQps: round(exactQps), microsPerDocQuery: round(exactMicrosPerDocQuery, 4) },
    precisions: rows,
    recallTargetF32: 0.98,
    recallMetF32: rows.filter((row) => row.precision === 'f32').every((row) => (row.recall as number) >= 0.98),
    searchPlanEvidence: f32
      ? {
          graphBuildMsPerDoc: round(f32.buildMs / docCount, 4),
          graphPaysOffAboveQueries: Math.round(f32.buildMs / docCount / (exactMicrosPerDocQuery / 1000)),
          exactFasterBelowDocs: Math.round((docCount * exactQps) / f32.hnswQps),
        }
      : undefined,
    bytesPerDimension: Object.fromEntries(precisions.map((precision) => [precision, PRECISIONS[precision].bytesPerDimension])),
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
} finally {
  rmSync(work, { recursive: true, force: true });
}
