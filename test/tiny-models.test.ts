import '../src/onnx/runtime-environment.js'; // before onnxruntime-node loads: no telemetry files in /tmp
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { writeTinyBertModelDir, writeTinyCrossEncoderModelDir } from './helpers/tiny-models.js';

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rare-mine-tiny-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

async function loadTokenizer(dir: string): Promise<Tokenizer> {
  return new Tokenizer(await readJson(join(dir, 'tokenizer.json')), await readJson(join(dir, 'tokenizer_config.json')));
}

/** Right-padded int64 feeds for a batch of token id lists. */
function feeds(batch: number[][], typeIds?: number[][]): Record<string, ort.Tensor> {
  const length = Math.max(...batch.map((ids) => ids.length));
  const ids = new BigInt64Array(batch.length * length);
  const mask = new BigInt64Array(batch.length * length);
  const types = new BigInt64Array(batch.length * length);
  batch.forEach((row, r) =>
    row.forEach((id, c) => {
      ids[r * length + c] = BigInt(id);
      mask[r * length + c] = 1n;
      types[r * length + c] = BigInt(typeIds?.[r]?.[c] ?? 0);
    }),
  );
  const dims = [batch.length, length];
  return {
    input_ids: new ort.Tensor('int64', ids, dims),
    attention_mask: new ort.Tensor('int64', mask, dims),
    token_type_ids: new ort.Tensor('int64', types, dims),
  };
}

test('the tokenizer.json is bert-base-uncased WordPiece, loadable by @huggingface/tokenizers', async () => {
  await withTempDir(async (dir) => {
    await writeTinyBertModelDir(dir, { seed: 3 });
    const tokenizer = await loadTokenizer(dir);
    assert.deepEqual(tokenizer.encode('Hello, world!').ids, [101, 7592, 1010, 2088, 999, 102]);
    assert.deepEqual(tokenizer.encode('i like strawberries').ids, [101, 1045, 2066, 13137, 20968, 102]);
    assert.deepEqual(tokenizer.tokenize('Naïve UNAFFABLE'), ['naive', 'una', '##ffa', '##ble']);
    const pair = tokenizer.encode('a question', { text_pair: 'a passage', return_token_type_ids: true });
    assert.deepEqual(pair.ids, [101, 1037, 3160, 102, 1037, 6019, 102]);
    assert.deepEqual(pair.token_type_ids, [0, 0, 0, 0, 1, 1, 1]);
    const vocabLines = (await readFile(join(dir, 'vocab.txt'), 'utf8')).trimEnd().split('\n');
    assert.equal(vocabLines.length, 30522);
    assert.deepEqual([vocabLines[1], vocabLines[100], vocabLines[2015]], ['[unused0]', '[UNK]', '##s']);
  });
});

test('a tiny BERT dir has the Hugging Face / sentence-transformers layout and the optimum ONNX signature', async () => {
  await withTempDir(async (dir) => {
    const written = await writeTinyBertModelDir(dir, {
      seed: 7,
      pooling: 'cls',
      hiddenSize: 48,
      heads: 3,
      layers: 1,
      maxPosition: 64,
      queryPrompt: 'query: ',
      documentPrompt: 'passage: ',
    });
    assert.equal(written.onnxPath, join(dir, 'onnx', 'model.onnx'));
    const config = await readJson(join(dir, 'config.json'));
    assert.equal(config.model_type, 'bert');
    assert.equal(config.hidden_size, 48);
    assert.equal(config.num_attention_heads, 3);
    assert.equal(config.max_position_embeddings, 64);
    assert.equal(config.vocab_size, 30522);
    const pooling = await readJson(join(dir, '1_Pooling', 'config.json'));
    assert.equal(pooling.pooling_mode_cls_token, true);
    assert.equal(pooling.pooling_mode_mean_tokens, false);
    assert.equal(pooling.word_embedding_dimension, 48);
    const st = await readJson(join(dir, 'config_sentence_transformers.json'));
    assert.deepEqual(st.prompts, { query: 'query: ', document: 'passage: ' });
    const modules = JSON.parse(await readFile(join(dir, 'modules.json'), 'utf8')) as Array<{ type: string; path: string }>;
    assert.deepEqual(
      modules.map((m) => m.type),
      ['sentence_transformers.models.Transformer', 'sentence_transformers.models.Pooling', 'sentence_transformers.models.Normalize'],
    );
    assert.ok(existsSync(join(dir, modules[1]!.path, 'config.json')));

    const session = await ort.InferenceSession.create(written.onnxPath);
    assert.deepEqual(session.inputNames, ['input_ids', 'attention_mask', 'token_type_ids']);
    assert.deepEqual(session.outputNames, ['last_hidden_state']);
    const { last_hidden_state: hidden } = await session.run(feeds([[101, 7592, 102]]));
    assert.deepEqual(hidden!.dims, [1, 3, 48]);
    assert.ok(Array.from(hidden!.data as Float32Array).every(Number.isFinite));

    const meanDir = join(dir, 'mean');
    await writeTinyBertModelDir(meanDir, { seed: 7, withTokenTypeIds: false, normalize: false });
    const meanPooling = await readJson(join(meanDir, '1_Pooling', 'config.json'));
    assert.equal(meanPooling.pooling_mode_mean_tokens, true);
    assert.deepEqual((await readJson(join(meanDir, 'config_sentence_transformers.json'))).prompts, {});
    const meanSession = await ort.InferenceSession.create(join(meanDir, 'onnx', 'model.onnx'));
    assert.deepEqual(meanSession.inputNames, ['input_ids', 'attention_mask']);
  });
});

test('padding a text inside a batch leaves its hidden states unchanged (within 1e-5)', async () => {
  await withTempDir(async (dir) => {
    await writeTinyBertModelDir(dir, { seed: 11 });
    const tokenizer = await loadTokenizer(dir);
    const session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'));
    const short = tokenizer.encode('a short text').ids;
    const long = tokenizer.encode('a much longer text that forces several padding positions onto the short one').ids;
    assert.ok(long.length > short.length + 5);

    const alone = (await session.run(feeds([short]))).last_hidden_state!;
    const batched = (await session.run(feeds([long, short]))).last_hidden_state!;
    const hidden = 32;
    const aloneData = alone.data as Float32Array;
    const batchData = batched.data as Float32Array;
    let largest = 0;
    for (let position = 0; position < short.length; position++) {
      for (let k = 0; k < hidden; k++) {
        const a = aloneData[position * hidden + k]!;
        const b = batchData[(long.length + position) * hidden + k]!;
        largest = Math.max(largest, Math.abs(a - b));
      }
    }
    assert.ok(largest <= 1e-5, `largest difference ${largest}`);
    // And the model is not trivially constant: different texts give different states.
    assert.notDeepEqual(Array.from(aloneData.slice(hidden, 2 * hidden)), Array.from(batchData.slice(hidden, 2 * hidden)));
  });
});

test('the same seed writes byte-identical models; another seed does not', async () => {
  await withTempDir(async (dir) => {
    const [a, b, c] = await Promise.all([
      writeTinyBertModelDir(join(dir, 'a'), { seed: 5 }),
      writeTinyBertModelDir(join(dir, 'b'), { seed: 5 }),
      writeTinyBertModelDir(join(dir, 'c'), { seed: 6 }),
    ]);
    const [bytesA, bytesB, bytesC] = await Promise.all([a, b, c].map((w) => readFile(w.onnxPath)));
    assert.ok(bytesA!.equals(bytesB!));
    assert.ok(!bytesA!.equals(bytesC!));
  });
});

test('a tiny cross-encoder scores pairs as logits [batch, 1], independent of padding', async () => {
  await withTempDir(async (dir) => {
    const written = await writeTinyCrossEncoderModelDir(dir, { seed: 2 });
    const config = await readJson(join(dir, 'config.json'));
    assert.deepEqual(config.architectures, ['BertForSequenceClassification']);
    assert.equal(config.num_labels, 1);
    assert.ok(existsSync(join(dir, 'tokenizer.json')));

    const tokenizer = await loadTokenizer(dir);
    const session = await ort.InferenceSession.create(written.onnxPath);
    assert.deepEqual(session.outputNames, ['logits']);
    const pairs = [
      tokenizer.encode('what do cats eat', { text_pair: 'cats eat fish and mice', return_token_type_ids: true }),
      tokenizer.encode('what do cats eat', { text_pair: 'the stock market fell sharply today in early trading', return_token_type_ids: true }),
    ];
    const { logits } = await session.run(feeds(pairs.map((p) => p.ids), pairs.map((p) => p.token_type_ids)));
    assert.deepEqual(logits!.dims, [2, 1]);
    const [first, second] = Array.from(logits!.data as Float32Array);
    assert.notEqual(first, second);
    const alone = await session.run(feeds([pairs[0]!.ids], [pairs[0]!.token_type_ids]));
    assert.ok(Math.abs((alone.logits!.data as Float32Array)[0]! - first!) <= 1e-5);
  });
});
