/**
 * MiningStatistics against exact computations: small data by hand and against a naive reference (sort everything,
 * two-pass variance, type-7 quantiles); big random data within the reservoir's stated rank error; the rank
 * histogram's buckets; short records and the options the report says to loosen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { noExclusions, type ExclusionReason, type MinedRecord } from '../src/mine/miner.js';
import { seededRandom } from '../src/seeded-random.js';
import { DEFAULT_SKETCH_CAPACITY, Distribution, dkwConfidence, QuantileReservoir, STATED_RANK_ERROR } from '../src/mine/distribution.js';
import { EXCLUSIONS, MiningStatistics, WINDOW_ADVICE, type StatisticsOptions } from '../src/mine/statistics.js';

/** Naive reference: everything in memory, two-pass variance (n − 1), Hyndman–Fan type 7 quantiles. */
function reference(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  const quantile = (q: number) => {
    const h = (n - 1) * q;
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, n - 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  };
  return { count: n, mean, std: Math.sqrt(variance), min: sorted[0], p25: quantile(0.25), p50: quantile(0.5), p75: quantile(0.75), max: sorted[n - 1] };
}

function assertClose(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`);
}

const NO_EXCLUSIONS: Record<ExclusionReason, number> = noExclusions();

function mined(positiveScores: number[], negatives: [score: number, rank: number][], excluded: Partial<Record<ExclusionReason, number>> = {}): MinedRecord {
  return {
    record: { lineNumber: 1, byteOffset: 0, endOffset: 0, raw: '{}', value: {} },
    query: 'q',
    positives: positiveScores.map((_, i) => `p${i}`),
    positiveOrdinals: [],
    positiveScores,
    negatives: negatives.map(([score, rank], i) => ({ docOrdinal: i, score, rank })),
    excluded: { ...NO_EXCLUSIONS, ...excluded },
  };
}

/** The small run every exact test uses: 3 records, one with two positives, one without positive scores. */
function smallRun(options: StatisticsOptions = { numNeg: 2, maxRank: 50 }): MiningStatistics {
  const statistics = new MiningStatistics(options);
  statistics.add(mined([10, 8], [[7, 0], [5, 3]], { positive: 1, max_score_ratio: 2 }));
  statistics.add(mined([6], [[6.5, 12]], { margin: 1, duplicate: 4 }));
  statistics.add(mined([], [[2, 250]]));
  return statistics;
}

test('small data: every figure exact, by hand', () => {
  const report = smallRun().toJSON();
  assert.equal(report.records, 3);
  assert.equal(report.negatives, 4);
  assert.deepEqual(report.scores.positive, { count: 3, mean: 8, std: 2, min: 6, p25: 7, p50: 8, p75: 9, max: 10 });
  assert.deepEqual(report.scores.negative, { count: 4, mean: 5.125, std: 2.25, min: 2, p25: 4.25, p50: 5.75, p75: 6.625, max: 7 });
  // difference = the record's LOWEST positive − each negative: 8−7, 8−5, 6−6.5; the record without positives adds none
  const difference = report.scores.difference;
  assert.equal(difference.count, 3);
  assert.equal(difference.min, -0.5);
  assert.equal(difference.max, 3);
  assert.equal(difference.p50, 1);
  assertClose(difference.mean, 3.5 / 3, 'difference mean');
  assert.equal(report.quantiles.exact, true);
  assert.equal(report.quantiles.rank_error, 0);
});

test('small data: the same figures as the naive reference (fast-check, any values up to the capacity)', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }), (values) => {
      const distribution = new Distribution(DEFAULT_SKETCH_CAPACITY, 1, 1);
      for (const v of values) distribution.add(v);
      const summary = distribution.summary();
      const expected = reference(values);
      assert.equal(summary.count, expected.count);
      assertClose(summary.mean, expected.mean, 'mean');
      assert.ok(Math.abs(summary.std! - expected.std) <= 1e-7 * Math.max(1, expected.std), `std ${summary.std} vs ${expected.std}`);
      for (const key of ['min', 'p25', 'p50', 'p75', 'max'] as const) assert.equal(summary[key], expected[key], key);
    }),
    { numRuns: 200, seed: 11 },
  );
});

test('empty distributions report nulls, not NaN; one value has std 0', () => {
  const report = new MiningStatistics({ numNeg: 3 }).toJSON();
  assert.deepEqual(report.scores.positive, { count: 0, mean: null, std: null, min: null, p25: null, p50: null, p75: null, max: null });
  assert.equal(report.negatives_per_record, null);
  assert.equal(report.rank_histogram, null);
  const one = new Distribution(8, 1, 1);
  one.add(4);
  assert.deepEqual(one.summary(), { count: 1, mean: 4, std: 0, min: 4, p25: 4, p50: 4, p75: 4, max: 4 });
});

test('big random data: quartiles within the stated rank error, memory bounded by the reservoir', () => {
  const n = 1_000_000;
  const random = seededRandom(2024, 0);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = -Math.log(1 - random()) * 3 - 1; // skewed (exponential), partly negative
  const distribution = new Distribution(DEFAULT_SKETCH_CAPACITY, 42, 2);
  for (const v of values) distribution.add(v);
  const sorted = values.slice().sort();
  const rankOf = (v: number) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo / n;
  };
  const summary = distribution.summary();
  assert.equal(distribution.sketch.retained, DEFAULT_SKETCH_CAPACITY, 'holds exactly capacity values, not n');
  assert.equal(distribution.sketch.exact, false);
  for (const [q, value] of [[0.25, summary.p25], [0.5, summary.p50], [0.75, summary.p75]] as const) {
    assert.ok(Math.abs(rankOf(value!) - q) <= STATED_RANK_ERROR, `q=${q}: rank ${rankOf(value!)} off by more than ${STATED_RANK_ERROR}`);
  }
  // moments and extremes stay exact
  assertClose(summary.min, sorted[0], 'min');
  assertClose(summary.max, sorted[n - 1], 'max');
  let sum = 0;
  for (const v of values) sum += v;
  assert.ok(Math.abs(summary.mean! - sum / n) < 1e-9, 'mean exact');
  assert.ok(dkwConfidence(DEFAULT_SKETCH_CAPACITY, STATED_RANK_ERROR) > 0.999995, 'the stated confidence is what DKW gives');
});

test('a small reservoir stays within its DKW bound, every seed; same seed, same answer', () => {
  const capacity = 1024;
  const epsilon = Math.sqrt(Math.log(2 / 1e-6) / (2 * capacity)); // P(error > ε) ≤ 1e-6
  const n = 50_000;
  for (let seed = 0; seed < 10; seed++) {
    const reservoir = new QuantileReservoir(capacity, seed);
    for (let i = 0; i < n; i++) reservoir.add((i * 7919) % n); // a permutation of 0..n-1: rank of v is v / n
    assert.equal(reservoir.retained, capacity);
    for (const q of [0.1, 0.25, 0.5, 0.75, 0.9]) assert.ok(Math.abs(reservoir.quantile(q)! / n - q) <= epsilon, `seed ${seed} q ${q}`);
  }
  const again = (seed: number) => {
    const r = new QuantileReservoir(64, seed);
    for (let i = 0; i < 10_000; i++) r.add(i);
    return r.quantile(0.5);
  };
  assert.equal(again(5), again(5));
});

test('rank histogram: 1-2-5 buckets from the first to the last non-empty one; filled negatives apart', () => {
  const statistics = smallRun();
  statistics.add(mined([1], [[0, -1], [0.5, 1]]));
  const report = statistics.toJSON();
  assert.deepEqual(report.rank_histogram, [
    { from: 0, to: 0, count: 1 },
    { from: 1, to: 1, count: 1 },
    { from: 2, to: 2, count: 0 },
    { from: 3, to: 4, count: 1 },
    { from: 5, to: 9, count: 0 },
    { from: 10, to: 19, count: 1 },
    { from: 20, to: 49, count: 0 },
    { from: 50, to: 99, count: 0 },
    { from: 100, to: 199, count: 0 },
    { from: 200, to: 499, count: 1 },
  ]);
  assert.equal(report.filled_negatives, 1);
  const huge = new MiningStatistics();
  huge.addObservation({ positiveScores: [], negativeCount: 1, negativeScores: [], negativeRanks: [3_000_000] });
  assert.deepEqual(huge.toJSON().rank_histogram, [{ from: 100_000, to: null, count: 1 }]);
});

test('short records: counted against --num-neg, with what to loosen (filters that cut them first, then the window)', () => {
  const report = smallRun().toJSON();
  assert.equal(report.short_records.count, 2, 'two records got 1 of 2 negatives');
  assert.equal(report.short_records.fraction, 2 / 3);
  assert.equal(report.short_records.asked, 2);
  assert.equal(report.short_records.asked_inferred, false);
  assert.deepEqual(Object.entries(report.short_records.cut_by), [['duplicate', 1], ['margin', 1]], 'in EXCLUSIONS order');
  assert.deepEqual(report.short_records.loosen, [EXCLUSIONS.margin.loosen, WINDOW_ADVICE.maxRank], 'duplicates are not an option to loosen');
  assert.deepEqual(Object.entries(report.removed), [['positive', 1], ['duplicate', 4], ['max_score_ratio', 2], ['margin', 1]]);
  assert.deepEqual(report.records_by_negative_count, { '1': 2, '2': 1 });

  const unbounded = smallRun({ numNeg: 5 }).toJSON();
  assert.equal(unbounded.short_records.count, 3);
  assert.deepEqual(unbounded.short_records.loosen, [EXCLUSIONS.margin.loosen, EXCLUSIONS.max_score_ratio.loosen], 'ties: by name');
  const bare = new MiningStatistics({ numNeg: 4, suggestFill: true });
  bare.add(mined([1], [[0.5, 0]]));
  assert.deepEqual(bare.toJSON().short_records.loosen, [WINDOW_ADVICE.fill]);
  const nothing = new MiningStatistics({ numNeg: 4 });
  nothing.add(mined([1], [[0.5, 0]]));
  assert.deepEqual(nothing.toJSON().short_records.loosen, [WINDOW_ADVICE.corpus]);
});

test('without --num-neg, the most negatives any record got is the yardstick, and the report says so', () => {
  const statistics = new MiningStatistics();
  statistics.add(mined([1], [[0.5, 0], [0.4, 1], [0.3, 2]]));
  statistics.add(mined([1], [[0.5, 0]]));
  const report = statistics.toJSON();
  assert.equal(report.short_records.asked, 3);
  assert.equal(report.short_records.asked_inferred, true);
  assert.equal(report.short_records.count, 1);
});

test('toTable: an aligned Positive/Negative/Difference table, then the notes and the histogram', () => {
  const table = smallRun().toTable();
  const lines = table.split('\n');
  assert.match(lines[0], /^Metric\s+Positive\s+Negative\s+Difference$/);
  assert.deepEqual(lines.slice(1, 9).map((l) => l.split(/\s+/)[0]), ['Count', 'Mean', 'Std', 'Min', '25%', '50%', '75%', 'Max']);
  const widths = new Set(lines.slice(0, 9).map((l) => l.length));
  assert.equal(widths.size, 1, 'every row of the table has the same width (right-aligned columns)');
  assert.match(lines[2], /^Mean\s+8\.0000\s+5\.1250\s+1\.1667$/);
  assert.ok(table.includes('Records: 3; negatives: 4 (1.33 per record, 2 asked)'));
  assert.ok(table.includes(`Short: 2 records (66.67%) got fewer than 2 negatives; to find more: ${EXCLUSIONS.margin.loosen}; ${WINDOW_ADVICE.maxRank}`));
  assert.ok(table.includes(`Removed 2 candidates: ${EXCLUSIONS.max_score_ratio.removed}`));
  assert.ok(table.includes(`Removed 1 candidate: ${EXCLUSIONS.margin.removed} (in 1 of the short records)`));
  assert.ok(table.includes('Quartiles: exact'));
  assert.match(table, /\n {2}0 {8}1 {3}25\.00% {2}█+\n/);
  assert.match(table, /\n {2}200–499 {2}1 {3}25\.00% {2}█+\n/);
});
