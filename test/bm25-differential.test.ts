/**
 * Differential test: the index's exact top-k equals an exhaustive scorer's — same documents and scores within
 * 1e-5 — on a hand-made corpus and on randomized corpora with many ties and repeated terms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createAnalyzer } from '../src/text/analyzer.js';
import { Bm25IndexWriter } from '../src/bm25/index-writer.js';
import { Bm25Index } from '../src/bm25/index-reader.js';
import { postingBounds, sumsAreExact, WINDOW } from '../src/bm25/max-score.js';
import { luceneQuantizedLength } from '../src/bm25/scoring.js';
import { NaiveBm25 } from './helpers/naive-bm25.js';
import { newBuildId } from '../src/storage/manifest.js';

const analyzer = createAnalyzer('en');

function buildIndex(texts: string[], variant: 'lucene' | 'robertson', k1 = 0.9, b = 0.4): { index: Bm25Index; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-diff-'));
  const writer = new Bm25IndexWriter(dir, analyzer, { k1, b, variant });
  for (const text of texts) writer.add('', text);
  writer.finish('test', newBuildId());
  return { index: Bm25Index.open(dir, analyzer, 'test'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Top-k equality modulo the order of exactly tied scores. */
function assertSameTopK(actual: Array<{ docOrdinal: number; score: number }>, expected: Array<{ docOrdinal: number; score: number }>, k: number, naive: NaiveBm25, query: string) {
  const want = expected.slice(0, k);
  assert.equal(actual.length, want.length, `result count for "${query}"`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(actual[i].score - want[i].score) <= 1e-5, `score at rank ${i} for "${query}": ${actual[i].score} vs ${want[i].score}`);
    assert.ok(Math.abs(naive.score(query, actual[i].docOrdinal) - actual[i].score) <= 1e-5, `doc ${actual[i].docOrdinal} score`);
  }
  // Documents may differ only where scores tie (within 1e-5) at the cut-off.
  const cutoff = want.length > 0 ? want[want.length - 1].score : Infinity;
  const strictlyAbove = new Set(want.filter((c) => c.score > cutoff + 1e-5).map((c) => c.docOrdinal));
  for (const doc of strictlyAbove) assert.ok(actual.some((c) => c.docOrdinal === doc), `doc ${doc} missing for "${query}"`);
}

test('Lucene length quantization matches SmallFloat.intToByte4 round trips', () => {
  assert.deepEqual([0, 1, 23, 24, 25, 30, 40, 100, 1000].map(luceneQuantizedLength), [0, 1, 23, 24, 25, 30, 40, 96, 984]);
});

test('hand-made corpus: exact top-k for both variants', () => {
  const texts = [
    'The cat sat on the mat.',
    'Cats and dogs are pets; a cat is a pet.',
    'Dogs chase cats around the garden',
    'Stock markets fell sharply today',
    'The mat was red, the cat was black, the cat slept',
    'Nothing in common here at all',
  ];
  for (const variant of ['lucene', 'robertson'] as const) {
    const { index, cleanup } = buildIndex(texts, variant);
    const naive = new NaiveBm25(analyzer, texts, { k1: 0.9, b: 0.4, variant, quantize: luceneQuantizedLength });
    for (const query of ['cat', 'cat mat', 'dogs chasing cats', 'markets', 'unknownword', 'the']) {
      for (const k of [1, 3, 10]) {
        assertSameTopK(index.search(query, k), naive.rank(query), k, naive, query);
        assertSameTopK(index.searchPruned(query, k), naive.rank(query), k, naive, query);
      }
    }
    // A document's score equals the score it gets as a text, and as a scored ordinal.
    const scores = index.scoreDocuments('cat mat', [0, 4, 3]);
    scores.forEach((s, i) => assert.ok(Math.abs(s - naive.score('cat mat', [0, 4, 3][i])) <= 1e-5));
    assert.ok(Math.abs(index.scoreText('cat mat', texts[4]) - scores[1]) <= 1e-6);
    assert.equal(index.scoreText('cat mat', 'stock prices'), 0);
    cleanup();
  }
});

test('randomized corpora: index top-k equals the exhaustive scorer', () => {
  const vocabulary = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'the', 'of', 'running', 'runs'];
  const word = fc.constantFrom(...vocabulary);
  const doc = fc.array(word, { minLength: 0, maxLength: 40 }).map((words) => words.join(' '));
  fc.assert(
    fc.property(
      fc.array(doc, { minLength: 1, maxLength: 60 }),
      fc.array(fc.array(word, { minLength: 1, maxLength: 5 }).map((w) => w.join(' ')), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 30 }),
      fc.constantFrom('lucene' as const, 'robertson' as const),
      fc.double({ min: 0.1, max: 2, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (texts, queries, k, variant, k1, b) => {
        const { index, cleanup } = buildIndex(texts, variant, k1, b);
        try {
          const naive = new NaiveBm25(analyzer, texts, { k1, b, variant, quantize: luceneQuantizedLength });
          for (const query of queries) {
            assertSameTopK(index.search(query, k), naive.rank(query), k, naive, query);
            assertSameTopK(index.searchPruned(query, k), naive.rank(query), k, naive, query);
          }
        } finally {
          cleanup();
        }
      },
    ),
    { numRuns: 60, seed: 20261122 },
  );
});

/** Pruned and exhaustive top-k must agree exactly: same documents, same float64 scores, same order. */
function assertIdentical(index: Bm25Index, query: string, k: number): void {
  const pruned = index.searchPruned(query, k);
  const reference = index.searchExhaustive(query, k);
  assert.deepEqual(pruned, reference, `query "${query.slice(0, 80)}" k=${k}`);
  assert.deepEqual(index.search(query, k), reference, `search() for "${query.slice(0, 80)}" k=${k}`);
}

test('MaxScore pruning equals the exhaustive scorer exactly: random corpora, every k, repeated terms, long queries', () => {
  // A Zipf-like vocabulary, so bounds differ widely between terms and pruning has something to skip.
  const vocabulary = Array.from({ length: 60 }, (_, i) => `w${i}x`);
  const zipfWord = fc.integer({ min: 0, max: 3599 }).map((n) => vocabulary[Math.floor(Math.sqrt(n))]);
  const doc = fc.array(zipfWord, { minLength: 0, maxLength: 30 }).map((words) => words.join(' '));
  const query = fc.oneof(
    fc.array(zipfWord, { minLength: 1, maxLength: 6 }),
    fc.array(fc.constantFrom(...vocabulary.slice(0, 5)), { minLength: 2, maxLength: 8 }), // repeated terms
    fc.array(zipfWord, { minLength: 60, maxLength: 200 }), // very long queries
  ).map((words) => words.join(' '));
  fc.assert(
    fc.property(
      fc.array(doc, { minLength: 1, maxLength: 150 }),
      fc.array(query, { minLength: 1, maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 4 }),
      fc.constantFrom('lucene' as const, 'robertson' as const),
      (texts, queries, ks, variant) => {
        const { index, cleanup } = buildIndex(texts, variant);
        try {
          for (const q of queries) {
            const matches = index.searchExhaustive(q, texts.length).length;
            // Every k from 1 to past the whole ranking on small cases; random ones otherwise.
            const every = matches <= 40 ? Array.from({ length: matches + 2 }, (_, i) => i + 1) : [];
            for (const k of [...ks, ...every, matches, matches + 1]) if (k >= 1) assertIdentical(index, q, k);
          }
        } finally {
          cleanup();
        }
      },
    ),
    { numRuns: 50, seed: 20261130 },
  );
});

test('MaxScore pruning equals the exhaustive scorer where scores tie a lot (duplicate documents)', () => {
  const texts = Array.from({ length: 300 }, (_, i) => ['red fox jumps', 'red fox', 'lazy dog sleeps', 'red dog', 'fox dog red'][i % 5]);
  const { index, cleanup } = buildIndex(texts, 'lucene');
  try {
    for (const q of ['red fox', 'red red dog fox', 'dog', 'fox sleeps lazy red']) for (const k of [1, 2, 5, 59, 60, 61, 100, 299, 300, 301, 1000]) assertIdentical(index, q, k);
  } finally {
    cleanup();
  }
});

test('MaxScore reads fewer postings than the exhaustive scorer on a skewed corpus (the pruning happens)', () => {
  const texts = Array.from({ length: 3000 }, (_, i) => `common frequent ordinary ${i % 7 === 0 ? 'rare' : 'usual'} ${i % 101 === 0 ? 'unique' : 'plain'} doc${i % 50}`);
  const { index, cleanup } = buildIndex(texts, 'lucene');
  try {
    const query = 'common frequent ordinary rare unique usual plain';
    const pruned = { postingsScored: 0, documentsScored: 0 };
    const exhaustive = { postingsScored: 0, documentsScored: 0 };
    assert.deepEqual(index.searchPruned(query, 10, pruned), index.searchExhaustive(query, 10, exhaustive));
    assert.ok(pruned.postingsScored * 3 < exhaustive.postingsScored, `pruned ${pruned.postingsScored} vs exhaustive ${exhaustive.postingsScored} postings`);
  } finally {
    cleanup();
  }
});

test('MaxScore pruning equals the exhaustive scorer across many aligned windows (frequent terms bounded per window)', () => {
  // 20,000 documents span five 4096-document windows, so frequent terms get window maxima rows and the first
  // window's small sub-windows, the aligned windows and the last partial window are all crossed.
  let seed = 7;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const vocabulary = Array.from({ length: 400 }, (_, i) => `t${i}q`);
  const word = () => vocabulary[Math.floor(vocabulary.length * random() ** 3)];
  const texts = Array.from({ length: 20_000 }, () => Array.from({ length: 3 + Math.floor(random() * 25) }, word).join(' '));
  const { index, cleanup } = buildIndex(texts, 'lucene');
  try {
    for (let i = 0; i < 25; i++) {
      const query = Array.from({ length: 1 + Math.floor(random() * 20) }, word).join(' ');
      for (const k of [1, 28, 100, 1000]) assertIdentical(index, query, k);
    }
  } finally {
    cleanup();
  }
});

test('MaxScore with windows scored ahead of the doc-order pass (16 windows and more) equals the exhaustive scorer', () => {
  // 66,000 documents = 17 aligned windows: the best windows (by bound) are scored first, then the doc-order pass
  // skips them and every column whose bound cannot reach the k-th score. Sentences repeated across the corpus
  // (as in the scale generator's passages) put the best documents in many windows; ties abound.
  let seed = 11;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const vocabulary = Array.from({ length: 3000 }, (_, i) => `v${i}z`);
  const word = () => vocabulary[Math.floor(vocabulary.length * random() ** 4)];
  const sentences = Array.from({ length: 500 }, () => Array.from({ length: 6 + Math.floor(random() * 10) }, word).join(' '));
  const texts = Array.from({ length: 66_000 }, () =>
    Array.from({ length: 1 + Math.floor(random() * 3) }, () => (random() < 0.5 ? sentences[Math.floor(random() * sentences.length)] : Array.from({ length: 4 }, word).join(' '))).join(' '),
  );
  const { index, cleanup } = buildIndex(texts, 'lucene');
  try {
    const work = { postingsScored: 0, documentsScored: 0, windowsScoredAhead: 0 };
    for (let i = 0; i < 20; i++) {
      const query = i % 2 === 0 ? sentences[Math.floor(random() * sentences.length)] : Array.from({ length: 1 + Math.floor(random() * 20) }, word).join(' ');
      for (const k of [1, 28, 100, 1000]) assertIdentical(index, query, k);
      index.searchPruned(query, 28, work);
    }
    assert.ok(work.windowsScoredAhead >= 20 * 4, `windows scored ahead: ${work.windowsScoredAhead} (at least 4 a query: a quarter of 17)`);
  } finally {
    cleanup();
  }
});

test('window tables: each frequent term\'s largest impact and first posting per window, empty windows included', () => {
  // Term 0 is in every document, term 1 in the first and last windows only (its middle windows are empty),
  // term 2 is too rare for a row.
  const docCount = 5 * WINDOW + 100;
  const lists: Array<Array<[number, number]>> = [
    Array.from({ length: docCount }, (_, doc) => [doc, 1 + (doc % 97) / 8]),
    [...Array.from({ length: 4 * 6 * 2 }, (_, i): [number, number] => [i * 7, 2 + i / 16]), ...Array.from({ length: 4 * 6 * 2 }, (_, i): [number, number] => [5 * WINDOW + i, 3 + i / 32])],
    [[5, 1], [3 * WINDOW, 2]],
  ];
  const starts = new Float64Array(lists.length + 1);
  lists.forEach((list, t) => (starts[t + 1] = starts[t] + list.length));
  const docs = new Uint32Array(lists.flat().map(([doc]) => doc));
  const impacts = new Float32Array(lists.flat().map(([, impact]) => impact));
  const tables = postingBounds(starts, docs, impacts, docCount);
  assert.equal(tables.windowCount, 6);
  assert.deepEqual([...tables.windowRow], [0, 1, -1]);
  for (const t of [0, 1]) {
    for (let w = 0; w < tables.windowCount; w++) {
      const inWindow = lists[t].map(([doc], i) => ({ doc, i })).filter(({ doc }) => doc >= w * WINDOW);
      const cell: number = tables.windowRow[t] * tables.windowCount + w;
      assert.equal(tables.windowFirst[cell], inWindow.length > 0 ? inWindow[0].i : lists[t].length, `term ${t} window ${w}: first posting`);
      const maxima = lists[t].filter(([doc]) => Math.floor(doc / WINDOW) === w).map(([, impact]) => Math.fround(impact));
      assert.equal(tables.windowMax[cell], maxima.length > 0 ? Math.max(...maxima) : 0, `term ${t} window ${w}: maximum`);
    }
  }
});

test('sumsAreExact: order-free sums where every contribution is a multiple of one float32 step far below the largest score', () => {
  const arrays = (max: number[], min: number[]) => ({ maxImpact: Float32Array.from(max), minImpact: Float32Array.from(min) });
  const index = arrays([12.5, 3.25, 1e3, 1e-30], [0.01, 0.5, 1e-3, 1e-30]);
  assert.equal(sumsAreExact(index, [[0, 1], [1, 2]]), true);
  assert.equal(sumsAreExact(index, [[0, 1], [1, 2], [2, 60]]), true);
  // A term with impacts near 1e-30 beside one reaching 1e3: its steps are far too fine for float64 to add exactly.
  assert.equal(sumsAreExact(index, [[2, 1], [3, 1]]), false);
  assert.equal(sumsAreExact(index, [[3, 1]]), true);
  // Multiplicities must be whole numbers for w·impact to stay on the step grid.
  assert.equal(sumsAreExact(index, [[0, 1.5]]), false);
  // Order-free in fact: the sum of these contributions is the same in every order.
  const values = [12.5, 3.25 * 2, Math.fround(0.1), Math.fround(7.3), Math.fround(0.01)];
  const forward = values.reduce((a, b) => a + b, 0);
  const backward = [...values].reverse().reduce((a, b) => a + b, 0);
  assert.equal(forward, backward);
});
