/**
 * The mining stage's filters and their order, on an in-memory retriever with chosen scores: positive-aware
 * false-negative filters (lowest positive; negative scores), absolute bounds, near-duplicates, re-scoring, and
 * how window, exclusions, filters, dedup and sampling compose.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Miner, type MiningOptions, type Rescorer } from '../src/mine/miner.js';
import { ratioThreshold, rejectingFilter } from '../src/mine/filters.js';
import { jaccard, shingles } from '../src/mine/near-duplicates.js';
import type { Candidate, CorpusView, Retriever } from '../src/retriever.js';
import { normalizedTextHash } from '../src/text/normalize.js';
import type { JsonRecord } from '../src/io/jsonl.js';

/** A retriever whose ranking and scores are given: doc i has text texts[i] and score scores[i] for any query. */
function fakeRetriever(texts: string[], scores: number[], positiveScore = (text: string) => scores[texts.indexOf(text)] ?? 0): Retriever {
  const corpus: CorpusView = {
    docCount: texts.length,
    text: (o) => texts[o],
    id: (o) => `d${o}`,
    ordinalOfId: (id) => (id.startsWith('d') && Number(id.slice(1)) < texts.length ? Number(id.slice(1)) : undefined),
    ordinalOfText: (text) => {
      const i = texts.findIndex((t) => normalizedTextHash(t) === normalizedTextHash(text));
      return i < 0 ? undefined : i;
    },
    normalizedTextHash: (o) => normalizedTextHash(texts[o]),
  };
  const ranking: Candidate[] = scores.map((score, docOrdinal) => ({ docOrdinal, score })).sort((a, b) => b.score - a.score || a.docOrdinal - b.docOrdinal);
  return {
    name: 'fake',
    corpus,
    search: async (queries, k) => queries.map(() => ranking.slice(0, k)),
    scoreDocuments: async (_q, ordinals) => ordinals.map((o) => scores[o]),
    scoreTexts: async (_q, passages) => passages.map(positiveScore),
    describe: () => ({ engine: 'fake' }),
    close: () => undefined,
  };
}

const base: MiningOptions = { questionKey: 'question', textKey: 'text', positiveIdsKey: 'pos', numNeg: 10, minRank: 0, sample: 'top', seed: 1, fill: 'none' };
function record(value: Record<string, unknown>): JsonRecord {
  const raw = JSON.stringify(value);
  return { lineNumber: 1, byteOffset: 0, endOffset: raw.length + 1, raw, value };
}

async function mine(retriever: Retriever, options: Partial<MiningOptions>, value: Record<string, unknown>, rescorer?: Rescorer) {
  const miner = new Miner(retriever, { ...base, ...options }, 'test.jsonl', rescorer);
  const [mined] = await miner.mine([miner.parse(record(value))]);
  return { mined, ids: mined.negatives.map((n) => retriever.corpus.id(n.docOrdinal)), counters: miner.counters };
}

test('ratio threshold stays below the positive for negative scores (no sign flip)', () => {
  assert.equal(ratioThreshold(10, 0.95), 9.5);
  assert.ok(Math.abs(ratioThreshold(-10, 0.95) - -10.5) < 1e-12);
  assert.equal(rejectingFilter(-10.2, -10, { maxScoreRatio: 0.95 }), 'max_score_ratio', 'closer to the positive than 5%: dropped');
  assert.equal(rejectingFilter(-11, -10, { maxScoreRatio: 0.95 }), undefined);
  // The naive R × ref would be −9.5 (above the positive) and would let −9.8 through.
  assert.equal(rejectingFilter(-9.8, -10, { maxScoreRatio: 0.95 }), 'max_score_ratio');
  assert.equal(rejectingFilter(5, undefined, { maxScoreRatio: 0.95, margin: 1 }), undefined, 'no positive: relative filters do not apply');
  assert.equal(rejectingFilter(5, 6, { margin: 2 }), 'margin');
  assert.equal(rejectingFilter(3.9, 6, { margin: 2 }), undefined);
  assert.equal(rejectingFilter(0.5, undefined, { minScore: 1 }), 'min_score');
  assert.equal(rejectingFilter(9, undefined, { maxScore: 8 }), 'max_score');
});

test('--max-score-ratio uses the LOWEST positive score, computed even when the positive is not retrieved', async () => {
  const texts = ['n0', 'n1', 'n2', 'n3', 'n4', 'p-high', 'p-low'];
  const scores = [9.8, 9.4, 8, 7, 6, 20, 10];
  const retriever = fakeRetriever(texts, scores);
  // Positives: p-high by text (20) and p-low by id (10): reference = 10, threshold 9.5.
  const { mined, ids, counters } = await mine(retriever, { maxScoreRatio: 0.95, numNeg: 3 }, { question: 'q', text: 'p-high', pos: 'd6' });
  assert.deepEqual(mined.positiveScores, [20, 10]);
  assert.deepEqual(ids, ['d1', 'd2', 'd3']);
  assert.equal(counters.excluded.max_score_ratio, 1);
  assert.equal(counters.excluded.positive, 2);
});

test('negative scores: the ratio filter removes candidates just below a negative positive score', async () => {
  const texts = ['a', 'b', 'c', 'pos'];
  const scores = [-1.0, -1.04, -2, -1.02];
  const { ids } = await mine(fakeRetriever(texts, scores), { maxScoreRatio: 0.95 }, { question: 'q', text: 'pos' });
  // Threshold: −1.02 − 0.05·1.02 = −1.071: a (−1.0) and b (−1.04) are too close; c stays.
  assert.deepEqual(ids, ['d2']);
});

test('composition: window on raw ranks, then exclusions, filters, dedup, then top-k', async () => {
  const texts = ['pos', 'dup of x', 'x', 'Dup  of X', 'y', 'z', 'w'];
  const scores = [10, 9, 8, 7, 6, 5, 4];
  // Raw ranks: 0 pos, 1 "dup of x", 2 x, 3 "Dup  of X" (same normalised text as rank 1), 4 y, 5 z, 6 w.
  const { ids, counters } = await mine(fakeRetriever(texts, scores), { minRank: 1, maxRank: 6, maxScore: 8.5, numNeg: 2 }, { question: 'q', text: 'pos' });
  // Window ranks 1..5; rank 1 (9) fails --max-score 8.5; rank 2 x kept; rank 3 is a duplicate of rank 1's text,
  // which was filtered, not kept, so it survives; top-2 = x, Dup of X.
  assert.deepEqual(ids, ['d2', 'd3']);
  assert.equal(counters.excluded.max_score, 1);
  assert.equal(counters.excluded.positive, 0, 'the positive at rank 0 is outside the window');
});

test('--dedup-threshold drops near-duplicates of the positive and of kept negatives', async () => {
  const texts = [
    'the quick brown fox jumps over the lazy dog today',
    'the quick brown fox jumps over the lazy dog yesterday',
    'a completely different passage about stock markets and prices',
    'a completely different passage about stock markets and bonds',
    'something else entirely unrelated to anything here at all',
  ];
  const scores = [5, 4, 3, 2, 1];
  const positive = 'the quick brown fox jumps over the lazy dog tomorrow';
  assert.ok(jaccard(shingles(texts[0]), shingles(positive)) >= 0.7);
  const exact = await mine(fakeRetriever(texts, scores), { numNeg: 5 }, { question: 'q', text: positive });
  assert.equal(exact.ids.length, 5);
  const near = await mine(fakeRetriever(texts, scores), { numNeg: 5, dedupThreshold: 0.6 }, { question: 'q', text: positive });
  assert.deepEqual(near.ids, ['d2', 'd4']);
  assert.equal(near.counters.excluded.near_duplicate, 3);
});

test('random sampling draws inside the window, reproducibly, and lists negatives in rank order', async () => {
  const texts = Array.from({ length: 50 }, (_, i) => `doc ${i}`);
  const scores = texts.map((_, i) => 100 - i);
  const a = await mine(fakeRetriever(texts, scores), { sample: 'random', minRank: 10, maxRank: 30, numNeg: 5, seed: 9 }, { question: 'q' });
  const b = await mine(fakeRetriever(texts, scores), { sample: 'random', minRank: 10, maxRank: 30, numNeg: 5, seed: 9 }, { question: 'q' });
  const ranks = a.mined.negatives.map((n) => n.rank);
  assert.equal(ranks.length, 5);
  assert.ok(ranks.every((r) => r >= 10 && r < 30));
  assert.deepEqual(ranks, [...ranks].sort((x, y) => x - y));
  assert.deepEqual(a.ids, b.ids);
});

test('a rescorer replaces scores before the filters, for candidates and positives alike', async () => {
  const texts = ['n0', 'n1', 'n2', 'pos'];
  const scores = [9, 8, 7, 1];
  const rescorer: Rescorer = { name: 'ce', score: async (_q, passages) => passages.map((p) => ({ n0: 0.99, n1: 0.2, n2: 0.3, pos: 1.0 })[p] ?? 0) };
  const { mined, ids, counters } = await mine(fakeRetriever(texts, scores), { maxScoreRatio: 0.95 }, { question: 'q', text: 'pos' }, rescorer);
  assert.deepEqual(mined.positiveScores, [1.0]);
  assert.deepEqual(ids, ['d1', 'd2'], 'n0 scores 0.99 ≥ 0.95 × 1.0 for the cross-encoder: a likely false negative');
  assert.deepEqual(mined.negatives.map((n) => n.score), [0.2, 0.3]);
  assert.equal(counters.excluded.max_score_ratio, 1);
});

test('fewer candidates than asked: written with what exists, counted short, no crash', async () => {
  const { ids, counters } = await mine(fakeRetriever(['only', 'pos'], [2, 1]), { numNeg: 5 }, { question: 'q', text: 'pos' });
  assert.deepEqual(ids, ['d0']);
  assert.equal(counters.short, 1);
});
