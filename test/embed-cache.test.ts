import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync, writeSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBertModelDir } from './helpers/tiny-models.js';
import { OnnxEmbedder } from '../src/embed/onnx-embedder.js';
import { CachedEmbedder } from '../src/embed/cached-embedder.js';
import { EmbeddingCache, textKey } from '../src/embed/embedding-cache.js';
import { embeddingCacheDir } from '../src/embed/cache-paths.js';

process.env.RARE_MINE_LOG_LEVEL ??= 'warn';
const root = mkdtempSync(join(tmpdir(), 'rare-mine-embed-cache-'));
process.env.RARE_MINE_CACHE_DIR = join(root, 'cache');
test.after(() => rmSync(root, { recursive: true, force: true }));

const modelDir = join(root, 'model');
const documents = Array.from({ length: 40 }, (_, i) => `document ${i} about ${['memory', 'locks', 'interrupts', 'scheduling'][i % 4]} ${'and more '.repeat(i % 7)}`);
const queries = ['how do locks work', 'what is an interrupt'];

test('a re-run is served from the cache: zero model runs, identical vectors', async () => {
  await writeTinyBertModelDir(modelDir, { hiddenSize: 32, layers: 2, heads: 2, maxPosition: 64, pooling: 'mean', seed: 5, queryPrompt: 'query: ' });

  const firstModel = OnnxEmbedder.open(modelDir, { threads: 1, batchSize: 8 });
  const first = new CachedEmbedder(firstModel);
  assert.equal(first.cache.dir, embeddingCacheDir(firstModel.fingerprint), 'default dir is <cache root>/embeddings/<fingerprint>');
  const docVectors = await first.embedDocuments([...documents, documents[0]]);
  const queryVectors = await first.embedQueries(queries);
  assert.ok(firstModel.stats.modelRuns > 0);
  assert.equal(firstModel.stats.textsEncoded, documents.length + queries.length, 'a text repeated in a call is encoded once');
  assert.deepEqual(docVectors[documents.length], docVectors[0]);
  assert.deepEqual([first.cache.stats.hits, first.cache.stats.misses], [0, documents.length + queries.length]);
  await first.close();

  const secondModel = OnnxEmbedder.open(modelDir, { threads: 1, batchSize: 8 });
  const second = new CachedEmbedder(secondModel);
  const again = await second.embedDocuments(documents);
  const againQueries = await second.embedQueries(queries);
  assert.equal(secondModel.stats.modelRuns, 0, 'no ONNX session run on a full cache hit');
  assert.equal(secondModel.stats.textsEncoded, 0);
  assert.equal(second.cache.stats.hits, documents.length + queries.length);
  for (let i = 0; i < documents.length; i++) assert.deepEqual(again[i], docVectors[i]);
  assert.deepEqual(againQueries, queryVectors);

  // The same text as a query and as a document are different entries (different prefixes).
  const [asDocument] = await second.embedDocuments([queries[0]]);
  assert.equal(secondModel.stats.textsEncoded, 1);
  assert.notDeepEqual(asDocument, queryVectors[0]);
  await second.close();

  // Another model setting (max length) has another fingerprint, so another cache: nothing is reused.
  const otherModel = OnnxEmbedder.open(modelDir, { threads: 1, maxLength: 16 });
  const other = new CachedEmbedder(otherModel);
  await other.embedDocuments(documents.slice(0, 3));
  assert.equal(other.cache.stats.hits, 0);
  assert.ok(otherModel.stats.modelRuns > 0);
  await other.close();
});

test('the cache survives a torn append and rejects a record whose checksum fails', () => {
  const dir = join(root, 'raw-cache');
  const dims = 4;
  const cache = new EmbeddingCache(dir, dims);
  const keys = ['a', 'b', 'c'].map((text) => textKey('document', text));
  const rows = [new Float32Array([1, 0, 0, 0]), new Float32Array([0, 1, 0, 0]), new Float32Array([0, 0, 1, 0])];
  cache.putMany(keys, rows);
  cache.close();
  assert.ok(!existsSync(join(dir, 'writer.lock')), 'the lock is released on close');

  // A crash mid-append: half a vector record and no key.
  appendFileSync(join(dir, 'vectors.bin'), Buffer.alloc(7, 0xab));
  const reopened = new EmbeddingCache(dir, dims);
  assert.equal(reopened.size, 3);
  assert.deepEqual(reopened.get(keys[1]), rows[1]);
  assert.equal(statSync(join(dir, 'vectors.bin')).size, 32 + 3 * (32 + dims * 4 + 4), 'the torn tail was cut off');
  reopened.close();

  // Flip a byte inside record 2's vector: that record is a miss, not a wrong vector.
  const fd = openSync(join(dir, 'vectors.bin'), 'r+');
  writeSync(fd, Buffer.from([0x7f]), 0, 1, 32 + 2 * (32 + dims * 4 + 4) + 32 + 1);
  closeSync(fd);
  const damaged = new EmbeddingCache(dir, dims);
  assert.equal(damaged.get(keys[2]), undefined);
  assert.equal(damaged.stats.corruptRecords, 1);
  assert.deepEqual(damaged.get(keys[0]), rows[0]);
  damaged.close();

  // A cache of other dims is started afresh rather than misread.
  const otherDims = new EmbeddingCache(dir, 8);
  assert.equal(otherDims.size, 0);
  otherDims.close();
});

test('a second opener sees the live writer lock and only reads', () => {
  const dir = join(root, 'locked-cache');
  const writer = new EmbeddingCache(dir, 2);
  writer.putMany([textKey('query', 'q')], [new Float32Array([0.6, 0.8])]);
  // The writer's lease lock is live (its heartbeat runs): a second opener only reads.
  const reader = new EmbeddingCache(dir, 2);
  assert.equal(reader.writable, false);
  assert.deepEqual(reader.get(textKey('query', 'q')), new Float32Array([0.6, 0.8]));
  reader.putMany([textKey('query', 'r')], [new Float32Array([1, 0])]);
  assert.equal(reader.size, 1, 'a read-only cache stores nothing');
  reader.close();
  assert.ok(existsSync(join(dir, 'writer.lock')), "a reader leaves the writer's lock alone");
  writer.close();
});

/** A lease lock (src/io/lease-lock.ts) as a process in another container writes it: another host and PID namespace, its pid meaningless here. */
function foreignLock(path: string): void {
  const holder = { host: 'another-container', pid: 1, pidNamespace: 'pid:[4026531836]', processStart: '1', purpose: 'writing the embedding cache', acquiredAt: new Date().toISOString(), token: 'f0'.repeat(12) };
  writeFileSync(path, JSON.stringify(holder) + '\n');
}

test('a writer lock held from another container (live heartbeat, pid 1 there) makes this cache read-only', () => {
  const dir = join(root, 'foreign-cache');
  const first = new EmbeddingCache(dir, 2);
  first.putMany([textKey('document', 'a')], [new Float32Array([1, 0])]);
  first.close();
  foreignLock(join(dir, 'writer.lock'));
  const cache = new EmbeddingCache(dir, 2);
  assert.equal(cache.writable, false, 'a pid from another PID namespace proves nothing: the lock is live by its heartbeat');
  assert.deepEqual(cache.get(textKey('document', 'a')), new Float32Array([1, 0]), 'it still reads');
  cache.putMany([textKey('document', 'b')], [new Float32Array([0, 1])]);
  cache.close();
  assert.equal(statSync(join(dir, 'keys.bin')).size, 32 + 32, 'nothing appended beside the foreign writer');
  assert.match(readFileSync(join(dir, 'writer.lock'), 'utf8'), /another-container/, "the foreign writer's lock is left alone");
});

test('a writer whose lock was taken over stops appending', () => {
  const dir = join(root, 'taken-cache');
  const cache = new EmbeddingCache(dir, 2);
  cache.putMany([textKey('document', 'a')], [new Float32Array([1, 0])]);
  foreignLock(join(dir, 'writer.lock')); // another container judged our heartbeat stale and took the lock
  cache.putMany([textKey('document', 'b')], [new Float32Array([0, 1])]);
  assert.equal(cache.writable, false);
  assert.equal(cache.size, 1);
  cache.close();
  assert.match(readFileSync(join(dir, 'writer.lock'), 'utf8'), /another-container/, 'closing does not remove the new holder\'s lock');
});

test('rows that are not their key\'s (keys.bin and vectors.bin out of step, valid checksums) are misses, never another text\'s vector', () => {
  const [a, b] = [textKey('document', 'a'), textKey('document', 'b')];
  const [va, vb] = [new Float32Array([1, 0]), new Float32Array([0, 1])];
  // Two writers appending at once: the keys in one order, the vectors (each with a valid CRC) in the other.
  const swapped = join(root, 'swapped-cache');
  const keysInOrder = join(root, 'in-order-cache');
  const x = new EmbeddingCache(swapped, 2);
  x.putMany([b, a], [vb, va]);
  x.close();
  const y = new EmbeddingCache(keysInOrder, 2);
  y.putMany([a, b], [va, vb]);
  y.close();
  copyFileSync(join(keysInOrder, 'keys.bin'), join(swapped, 'keys.bin'));
  const cache = new EmbeddingCache(swapped, 2);
  assert.equal(cache.size, 2);
  assert.equal(cache.get(a), undefined, "b's row under a's key is a miss");
  assert.equal(cache.get(b), undefined);
  assert.equal(cache.stats.foreignRecords, 2);
  assert.equal(cache.stats.corruptRecords, 0);
  cache.close();
});
