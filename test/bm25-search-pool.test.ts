/**
 * The BM25 search pool: worker threads wrap the index loaded once into SharedArrayBuffers and answer in query
 * order with exactly the one-thread results (the CLI side: test/slow/cli-threads.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAnalyzer } from '../src/text/analyzer.js';
import { newBuildId } from '../src/storage/manifest.js';
import { Bm25IndexWriter } from '../src/bm25/index-writer.js';
import { Bm25Index } from '../src/bm25/index-reader.js';
import { Bm25SearchPool } from '../src/bm25/search-pool.js';
import { repoRoot } from './helpers/shared-data.js';

const fixtureLines = readFileSync(join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl'), 'utf8').trimEnd().split('\n');

test('search threads share the loaded index: the pool answers in query order with the one-thread results', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-pool-'));
  const analyzer = createAnalyzer('en');
  const writer = new Bm25IndexWriter(dir, analyzer, { k1: 0.9, b: 0.4, variant: 'lucene' });
  const texts = fixtureLines.map((line) => JSON.parse(line).text as string);
  for (const text of texts) writer.add('', text);
  writer.finish('test', newBuildId());
  const index = Bm25Index.open(dir, analyzer, 'test');
  assert.ok(index.data.postings.docs.buffer instanceof SharedArrayBuffer, 'postings live in shared memory');
  assert.ok(index.data.dictionary.slots.buffer instanceof SharedArrayBuffer, 'the term dictionary lives in shared memory');
  const queries = fixtureLines.map((line) => JSON.parse(line).question as string);
  const pool = await Bm25SearchPool.start(index.data, 'en', 3);
  try {
    assert.deepEqual(await pool.search(queries, 7), queries.map((q) => index.search(q, 7)));
    assert.deepEqual(await pool.search(queries.slice(0, 2), 5), queries.slice(0, 2).map((q) => index.search(q, 5)), 'fewer queries than threads');
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
