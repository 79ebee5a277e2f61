/**
 * Mining with vectors computed elsewhere (--corpus-vectors, --query-vectors) through the built CLI: the negatives are
 * those of a naive exhaustive cosine ranking of the files' rows (the reference), rows follow records with blank
 * lines not counted, a changed file is never served from an index built of the old one, and files that cannot
 * belong to the run are refused, naming the file, before any index is built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { SeededRandom } from '../helpers/seeded-random.js';

const root = mkdtempSync(join(tmpdir(), 'rare-mine-cli-vectors-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const DOCS = 60;
const QUERIES = 12;
const DIMS = 16;

/** A NumPy .npy file (format 1.0, '<f4', C order) of `rows` × `dims` values. */
function writeNpy(path: string, values: Float32Array, rows: number, dims: number): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dims}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(prefix);
  prefix.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(values.buffer, values.byteOffset, values.byteLength)]));
}

function randomRows(rows: number, seed: number): Float32Array {
  const random = new SeededRandom(seed);
  return Float32Array.from({ length: rows * DIMS }, () => random.uniform() * 2 - 1);
}

/** Query j: near corpus row target(j), so the ranking has a clear head. */
function queryRows(corpus: Float32Array, seed: number): Float32Array {
  const random = new SeededRandom(seed);
  const out = new Float32Array(QUERIES * DIMS);
  for (let j = 0; j < QUERIES; j++) {
    const target = (j * 7) % DOCS;
    for (let d = 0; d < DIMS; d++) out[j * DIMS + d] = corpus[target * DIMS + d] + (random.uniform() - 0.5) * 0.6;
  }
  return out;
}

function cosine(a: Float32Array, ai: number, b: Float32Array, bi: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let d = 0; d < DIMS; d++) {
    const x = a[ai * DIMS + d];
    const y = b[bi * DIMS + d];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return dot / Math.sqrt(na * nb);
}

/** The reference: every document scored, best first (ties by ordinal), the positive dropped, the first `numNeg` kept. */
function expectedNegatives(corpus: Float32Array, queries: Float32Array, positiveOf: (j: number) => number, numNeg: number): string[][] {
  return Array.from({ length: QUERIES }, (_, j) => {
    const ranked = Array.from({ length: DOCS }, (_, i) => ({ i, score: cosine(queries, j, corpus, i) })).sort((a, b) => b.score - a.score || a.i - b.i);
    return ranked.filter((c) => c.i !== positiveOf(j)).slice(0, numNeg).map((c) => `d${c.i}`);
  });
}

const corpusPath = join(root, 'corpus.jsonl');
writeFileSync(corpusPath, Array.from({ length: DOCS }, (_, i) => JSON.stringify({ _id: `d${i}`, text: `passage number ${i} about topic ${i % 9}` })).join('\n') + '\n');
const positiveOf = (j: number) => (j * 5 + 1) % DOCS;
// A blank line after the fourth record: it is no record, so row 4 belongs to the fifth record (line 6).
const inputLines = Array.from({ length: QUERIES }, (_, j) => JSON.stringify({ question: `query ${j}`, pos_ids: [`d${positiveOf(j)}`] }));
inputLines.splice(4, 0, '');
const inputPath = join(root, 'queries.jsonl');
writeFileSync(inputPath, inputLines.join('\n') + '\n');

const corpusA = randomRows(DOCS, 11);
const queriesA = queryRows(corpusA, 12);
writeNpy(join(root, 'corpus-a.npy'), corpusA, DOCS, DIMS);
writeNpy(join(root, 'queries-a.npy'), queriesA, QUERIES, DIMS);
const corpusB = randomRows(DOCS, 21);
const queriesB = queryRows(corpusB, 22);

const mineArgs = (corpusVectors: string, queryVectors: string, indexDir: string) => [
  'dense',
  '--corpus', corpusPath,
  '--corpus-vectors', corpusVectors,
  '--query-vectors', queryVectors,
  '--index-dir', indexDir,
  '--positive-ids-key', 'pos_ids',
  '--num-neg', '3',
  '--min-rank', '0',
  '--max-rank', String(DOCS),
  '--sample', 'top',
  '--with-ids',
  inputPath,
];

test('both sides from .npy files: the negatives of an exhaustive cosine ranking, no model opened', () => {
  const result = runCli(mineArgs(join(root, 'corpus-a.npy'), join(root, 'queries-a.npy'), join(root, 'index-a')));
  assert.equal(result.status, 0, result.stderr);
  const got = result.json().map((record) => record.hard_negatives_ids);
  assert.deepEqual(got, expectedNegatives(corpusA, queriesA, positiveOf, 3));
  assert.ok(!result.logs().some((l) => l.msg === 'model'), 'no model is opened when both sides are files');
});

test('a changed vector file is never served from the index built of the old one', () => {
  const indexDir = join(root, 'index-changing');
  const corpusFile = join(root, 'corpus-changing.npy');
  const queryFile = join(root, 'queries-changing.npy');
  writeNpy(corpusFile, corpusA, DOCS, DIMS);
  writeNpy(queryFile, queriesA, QUERIES, DIMS);
  const first = runCli(mineArgs(corpusFile, queryFile, indexDir));
  assert.equal(first.status, 0, first.stderr);
  assert.deepEqual(first.json().map((r) => r.hard_negatives_ids), expectedNegatives(corpusA, queriesA, positiveOf, 3));
  writeNpy(corpusFile, corpusB, DOCS, DIMS);
  writeNpy(queryFile, queriesB, QUERIES, DIMS);
  const second = runCli(mineArgs(corpusFile, queryFile, indexDir));
  assert.equal(second.status, 0, second.stderr);
  assert.deepEqual(second.json().map((r) => r.hard_negatives_ids), expectedNegatives(corpusB, queriesB, positiveOf, 3));
});

test('index dense --corpus-vectors needs no model; mining over that index takes the file again', () => {
  const indexDir = join(root, 'index-built');
  const built = runCli(['index', 'dense', '--corpus', corpusPath, '--corpus-vectors', join(root, 'corpus-a.npy'), '--index-dir', indexDir]);
  assert.equal(built.status, 0, built.stderr);
  assert.ok(!built.logs().some((l) => l.msg === 'model'), 'no model is opened');
  const mined = runCli(mineArgs(join(root, 'corpus-a.npy'), join(root, 'queries-a.npy'), indexDir).filter((_, i, all) => all[i] !== corpusPath && all[i + 1] !== corpusPath));
  assert.equal(mined.status, 0, mined.stderr);
  assert.ok(mined.logs().some((l) => typeof l.msg === 'string' && l.msg.startsWith('reusing dense index')), mined.stderr);
  assert.deepEqual(mined.json().map((r) => r.hard_negatives_ids), expectedNegatives(corpusA, queriesA, positiveOf, 3));
});

test('stdin input: the records are counted against --query-vectors too', () => {
  const result = runCli(mineArgs(join(root, 'corpus-a.npy'), join(root, 'queries-a.npy'), join(root, 'index-stdin')).slice(0, -1), { input: readFileSync(inputPath) });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(result.json().map((r) => r.hard_negatives_ids), expectedNegatives(corpusA, queriesA, positiveOf, 3));
});

test('refusals name the file, before any index is built', () => {
  const fewer = join(root, 'queries-fewer.npy');
  writeNpy(fewer, queriesA.subarray(0, (QUERIES - 1) * DIMS), QUERIES - 1, DIMS);
  const indexDir = join(root, 'index-refused');
  const rowCount = runCli(mineArgs(join(root, 'corpus-a.npy'), fewer, indexDir));
  assert.equal(rowCount.status, 1, rowCount.stderr);
  assert.match(rowCount.stderr, /queries-fewer\.npy: holds 11 rows, .*queries\.jsonl 12 records/);
  assert.ok(!existsSync(join(indexDir, 'docs')), 'nothing was built');

  const narrow = join(root, 'queries-8d.npy');
  writeNpy(narrow, new Float32Array(QUERIES * 8).fill(0.5), QUERIES, 8);
  const dims = runCli(mineArgs(join(root, 'corpus-a.npy'), narrow, indexDir));
  assert.equal(dims.status, 2, dims.stderr);
  assert.match(dims.stderr, /16-d rows, --query-vectors .*queries-8d\.npy 8-d/);

  const shortCorpus = join(root, 'corpus-short.npy');
  writeNpy(shortCorpus, corpusA.subarray(0, (DOCS - 1) * DIMS), DOCS - 1, DIMS);
  const docs = runCli(mineArgs(shortCorpus, join(root, 'queries-a.npy'), join(root, 'index-short')));
  assert.equal(docs.status, 1, docs.stderr);
  assert.match(docs.stderr, /corpus-short\.npy: holds 59 rows, the corpus 60 documents/);

  const tensorAlone = runCli(['dense', '--model', 'use-lite', '--vectors-tensor', 'emb', '--corpus', corpusPath, inputPath]);
  assert.equal(tensorAlone.status, 2, tensorAlone.stderr);
  assert.match(tensorAlone.stderr, /--vectors-tensor/);
});

test('hybrid fuses BM25 with the files\' vectors, by the queries\' lines', () => {
  const args = mineArgs(join(root, 'corpus-a.npy'), join(root, 'queries-a.npy'), join(root, 'index-hybrid'));
  args[0] = 'hybrid';
  // With BM25 weighted 0 the fused ranking is the dense one: the reference negatives again.
  const result = runCli([...args.slice(0, -1), '--rrf-weights', '0,1', '--fusion-depth', String(DOCS), args[args.length - 1]]);
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(result.json().map((r) => r.hard_negatives_ids), expectedNegatives(corpusA, queriesA, positiveOf, 3));
});

test('eval: row i of --query-vectors is the i-th query of --queries', () => {
  const beir = join(root, 'beir');
  rmSync(beir, { recursive: true, force: true });
  const queriesFile = join(root, 'beir-queries.jsonl');
  writeFileSync(queriesFile, Array.from({ length: QUERIES }, (_, j) => JSON.stringify({ _id: `q${j}`, text: `query ${j}` })).join('\n') + '\n');
  const qrels = join(root, 'qrels.tsv');
  // Each query's relevant document is the one its vector was made near: a perfect ranking puts it first.
  writeFileSync(qrels, 'query-id\tcorpus-id\tscore\n' + Array.from({ length: QUERIES }, (_, j) => `q${j}\td${(j * 7) % DOCS}\t1`).join('\n') + '\n');
  const result = runCli(['eval', '--retriever', 'dense', '--corpus', corpusPath, '--queries', queriesFile, '--qrels', qrels, '--corpus-vectors', join(root, 'corpus-a.npy'), '--query-vectors', join(root, 'queries-a.npy'), '--json']);
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  const reference = Array.from({ length: QUERIES }, (_, j) => {
    const ranked = Array.from({ length: DOCS }, (_, i) => ({ i, score: cosine(queriesA, j, corpusA, i) })).sort((a, b) => b.score - a.score || a.i - b.i);
    return 1 / (ranked.findIndex((c) => c.i === (j * 7) % DOCS) + 1);
  });
  const mrr = reference.reduce((sum, rr) => sum + (rr >= 0.1 ? rr : 0), 0) / QUERIES;
  assert.ok(Math.abs(report['mrr@10'] - mrr) < 1e-4, `mrr@10 ${report['mrr@10']} vs the reference ${mrr}`);
});
