import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, truncateSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VectorIndex, VectorIndexWriter, cosineSimilarity } from '../src/vector/vector-index.js';
import { PRECISION_NAMES, defaultPrecision, parsePrecision, type Precision } from '../src/vector/precision.js';
import { planSearch, IVF_ABOVE_DOCS, IVF_MAX_PROBE_FRACTION, IVF_PAYS_OFF_ABOVE_QUERIES } from '../src/vector/search-plan.js';
import { IndexError, StaleIndexError, UsageError } from '../src/errors.js';
import { writePartManifest } from '../src/storage/manifest.js';
import type { Candidate } from '../src/retriever.js';
import { seededRandom } from '../src/seeded-random.js';

process.env.RARE_MINE_LOG_LEVEL ??= 'warn';
const root = mkdtempSync(join(tmpdir(), 'rare-mine-vector-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const DIMS = 32;
const DOCS = 9000; // more than one 8192-row exact-search block
const K = 110;
const identity = { model: { name: 'test/model', fingerprint: 'f'.repeat(64) }, corpusFingerprint: 'c'.repeat(64) };
const expect = { modelFingerprint: identity.model.fingerprint, corpusFingerprint: identity.corpusFingerprint, rebuildHint: 'rare-mine index dense ...' };

const random = (seed: number) => seededRandom(seed, 0);

function gaussian(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

function unit(vector: Float32Array): Float32Array {
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/** Clustered unit vectors (topics with spread), like embeddings of a corpus with themes; rows 10..19 duplicate row 0..9 for ties. */
function clusteredVectors(count: number, seed: number): Float32Array[] {
  const next = random(seed);
  const centres = Array.from({ length: 40 }, () => unit(Float32Array.from({ length: DIMS }, () => gaussian(next))));
  const rows = Array.from({ length: count }, () => {
    const centre = centres[Math.floor(next() * centres.length)];
    return unit(centre.map((value) => value + 0.35 * gaussian(next)));
  });
  for (let i = 0; i < 10; i++) rows[10 + i] = rows[i].slice();
  return rows;
}

const docs = clusteredVectors(DOCS, 1);
const queries = clusteredVectors(60, 2);

function naiveTopK(query: Float32Array, k: number): Candidate[] {
  return docs
    .map((row, docOrdinal) => ({ docOrdinal, score: cosineSimilarity(query, row) }))
    .sort((a, b) => b.score - a.score || a.docOrdinal - b.docOrdinal)
    .slice(0, k);
}

function build(name: string, precision: Precision, buildGraph = true, rows: Float32Array[] = docs): string {
  const dir = join(root, name);
  const writer = new VectorIndexWriter(dir, { threads: 1, dims: DIMS, precision, buildGraph });
  for (let first = 0; first < rows.length; first += 1000) writer.add(rows.slice(first, first + 1000));
  writer.finish(identity);
  return dir;
}

function candidateSetRecall(found: Candidate[][], truth: Candidate[][]): number {
  let hits = 0;
  let total = 0;
  found.forEach((candidates, q) => {
    const exact = new Set(truth[q].map((candidate) => candidate.docOrdinal));
    hits += candidates.filter((candidate) => exact.has(candidate.docOrdinal)).length;
    total += exact.size;
  });
  return hits / total;
}

const f32Dir = build('f32', 'f32');

test('exact search equals a naive brute force: same ordinals, scores, order and ties', async () => {
  const index = VectorIndex.open(f32Dir, expect);
  const found = await index.search(queries, K, { threads: 1, method: 'exact' });
  queries.forEach((query, q) => {
    const expected = naiveTopK(query, K);
    assert.deepEqual(found[q].map((c) => c.docOrdinal), expected.map((c) => c.docOrdinal), `query ${q}`);
    found[q].forEach((candidate, i) => assert.ok(Math.abs(candidate.score - expected[i].score) < 1e-9));
  });
  // A query equal to a duplicated row: both copies tie at the top, lower ordinal first.
  const [dup] = await index.search([docs[3]], 2, { threads: 1, method: 'exact' });
  assert.deepEqual(dup.map((c) => c.docOrdinal), [3, 13]);
  assert.equal(dup[0].score, dup[1].score);
  index.close();
});

test('HNSW candidate set matches exact search (recall ≥ 0.98 at f32), scores are exact cosines', async () => {
  const index = VectorIndex.open(f32Dir, expect);
  const exact = await index.search(queries, K, { threads: 1, method: 'exact' });
  const approximate = await index.search(queries, K, { threads: 1, method: 'hnsw' });
  const recall = candidateSetRecall(approximate, exact);
  assert.ok(recall >= 0.98, `recall ${recall}`);
  for (const candidates of approximate) {
    assert.equal(candidates.length, K);
    for (let i = 1; i < candidates.length; i++) {
      const [a, b] = [candidates[i - 1], candidates[i]];
      assert.ok(a.score > b.score || (a.score === b.score && a.docOrdinal < b.docOrdinal), 'sorted by score, ties by ordinal');
    }
  }
  const scores = index.scores(queries[0], approximate[0].map((c) => c.docOrdinal));
  assert.deepEqual(scores, approximate[0].map((c) => c.score), 'scores() gives the score search gave');
  index.close();
});

test('save and memory-mapped view round trip: a reopened index answers identically', async () => {
  const first = VectorIndex.open(f32Dir, expect);
  const before = await first.search(queries, K, { threads: 1, method: 'hnsw' });
  first.close();
  const second = VectorIndex.open(f32Dir, expect);
  assert.equal(second.manifest.count, DOCS);
  assert.deepEqual(second.manifest.hnsw, { connectivity: 32, expansionAdd: 200, expansionSearch: 128 });
  assert.deepEqual(await second.search(queries, K, { threads: 1, method: 'hnsw' }), before);
  assert.deepEqual(await second.search([queries[0]], 5, { threads: 1, method: 'hnsw' }), [before[0].slice(0, 5)], 'one query alone gives its own results');
  second.close();
});

test('every precision builds and serves; recall degrades gracefully, files shrink', async (t) => {
  const subset = docs.slice(0, 3000);
  const graphBytes: Record<string, number> = {};
  for (const precision of PRECISION_NAMES) {
    const dir = build(`precision-${precision}`, precision, true, subset);
    const index = VectorIndex.open(dir, { ...expect, precision });
    const exact = await index.search(queries, K, { threads: 1, method: 'exact' });
    const recall = candidateSetRecall(await index.search(queries, K, { threads: 1, method: 'hnsw' }), exact);
    graphBytes[precision] = statSync(join(dir, 'index.usearch')).size;
    t.diagnostic(`${precision}: recall ${recall.toFixed(4)}, graph file ${graphBytes[precision]} bytes`);
    assert.ok(recall >= (precision === 'f32' ? 0.98 : 0.9), `${precision}: recall ${recall}`);
    index.close();
  }
  assert.ok(graphBytes.i8 < graphBytes.f16 && graphBytes.f16 < graphBytes.f32, 'lower precision, smaller graph file');
});

test('an index written without a graph searches exactly, and gets its graph later', async () => {
  const dir = build('no-graph', 'f32', false);
  const index = VectorIndex.open(dir, expect);
  assert.equal(index.hasGraph, false);
  await assert.rejects(index.search(queries, K, { threads: 1, method: 'hnsw' }), IndexError);
  const exact = await index.search(queries, K, { threads: 1, method: 'exact' });
  index.buildGraph(1);
  const recall = candidateSetRecall(await index.search(queries, K, { threads: 1, method: 'hnsw' }), exact);
  assert.ok(recall >= 0.98, `recall ${recall}`);
  index.close();
  const reopened = VectorIndex.open(dir, expect);
  assert.equal(reopened.hasGraph, true, 'the graph is recorded in the manifest');
  reopened.close();
});

test('opening checks the manifest and files: another model, another corpus, damage → IndexError saying to rebuild', () => {
  const rebuilds = (pattern: RegExp) => (error: unknown) => error instanceof IndexError && pattern.test(error.message) && /rebuild/.test(error.hint ?? '');
  assert.throws(() => VectorIndex.open(f32Dir, { ...expect, modelFingerprint: 'e'.repeat(64), modelName: 'other/model' }), rebuilds(/built with model test\/model.*this run uses other\/model/));
  assert.throws(() => VectorIndex.open(f32Dir, { ...expect, corpusFingerprint: 'd'.repeat(64) }), rebuilds(/another corpus/));
  assert.throws(() => VectorIndex.open(f32Dir, { ...expect, dims: 64 }), rebuilds(/32-d vectors/));
  assert.throws(() => VectorIndex.open(join(root, 'nowhere'), expect), rebuilds(/no vector index at/));

  const damaged = build('damaged', 'f32', true, docs.slice(0, 500));
  const fd = openSync(join(damaged, 'index.usearch'), 'r+');
  writeSync(fd, Buffer.from([0x55, 0xaa]), 0, 2, Math.floor(statSync(join(damaged, 'index.usearch')).size / 2));
  closeSync(fd);
  assert.throws(() => VectorIndex.open(damaged, expect), rebuilds(/checksum mismatch/));

  const truncated = build('truncated', 'f32', false, docs.slice(0, 500));
  truncateSync(join(truncated, 'vectors.bin'), statSync(join(truncated, 'vectors.bin')).size - 4);
  assert.throws(() => VectorIndex.open(truncated, expect), (error: unknown) => error instanceof IndexError);
});

test('precision table and search plan', () => {
  assert.equal(defaultPrecision(500_000), 'f32');
  assert.equal(defaultPrecision(500_001), 'i8');
  assert.equal(parsePrecision('e5m2'), 'e5m2');
  assert.throws(() => parsePrecision('f8'), (error: unknown) => error instanceof UsageError && /f32, f16, bf16, i8, e5m2/.test(error.message));
  assert.equal(planSearch({ docCount: 10, graphBuilt: true, forceExact: true }).method, 'exact');
  assert.equal(planSearch({ docCount: IVF_ABOVE_DOCS - 1, graphBuilt: true, ivfBuilt: true }).method, 'exact');
  assert.equal(planSearch({ docCount: 1_000_000, graphBuilt: true }).method, 'hnsw', 'an existing graph without an IVF index is used');
  assert.equal(planSearch({ docCount: 1_000_000, graphBuilt: true, ivfBuilt: true }).method, 'ivf');
  assert.equal(planSearch({ docCount: 1_000_000, graphBuilt: false, ivfBuilt: true, queryCount: 10 }).method, 'ivf', 'a built IVF index is used for any query count');
  assert.equal(planSearch({ docCount: 1_000_000, graphBuilt: false, queryCount: IVF_PAYS_OFF_ABOVE_QUERIES - 1 }).method, 'exact');
  assert.equal(planSearch({ docCount: 1_000_000, graphBuilt: false, queryCount: IVF_PAYS_OFF_ABOVE_QUERIES }).method, 'ivf');
  assert.equal(planSearch({ docCount: 1_000_000, graphBuilt: false }).method, 'ivf', 'unknown query count: build the IVF index');
  assert.equal(planSearch({ docCount: 1_000_000, graphBuilt: false, ivfBuilt: true, ivfProbeFraction: IVF_MAX_PROBE_FRACTION }).method, 'ivf');
  assert.equal(planSearch({ docCount: 1_000_000, graphBuilt: false, ivfBuilt: true, ivfProbeFraction: 0.9 }).method, 'exact', 'an IVF index that probes most lists is not worth it');
});

/**
 * Forge a manifest that "matches" a planted file: record its real size and CRC-32 and re-checksum the manifest,
 * as someone repairing the manifest by hand would. The structural check must still keep the file from usearch.
 */
function forgeManifestFor(dir: string, file: string): void {
  const { checksum: _checksum, storage: _storage, ...manifest } = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const bytes = readFileSync(join(dir, file));
  manifest.files[file] = { bytes: bytes.length, crc32: crc32(bytes) >>> 0 };
  writePartManifest(dir, manifest);
}

test('a garbage, truncated or foreign index.usearch never reaches usearch: IndexError saying to rebuild', async () => {
  const rebuilds = (pattern: RegExp) => (error: unknown) => error instanceof IndexError && pattern.test(error.message) && /rebuild/.test(error.hint ?? '');
  const rows = docs.slice(0, 300);
  const cases: Array<[string, (path: string) => void, boolean, RegExp]> = [
    ['truncated, manifest as built', (path) => truncateSync(path, statSync(path).size - 100), false, /bytes where the manifest says/],
    ['garbage of the same size, manifest as built', (path) => writeFileSync(path, Buffer.alloc(statSync(path).size, 0x41)), false, /checksum mismatch/],
    ['garbage, manifest forged to match', (path) => writeFileSync(path, Buffer.alloc(statSync(path).size, 0x41)), true, /not the USearch graph|not a USearch file/],
    ['zeros, manifest forged to match', (path) => writeFileSync(path, Buffer.alloc(4096)), true, /not the USearch graph/],
    ['truncated, manifest forged to match', (path) => truncateSync(path, statSync(path).size - 100), true, /truncated or garbage/],
    ['cut inside the head, manifest forged to match', (path) => truncateSync(path, 8 + 300 * DIMS * 4 + 20), true, /truncated USearch file/],
    ['a node level flipped, manifest forged to match', (path) => {
      const bytes = readFileSync(path);
      bytes.writeInt16LE(30_000, 8 + 300 * DIMS * 4 + 64 + 40);
      writeFileSync(path, bytes);
    }, true, /level 30000/],
    ['a graph of another index (other size), manifest forged to match', (path) => copyFileSync(join(root, 'usearch-foreign', 'index.usearch'), path), true, /not the USearch graph/],
  ];
  build('usearch-foreign', 'f32', true, docs.slice(0, 200));
  cases.forEach(([name, damage, forge, message], i) => {
    const dir = build(`usearch-damaged-${i}`, 'f32', true, rows);
    damage(join(dir, 'index.usearch'));
    if (forge) forgeManifestFor(dir, 'index.usearch');
    assert.throws(() => VectorIndex.open(dir, expect), rebuilds(message), name);
  });
  // The check passes a sound graph of every precision (and the graph then searches).
  for (const precision of PRECISION_NAMES) {
    const dir = build(`usearch-sound-${precision}`, precision, true, rows);
    const index = VectorIndex.open(dir, expect);
    assert.equal((await index.search([rows[5]], 3, { threads: 1, method: 'hnsw' }))[0][0].docOrdinal, 5);
    index.close();
  }
});

test('vectors.bin of another build, and an edited vector manifest, are refused', () => {
  const a = build('identity-a', 'f32', false, docs.slice(0, 100));
  const b = build('identity-b', 'f32', false, docs.slice(0, 100));
  const saved = readFileSync(join(a, 'vectors.bin'));
  copyFileSync(join(b, 'vectors.bin'), join(a, 'vectors.bin'));
  assert.throws(() => VectorIndex.open(a, expect), (error: unknown) => error instanceof IndexError && /belongs to another index build/.test(error.message));
  writeFileSync(join(a, 'vectors.bin'), saved);
  VectorIndex.open(a, expect).close();
  const manifestPath = join(a, 'manifest.json');
  writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replace('"count": 100', '"count": 99'));
  assert.throws(() => VectorIndex.open(a, expect), (error: unknown) => error instanceof IndexError && !(error instanceof StaleIndexError) && /checksum mismatch/.test(error.message));
  rmSync(manifestPath);
  assert.throws(() => VectorIndex.open(a, expect), (error: unknown) => error instanceof IndexError && !(error instanceof StaleIndexError) && /manifest.json: missing/.test(error.message));
});
