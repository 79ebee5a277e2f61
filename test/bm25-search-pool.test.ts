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
import { Bm25SearchPool, claimChunk, CLAIM_SLOTS } from '../src/bm25/search-pool.js';
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

test('a chunk offered to every search thread is claimed by exactly one, and never again once a later chunk holds its slot', () => {
  const claims = new Int32Array(new SharedArrayBuffer(CLAIM_SLOTS * 4)).fill(-1);
  assert.equal(claimChunk(claims, 0), true, 'the first thread to reach chunk 0 takes it');
  assert.equal(claimChunk(claims, 0), false, 'the others pass over it');
  assert.equal(claimChunk(claims, 1), true);
  assert.equal(claimChunk(claims, CLAIM_SLOTS), true, 'a later chunk in an answered chunk’s slot');
  assert.equal(claimChunk(claims, 0), false, 'a thread reaching chunk 0 late finds a later id there');
  assert.equal(claimChunk(claims, CLAIM_SLOTS), false);
});

test('the pool answers searches of more chunks than the claims table holds, several at once, in query order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-pool-'));
  const analyzer = createAnalyzer('en');
  const writer = new Bm25IndexWriter(dir, analyzer, { k1: 0.9, b: 0.4, variant: 'lucene' });
  for (const line of fixtureLines) writer.add('', JSON.parse(line).text as string);
  writer.finish('test', newBuildId());
  const index = Bm25Index.open(dir, analyzer, 'test');
  // Distinct queries: each fixture question with one of its words left out in turn.
  const questions = fixtureLines.map((line) => (JSON.parse(line).question as string).split(' '));
  const queries: string[] = [];
  for (let round = 0; queries.length < 9 * CLAIM_SLOTS; round++) {
    for (const words of questions) queries.push(words.filter((_, i) => i !== round % words.length).join(' ') + ` r${round}`);
  }
  const pool = await Bm25SearchPool.start(index.data, 'en', 2);
  try {
    const [first, second, third] = await Promise.all([pool.search(queries, 3), pool.search(queries.slice(0, 5), 9), pool.search([], 3)]);
    assert.deepEqual(first, queries.map((q) => index.search(q, 3)));
    assert.deepEqual(second, queries.slice(0, 5).map((q) => index.search(q, 9)));
    assert.deepEqual(third, []);
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
