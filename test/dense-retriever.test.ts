import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBertModelDir } from './helpers/tiny-models.js';
import { OnnxEmbedder } from '../src/embed/onnx-embedder.js';
import { CachedEmbedder } from '../src/embed/cached-embedder.js';
import { documentEmbeddingText, writeDenseIndex } from '../src/dense/dense-index.js';
import { denseDir, openDenseIndex } from '../src/dense/dense-part.js';
import { DenseRetriever } from '../src/dense/dense-retriever.js';
import { DocStore, DocStoreWriter } from '../src/corpus/doc-store.js';
import { IndexError } from '../src/errors.js';

process.env.RARE_MINE_LOG_LEVEL ??= 'warn';
const root = mkdtempSync(join(tmpdir(), 'rare-mine-dense-'));
process.env.RARE_MINE_CACHE_DIR = join(root, 'cache');
test.after(() => rmSync(root, { recursive: true, force: true }));

const topics = ['memory barriers', 'spin locks', 'interrupt handlers', 'page cache', 'block devices', 'network drivers'];
const corpusDocs = Array.from({ length: 300 }, (_, i) => ({
  id: `doc-${i}`,
  title: i % 3 === 0 ? `${topics[i % topics.length]} guide` : '',
  text: `Passage ${i} explains ${topics[i % topics.length]} and ${topics[(i * 7) % topics.length]} ${'in detail '.repeat(i % 5)}`.trim(),
}));
const queries = ['how do spin locks work', 'page cache writeback', corpusDocs[43].text, 'what is an interrupt handler'];
const indexDir = join(root, 'index');
const corpusFingerprint = 'corpus-fixture-v1';

async function setUp() {
  const modelDir = join(root, 'model');
  if (!existsSync(modelDir)) {
    await writeTinyBertModelDir(modelDir, { hiddenSize: 32, layers: 2, heads: 2, maxPosition: 128, pooling: 'mean', seed: 9 });
    const writer = new DocStoreWriter(join(indexDir, 'docs'));
    for (const doc of corpusDocs) writer.add(doc);
    writer.finish({ corpusFingerprint, source: 'fixture' });
  }
  const onnx = OnnxEmbedder.open(modelDir, { threads: 1, name: 'test-org/tiny-dense' });
  return { modelDir, onnx, embedder: new CachedEmbedder(onnx), corpus: new DocStore(join(indexDir, 'docs'), 'rare-mine index ...') };
}

test('build, reopen and search: sorted candidates, consistent scores, exact and graph agree', async () => {
  const { onnx, embedder, corpus } = await setUp();
  const built = await writeDenseIndex({ threads: 1, dir: denseDir(indexDir, embedder.name, 'f32'), precision: 'f32', corpus, embedder, corpusFingerprint });
  assert.equal(built.dir, denseDir(indexDir, 'test-org/tiny-dense', 'f32'));
  assert.equal(built.dir, join(indexDir, 'dense', 'tiny-dense-f32'));
  assert.deepEqual(built.manifest.model, { name: 'test-org/tiny-dense', fingerprint: onnx.fingerprint });
  assert.equal(built.manifest.count, corpusDocs.length);
  assert.equal(built.manifest.dims, 32);
  assert.ok(onnx.stats.modelRuns > 0);

  const exact = new DenseRetriever({ threads: 1, corpus, embedder, index: openDenseIndex(indexDir, { embedder, corpusFingerprint }), ownsEmbedder: false });
  assert.equal(exact.plan.method, 'exact', '300 documents: brute force');
  const graph = new DenseRetriever({ threads: 1, corpus, embedder, index: openDenseIndex(indexDir, { embedder }), forceGraph: true, ownsEmbedder: false });
  const k = 50;
  const fromExact = await exact.search(queries, k);
  const fromGraph = await graph.search(queries, k);
  assert.equal(fromExact.length, queries.length);
  fromExact.forEach((candidates, q) => {
    assert.equal(candidates.length, k);
    for (let i = 1; i < k; i++) {
      const [a, b] = [candidates[i - 1], candidates[i]];
      assert.ok(a.score > b.score || (a.score === b.score && a.docOrdinal < b.docOrdinal));
    }
    const overlap = fromGraph[q].filter((c) => candidates.some((e) => e.docOrdinal === c.docOrdinal)).length;
    assert.ok(overlap >= k * 0.98, `query ${q}: graph and exact share ${overlap}/${k}`);
  });

  // A query identical to a title-less document's text finds that document first (no prefixes configured).
  assert.equal(fromExact[2][0].docOrdinal, 43);
  assert.ok(fromExact[2][0].score > 0.999);

  // scoreDocuments gives the score search gave; scoreTexts scores a passage like the corpus row.
  const ordinals = fromExact[0].slice(0, 10).map((c) => c.docOrdinal);
  assert.deepEqual(await exact.scoreDocuments(queries[0], ordinals), fromExact[0].slice(0, 10).map((c) => c.score));
  const ordinal = ordinals.find((o) => corpus.title(o) === '') ?? ordinals[0];
  const [textScore] = await exact.scoreTexts(queries[0], [documentEmbeddingText(corpus.title(ordinal), corpus.text(ordinal))]);
  const [docScore] = await exact.scoreDocuments(queries[0], [ordinal]);
  assert.ok(Math.abs(textScore - docScore) < 1e-6);
  assert.deepEqual(await exact.search([], 5), []);
  await exact.close();
  await graph.close();
  await embedder.close();
});

test('a re-build with the same model embeds nothing again (cache), and another model cannot open the index', async () => {
  const { onnx, embedder, corpus } = await setUp();
  await writeDenseIndex({ threads: 1, dir: denseDir(indexDir, embedder.name, 'f32'), precision: 'f32', corpus, embedder, corpusFingerprint });
  assert.equal(onnx.stats.modelRuns, 0, 'every document came from the embedding cache');
  assert.equal(embedder.cache.stats.hits, corpusDocs.length);
  await embedder.close();

  const other = OnnxEmbedder.open(join(root, 'model'), { threads: 1, name: 'test-org/tiny-dense', maxLength: 64 });
  assert.throws(
    () => openDenseIndex(indexDir, { embedder: other }),
    (error: unknown) => error instanceof IndexError && /built with model test-org\/tiny-dense/.test(error.message) && /rare-mine index dense/.test(error.hint ?? ''),
  );
  assert.throws(() => openDenseIndex(indexDir, { embedder: onnx, corpusFingerprint: 'another corpus' }), IndexError);
  await other.close();
});
