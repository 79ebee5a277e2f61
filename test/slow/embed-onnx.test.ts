import '../../src/onnx/runtime-environment.js'; // before onnxruntime-node loads: no telemetry files in /tmp
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { writeTinyBertModelDir } from '../helpers/tiny-models.js';
import { OnnxEmbedder } from '../../src/embed/onnx-embedder.js';
import { readModelDir } from '../../src/embed/model-dir.js';
import { ModelTokenizer } from '../../src/embed/model-tokenizer.js';
import { ModelError } from '../../src/errors.js';

process.env.RARE_MINE_LOG_LEVEL ??= 'warn';
const root = mkdtempSync(join(tmpdir(), 'rare-mine-embed-onnx-'));
process.env.RARE_MINE_CACHE_DIR = join(root, 'cache');
test.after(() => rmSync(root, { recursive: true, force: true }));

const TEXTS = [
  'x',
  'The kernel documentation describes memory barriers.',
  'A much longer passage: ' + 'scheduling latency and interrupt handling on multiprocessor systems '.repeat(12),
  'café naïve 東京 résumé',
  '',
  'short text',
];

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

async function tinyModel(name: string, options: Parameters<typeof writeTinyBertModelDir>[1]): Promise<string> {
  const dir = join(root, name);
  await writeTinyBertModelDir(dir, { hiddenSize: 32, layers: 2, heads: 2, maxPosition: 64, ...options });
  return dir;
}

test('a text embeds the same alone as in a padded batch (1e-5)', async () => {
  const dir = await tinyModel('batch-model', { pooling: 'mean', seed: 11 });
  for (const sortByLength of [true, false]) {
    const embedder = OnnxEmbedder.open(dir, { threads: 1, batchSize: 4, sortByLength });
    const batched = await embedder.embedDocuments(TEXTS);
    assert.ok(embedder.stats.paddedTokens > embedder.stats.realTokens, 'the batch really was padded');
    for (let i = 0; i < TEXTS.length; i++) {
      const [alone] = await embedder.embedDocuments([TEXTS[i]]);
      assert.ok(maxAbsDifference(alone, batched[i]) <= 1e-5, `text ${i} differs alone vs batched (sorted: ${sortByLength})`);
      let norm = 0;
      for (const value of alone) norm += value * value;
      assert.ok(Math.abs(Math.sqrt(norm) - 1) < 1e-5, 'rows are unit length');
    }
    await embedder.close();
  }
});

test('length sorting pads less than input order', async () => {
  const dir = await tinyModel('sort-model', { pooling: 'mean', seed: 12 });
  const texts = Array.from({ length: 64 }, (_, i) => 'word '.repeat(1 + ((i * 37) % 50)));
  const sorted = OnnxEmbedder.open(dir, { threads: 1, batchSize: 8, sortByLength: true });
  const unsorted = OnnxEmbedder.open(dir, { threads: 1, batchSize: 8, sortByLength: false });
  const a = await sorted.embedDocuments(texts);
  const b = await unsorted.embedDocuments(texts);
  assert.equal(sorted.stats.realTokens, unsorted.stats.realTokens);
  assert.ok(sorted.stats.paddedTokens < unsorted.stats.paddedTokens * 0.75, `${sorted.stats.paddedTokens} vs ${unsorted.stats.paddedTokens}`);
  for (let i = 0; i < texts.length; i++) assert.ok(maxAbsDifference(a[i], b[i]) <= 1e-5);
  await sorted.close();
  await unsorted.close();
});

/** Reference: run the graph on one text directly and pool by hand. */
async function referenceVector(dir: string, ids: Int32Array, pooling: 'cls' | 'mean'): Promise<Float32Array> {
  const session = await InferenceSession.create(join(dir, 'onnx', 'model.onnx'), { intraOpNumThreads: 1 });
  const shape = [1, ids.length];
  const out = await session.run({
    input_ids: new Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), shape),
    attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), shape),
    token_type_ids: new Tensor('int64', new BigInt64Array(ids.length), shape),
  });
  const hidden = out.last_hidden_state.data as Float32Array;
  const dims = hidden.length / ids.length;
  const vector = new Float32Array(dims);
  if (pooling === 'cls') vector.set(hidden.subarray(0, dims));
  else for (let t = 0; t < ids.length; t++) for (let d = 0; d < dims; d++) vector[d] += hidden[t * dims + d] / ids.length;
  const norm = Math.hypot(...vector);
  await session.release();
  return vector.map((value) => value / norm);
}

test('pooling follows 1_Pooling/config.json: CLS and mean match a hand-pooled reference', async () => {
  const cls = await tinyModel('cls-model', { pooling: 'cls', seed: 21 });
  const mean = await tinyModel('mean-model', { pooling: 'mean', seed: 21 });
  const text = 'Pooling decides what a sentence vector is.';
  const vectors: Float32Array[] = [];
  for (const [dir, pooling] of [[cls, 'cls'], [mean, 'mean']] as const) {
    const embedder = OnnxEmbedder.open(dir, { threads: 1 });
    assert.equal(embedder.config.pooling, pooling);
    assert.equal(embedder.config.sources.pooling, 'model files');
    const [vector] = await embedder.embedDocuments([text]);
    const reference = await referenceVector(dir, embedder.tokenizer.encode(text).ids, pooling);
    assert.ok(maxAbsDifference(vector, reference) <= 1e-5, `${pooling} pooling differs from the reference`);
    vectors.push(vector);
    await embedder.close();
  }
  assert.ok(maxAbsDifference(vectors[0], vectors[1]) > 1e-3, 'same weights, different pooling, different vectors');
  const overridden = OnnxEmbedder.open(cls, { threads: 1, pooling: 'mean' });
  assert.equal(overridden.config.sources.pooling, 'option');
  const [vector] = await overridden.embedDocuments([text]);
  assert.ok(maxAbsDifference(vector, vectors[1]) <= 1e-5, 'the --pooling override wins over the files');
  await overridden.close();
});

test('prompts from config_sentence_transformers.json are prepended by role; options override them', async () => {
  const dir = await tinyModel('prompt-model', { pooling: 'mean', seed: 31, queryPrompt: 'query: ', documentPrompt: 'passage: ' });
  const text = 'what is a memory barrier';
  const embedder = OnnxEmbedder.open(dir, { threads: 1 });
  assert.equal(embedder.config.queryPrefix, 'query: ');
  assert.equal(embedder.config.docPrefix, 'passage: ');
  assert.equal(embedder.config.sources.prefixes, 'model files');
  const bare = OnnxEmbedder.open(dir, { threads: 1, queryPrefix: '', docPrefix: '' });
  assert.equal(bare.config.sources.prefixes, 'option');
  const [query] = await embedder.embedQueries([text]);
  const [doc] = await embedder.embedDocuments([text]);
  const [manualQuery, manualDoc, plain] = await bare.embedDocuments(['query: ' + text, 'passage: ' + text, text]);
  assert.ok(maxAbsDifference(query, manualQuery) <= 1e-5, 'query = "query: " + text');
  assert.ok(maxAbsDifference(doc, manualDoc) <= 1e-5, 'document = "passage: " + text');
  assert.ok(maxAbsDifference(query, plain) > 1e-3, 'the prefix changes the vector');
  assert.notEqual(embedder.fingerprint, bare.fingerprint, 'prefixes are part of the fingerprint');
  await embedder.close();
  await bare.close();
});

test('model family defaults: e5 and bge prefixes when the files declare none, files and options first', async () => {
  const dir = await tinyModel('family-model', { pooling: 'mean', seed: 41 });
  const e5 = readModelDir(dir, {}, 'intfloat/multilingual-e5-small');
  assert.deepEqual([e5.queryPrefix, e5.docPrefix, e5.sources.prefixes], ['query: ', 'passage: ', 'model family default']);
  const bge = readModelDir(dir, {}, 'BAAI/bge-small-en-v1.5');
  assert.equal(bge.queryPrefix, 'Represent this sentence for searching relevant passages: ');
  assert.equal(bge.docPrefix, '');
  assert.equal(bge.pooling, 'mean', "the model's 1_Pooling config wins over the family default");
  const gte = readModelDir(dir, {}, 'thenlper/gte-small-zh');
  assert.deepEqual([gte.queryPrefix, gte.docPrefix, gte.sources.prefixes], ['', '', 'default']);
  const explicit = readModelDir(dir, { queryPrefix: 'Q: ', maxLength: 16 }, 'intfloat/e5-base-v2');
  assert.deepEqual([explicit.queryPrefix, explicit.docPrefix, explicit.maxLength], ['Q: ', 'passage: ', 16]);
  assert.throws(() => readModelDir(dir, { maxLength: 65 }), ModelError, 'beyond max_position_embeddings');
  renameSync(join(dir, 'onnx'), join(dir, 'no-onnx'));
  assert.throws(() => readModelDir(dir), (error: unknown) => error instanceof ModelError && /no ONNX model/.test(error.message) && /optimum-cli/.test(error.hint ?? ''));
});

test('truncation keeps the first tokens and the trailing [SEP]; the prefix cut never changes ids', async () => {
  const dir = await tinyModel('truncation-model', { pooling: 'cls', seed: 51 });
  const config = readModelDir(dir, { maxLength: 12 });
  const tokenizer = new ModelTokenizer(config.tokenizerJson, config.tokenizerConfig, 12);
  const long = tokenizer.encode('one two three four five six seven eight nine ten eleven twelve thirteen');
  assert.equal(long.truncated, true);
  assert.equal(long.ids.length, 12);
  assert.equal(long.ids[0], 101);
  assert.equal(long.ids[11], 102);
  const short = tokenizer.encode('one two');
  assert.equal(short.truncated, false);
  assert.equal(short.ids.length, 4);

  // Reference: tokenize the whole text, then truncate. The whitespace-cut prefix must agree on any text.
  const { Tokenizer } = await import('@huggingface/tokenizers');
  const full = new Tokenizer(config.tokenizerJson, config.tokenizerConfig);
  const word = fc.constantFrom('memory', 'barrier', 'unaffable', 'x', '東京', 'naïve', '--', 'a.b', 'RCU', '12345', 'ok');
  const separator = fc.constantFrom(' ', '  ', '\n', '\t', '');
  fc.assert(
    fc.property(fc.array(fc.tuple(word, separator), { maxLength: 80 }), fc.integer({ min: 3, max: 40 }), (parts, maxLength) => {
      const text = parts.map(([w, s]) => w + s).join('');
      const small = new ModelTokenizer(config.tokenizerJson, config.tokenizerConfig, maxLength);
      const body = full.encode(text, { add_special_tokens: false }).ids;
      const expected = [101, ...body.slice(0, maxLength - 2), 102];
      const got = small.encode(text);
      assert.deepEqual(Array.from(got.ids), expected);
      assert.equal(got.truncated, body.length > maxLength - 2);
    }),
    { numRuns: 200 },
  );
});

test('the fingerprint covers weights, pooling and max length', async () => {
  const a = await tinyModel('fingerprint-a', { pooling: 'mean', seed: 61 });
  const b = await tinyModel('fingerprint-b', { pooling: 'mean', seed: 62 });
  const fingerprints = new Set([
    OnnxEmbedder.open(a, { threads: 1 }).fingerprint,
    OnnxEmbedder.open(b, { threads: 1 }).fingerprint,
    OnnxEmbedder.open(a, { threads: 1, pooling: 'cls' }).fingerprint,
    OnnxEmbedder.open(a, { threads: 1, maxLength: 32 }).fingerprint,
  ]);
  assert.equal(fingerprints.size, 4);
  assert.equal(OnnxEmbedder.open(a, { threads: 1 }).fingerprint, OnnxEmbedder.open(a, { threads: 2, batchSize: 3 }).fingerprint, 'threads and batch size do not change vectors');
});
