/**
 * A BM25 build on several threads (src/bm25/build-pool.ts) writes the same bytes as a one-thread build: the
 * payload of every file (the container headers differ only by their build ids) and the manifest, here at 3 threads
 * with a memory budget small enough to flush sorted runs (test/slow/bm25-parallel-build-cli.test.ts: 2 threads
 * through `index bm25 --threads`). The corpus brings new terms in every chunk (rare tokens, a
 * Zipf-like vocabulary, non-ASCII words through the analyzer's own tokenizer, stopword-only and empty documents),
 * so the order in which term ids are assigned across chunks and threads is what is tested.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBm25Index, type Bm25BuildCorpus } from '../src/bm25/index-writer.js';
import { Bm25BuildPool, CHUNK_DOCS } from '../src/bm25/build-pool.js';
import { HEADER_BYTES } from '../src/storage/container.js';
import { seededRandom } from '../src/seeded-random.js';

function corpus(count: number): Array<{ title: string; text: string }> {
  const random = seededRandom(26, 0);
  const vocabulary = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}x`);
  const accented = ['café', 'naïve', 'Zürich', 'straße', 'résumé', 'Ωmega'];
  return Array.from({ length: count }, (_, i) => {
    if (i % 997 === 5) return { title: '', text: '' };
    if (i % 991 === 7) return { title: 'the', text: 'and of the to' };
    const words = Array.from({ length: 2 + Math.floor(random() * 40) }, () => vocabulary[Math.floor(random() ** 3 * vocabulary.length)]);
    if (random() < 0.4) words.splice(Math.floor(random() * words.length), 0, `rare${i}q${Math.floor(random() * 1e6)}`);
    if (random() < 0.1) words.push(accented[Math.floor(random() * accented.length)], `${accented[i % accented.length]}${i}`);
    return { title: i % 5 === 0 ? `Title ${i % 13} running` : '', text: words.join(random() < 0.5 ? ' ' : '. ') };
  });
}

function source(docs: Array<{ title: string; text: string }>): Bm25BuildCorpus {
  return { docCount: docs.length, forEachDocument: (visit) => docs.forEach((doc) => visit(doc.title, doc.text)) };
}

async function build(dir: string, docs: Array<{ title: string; text: string }>, threads: number, memoryBudget?: number): Promise<{ runs: number; ticks: number }> {
  let ticks = 0;
  const built = await buildBm25Index(
    dir,
    source(docs),
    { analyzer: 'en', settings: { k1: 0.9, b: 0.4, variant: 'lucene' }, memoryBudget, corpusFingerprint: 'test', docsBuildId: 'fedcba9876543210fedcba9876543210', threads },
    () => ticks++,
  );
  return { runs: built.runs, ticks };
}

const payload = (dir: string, file: string) => readFileSync(join(dir, file)).subarray(HEADER_BYTES);

test('a BM25 build on 3 threads, flushing sorted runs, writes the bytes of a one-thread build', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rare-mine-parallel-build-'));
  try {
    const docs = corpus(5 * CHUNK_DOCS + 123);
    const one = await build(join(root, 'one'), docs, 1);
    assert.equal(one.ticks, docs.length);
    assert.equal(one.runs, 0);
    const three = await build(join(root, 'three'), docs, 3, 2.5 * 1024 * 1024);
    assert.equal(three.ticks, docs.length, 'one progress tick a document');
    assert.ok(three.runs >= 2, `runs: ${three.runs}`);
    for (const file of ['terms.bin', 'postings.bin', 'lengths.bin', 'bounds.bin', 'impacts.bin']) {
      assert.ok(payload(join(root, 'three'), file).equals(payload(join(root, 'one'), file)), `${file} identical`);
    }
    const manifest = (dir: string) => {
      const { buildId: _id, createdAt: _at, checksum: _sum, ...rest } = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      return rest;
    };
    assert.deepEqual(manifest(join(root, 'three')), manifest(join(root, 'one')));
    assert.deepEqual(readdirSync(join(root, 'three')).filter((f) => f.endsWith('.tmp')), [], 'no run left');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a build thread that cannot analyze answers with its error: the writer throws it, it does not wait for ever', async () => {
  const pool = await Bm25BuildPool.start('no-such-lang', 1);
  try {
    pool.submit(['some text']);
    assert.throws(() => pool.take(() => 0), /BM25 build thread: .*unknown --lang "no-such-lang"/s);
  } finally {
    await pool.close();
  }
});
