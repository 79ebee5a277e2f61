/**
 * The vector index: writer and reader of an index directory (layout in FORMAT.md beside this file) —
 * exact float32 rows (vectors.bin), an optional IVF index (index.ivf, ivf-index.ts), an optional USearch HNSW
 * graph at a chosen precision (index.usearch, reopened memory-mapped with `view`), and manifest.json. Exact and
 * IVF search score by matrix products on onnxruntime (gemm-kernel.ts, blocked-search.ts). This folder is the
 * only code that imports usearch.
 * What must hold: keys are doc ordinals; every score returned is cosineSimilarity (float64 accumulation) of
 * the query and the document's exact float32 row, whichever search found the document (the graph, the IVF lists
 * and the float32 matrix products only propose candidates), so results are sorted by that score descending, ties
 * by ascending ordinal; exact search returns the true top-k under that order.
 */
import { closeSync, existsSync, openSync, readSync, renameSync, statSync } from '../io/fs.js';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Index, MetricKind, type BatchMatches, type Matches, type ScalarKind } from 'usearch';
import { IndexError } from '../errors.js';
import { log } from '../log.js';
import { newBuildId, writePartManifest } from '../storage/manifest.js';
import type { Candidate } from '../retriever.js';
import { GRAPH_FILE, IVF_FILE, MANIFEST_FILE, VECTOR_INDEX_FORMAT, VECTOR_INDEX_VERSIONS, VECTORS_FILE } from './format.js';
import { blockedExactSearch, byScoreThenOrdinal, cosineSimilarity, InverseNormCache, newSearchTimings, BLOCK_ROWS, type RowSource, type SearchTimings } from './blocked-search.js';
import { GemmKernel } from './gemm-kernel.js';
import { buildIvfLists, calibrateWithQueries, DEFAULT_RECALL_TARGET, IvfSearcher, listOfRows, readIvfFile, writeIvfFile, type IvfBuildOptions } from './ivf-index.js';
import {
  readVectorIndexManifest,
  type FileRecord,
  type HnswParams,
  type IvfParams,
  type ManifestExpectations,
  type ModelIdentity,
  type VectorIndexManifest,
} from './index-manifest.js';
import { PRECISIONS, type Precision } from './precision.js';
import { DEFAULT_HNSW_PARAMS, expansionFor, type SearchMethod } from './search-plan.js';
import { VectorFileReader, VectorFileWriter } from './vector-file.js';
import { usearchFileProblem } from './usearch-file.js';
import { makeDirs } from '../io/make-dirs.js';

/** Rows per graph insertion call when building from vectors.bin. */
const GRAPH_BUILD_ROWS = 8192;

/** Options of a new index directory. */
export interface VectorIndexWriterOptions {
  dims: number;
  /** Storage precision of the graph. vectors.bin is always float32. */
  precision: Precision;
  /** Build the HNSW graph now (else only vectors.bin; VectorIndex.buildGraph can add it later). */
  buildGraph: boolean;
  /** Graph parameters; defaults in search-plan.ts. */
  hnsw?: Partial<HnswParams>;
  /** USearch insertion threads, ≥ 1. Default 1. */
  threads: number;
}

/** Model and corpus identity recorded in the manifest. */
export interface VectorIndexIdentity {
  model: ModelIdentity;
  corpusFingerprint: string;
  /** The doc store build whose ordinals the rows follow, when built over one. */
  docsBuildId?: string;
}

function newGraph(dims: number, precision: Precision, params: HnswParams, expansionSearch = params.expansionSearch): Index {
  return new Index({
    dimensions: dims,
    metric: MetricKind.Cos,
    quantization: PRECISIONS[precision].scalarKind as ScalarKind,
    connectivity: params.connectivity,
    expansion_add: params.expansionAdd,
    expansion_search: expansionSearch,
    multi: false,
  });
}

function fileRecord(path: string): FileRecord {
  const fd = openSync(path, 'r');
  let crc = 0;
  let bytes = 0;
  try {
    const chunk = Buffer.allocUnsafe(1 << 22);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n <= 0) break;
      crc = crc32(chunk.subarray(0, n), crc);
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  return { bytes, crc32: crc >>> 0 };
}

/** One flat row-major matrix at byteOffset 0 (usearch's exactSearch ignores a view's byteOffset). */
function flatten(rows: readonly Float32Array[], dims: number): Float32Array {
  const flat = new Float32Array(rows.length * dims);
  rows.forEach((row, i) => flat.set(row, i * dims));
  return flat;
}

function ordinalKeys(first: number, count: number): BigUint64Array {
  const keys = new BigUint64Array(count);
  for (let i = 0; i < count; i++) keys[i] = BigInt(first + i);
  return keys;
}

export { cosineSimilarity };

/**
 * Streams vectors into a new index directory `dir` (created), the manifest last. Building aside and renaming
 * into place is the caller's (src/index/ builds every part in a `.building-<pid>` folder).
 */
export class VectorIndexWriter {
  private readonly vectors: VectorFileWriter;
  private readonly graph?: Index;
  private readonly params: HnswParams;
  private readonly threads: number;
  private vectorsMs = 0;
  private graphMs = 0;
  private readonly buildId = newBuildId();

  constructor(readonly dir: string, private readonly options: VectorIndexWriterOptions) {
    makeDirs(dir);
    this.params = { ...DEFAULT_HNSW_PARAMS, ...options.hnsw };
    this.threads = options.threads;
    this.vectors = new VectorFileWriter(join(dir, VECTORS_FILE), options.dims, this.buildId);
    if (options.buildGraph) this.graph = newGraph(options.dims, options.precision, this.params);
  }

  /** Vectors added so far; the next row gets this ordinal. */
  get count(): number {
    return this.vectors.count;
  }

  /** Append rows; they get the next ordinals in order. */
  add(rows: readonly Float32Array[]): void {
    if (rows.length === 0) return;
    const first = this.vectors.count;
    let started = performance.now();
    this.vectors.append(rows);
    this.vectorsMs += performance.now() - started;
    if (this.graph) {
      started = performance.now();
      this.graph.add(ordinalKeys(first, rows.length), flatten(rows, this.options.dims), this.threads);
      this.graphMs += performance.now() - started;
    }
  }

  /** Write the graph, then the manifest. */
  finish(identity: VectorIndexIdentity): VectorIndexManifest {
    this.vectors.finish();
    const files: Record<string, FileRecord> = { [VECTORS_FILE]: fileRecord(join(this.dir, VECTORS_FILE)) };
    if (this.graph) {
      const started = performance.now();
      this.graph.save(join(this.dir, GRAPH_FILE));
      this.graphMs += performance.now() - started;
      files[GRAPH_FILE] = fileRecord(join(this.dir, GRAPH_FILE));
    }
    const manifest: VectorIndexManifest = {
      format: VECTOR_INDEX_FORMAT,
      version: VECTOR_INDEX_VERSIONS.current,
      buildId: this.buildId,
      ...(identity.docsBuildId === undefined ? {} : { docsBuildId: identity.docsBuildId }),
      model: identity.model,
      dims: this.options.dims,
      metric: 'cos',
      precision: this.options.precision,
      corpusFingerprint: identity.corpusFingerprint,
      count: this.vectors.count,
      hnsw: this.graph ? this.params : null,
      files,
      createdAt: new Date().toISOString(),
      buildMs: { vectors: Math.round(this.vectorsMs), graph: Math.round(this.graphMs) },
    };
    writePartManifest(this.dir, manifest);
    log().debug({ dir: this.dir, count: manifest.count, precision: manifest.precision, graph: manifest.hnsw !== null, buildMs: manifest.buildMs }, 'vector index written');
    return manifest;
  }

  /** Give up: close vectors.bin (the caller removes the folder). */
  abort(): void {
    this.vectors.abort();
  }
}

/** How to search: method, threads, oversampling, probes. */
export interface VectorSearchOptions {
  /** 'exact' scores every row; 'ivf' the rows of the nearest lists (index.ivf must exist); 'hnsw' asks the graph (which must exist). */
  method: SearchMethod;
  /** Matrix-product (onnxruntime) or USearch threads, ≥ 1. Default 1. Results do not depend on it. */
  threads: number;
  /** Graph candidates per wanted result, ≥ 1, rescored exactly. Default: the precision's (precision.ts). */
  oversample?: number;
  /** IVF lists probed per query, ≥ 1. Default: the calibrated one in the manifest. */
  nprobe?: number;
}

/** An opened, verified index directory. */
export class VectorIndex {
  readonly manifest: VectorIndexManifest;
  readonly vectors: VectorFileReader;
  private graph?: { index: Index; expansion: number };
  private readonly rebuildHint: string;

  private constructor(readonly dir: string, expect: ManifestExpectations) {
    this.rebuildHint = expect.rebuildHint;
    this.manifest = readVectorIndexManifest(dir, expect);
    this.vectors = new VectorFileReader(join(dir, VECTORS_FILE), this.manifest.dims, this.manifest.count, expect.rebuildHint, this.manifest.buildId);
    if (this.manifest.hnsw) this.checkFile(GRAPH_FILE);
    if (this.manifest.ivf) {
      const { nlist, nprobe } = this.manifest.ivf;
      const whole = (n: unknown, most: number) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= most;
      if (!whole(nlist, this.count) || !whole(nprobe, nlist)) {
        throw new IndexError(`${join(dir, MANIFEST_FILE)}: IVF parameters out of range (nlist ${nlist}, nprobe ${nprobe}, ${this.count} rows)`, { hint: `rebuild it: ${expect.rebuildHint} --rebuild` });
      }
      this.checkFile(IVF_FILE);
    }
  }

  /** The matrix-product kernel, opened on first use for a thread count. */
  private kernel?: { threads: number; kernel: Promise<GemmKernel> };
  /** The IVF lists and the list-ordered rows, loaded on first IVF search. */
  private ivfSearcher?: IvfSearcher;

  /** 1 / ‖row‖ of the rows exact search has read (8 bytes a row), kept across searches. */
  private norms?: InverseNormCache;

  /** vectors.bin as blocks and rows for blocked-search.ts and ivf-index.ts. */
  private get rowSource(): RowSource {
    return {
      count: this.count,
      dims: this.dims,
      block: (first, rows, scratch) => this.vectors.readRows(first, rows, scratch),
      row: (ordinal, scratch) => this.vectors.readRows(ordinal, 1, scratch),
      inverseNorms: (first, rows, block) => (this.norms ??= new InverseNormCache(this.count)).of(first, rows, block, this.dims),
    };
  }

  private kernelFor(threads: number): Promise<GemmKernel> {
    if (this.kernel?.threads !== threads) {
      this.releaseKernel();
      this.kernel = { threads, kernel: GemmKernel.open(threads) };
    }
    return this.kernel.kernel;
  }

  private releaseKernel(): void {
    this.kernel?.kernel.then((kernel) => kernel.close()).catch(() => undefined);
    this.kernel = undefined;
  }

  /** The graph file's identity when it was checked; a file changed since is checked again before `view`. */
  private checkedGraph?: { ino: number; size: number; mtimeMs: number };

  /**
   * Open an index directory and check it against what the caller expects.
   * @throws IndexError when a file is missing, damaged, or the manifest disagrees (see index-manifest.ts)
   */
  static open(dir: string, expect: ManifestExpectations): VectorIndex {
    return new VectorIndex(dir, expect);
  }

  get count(): number {
    return this.manifest.count;
  }

  get dims(): number {
    return this.manifest.dims;
  }

  get hasGraph(): boolean {
    return this.manifest.hnsw !== null;
  }

  /** Whether index.ivf exists (recorded in the manifest). */
  get hasIvf(): boolean {
    return Boolean(this.manifest.ivf);
  }

  /**
   * The graph file must be whole and this build's before native code reads it: its size and CRC-32 as the
   * (checksummed) manifest records them, and a structure that agrees with the manifest (usearch-file.ts).
   */
  private checkFile(name: string): void {
    const path = join(this.dir, name);
    const expected = this.manifest.files[name];
    const hint = `rebuild it: ${this.rebuildHint} --rebuild`;
    if (!existsSync(path)) throw new IndexError(`${path} is missing`, { hint });
    if (!expected) throw new IndexError(`${join(this.dir, MANIFEST_FILE)} does not record ${name}`, { hint });
    const stat = statSync(path);
    if (!stat.isFile()) throw new IndexError(`${path} is not a regular file`, { hint });
    if (stat.size !== expected.bytes) throw new IndexError(`${path} is ${stat.size} bytes where the manifest says ${expected.bytes} (truncated or replaced)`, { hint });
    if (fileRecord(path).crc32 !== expected.crc32) throw new IndexError(`${path}: checksum mismatch (file is corrupted, or from another build)`, { hint });
    if (name === GRAPH_FILE && this.manifest.hnsw) {
      const problem = usearchFileProblem(path, { count: this.count, dims: this.dims, precision: this.manifest.precision, connectivity: this.manifest.hnsw.connectivity });
      if (problem) throw new IndexError(`${path}: ${problem}`, { hint });
      this.checkedGraph = { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs };
    }
  }

  /** The graph memory-mapped with a candidate list of at least `expansion`. */
  private graphFor(expansion: number): Index {
    const params = this.manifest.hnsw;
    if (!params) throw new IndexError(`${this.dir} has no HNSW graph`, { hint: 'search it exactly, or build the graph (VectorIndex.buildGraph)' });
    if (!this.graph || this.graph.expansion !== expansion) {
      const now = statSync(join(this.dir, GRAPH_FILE), { throwIfNoEntry: false });
      const seen = this.checkedGraph;
      if (!now || !seen || now.ino !== seen.ino || now.size !== seen.size || now.mtimeMs !== seen.mtimeMs) this.checkFile(GRAPH_FILE);
      const index = newGraph(this.dims, this.manifest.precision, params, expansion);
      try {
        index.view(join(this.dir, GRAPH_FILE));
      } catch (cause) {
        throw new IndexError(`${join(this.dir, GRAPH_FILE)} cannot be memory-mapped: ${(cause as Error).message}`, { cause, hint: `rebuild it: ${this.rebuildHint}` });
      }
      if (index.size() !== this.count || index.dimensions() !== this.dims) {
        throw new IndexError(`${join(this.dir, GRAPH_FILE)} holds ${index.size()} ${index.dimensions()}-d vectors where the manifest says ${this.count} ${this.dims}-d`, {
          hint: `rebuild it: ${this.rebuildHint}`,
        });
      }
      this.graph = { index, expansion };
    }
    return this.graph.index;
  }

  /** Cosine similarity of `query` with each given document's exact row. */
  scores(query: Float32Array, docOrdinals: readonly number[]): number[] {
    return docOrdinals.map((ordinal) => cosineSimilarity(query, this.vectors.row(ordinal)));
  }

  /**
   * Top-k documents for each query, best first (ties by ordinal), scored by exact cosine similarity.
   * Fewer than k when the index holds fewer documents (or, with IVF, the probed lists do).
   */
  async search(queries: readonly Float32Array[], k: number, options: VectorSearchOptions): Promise<Candidate[][]> {
    if (queries.length === 0) return [];
    const wanted = Math.min(k, this.count);
    if (wanted <= 0) return queries.map(() => []);
    for (const query of queries) {
      if (query.length !== this.dims) throw new IndexError(`a ${query.length}-d query for a ${this.dims}-d index`);
    }
    const threads = options.threads;
    if (options.method === 'hnsw') return this.searchGraph(queries, wanted, threads, options.oversample ?? PRECISIONS[this.manifest.precision].oversample);
    const started = performance.now();
    const timings = newSearchTimings();
    const found =
      options.method === 'exact'
        ? await blockedExactSearch(await this.kernelFor(threads), this.rowSource, queries, wanted, BLOCK_ROWS, timings)
        : await this.searchIvf(queries, wanted, threads, options.nprobe, timings);
    const ms = (x: number) => Math.round(x);
    log().debug({ method: options.method, queries: queries.length, k: wanted, totalMs: ms(performance.now() - started), probeMs: ms(timings.probe), gemmMs: ms(timings.gemm), readMs: ms(timings.read), keepMs: ms(timings.keep), rescoreMs: ms(timings.rescore) }, 'dense search');
    return found;
  }

  private async searchIvf(queries: readonly Float32Array[], k: number, threads: number, nprobe: number | undefined, timings: SearchTimings): Promise<Candidate[][]> {
    const params = this.manifest.ivf;
    if (!params) throw new IndexError(`${this.dir} has no IVF index`, { hint: 'search it exactly, or build the IVF index (VectorIndex.buildIvf)' });
    if (nprobe !== undefined && (!Number.isInteger(nprobe) || nprobe < 1)) throw new RangeError(`nprobe must be an integer ≥ 1, got ${nprobe}`);
    if (!this.ivfSearcher) {
      const started = performance.now();
      const lists = readIvfFile(join(this.dir, IVF_FILE), { count: this.count, dims: this.dims, nlist: params.nlist, buildId: this.manifest.buildId, rebuildHint: this.rebuildHint });
      this.ivfSearcher = IvfSearcher.load(lists, this.rowSource);
      log().debug({ dir: this.dir, nlist: params.nlist, nprobe: params.nprobe, ms: Math.round(performance.now() - started), residentBytes: this.count * (this.dims * 4 + 16) }, 'IVF lists loaded');
    }
    return this.ivfSearcher.search(await this.kernelFor(threads), queries, k, nprobe ?? params.nprobe, timings);
  }

  private searchGraph(queries: readonly Float32Array[], k: number, threads: number, oversample: number): Candidate[][] {
    const asked = Math.min(this.count, Math.ceil(k * Math.max(1, oversample)));
    const graph = this.graphFor(expansionFor(asked, this.manifest.hnsw ?? DEFAULT_HNSW_PARAMS));
    const matches = graph.search(flatten(queries, this.dims), asked, threads) as Matches | BatchMatches;
    // One query gives Matches, several give BatchMatches; read both as (keys, counts, stride).
    const keys = matches.keys;
    const stride = 'counts' in matches ? matches.k : asked;
    return queries.map((query, q) => {
      const found = 'counts' in matches ? Number(matches.counts[q]) : keys.length;
      const candidates: Candidate[] = [];
      for (let i = 0; i < found; i++) {
        const docOrdinal = Number(keys[q * stride + i]);
        candidates.push({ docOrdinal, score: cosineSimilarity(query, this.vectors.row(docOrdinal)) });
      }
      return candidates.sort(byScoreThenOrdinal).slice(0, k);
    });
  }

  /**
   * Build index.ivf from vectors.bin (k-means, assignment, nprobe calibration: ivf-index.ts) and record it in
   * the manifest. Deterministic: the same rows give the same file at any thread count.
   * @param threads matrix-product threads, ≥ 1
   */
  async buildIvf(threads = 1, options: IvfBuildOptions = {}): Promise<IvfParams> {
    if (this.manifest.ivf) return this.manifest.ivf;
    const started = performance.now();
    const { lists, params, ms } = await buildIvfLists(await this.kernelFor(threads), this.rowSource, options);
    const partial = join(this.dir, `${IVF_FILE}.partial`);
    writeIvfFile(partial, lists, this.manifest.buildId);
    renameSync(partial, join(this.dir, IVF_FILE));
    const manifest = this.manifest as { -readonly [K in keyof VectorIndexManifest]: VectorIndexManifest[K] };
    manifest.ivf = params;
    manifest.files = { ...manifest.files, [IVF_FILE]: fileRecord(join(this.dir, IVF_FILE)) };
    manifest.buildMs = { ...manifest.buildMs, ivf: Math.round(performance.now() - started) };
    writePartManifest(this.dir, manifest);
    log().info(
      { dir: this.dir, count: this.count, nlist: params.nlist, nprobe: params.nprobe, recallTarget: params.recallTarget, calibratedRecall: Number(params.calibratedRecall.toFixed(4)), trainMs: Math.round(ms.train), assignMs: Math.round(ms.assign), calibrateMs: Math.round(ms.calibrate), totalMs: manifest.buildMs.ivf },
      'IVF index built',
    );
    return params;
  }

  /**
   * The nprobe that reaches `recallTarget` (recall@100 against exact search) for these queries — a seeded sample of
   * the run's own queries, which the build could not know (its calibration uses perturbed corpus rows). The index
   * file is not changed: the caller searches with the returned nprobe.
   */
  async calibrateIvf(queries: readonly Float32Array[], threads: number, recallTarget = this.manifest.ivf?.recallTarget ?? DEFAULT_RECALL_TARGET): Promise<{ nprobe: number; recall: number; queries: number }> {
    const params = this.manifest.ivf;
    if (!params) throw new IndexError(`${this.dir} has no IVF index`, { hint: 'build it first (VectorIndex.buildIvf)' });
    const lists = readIvfFile(join(this.dir, IVF_FILE), { count: this.count, dims: this.dims, nlist: params.nlist, buildId: this.manifest.buildId, rebuildHint: this.rebuildHint });
    return calibrateWithQueries(await this.kernelFor(threads), this.rowSource, lists, listOfRows(lists, this.count), queries, recallTarget);
  }

  /**
   * Build the HNSW graph from vectors.bin (for an index written without one) and record it in the manifest.
   * @param threads USearch insertion threads, ≥ 1
   */
  buildGraph(threads = 1, hnsw: Partial<HnswParams> = {}): void {
    if (this.hasGraph) return;
    const params = { ...DEFAULT_HNSW_PARAMS, ...hnsw };
    const started = performance.now();
    const graph = newGraph(this.dims, this.manifest.precision, params);
    const block = new Float32Array(Math.min(GRAPH_BUILD_ROWS, Math.max(this.count, 1)) * this.dims);
    for (let first = 0; first < this.count; first += GRAPH_BUILD_ROWS) {
      const rows = Math.min(GRAPH_BUILD_ROWS, this.count - first);
      graph.add(ordinalKeys(first, rows), this.vectors.readRows(first, rows, block).slice(), threads);
    }
    const partial = join(this.dir, `${GRAPH_FILE}.partial`);
    graph.save(partial);
    renameSync(partial, join(this.dir, GRAPH_FILE));
    const manifest = this.manifest as { -readonly [K in keyof VectorIndexManifest]: VectorIndexManifest[K] };
    manifest.hnsw = params;
    manifest.files = { ...manifest.files, [GRAPH_FILE]: fileRecord(join(this.dir, GRAPH_FILE)) };
    manifest.buildMs = { ...manifest.buildMs, graph: Math.round(performance.now() - started) };
    writePartManifest(this.dir, manifest);
    log().debug({ dir: this.dir, count: this.count, ms: manifest.buildMs.graph }, 'HNSW graph built');
  }

  close(): void {
    this.graph = undefined;
    this.ivfSearcher = undefined;
    this.norms = undefined;
    this.releaseKernel();
    this.vectors.close();
  }
}
