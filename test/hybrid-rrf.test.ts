/**
 * Reciprocal rank fusion against a hand computation, and the placement of out-of-list documents.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HybridRetriever } from '../src/hybrid/hybrid-retriever.js';
import type { Candidate, CorpusView, Retriever } from '../src/retriever.js';
import { normalizedTextHash } from '../src/text/normalize.js';

const texts = ['a', 'b', 'c', 'd', 'e'];
const corpus: CorpusView = {
  docCount: texts.length,
  text: (o) => texts[o],
  id: (o) => `d${o}`,
  ordinalOfId: () => undefined,
  ordinalOfText: () => undefined,
  normalizedTextHash: (o) => normalizedTextHash(texts[o]),
};

function engine(name: string, scores: number[]): Retriever {
  const ranking: Candidate[] = scores.map((score, docOrdinal) => ({ docOrdinal, score })).filter((c) => c.score > 0).sort((x, y) => y.score - x.score || x.docOrdinal - y.docOrdinal);
  return {
    name,
    corpus,
    search: async (queries, k) => queries.map(() => ranking.slice(0, k)),
    scoreDocuments: async (_q, ordinals) => ordinals.map((o) => scores[o]),
    scoreTexts: async (_q, passages) => passages.map((p) => scores[texts.indexOf(p)] ?? 0),
    describe: () => ({ engine: 'fake' }),
    close: () => undefined,
  };
}

test('RRF fuses ranks: 1/(k + rank) summed over engines', async () => {
  // Engine A ranks d0 > d1 > d2; engine B ranks d2 > d0 > d3.
  const a = engine('a', [3, 2, 1, 0, 0]);
  const b = engine('b', [2, 0, 3, 1, 0]);
  const hybrid = new HybridRetriever([a, b], { rrfK: 60, fusionDepth: 10 });
  const [fused] = await hybrid.search(['q'], 10);
  const expected = new Map([
    [0, 1 / 61 + 1 / 62],
    [2, 1 / 63 + 1 / 61],
    [1, 1 / 62],
    [3, 1 / 63],
  ]);
  assert.deepEqual(fused.map((c) => c.docOrdinal), [0, 2, 1, 3]);
  for (const c of fused) assert.ok(Math.abs(c.score - expected.get(c.docOrdinal)!) < 1e-12);
  // scoreDocuments of a listed document equals its fused score; d4 is in no list: rank just past each list.
  const scores = await hybrid.scoreDocuments('q', [0, 4]);
  assert.ok(Math.abs(scores[0] - expected.get(0)!) < 1e-12);
  assert.ok(Math.abs(scores[1] - (1 / 64 + 1 / 64)) < 1e-12);
  const [textScore] = await hybrid.scoreTexts('q', ['c']);
  assert.ok(Math.abs(textScore - expected.get(2)!) < 1e-12);
  const [top1] = await hybrid.search(['q'], 1);
  assert.deepEqual(top1.map((c) => c.docOrdinal), [0]);
});

test('weighted RRF: each contribution is scaled by its engine weight', async () => {
  const a = engine('a', [3, 2, 1, 0, 0]);
  const b = engine('b', [2, 0, 3, 1, 0]);
  const hybrid = new HybridRetriever([a, b], { rrfK: 60, fusionDepth: 10, weights: [1, 0.25] });
  const [fused] = await hybrid.search(['q'], 10);
  const expected = new Map([
    [0, 1 / 61 + 0.25 / 62],
    [1, 1 / 62],
    [2, 1 / 63 + 0.25 / 61],
    [3, 0.25 / 63],
  ]);
  assert.deepEqual(fused.map((c) => c.docOrdinal), [0, 2, 1, 3]);
  for (const c of fused) assert.ok(Math.abs(c.score - expected.get(c.docOrdinal)!) < 1e-12);
});
