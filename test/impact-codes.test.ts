/**
 * Impact codes (src/bm25/impact-codes.ts, BM25 format 3): every code decodes to its posting's float32 impact bit for
 * bit, codes are numbered by first occurrence (the bytes depend on the postings only), a term with more distinct
 * impacts than 2-byte codes hold gets 4-byte codes, the writer's width bound is safe, and MaxScore and the
 * exhaustive scorer give the same results over 2-byte and 4-byte codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeBytesFor, encodeImpacts, ImpactEncoder, MAX_NARROW_CODES } from '../src/bm25/impact-codes.js';
import { Bm25IndexWriter } from '../src/bm25/index-writer.js';
import { Bm25Index } from '../src/bm25/index-reader.js';
import { maxScoreTopK, sumsAreExact } from '../src/bm25/max-score.js';
import { createAnalyzer } from '../src/text/analyzer.js';
import { seededRandom } from '../src/seeded-random.js';

function assertDecodes(starts: Float64Array, impacts: Float32Array, coded: ReturnType<typeof encodeImpacts>): void {
  for (let t = 0; t < starts.length - 1; t++) {
    const base = coded.tableStart[t];
    const size = coded.tableStart[t + 1] - base;
    for (let i = starts[t]; i < starts[t + 1]; i++) {
      assert.ok(coded.codes[i] < size, `term ${t} posting ${i}: code ${coded.codes[i]} inside a table of ${size}`);
      assert.ok(Object.is(coded.impactTable[base + coded.codes[i]], impacts[i]), `term ${t} posting ${i}: the same float32`);
    }
  }
}

test('codes decode to every impact bit for bit, numbered by first occurrence, each table holding distinct values', () => {
  const random = seededRandom(7, 0);
  const counts = [0, 1, 5, 300, 4000, 17];
  const starts = new Float64Array(counts.length + 1);
  counts.forEach((count, t) => (starts[t + 1] = starts[t] + count));
  const impacts = new Float32Array(starts[counts.length]);
  // Few distinct values a term (as (tf, length) pairs give), with -0/0 and a denormal among them.
  const palette = [0.5, 1.25, 3.75e-3, 7, 1e-40, 0, 2.5];
  for (let i = 0; i < impacts.length; i++) impacts[i] = palette[Math.floor(random() * palette.length)] * (1 + Math.floor(random() * 9));
  const coded = encodeImpacts(starts, impacts);
  assert.ok(coded.codes instanceof Uint16Array);
  assertDecodes(starts, impacts, coded);
  for (let t = 0; t < counts.length; t++) {
    const table = Array.from(coded.impactTable.subarray(coded.tableStart[t], coded.tableStart[t + 1]));
    assert.equal(new Set(table).size, table.length, `term ${t}: distinct values`);
    const firstSeen = [...new Set(Array.from(impacts.subarray(starts[t], starts[t + 1])))];
    assert.deepEqual(table, firstSeen, `term ${t}: in order of first occurrence`);
  }
  // The same postings coded again: the same bytes.
  const again = encodeImpacts(starts, impacts);
  assert.deepEqual([...again.codes], [...coded.codes]);
  assert.deepEqual([...again.impactTable], [...coded.impactTable]);
});

test('a term with more distinct impacts than 2-byte codes hold: 4-byte codes, still exact', () => {
  const count = MAX_NARROW_CODES + 1000;
  const starts = Float64Array.of(0, 3, 3 + count);
  const impacts = new Float32Array(3 + count);
  impacts.set([1, 2, 1]);
  for (let i = 0; i < count; i++) impacts[3 + i] = 1 + i / 4096;
  const coded = encodeImpacts(starts, impacts);
  assert.ok(coded.codes instanceof Uint32Array, '4-byte codes');
  assertDecodes(starts, impacts, coded);
  const narrow = new ImpactEncoder(MAX_NARROW_CODES);
  assert.throws(() => narrow.addTerm(impacts, 3, count, new Uint16Array(count), 0), RangeError);
});

test('the writer\'s width bound: 2 bytes unless a term has more postings and more (tf, length) pairs than 65,536', () => {
  assert.equal(codeBytesFor(Uint32Array.of(10, MAX_NARROW_CODES * 4), Uint32Array.of(3, 200), 300), 2, '200 tf × 300 lengths < 65,536');
  assert.equal(codeBytesFor(Uint32Array.of(MAX_NARROW_CODES), Uint32Array.of(1000), 1000), 2, 'no more postings than codes');
  assert.equal(codeBytesFor(Uint32Array.of(5, MAX_NARROW_CODES + 1), Uint32Array.of(1, 300), 300), 4);
});

test('MaxScore and the exhaustive scorer: the same results over 2-byte and 4-byte codes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-codes-'));
  try {
    const random = seededRandom(11, 0);
    const words = Array.from({ length: 60 }, (_, i) => `w${i.toString(36)}x`);
    const word = () => words[Math.floor(words.length * random() ** 2)];
    const analyzer = createAnalyzer('en');
    const writer = new Bm25IndexWriter(dir, analyzer, { k1: 0.9, b: 0.4, variant: 'lucene' });
    for (let d = 0; d < 9000; d++) writer.add('', Array.from({ length: 3 + Math.floor(random() * 40) }, word).join(' '));
    const manifest = writer.finish('fingerprint', 'docs-build');
    const index = Bm25Index.open(dir, analyzer, 'rebuild');
    assert.equal(manifest.version, 3);
    const narrow = index.data.postings;
    assert.ok(narrow.codes instanceof Uint16Array);
    const wide = { ...narrow, codes: Uint32Array.from(narrow.codes) };
    for (let q = 0; q < 40; q++) {
      const terms: Array<[number, number]> = [];
      for (let j = 0; j < 1 + Math.floor(random() * 12); j++) terms.push([Math.floor(random() * index.termCount), 1 + Math.floor(random() * 2)]);
      const unique = [...new Map(terms).entries()];
      if (!sumsAreExact(narrow, unique)) continue;
      for (const k of [1, 28, 100]) {
        const expected = maxScoreTopK(narrow, unique, k);
        assert.deepEqual(maxScoreTopK(wide, unique, k), expected, `query ${q}, k ${k}: 4-byte codes`);
      }
    }
    for (let q = 0; q < 20; q++) {
      const query = Array.from({ length: 1 + Math.floor(random() * 10) }, word).join(' ');
      for (const k of [1, 28, 100]) assert.deepEqual(index.searchPruned(query, k), index.searchExhaustive(query, k), `"${query}", k ${k}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
