/**
 * The dense search kernels against trusted references: the GEMM kernel against naive dot products; blocked
 * exact search against a naive exhaustive top-k and usearch's exactSearch; IVF search against exact search
 * (recall, exact scores), its determinism across thread counts, its file refused when damaged, and the dense
 * retriever choosing and building it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exactSearch, MetricKind } from 'usearch';
import { GemmKernel } from '../src/vector/gemm-kernel.js';
import { blockedExactSearch, cosineSimilarity, type RowSource } from '../src/vector/blocked-search.js';
import { readIvfFile, writeIvfFile } from '../src/vector/ivf-index.js';
import { VectorIndex, VectorIndexWriter } from '../src/vector/vector-index.js';
import { IndexError } from '../src/errors.js';
import { IVF_ABOVE_DOCS } from '../src/vector/search-plan.js';
import { writeDenseIndex } from '../src/dense/dense-index.js';
import { DenseRetriever } from '../src/dense/dense-retriever.js';
import type { Embedder } from '../src/embed/embedder.js';
import { writePartManifest } from '../src/storage/manifest.js';
import type { Candidate } from '../src/retriever.js';
import { seededRandom } from '../src/seeded-random.js';

process.env.RARE_MINE_LOG_LEVEL ??= 'warn';
const root = mkdtempSync(join(tmpdir(), 'rare-mine-dense-search-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

function gaussian(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/** Rows of independent Gaussians (not unit length: cosine must not assume it). */
function randomRows(count: number, dims: number, seed: number): Float32Array[] {
  const next = seededRandom(seed, 0);
  return Array.from({ length: count }, () => Float32Array.from({ length: dims }, () => gaussian(next)));
}

/** Unit rows around `centres` Gaussian centres with noise (embeddings of a corpus with topics). */
function clusteredRows(count: number, dims: number, centres: number, seed: number): Float32Array[] {
  const next = seededRandom(seed, 1);
  const unit = (v: Float32Array) => {
    const norm = Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
    return v.map((x) => x / norm);
  };
  const centre = Array.from({ length: centres }, () => unit(Float32Array.from({ length: dims }, () => gaussian(next))));
  return Array.from({ length: count }, () => {
    const c = centre[Math.floor(next() * centres)];
    return unit(c.map((x) => x + (0.6 * gaussian(next)) / Math.sqrt(dims)));
  });
}

/** `rows` near copies: each a row plus noise (a query near its positive). */
function noisyCopies(rows: readonly Float32Array[], count: number, seed: number): Float32Array[] {
  const next = seededRandom(seed, 2);
  return Array.from({ length: count }, () => {
    const row = rows[Math.floor(next() * rows.length)];
    return row.map((x) => x + (0.5 * gaussian(next)) / Math.sqrt(row.length));
  });
}

function memoryRows(rows: readonly Float32Array[]): RowSource {
  const dims = rows[0].length;
  return {
    count: rows.length,
    dims,
    block: (first, n, scratch) => {
      for (let r = 0; r < n; r++) scratch.set(rows[first + r], r * dims);
      return scratch.subarray(0, n * dims);
    },
    row: (ordinal) => rows[ordinal],
  };
}

function naiveTopK(rows: readonly Float32Array[], query: Float32Array, k: number): Candidate[] {
  return rows
    .map((row, docOrdinal) => ({ docOrdinal, score: cosineSimilarity(query, row) }))
    .sort((a, b) => b.score - a.score || a.docOrdinal - b.docOrdinal)
    .slice(0, k);
}

function recall(found: Candidate[][], truth: Candidate[][]): number {
  let hits = 0;
  let total = 0;
  found.forEach((candidates, q) => {
    const exact = new Set(truth[q].map((c) => c.docOrdinal));
    hits += candidates.filter((c) => exact.has(c.docOrdinal)).length;
    total += exact.size;
  });
  return hits / total;
}

test('the GEMM kernel equals naive dot products (subarray inputs, one query, one row)', async () => {
  const kernel = await GemmKernel.open(2);
  const dims = 24;
  const rows = randomRows(37, dims, 1);
  const queries = randomRows(5, dims, 2);
  const flatRows = new Float32Array(3 * dims + rows.length * dims);
  rows.forEach((row, r) => flatRows.set(row, 3 * dims + r * dims));
  const flatQueries = new Float32Array(queries.length * dims);
  queries.forEach((query, q) => flatQueries.set(query, q * dims));
  for (const [queryCount, rowCount] of [[5, 37], [1, 37], [5, 1], [1, 1]]) {
    const scores = await kernel.dotProducts(flatQueries, queryCount, flatRows.subarray(3 * dims), rowCount, dims);
    assert.equal(scores.length, queryCount * rowCount);
    for (let q = 0; q < queryCount; q++) {
      for (let r = 0; r < rowCount; r++) {
        let dot = 0;
        for (let i = 0; i < dims; i++) dot += queries[q][i] * rows[r][i];
        assert.ok(Math.abs(scores[q * rowCount + r] - dot) < 1e-4, `(${q}, ${r}): ${scores[q * rowCount + r]} vs ${dot}`);
      }
    }
  }
  await assert.rejects(kernel.dotProducts(flatQueries, 6, flatRows, 1, dims), RangeError);
  await kernel.close();
});

test('blocked exact search = naive exhaustive top-k = usearch exactSearch (ties by ordinal, k > rows, one query, many blocks)', async () => {
  const kernel = await GemmKernel.open(1);
  const dims = 16;
  const rows = randomRows(300, dims, 3);
  for (let r = 0; r < 6; r++) rows[100 + r] = rows[r].map((x) => 3 * x); // same direction: exact ties with rows 0..5
  rows[200] = new Float32Array(dims); // a zero row scores 0
  const queries = [...randomRows(6, dims, 4), rows[2]];
  const source = memoryRows(rows);
  for (const [k, blockRows] of [[1, 8192], [10, 7], [110, 64], [300, 300], [500, 41]]) {
    const wanted = Math.min(k, rows.length);
    const found = await blockedExactSearch(kernel, source, queries, wanted, blockRows);
    queries.forEach((query, q) => assert.deepEqual(found[q], naiveTopK(rows, query, wanted), `k ${k}, block ${blockRows}, query ${q}`));
    const alone = await blockedExactSearch(kernel, source, [queries[3]], wanted, blockRows);
    assert.deepEqual(alone, [found[3]], 'one query alone gives its own results');
    if (wanted < rows.length) {
      // usearch's own float32 cosine picks the same set (no near-ties among random rows but the planted ones).
      const flat = new Float32Array(rows.length * dims);
      rows.forEach((row, r) => flat.set(row, r * dims));
      const usearch = exactSearch(flat, queries[0], dims, wanted, MetricKind.Cos, 1);
      const theirs = Array.from(usearch.keys, Number).sort((a, b) => a - b);
      assert.deepEqual(found[0].map((c) => c.docOrdinal).sort((a, b) => a - b), theirs, `usearch set, k ${k}`);
    }
  }
  const [top] = await blockedExactSearch(kernel, source, [rows[2]], 2, 16);
  assert.deepEqual(top.map((c) => c.docOrdinal), [2, 102], 'a row and its scaled copy tie at the top, lower ordinal first');
  await kernel.close();
});

const identity = { model: { name: 'test/model', fingerprint: 'f'.repeat(64) }, corpusFingerprint: 'c'.repeat(64) };
const expect = { rebuildHint: 'rare-mine index dense ...' };
const DIMS = 64;
const corpus = clusteredRows(20_000, DIMS, 200, 5);
const queries = noisyCopies(corpus, 200, 6);

function writeVectors(name: string, rows: readonly Float32Array[]): string {
  const dir = join(root, name);
  const writer = new VectorIndexWriter(dir, { threads: 1, dims: rows[0].length, precision: 'f32', buildGraph: false });
  for (let first = 0; first < rows.length; first += 4096) writer.add(rows.slice(first, first + 4096));
  writer.finish(identity);
  return dir;
}

test('IVF: recall@100 ≥ 0.95 against exact on clustered data, every score the exact cosine, same results at 1 and 2 threads', async (t) => {
  const one = writeVectors('ivf-1', corpus);
  const two = writeVectors('ivf-2', corpus);
  const indexOne = VectorIndex.open(one, expect);
  const params = await indexOne.buildIvf(1);
  const indexTwo = VectorIndex.open(two, expect);
  assert.deepEqual(await indexTwo.buildIvf(2), params, 'same parameters at 2 threads');
  assert.ok(params.calibratedRecall >= params.recallTarget && params.nprobe < params.nlist, JSON.stringify(params));
  // The file's payload (after the 48-byte container header, which holds the build id) is the same.
  assert.deepEqual(readFileSync(join(one, 'index.ivf')).subarray(48), readFileSync(join(two, 'index.ivf')).subarray(48));
  indexOne.close();
  indexTwo.close();

  const index = VectorIndex.open(one, expect);
  assert.equal(index.hasIvf, true, 'recorded in the manifest');
  const exact = await index.search(queries, 100, { method: 'exact', threads: 2 });
  const found = await index.search(queries, 100, { method: 'ivf', threads: 1 });
  const measured = recall(found, exact);
  t.diagnostic(`nlist ${params.nlist}, nprobe ${params.nprobe} (calibrated recall ${params.calibratedRecall.toFixed(4)}): recall@100 ${measured.toFixed(4)}`);
  assert.ok(measured >= 0.95, `recall@100 ${measured} at nprobe ${params.nprobe}`);
  found.forEach((candidates, q) => {
    assert.deepEqual(index.scores(queries[q], candidates.map((c) => c.docOrdinal)), candidates.map((c) => c.score), 'exact cosines');
    for (let i = 1; i < candidates.length; i++) {
      const [a, b] = [candidates[i - 1], candidates[i]];
      assert.ok(a.score > b.score || (a.score === b.score && a.docOrdinal < b.docOrdinal), 'sorted by score, ties by ordinal');
    }
  });
  assert.deepEqual(await index.search(queries, 100, { method: 'ivf', threads: 2 }), found, 'same results at 2 threads');
  const everyList = await index.search(queries.slice(0, 20), 100, { threads: 1, method: 'ivf', nprobe: params.nlist });
  assert.deepEqual(everyList, exact.slice(0, 20), 'probing every list is exact search');
  await assert.rejects(index.search(queries, 10, { threads: 1, method: 'ivf', nprobe: 0 }), RangeError);
  index.close();

  // One list of all 20k rows is scored in pieces of 8,192 rows; probing it is exact search.
  const oneList = VectorIndex.open(writeVectors('ivf-one-list', corpus), expect);
  assert.equal((await oneList.buildIvf(2, { nlist: 1 })).nprobe, 1);
  assert.deepEqual(await oneList.search(queries.slice(0, 20), 100, { threads: 1, method: 'ivf' }), exact.slice(0, 20));
  oneList.close();
});

/** Re-record a file's size and CRC-32 in the manifest and re-checksum it, as a hand repair would. */
function forgeManifestFor(dir: string, file: string): void {
  const { checksum: _checksum, storage: _storage, ...manifest } = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const bytes = readFileSync(join(dir, file));
  manifest.files[file] = { bytes: bytes.length, crc32: crc32(bytes) >>> 0 };
  writePartManifest(dir, manifest);
}

test('a damaged, foreign or inconsistent index.ivf is refused with an IndexError saying to rebuild', async () => {
  const rows = corpus.slice(0, 2000);
  const rebuilds = (pattern: RegExp) => (error: unknown) => error instanceof IndexError && pattern.test(error.message) && /rebuild/.test(error.hint ?? '');
  const build = async (name: string) => {
    const dir = writeVectors(name, rows);
    const index = VectorIndex.open(dir, expect);
    await index.buildIvf(1);
    index.close();
    return dir;
  };
  const flipped = await build('ivf-flipped');
  const path = join(flipped, 'index.ivf');
  const bytes = readFileSync(path);
  bytes[bytes.length - 10] ^= 0xff;
  writeFileSync(path, bytes);
  assert.throws(() => VectorIndex.open(flipped, expect), rebuilds(/checksum mismatch/));
  forgeManifestFor(flipped, 'index.ivf');
  const forged = VectorIndex.open(flipped, expect);
  await assert.rejects(forged.search([rows[0]], 5, { threads: 1, method: 'ivf' }), rebuilds(/payload checksum mismatch/));
  forged.close();

  const foreign = await build('ivf-foreign');
  const other = await build('ivf-other');
  writeFileSync(join(foreign, 'index.ivf'), readFileSync(join(other, 'index.ivf')));
  forgeManifestFor(foreign, 'index.ivf');
  const mixed = VectorIndex.open(foreign, expect);
  await assert.rejects(mixed.search([rows[0]], 5, { threads: 1, method: 'ivf' }), rebuilds(/another index build/));
  mixed.close();

  // A well-formed container of this build whose lists list a row twice: the checksums hold, the lists do not.
  const twice = await build('ivf-twice');
  const manifest = JSON.parse(readFileSync(join(twice, 'manifest.json'), 'utf8'));
  const lists = readIvfFile(join(twice, 'index.ivf'), { count: rows.length, dims: DIMS, nlist: manifest.ivf.nlist, buildId: manifest.buildId, rebuildHint: 'x' });
  lists.ordinals[1] = lists.ordinals[0];
  writeIvfFile(join(twice, 'index.ivf'), lists, manifest.buildId);
  forgeManifestFor(twice, 'index.ivf');
  const bad = VectorIndex.open(twice, expect);
  await assert.rejects(bad.search([rows[0]], 5, { threads: 1, method: 'ivf' }), rebuilds(/listed twice/));
  bad.close();

  // A manifest whose IVF parameters are out of range (hand-edited, then re-checksummed) never reaches search.
  const edited = await build('ivf-edited');
  const { checksum: _checksum, storage: _storage, ...fields } = JSON.parse(readFileSync(join(edited, 'manifest.json'), 'utf8'));
  writePartManifest(edited, { ...fields, ivf: { ...fields.ivf, nprobe: fields.ivf.nlist + 1 } });
  assert.throws(() => VectorIndex.open(edited, expect), rebuilds(/IVF parameters out of range/));
});

test('the dense retriever over ≥ IVF_ABOVE_DOCS documents plans IVF: built with the index or on first search, scores exact', async (t) => {
  const dims = 16;
  const rows = clusteredRows(IVF_ABOVE_DOCS, dims, 300, 8);
  const asked = noisyCopies(rows, 60, 9);
  const textOf = new Map<string, Float32Array>(asked.map((query, q) => [`q${q}`, query]));
  const embedder: Embedder = {
    name: 'test/table',
    dims,
    fingerprint: 'a'.repeat(64),
    embedQueries: async (texts) => texts.map((text) => textOf.get(text)!),
    embedDocuments: async (texts) => texts.map((text) => rows[Number(text.slice(1))]),
    close: async () => undefined,
  };
  const corpus = { docCount: rows.length, text: (ordinal: number) => `d${ordinal}`, id: String, ordinalOfId: () => undefined, ordinalOfText: () => undefined, normalizedTextHash: () => 0n };
  const queryTexts = asked.map((_, q) => `q${q}`);
  const withIvf = await writeDenseIndex({ dir: join(root, 'retriever-ivf'), corpus, embedder, precision: 'f32', buildGraph: false, buildIvf: true, threads: 2 });
  assert.ok(withIvf.manifest.ivf, 'writeDenseIndex built index.ivf');
  const retriever = new DenseRetriever({ corpus, embedder, index: VectorIndex.open(withIvf.dir, expect), ownsEmbedder: false, threads: 2 });
  assert.equal(retriever.plan.method, 'ivf');
  const exact = new DenseRetriever({ threads: 1, corpus, embedder, index: VectorIndex.open(withIvf.dir, expect), exact: true, ownsEmbedder: false });
  const found = await retriever.search(queryTexts, 100);
  const truth = await exact.search(queryTexts, 100);
  t.diagnostic(`nlist ${withIvf.manifest.ivf.nlist}, nprobe ${withIvf.manifest.ivf.nprobe}: recall@100 ${recall(found, truth).toFixed(4)}`);
  assert.ok(recall(found, truth) >= 0.95);
  assert.deepEqual(await retriever.scoreDocuments('q0', found[0].map((c) => c.docOrdinal)), found[0].map((c) => c.score), 'scoreDocuments gives the score search gave');
  await retriever.close();
  await exact.close();

  const without = await writeDenseIndex({ threads: 1, dir: join(root, 'retriever-later'), corpus, embedder, precision: 'f32', buildGraph: false });
  const index = VectorIndex.open(without.dir, expect);
  const later = new DenseRetriever({ threads: 1, corpus, embedder, index, ownsEmbedder: false, nprobe: 1_000_000 });
  assert.equal(later.plan.method, 'ivf');
  assert.equal(index.hasIvf, false);
  assert.deepEqual(await later.search(queryTexts.slice(0, 10), 20), truth.slice(0, 10).map((c) => c.slice(0, 20)), 'built on first search; probing every list is exact');
  assert.equal(index.hasIvf, true);
  await later.close();
});

test("IVF calibrated on the run's own queries: the nprobe it picks reaches the recall it promises on those queries", async () => {
  const index = VectorIndex.open(writeVectors('ivf-calibrated', corpus), expect);
  const params = await index.buildIvf(2);
  for (const target of [0.9, 0.97, 0.995]) {
    const calibration = await index.calibrateIvf(queries, 2, target);
    assert.ok(calibration.nprobe >= 1 && calibration.nprobe <= params.nlist, JSON.stringify(calibration));
    assert.ok(calibration.recall >= target, JSON.stringify(calibration));
    const exact = await index.search(queries, 100, { method: 'exact', threads: 2 });
    const found = await index.search(queries, 100, { method: 'ivf', threads: 2, nprobe: calibration.nprobe });
    assert.equal(recall(found, exact), calibration.recall, 'the recall measured in calibration is the recall of the search');
    if (calibration.nprobe > 1) {
      const fewer = await index.search(queries, 100, { method: 'ivf', threads: 2, nprobe: calibration.nprobe - 1 });
      assert.ok(recall(fewer, exact) < target, 'and it is the smallest such nprobe');
    }
  }
  index.close();
});
