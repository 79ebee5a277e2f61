/**
 * The candidate funnel adds up: for random corpora, scores, windows, filters, dedup, sampling and --fill, every
 * record's ranked + fill-drawn candidates = outside the window + removed by each reason + not selected + chosen,
 * and the statistics' funnel ends at the number of negatives written. And an exact ranking (Retriever.exactRanking)
 * is searched shallower first and mines the same negatives as a deeper first search.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Miner, type MiningOptions } from '../src/mine/miner.js';
import type { Candidate, CorpusView, Retriever } from '../src/retriever.js';
import { funnelStages, MiningStatistics } from '../src/mine/statistics.js';
import { normalizedTextHash } from '../src/text/normalize.js';

/** Like BM25: ranks only the documents scoring above 0, so --fill has documents outside the ranking to draw. */
function retrieverOf(texts: string[], scores: number[]): Retriever {
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
  const ranking: Candidate[] = scores
    .map((score, docOrdinal) => ({ docOrdinal, score }))
    .filter((c) => c.score > 0)
    .sort((a, b) => b.score - a.score || a.docOrdinal - b.docOrdinal);
  return {
    name: 'fake',
    corpus,
    search: async (queries, k) => queries.map(() => ranking.slice(0, k)),
    scoreDocuments: async (_q, ordinals) => ordinals.map((o) => scores[o]),
    scoreTexts: async (_q, passages) => passages.map((p) => scores[texts.indexOf(p)] ?? 1),
    describe: () => ({ engine: 'fake' }),
    close: () => undefined,
  };
}

const settings = fc.record({
  // Few distinct words, so duplicates and near-duplicates happen.
  texts: fc.array(fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { minLength: 1, maxLength: 6 }).map((w) => w.join(' ')), { minLength: 2, maxLength: 40 }),
  scoreSeed: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 40, maxLength: 40 }),
  numNeg: fc.integer({ min: 0, max: 8 }),
  minRank: fc.integer({ min: 0, max: 5 }),
  maxRank: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
  sample: fc.constantFrom<'top' | 'random'>('top', 'random'),
  fill: fc.constantFrom<'none' | 'random'>('none', 'random'),
  maxScoreRatio: fc.option(fc.constantFrom(0.5, 0.9), { nil: undefined }),
  margin: fc.option(fc.constantFrom(1, 3), { nil: undefined }),
  minScore: fc.option(fc.constantFrom(2, 5), { nil: undefined }),
  dedupThreshold: fc.option(fc.constantFrom(0.3, 0.8), { nil: undefined }),
  positive: fc.integer({ min: 0, max: 39 }),
});

/** One drawn setting. */
type Setting = typeof settings extends fc.Arbitrary<infer T> ? T : never;

/** The mining options a drawn setting stands for. */
function miningOptions(s: Setting): MiningOptions {
  return {
    questionKey: 'question',
    textKey: 'text',
    positiveIdsKey: 'pos',
    numNeg: s.numNeg,
    minRank: s.minRank,
    maxRank: s.maxRank,
    sample: s.sample,
    seed: 7,
    fill: s.fill,
    maxScoreRatio: s.maxScoreRatio,
    margin: s.margin,
    minScore: s.minScore,
    dedupThreshold: s.dedupThreshold,
  };
}

/** Input records (line numbers from 1) as the miner parses them. */
function parsedRecords(miner: Miner, values: Array<Record<string, string>>) {
  return values.map((value, i) => {
    const raw = JSON.stringify(value);
    return miner.parse({ lineNumber: i + 1, byteOffset: 0, endOffset: raw.length + 1, raw, value });
  });
}

test('every record: ranked + fill drawn = outside window + removed + not selected + chosen; the stages end at the negatives', async () => {
  await fc.assert(
    fc.asyncProperty(settings, async (s) => {
      const scores = s.texts.map((_, i) => s.scoreSeed[i]);
      const retriever = retrieverOf(s.texts, scores);
      const miner = new Miner(retriever, miningOptions(s), 'in.jsonl');
      const parsed = parsedRecords(miner, [
        { question: s.texts[0], pos: `d${s.positive % s.texts.length}` },
        { question: 'zzz', text: s.texts[s.texts.length - 1] },
      ]);
      const statistics = new MiningStatistics({ numNeg: s.numNeg });
      for (const mined of await miner.mine(parsed)) {
        const f = mined.funnel!;
        const removed = Object.values(mined.excluded).reduce((a, b) => a + b, 0);
        assert.equal(f.ranked + f.fillDrawn, f.outsideWindow + removed + f.notSelected + mined.negatives.length, JSON.stringify({ f, excluded: mined.excluded, chosen: mined.negatives.length }));
        assert.ok(f.outsideWindow >= 0 && f.notSelected >= 0);
        if (s.fill === 'none') assert.equal(f.fillDrawn, 0);
        statistics.add(mined);
      }
      const report = statistics.toJSON();
      const stages = funnelStages(report)!;
      assert.equal(stages.at(-1)!.left, report.negatives);
      for (let i = 1; i < stages.length; i++) assert.equal(stages[i].left, stages[i - 1].left - stages[i].removed);
    }),
    { numRuns: 300, seed: 12 },
  );
});

test('an exact ranking is asked for fewer ranks first and gives the same negatives, records left short deepened', async () => {
  let deepenedRecords = 0;
  await fc.assert(
    fc.asyncProperty(settings, async (s) => {
      // Each text four times, with one score: every kept negative costs four ranks (three duplicates excluded).
      const texts = [...s.texts, ...s.texts, ...s.texts, ...s.texts];
      const scores = texts.map((_, i) => s.scoreSeed[i % s.texts.length]);
      const mineWith = async (exactRanking: boolean) => {
        const inner = retrieverOf(texts, scores);
        const depths: number[] = [];
        const retriever: Retriever = {
          ...inner,
          exactRanking,
          search: async (queries, k) => {
            depths.push(k);
            return inner.search(queries, k);
          },
        };
        const miner = new Miner(retriever, miningOptions(s), 'in.jsonl');
        const parsed = parsedRecords(miner, texts.slice(0, 4).map((question, i) => ({ question, pos: `d${(s.positive + i) % texts.length}` })));
        const mined = await miner.mine(parsed);
        return { depths, negatives: mined.map((m) => m.negatives) };
      };
      const exact = await mineWith(true);
      const approximate = await mineWith(false);
      assert.deepEqual(exact.negatives, approximate.negatives);
      assert.ok(exact.depths[0] <= approximate.depths[0], JSON.stringify({ exact: exact.depths, approximate: approximate.depths }));
      if (s.sample === 'top' && s.maxRank === undefined && s.numNeg <= 4) {
        assert.equal(exact.depths[0], Math.min(texts.length, s.minRank + s.numNeg * 2 + 4));
      }
      if (exact.depths.length > 1) deepenedRecords++;
    }),
    { numRuns: 300, seed: 13 },
  );
  // The property met records that the shallow first search left short (so the deepening was exercised).
  assert.ok(deepenedRecords > 10, `${deepenedRecords} runs deepened`);
});

test('the funnel is null when no record carries one (statistics of an output file), and in the stats table otherwise', () => {
  const statistics = new MiningStatistics({ numNeg: 1 });
  statistics.addObservation({ positiveScores: [1], negativeCount: 1, negativeScores: [0.5], negativeRanks: [] });
  assert.equal(statistics.toJSON().funnel, null);
  assert.equal(funnelStages(statistics.toJSON()), null);
  assert.doesNotMatch(statistics.toTable(), /Funnel/);

  const mined = new MiningStatistics({ numNeg: 1 });
  mined.addObservation({
    positiveScores: [1],
    negativeCount: 1,
    negativeScores: [0.5],
    negativeRanks: [],
    excluded: { positive: 1, margin: 2 },
    funnel: { ranked: 10, outsideWindow: 3, fillDrawn: 0, notSelected: 3 },
  });
  const stages = funnelStages(mined.toJSON())!;
  assert.deepEqual(
    stages.map((s) => [s.label.split(' ')[0] + ' ' + (s.label.split(' ')[1] ?? ''), s.removed, s.left]),
    [['candidates (ranked', 0, 10], ['in the', 3, 7], ['after exclusions', 1, 6], ['after --margin', 2, 4], ['after dedup', 0, 4], ['chosen (the', 3, 1]],
  );
  assert.match(mined.toTable(), /Funnel \(candidates left after each step\):\n {2}candidates \(ranked by the retriever\) +10 +100\.00%/);
});
