/**
 * `rare-mine dense`, `index dense` and `hybrid` end to end through the built CLI, with a generated tiny BERT
 * model (Hugging Face layout, real WordPiece vocabulary) and the built-in use-lite model: the record contract,
 * RAGatouille's rank window, index and embedding-cache reuse, and the model named in the log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBertModelDir } from '../helpers/tiny-models.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared-data.js';
import { VectorIndex } from '../../src/vector/vector-index.js';
import { writePartManifest } from '../../src/storage/manifest.js';

const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');
const inputs = readFileSync(fixture, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));

test('dense with a model directory: window 10..110, every record, reused index and cache on re-run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-dense-'));
  const model = join(dir, 'tiny-bert');
  await writeTinyBertModelDir(model, { seed: 5, pooling: 'mean' });
  const env = { RARE_MINE_CACHE_DIR: join(dir, 'cache') };
  const args = ['dense', '--model', model, '--index-dir', join(dir, 'idx'), '--with-ranks', '--with-ids', fixture];
  const started = Date.now();
  const first = runCli(args, { env });
  assert.equal(first.status, 0, first.stderr);
  assert.ok(first.logs().some((l) => l.msg === 'model' && l.dir === model), 'the model used is logged');
  // onnxruntime's telemetry client is off (src/onnx/runtime-environment.ts): it left /tmp/mat-debug-<pid>.log per process.
  // (A file of that name older than this run belongs to an earlier process that had the same pid.)
  const telemetryLog = `/tmp/mat-debug-${first.pid}.log`;
  assert.ok(!(existsSync(telemetryLog) && statSync(telemetryLog).mtimeMs >= started - 1000), `onnxruntime telemetry left ${telemetryLog}`);
  const out = first.json();
  assert.equal(out.length, inputs.length);
  out.forEach((record, i) => {
    assert.equal(record.question, inputs[i].question);
    assert.equal(record.hard_negatives.length, 3);
    assert.ok(record.hard_negatives_ranks.every((rank: number) => rank >= 10 && rank < 110), 'RAGatouille window 10..110');
    assert.ok(!record.hard_negatives.includes(inputs[i].text));
  });
  const second = runCli(args, { env });
  assert.equal(second.status, 0, second.stderr);
  assert.equal(second.stdout, first.stdout, 'same seed, same negatives');
  assert.ok(second.logs().some((l) => l.msg === 'reusing dense index: model and corpus match'));
  // A new index dir (another mining setup) embeds nothing again: every document comes from the embedding cache.
  const third = runCli(['dense', '--model', model, '--index-dir', join(dir, 'idx2'), '--min-rank', '0', '--sample', 'top', fixture], { env });
  assert.equal(third.status, 0, third.stderr);
  const cache = third.logs().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('embedding cache'));
  assert.ok(cache.length > 0, third.stderr);
  assert.ok(cache.every((l) => l.misses === 0), JSON.stringify(cache));
});

test('index dense once, mine many times; a different model is refused with a rebuild hint, never switched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-dense-'));
  const model = join(dir, 'tiny-bert');
  const other = join(dir, 'tiny-bert-2');
  await writeTinyBertModelDir(model, { seed: 5 });
  await writeTinyBertModelDir(other, { seed: 6 });
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(corpus, inputs.map((r, i) => JSON.stringify({ _id: `d${i}`, text: r.text })).join('\n') + '\n');
  const env = { RARE_MINE_CACHE_DIR: join(dir, 'cache') };
  const built = runCli(['index', 'dense', '--model', model, '--corpus', corpus, '--index-dir', join(dir, 'idx')], { env });
  assert.equal(built.status, 0, built.stderr);
  const mined = runCli(['dense', '--model', model, '--index-dir', join(dir, 'idx'), '--with-ids', '--min-rank', '0', fixture], { env });
  assert.equal(mined.status, 0, mined.stderr);
  assert.ok(mined.json().every((r) => r.hard_negatives_ids.every((id: string) => id.startsWith('d'))));
  const manifest = readFileSync(join(dir, 'idx', 'dense', 'tiny-bert-f32', 'manifest.json'), 'utf8');
  assert.match(manifest, /tiny-bert/);
  const switched = runCli(['dense', '--model', other, '--index-dir', join(dir, 'idx'), fixture], { env });
  assert.equal(switched.status, 0, switched.stderr);
  assert.ok(switched.logs().some((l) => l.msg === 'building dense index'), 'another model gets its own index, built, not the old one reused');
});

test('dense --model use-lite runs offline with the built-in model; hybrid fuses BM25 and dense', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-uselite-'));
  const env = { RARE_MINE_CACHE_DIR: join(dir, 'cache') };
  const run = runCli(['dense', '--model', 'use-lite', '--num-neg', '2', '--min-rank', '0', '--max-rank', '10', '--sample', 'top', '--with-scores', fixture], { env });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(run.logs().some((l) => l.msg === 'model' && l.model === 'use-lite'));
  const out = run.json();
  assert.equal(out.length, inputs.length);
  for (const record of out) {
    assert.equal(record.hard_negatives.length, 2);
    assert.ok(record.hard_negatives_scores[0] >= record.hard_negatives_scores[1]);
    assert.ok(record.hard_negatives_scores.every((s: number) => s <= 1 + 1e-6 && s >= -1 - 1e-6), 'cosine similarities');
  }
  const hybrid = runCli(['hybrid', '--model', 'use-lite', '--num-neg', '2', '--with-scores', fixture], { env });
  assert.equal(hybrid.status, 0, hybrid.stderr);
  const fused = hybrid.json();
  assert.equal(fused.length, inputs.length);
  assert.ok(fused.every((r) => r.hard_negatives_scores.every((s: number) => s > 0 && s <= 2 / 61)), 'RRF scores');
});

test('a damaged dense part is exit 3 with a rebuild hint (never rebuilt silently, never handed to usearch); --rebuild repairs it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-dense-'));
  const model = join(dir, 'tiny-bert');
  await writeTinyBertModelDir(model, { seed: 5 });
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(corpus, inputs.map((r, i) => JSON.stringify({ _id: `d${i}`, text: r.text })).join('\n') + '\n');
  const env = { RARE_MINE_CACHE_DIR: join(dir, 'cache') };
  const indexDir = join(dir, 'idx');
  assert.equal(runCli(['index', 'dense', '--model', model, '--corpus', corpus, '--index-dir', indexDir], { env }).status, 0);
  const denseDir = join(indexDir, 'dense', 'tiny-bert-f32');
  const mine = ['dense', '--model', model, '--index-dir', indexDir, '--min-rank', '0', fixture];
  const reference = runCli(mine, { env });
  assert.equal(reference.status, 0, reference.stderr);

  // Add the HNSW graph (small corpora are searched exactly, so the CLI builds none), then plant garbage in it
  // with a manifest forged to match its size and CRC: the structural check refuses it before usearch maps it.
  const { buildId, count } = JSON.parse(readFileSync(join(denseDir, 'manifest.json'), 'utf8'));
  assert.equal(count, inputs.length);
  const opened = VectorIndex.open(denseDir, { rebuildHint: 'test' });
  opened.buildGraph();
  opened.close();
  const graph = join(denseDir, 'index.usearch');
  writeFileSync(graph, Buffer.alloc(statSync(graph).size, 0x5a));
  const { checksum: _checksum, storage: _storage, ...manifest } = JSON.parse(readFileSync(join(denseDir, 'manifest.json'), 'utf8'));
  manifest.files['index.usearch'] = { bytes: statSync(graph).size, crc32: crc32(readFileSync(graph)) >>> 0 };
  writePartManifest(denseDir, manifest);
  const garbage = runCli(mine, { env });
  assert.equal(garbage.status, 3, garbage.stderr);
  assert.match(garbage.messages(), /index.usearch: not the USearch graph of this index/);
  assert.match(garbage.messages(), /hint: rebuild it: rare-mine index dense/);
  assert.equal(garbage.stdout, '');
  assert.equal(buildId, manifest.buildId, 'adding the graph keeps the build id');

  for (const damage of [() => rmSync(join(denseDir, 'manifest.json')), () => writeFileSync(join(denseDir, 'manifest.json'), '{"format":')]) {
    damage();
    const run = runCli(mine, { env });
    assert.equal(run.status, 3, run.stderr);
    assert.match(run.messages(), /tiny-bert-f32\/manifest.json: (missing|not valid JSON)/);
    assert.match(run.messages(), /--rebuild/);
  }
  const rebuilt = runCli([...mine, '--rebuild'], { env });
  assert.equal(rebuilt.status, 0, rebuilt.stderr);
  assert.equal(rebuilt.stdout, reference.stdout);
});
