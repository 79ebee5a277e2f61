/**
 * The inverted-file (IVF) index of a dense index directory (index.ivf; layout in FORMAT.md): spherical k-means
 * centroids and, per centroid, the ordinals of the rows nearest to it (Jégou, Douze & Schmid 2011, "Product
 * quantization for nearest neighbor search", IVF without the quantizer). One idea: a query is scored only
 * against the rows of its nprobe nearest lists, and the queries of a batch that probe a list are scored against
 * that list's rows as one matrix product over a contiguous, list-ordered copy of the rows.
 * What must hold: every score returned is the exact cosineSimilarity of the row (candidates are rescored as
 * exact search does; only recall depends on nprobe); building is deterministic (seeded sample, fixed
 * iteration count, ties to the lower index), so the same rows give the same bytes at any thread count; a file
 * read back is untrusted until its counts, offsets and ordinals check out.
 */
import { IndexError } from '../errors.js';
import { mulberry32 } from '../seeded-random.js';
import type { Candidate } from '../retriever.js';
import { ContainerReader, ContainerWriter } from '../storage/container.js';
import {
  blockedExactSearch,
  BLOCK_ROWS,
  byScoreThenOrdinal,
  cosineFromNorms,
  inverseNorms,
  squaredNorm,
  keepBest,
  KEEP_MARGIN,
  newSearchTimings,
  QUERY_BATCH,
  type SearchTimings,
  TopCandidates,
  unitQueries,
  type RowSource,
} from './blocked-search.js';
import { IVF_FILE_KIND, IVF_FILE_VERSIONS } from './format.js';
import type { GemmKernel } from './gemm-kernel.js';
import type { IvfParams } from './index-manifest.js';

/**
 * Lists per √N: nlist = round(NLIST_PER_SQRT_DOCS · √N). At 100k 384-d clustered rows, 1 · √N (316 lists) built
 * in 3.5 s and searched 1,717 q/s at recall@100 0.977; 2 · √N built in 8.1 s and searched 890 q/s at 0.976 —
 * more lists cost k-means and assignment more, and give each list fewer queries per matrix product
 * (docs/DENSE.md, bench/dense-search.ts).
 */
export const NLIST_PER_SQRT_DOCS = 1;
/** k-means training rows per list: FAISS's lower bound (it warns below 39); the build's largest cost is k-means. */
export const TRAIN_ROWS_PER_LIST = 40;
/** Lloyd iterations. */
export const KMEANS_ITERATIONS = 10;
/** Calibration queries: perturbed corpus rows whose exact top-k decides nprobe. */
export const CALIBRATION_QUERIES = 128;
/** The k whose recall calibration measures (the mining window reaches rank 110 by default). */
export const CALIBRATION_K = 100;
/** Default recall@CALIBRATION_K that nprobe is chosen for: the window's recall@100 ≥ 0.95 holds with margin. */
export const DEFAULT_RECALL_TARGET = 0.97;
/** Seed of the training sample, the initial centroids and the calibration queries. */
export const IVF_SEED = 0x1f5eed;

/** Centroids and lists of an IVF index (the payload of index.ivf). */
export interface IvfLists {
  nlist: number;
  dims: number;
  /** nlist × dims unit vectors. */
  centroids: Float32Array;
  /** List l holds ordinals[offsets[l] .. offsets[l + 1]), ascending. */
  offsets: Uint32Array;
  ordinals: Uint32Array;
}

/** The number of lists for `count` rows. */
export function defaultListCount(count: number): number {
  return Math.max(1, Math.min(count, Math.round(NLIST_PER_SQRT_DOCS * Math.sqrt(count))));
}

/** Index of the largest of scores[at .. at + n), ties to the lower index. */
function argmax(scores: Float32Array, at: number, n: number): number {
  let best = 0;
  let bestScore = scores[at];
  for (let j = 1; j < n; j++) {
    if (scores[at + j] > bestScore) {
      bestScore = scores[at + j];
      best = j;
    }
  }
  return best;
}

/** A seeded shuffle's first `take` of 0..n−1 (partial Fisher–Yates). */
function seededSample(n: number, take: number, random: () => number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(random() * (n - i));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order.slice(0, take);
}

/** Scale `v` (float64 sums) to unit length into out[at ..]; false for a zero vector. */
function normalizeInto(v: Float64Array, out: Float32Array, at: number): boolean {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
  if (norm === 0) return false;
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) out[at + i] = v[i] * scale;
  return true;
}

/**
 * The best centroid of each of `rows` rows (dot product; a row's length does not change its argmax), in
 * GEMM blocks of QUERY_BATCH rows; `bestScores` receives the winning dot products when given.
 */
async function nearestCentroids(kernel: GemmKernel, rows: Float32Array, count: number, centroids: Float32Array, nlist: number, dims: number, out: Uint32Array, outAt = 0, bestScores?: Float32Array): Promise<void> {
  for (let from = 0; from < count; from += QUERY_BATCH) {
    const batch = Math.min(QUERY_BATCH, count - from);
    const scores = await kernel.dotProducts(rows.subarray(from * dims), batch, centroids, nlist, dims);
    for (let i = 0; i < batch; i++) {
      const best = argmax(scores, i * nlist, nlist);
      out[outAt + from + i] = best;
      if (bestScores) bestScores[from + i] = scores[i * nlist + best];
    }
  }
}

/** Spherical k-means (Dhillon & Modha 2001) on unit rows: centroids are normalised means; empty lists re-seeded. */
async function trainCentroids(kernel: GemmKernel, sample: Float32Array, sampleRows: number, nlist: number, dims: number, random: () => number): Promise<Float32Array> {
  const centroids = new Float32Array(nlist * dims);
  const seeds = seededSample(sampleRows, nlist, random);
  seeds.forEach((row, l) => centroids.set(sample.subarray(row * dims, (row + 1) * dims), l * dims));
  const assigned = new Uint32Array(sampleRows);
  const bestScores = new Float32Array(sampleRows);
  const sums = new Float64Array(nlist * dims);
  const sizes = new Uint32Array(nlist);
  for (let iteration = 0; iteration < KMEANS_ITERATIONS; iteration++) {
    await nearestCentroids(kernel, sample, sampleRows, centroids, nlist, dims, assigned, 0, bestScores);
    sums.fill(0);
    sizes.fill(0);
    for (let r = 0; r < sampleRows; r++) {
      const l = assigned[r];
      sizes[l]++;
      const at = l * dims;
      const rowAt = r * dims;
      for (let i = 0; i < dims; i++) sums[at + i] += sample[rowAt + i];
    }
    // Empty (or all-zero) lists take the rows worst served by their centroid, worst first, ties by row.
    let farthest: number[] | undefined;
    let next = 0;
    for (let l = 0; l < nlist; l++) {
      if (sizes[l] > 0 && normalizeInto(sums.subarray(l * dims, (l + 1) * dims), centroids, l * dims)) continue;
      farthest ??= Array.from({ length: sampleRows }, (_, r) => r).sort((a, b) => bestScores[a] - bestScores[b] || a - b);
      const row = farthest[next++ % sampleRows];
      centroids.set(sample.subarray(row * dims, (row + 1) * dims), l * dims);
    }
  }
  return centroids;
}

/** Options of buildIvfLists. */
export interface IvfBuildOptions {
  /** Lists; default defaultListCount(count). */
  nlist?: number;
  /** Recall@CALIBRATION_K that nprobe is chosen for; default DEFAULT_RECALL_TARGET. */
  recallTarget?: number;
}

/** Time spent per phase of a build, ms. */
export interface IvfBuildTimings {
  train: number;
  assign: number;
  calibrate: number;
}

/**
 * Train centroids on a seeded sample of `source`, assign every row to its nearest centroid, and choose nprobe
 * by calibration (calibrateProbes).
 */
export async function buildIvfLists(kernel: GemmKernel, source: RowSource, options: IvfBuildOptions = {}): Promise<{ lists: IvfLists; params: IvfParams; ms: IvfBuildTimings }> {
  const { count, dims } = source;
  if (count === 0) throw new IndexError('cannot build an IVF index over no rows');
  const nlist = options.nlist ?? defaultListCount(count);
  if (!Number.isInteger(nlist) || nlist < 1 || nlist > count) throw new RangeError(`nlist must be an integer in 1..${count}, got ${nlist}`);
  const random = mulberry32(IVF_SEED);
  let started = performance.now();
  const trainRows = Math.min(count, TRAIN_ROWS_PER_LIST * nlist);
  const sampled = seededSample(count, trainRows, random).sort();
  const sample = new Float32Array(trainRows * dims);
  const scratch = new Float32Array(dims);
  sampled.forEach((ordinal, r) => sample.set(source.row(ordinal, scratch), r * dims));
  const sampleNorms = inverseNorms(sample, trainRows, dims);
  for (let r = 0; r < trainRows; r++) for (let i = 0; i < dims; i++) sample[r * dims + i] *= sampleNorms[r];
  const centroids = await trainCentroids(kernel, sample, trainRows, nlist, dims, random);
  const train = performance.now() - started;

  started = performance.now();
  const listOf = new Uint32Array(count);
  const block = new Float32Array(Math.min(BLOCK_ROWS, count) * dims);
  for (let first = 0; first < count; first += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, count - first);
    await nearestCentroids(kernel, source.block(first, rows, block), rows, centroids, nlist, dims, listOf, first);
  }
  const offsets = new Uint32Array(nlist + 1);
  for (let r = 0; r < count; r++) offsets[listOf[r] + 1]++;
  for (let l = 0; l < nlist; l++) offsets[l + 1] += offsets[l];
  const ordinals = new Uint32Array(count);
  const fill = offsets.slice(0, nlist);
  for (let r = 0; r < count; r++) ordinals[fill[listOf[r]]++] = r;
  const lists: IvfLists = { nlist, dims, centroids, offsets, ordinals };
  const assign = performance.now() - started;

  started = performance.now();
  const recallTarget = options.recallTarget ?? DEFAULT_RECALL_TARGET;
  const calibration = await calibrateProbes(kernel, source, lists, listOf, recallTarget);
  const calibrate = performance.now() - started;
  const params: IvfParams = {
    nlist,
    nprobe: calibration.nprobe,
    recallTarget,
    calibrationK: Math.min(CALIBRATION_K, count),
    calibrationQueries: calibration.queries,
    calibratedRecall: calibration.recall,
    trainRows,
    iterations: KMEANS_ITERATIONS,
  };
  return { lists, params, ms: { train, assign, calibrate } };
}

/**
 * The smallest nprobe whose mean recall@k over seeded calibration queries reaches `target`. The queries are
 * corpus rows plus isotropic Gaussian noise of the row's length (cosine ≈ 0.7 to the row, like a query to its
 * positive): used at build, when the queries are not known yet (calibrateWithQueries takes real ones).
 */
export async function calibrateProbes(kernel: GemmKernel, source: RowSource, lists: IvfLists, listOf: Uint32Array, target: number): Promise<{ nprobe: number; recall: number; queries: number }> {
  const { count, dims } = source;
  const random = mulberry32(IVF_SEED ^ 0x5ca1ab1e);
  const picked = seededSample(count, Math.min(CALIBRATION_QUERIES, count), random);
  const scratch = new Float32Array(dims);
  const queries = Array.from(picked, (ordinal) => {
    const row = source.row(ordinal, scratch);
    const unit = unitQueries([row], dims);
    const query = new Float32Array(dims);
    for (let i = 0; i < dims; i++) {
      // Box–Muller: one standard normal from two uniforms; (0, 1] keeps the log finite.
      const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      query[i] = unit[i] + gaussian / Math.sqrt(dims);
    }
    return query;
  });
  return calibrateWithQueries(kernel, source, lists, listOf, queries, target);
}

/**
 * The smallest nprobe whose mean recall@k over `queries` reaches `target`: their exact top-k comes from blocked
 * exact search, and a top-k row is found at nprobe p exactly when its list is among the query's p nearest
 * centroids, so every p is measured from one ranking of lists.
 */
export async function calibrateWithQueries(
  kernel: GemmKernel,
  source: RowSource,
  lists: IvfLists,
  listOf: Uint32Array,
  queries: readonly Float32Array[],
  target: number,
): Promise<{ nprobe: number; recall: number; queries: number }> {
  const { count, dims } = source;
  const { nlist } = lists;
  const k = Math.min(CALIBRATION_K, count);
  const exact = await blockedExactSearch(kernel, source, queries, k);
  const centroidScores = await kernel.dotProducts(unitQueries(queries, dims), queries.length, lists.centroids, nlist, dims);
  // found[p] = top-k rows whose list ranks p-th for their query (rank 0 = nearest centroid).
  const found = new Float64Array(nlist);
  queries.forEach((_, q) => {
    const rankOfList = new Uint32Array(nlist);
    rankLists(centroidScores, q * nlist, nlist).forEach((list, rank) => (rankOfList[list] = rank));
    for (const candidate of exact[q]) found[rankOfList[listOf[candidate.docOrdinal]]]++;
  });
  const total = exact.reduce((sum, top) => sum + top.length, 0);
  let covered = 0;
  for (let p = 0; p < nlist; p++) {
    covered += found[p];
    if (covered / total >= target || p === nlist - 1) return { nprobe: p + 1, recall: covered / total, queries: queries.length };
  }
  return { nprobe: nlist, recall: 1, queries: queries.length };
}

/** Each row's list, from the lists' CSR layout. */
export function listOfRows(lists: IvfLists, count: number): Uint32Array {
  const listOf = new Uint32Array(count);
  for (let l = 0; l < lists.nlist; l++) for (let i = lists.offsets[l]; i < lists.offsets[l + 1]; i++) listOf[lists.ordinals[i]] = l;
  return listOf;
}

/** Lists by descending centroid score, ties to the lower list. */
function rankLists(scores: Float32Array, at: number, nlist: number): number[] {
  return Array.from({ length: nlist }, (_, l) => l).sort((a, b) => scores[at + b] - scores[at + a] || a - b);
}

/** The `take` best lists of a query (descending score, ties to the lower list). */
function probedLists(scores: Float32Array, at: number, nlist: number, take: number): Uint32Array {
  if (take >= nlist) return Uint32Array.from(rankLists(scores, at, nlist));
  const best = new TopCandidates(take);
  for (let l = 0; l < nlist; l++) best.push(scores[at + l], l);
  return Uint32Array.from(best.best().ordinals);
}

/** Bytes of index.ivf's payload: header, centroids, offsets, ordinals. */
function payloadBytes(nlist: number, dims: number, count: number): number {
  return 16 + nlist * dims * 4 + (nlist + 1) * 4 + count * 4;
}

/** Write index.ivf (a container of kind IVF_FILE_KIND; FORMAT.md). */
export function writeIvfFile(path: string, lists: IvfLists, buildId: string): void {
  const writer = new ContainerWriter(path, IVF_FILE_KIND, IVF_FILE_VERSIONS.current, buildId);
  try {
    const header = Buffer.alloc(16);
    header.writeUInt32LE(lists.nlist, 0);
    header.writeUInt32LE(lists.dims, 4);
    header.writeUInt32LE(lists.ordinals.length, 8);
    writer.write(header);
    for (const part of [lists.centroids, lists.offsets, lists.ordinals]) writer.write(new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
    writer.finish();
  } catch (error) {
    writer.abort();
    throw error;
  }
}

/**
 * Read and check index.ivf: container checks (magic, version, build id, CRC-32), then the header against the
 * manifest, the exact payload length, finite unit-ish centroids, offsets from 0 to count without decreasing,
 * and ordinals that are a permutation of 0..count−1.
 * @throws IndexError naming what is wrong
 */
export function readIvfFile(path: string, expect: { count: number; dims: number; nlist: number; buildId: string; rebuildHint: string }): IvfLists {
  const reader = new ContainerReader(path, IVF_FILE_KIND, IVF_FILE_VERSIONS, expect.rebuildHint, expect.buildId);
  const fail = (what: string): never => {
    throw new IndexError(`${path}: ${what}`, { hint: `rebuild the index: ${expect.rebuildHint} --rebuild` });
  };
  try {
    if (reader.payloadBytes < 16) fail('payload shorter than its header');
    const header = reader.read(0, 16);
    const nlist = header.readUInt32LE(0);
    const dims = header.readUInt32LE(4);
    const count = header.readUInt32LE(8);
    if (nlist !== expect.nlist || dims !== expect.dims || count !== expect.count) {
      fail(`holds ${nlist} lists of ${count} ${dims}-d rows where the manifest says ${expect.nlist} lists of ${expect.count} ${expect.dims}-d rows`);
    }
    if (reader.payloadBytes !== payloadBytes(nlist, dims, count)) fail(`payload is ${reader.payloadBytes} bytes where ${nlist} lists of ${count} rows take ${payloadBytes(nlist, dims, count)}`);
    const copy = (offset: number, bytes: number): ArrayBuffer => {
      const buffer = new ArrayBuffer(bytes);
      reader.read(offset, bytes, Buffer.from(buffer));
      return buffer;
    };
    let at = 16;
    const centroids = new Float32Array(copy(at, nlist * dims * 4));
    at += nlist * dims * 4;
    const offsets = new Uint32Array(copy(at, (nlist + 1) * 4));
    at += (nlist + 1) * 4;
    const ordinals = new Uint32Array(copy(at, count * 4));
    for (const value of centroids) if (!Number.isFinite(value)) fail('a centroid is not finite');
    if (offsets[0] !== 0 || offsets[nlist] !== count) fail(`list offsets run from ${offsets[0]} to ${offsets[nlist]}, not 0 to ${count}`);
    for (let l = 0; l < nlist; l++) if (offsets[l + 1] < offsets[l]) fail(`list ${l} ends before it starts`);
    const seen = new Uint8Array(count);
    for (const ordinal of ordinals) {
      if (ordinal >= count || seen[ordinal]) fail(`ordinal ${ordinal} is out of range or listed twice`);
      seen[ordinal] = 1;
    }
    return { nlist, dims, centroids, offsets, ordinals };
  } finally {
    reader.close();
  }
}

/**
 * IVF search over the lists and a list-ordered copy of the rows, held in memory: count × dims × 4 bytes for
 * the rows plus 16 bytes a row (ordinal, position, 1/‖row‖), e.g. 1.55 GB for 1M 384-d rows.
 */
export class IvfSearcher {
  private constructor(
    readonly lists: IvfLists,
    /** Row at position p = row of ordinal lists.ordinals[p]. */
    private readonly rows: Float32Array,
    /** Σ x² and 1/‖row‖ by position. */
    private readonly normSquared: Float64Array,
    private readonly inverseNorm: Float64Array,
    private readonly positionOf: Uint32Array,
  ) {}

  /** Copy the rows of `source` into list order (one sequential pass over the source). */
  static load(lists: IvfLists, source: RowSource): IvfSearcher {
    const { count, dims } = source;
    const positionOf = new Uint32Array(count);
    lists.ordinals.forEach((ordinal, position) => (positionOf[ordinal] = position));
    const rows = new Float32Array(count * dims);
    const block = new Float32Array(Math.min(BLOCK_ROWS, count) * dims);
    for (let first = 0; first < count; first += BLOCK_ROWS) {
      const n = Math.min(BLOCK_ROWS, count - first);
      const data = source.block(first, n, block);
      for (let r = 0; r < n; r++) rows.set(data.subarray(r * dims, (r + 1) * dims), positionOf[first + r] * dims);
    }
    const normSquared = new Float64Array(count);
    const inverseNorm = new Float64Array(count);
    for (let p = 0; p < count; p++) {
      normSquared[p] = squaredNorm(rows, p * dims, dims);
      inverseNorm[p] = normSquared[p] === 0 ? 0 : 1 / Math.sqrt(normSquared[p]);
    }
    return new IvfSearcher(lists, rows, normSquared, inverseNorm, positionOf);
  }

  /**
   * Top-k of each query among the rows of its `nprobe` nearest lists, scored exactly (module header);
   * fewer than k when those lists hold fewer rows.
   */
  async search(kernel: GemmKernel, queries: readonly Float32Array[], k: number, nprobe: number, timings: SearchTimings = newSearchTimings()): Promise<Candidate[][]> {
    const { nlist, dims, offsets, ordinals } = this.lists;
    let started = performance.now();
    const probes = Math.max(1, Math.min(nlist, Math.floor(nprobe)));
    const unit = unitQueries(queries, dims);
    const keepers = queries.map(() => new TopCandidates(k + KEEP_MARGIN));
    // Queries per list: CSR over (list, query) pairs, queries ascending within a list.
    const probed = new Uint32Array(queries.length * probes);
    for (let from = 0; from < queries.length; from += QUERY_BATCH) {
      const batch = Math.min(QUERY_BATCH, queries.length - from);
      const scores = await kernel.dotProducts(unit.subarray(from * dims), batch, this.lists.centroids, nlist, dims);
      for (let i = 0; i < batch; i++) probed.set(probedLists(scores, i * nlist, nlist, probes), (from + i) * probes);
    }
    const queryOffsets = new Uint32Array(nlist + 1);
    for (const list of probed) queryOffsets[list + 1]++;
    for (let l = 0; l < nlist; l++) queryOffsets[l + 1] += queryOffsets[l];
    const queriesOf = new Uint32Array(probed.length);
    const fill = queryOffsets.slice(0, nlist);
    for (let p = 0; p < probed.length; p++) queriesOf[fill[probed[p]]++] = Math.floor(p / probes);
    timings.probe += performance.now() - started;
    const gathered = new Float32Array(Math.min(QUERY_BATCH, queries.length) * dims);
    // Each list in pieces of at most BLOCK_ROWS rows, so a score matrix stays ≤ QUERY_BATCH × BLOCK_ROWS floats
    // (32 MiB) however unevenly k-means filled the lists.
    for (let list = 0; list < nlist; list++) {
      const end = offsets[list + 1];
      for (let first = offsets[list]; first < end; first += BLOCK_ROWS) {
        const rowCount = Math.min(BLOCK_ROWS, end - first);
        const listRows = this.rows.subarray(first * dims, (first + rowCount) * dims);
        for (let from = queryOffsets[list]; from < queryOffsets[list + 1]; from += QUERY_BATCH) {
          const batch = Math.min(QUERY_BATCH, queryOffsets[list + 1] - from);
          for (let i = 0; i < batch; i++) {
            const q = queriesOf[from + i];
            gathered.set(unit.subarray(q * dims, (q + 1) * dims), i * dims);
          }
          started = performance.now();
          const scores = await kernel.dotProducts(gathered, batch, listRows, rowCount, dims);
          timings.gemm += performance.now() - started;
          started = performance.now();
          keepBest(scores, batch, rowCount, this.inverseNorm, first, keepers, (i) => queriesOf[from + i], (j) => ordinals[first + j]);
          timings.keep += performance.now() - started;
        }
      }
    }
    started = performance.now();
    const results = queries.map((query, q) => {
      const queryNorm = squaredNorm(query, 0, dims);
      const candidates = Array.from(keepers[q].best().ordinals, (docOrdinal) => {
        const position = this.positionOf[docOrdinal];
        return { docOrdinal, score: cosineFromNorms(query, queryNorm, this.rows, position * dims, this.normSquared[position]) };
      });
      return candidates.sort(byScoreThenOrdinal).slice(0, k);
    });
    timings.rescore += performance.now() - started;
    return results;
  }
}
