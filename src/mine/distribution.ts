/**
 * Distributions in bounded memory, for the end-of-run statistics (statistics.ts) and the report: count, mean and
 * std as exact running sums (Welford), min and max exact, quantiles from a seeded fixed-size reservoir sample
 * (Vitter's Algorithm R) — exact while at most `capacity` values were added, otherwise within ±ε in rank with
 * probability ≥ 1 − 2·exp(−2·capacity·ε²) (Dvoretzky–Kiefer–Wolfowitz with Massart's constant); and the histogram
 * of raw ranks in fixed buckets. What must hold: same seed, same values in the same order, same figures.
 */
import { seededRandom } from '../seeded-random.js';

/** Default reservoir size per distribution: 65,536 doubles, 512 KiB (three distributions: 1.5 MiB). */
export const DEFAULT_SKETCH_CAPACITY = 65_536;
/** Default reservoir seed. */
export const DEFAULT_SKETCH_SEED = 42;
/** The rank error the report states for a sampled quantile (the ε of the DKW bound). */
export const STATED_RANK_ERROR = 0.01;

/** Probability that every quantile of a k-value uniform sample is within ±ε in rank (DKW–Massart). */
export function dkwConfidence(capacity: number, rankError: number): number {
  return Math.max(0, 1 - 2 * Math.exp(-2 * capacity * rankError * rankError));
}

/**
 * A uniform random sample of at most `capacity` of the values added (Algorithm R, seeded), and quantiles of it.
 * While at most `capacity` values were added it holds them all and its quantiles are exact.
 */
export class QuantileReservoir {
  private readonly values: Float64Array;
  private size = 0;
  private seen = 0;
  private sorted?: Float64Array;
  private readonly random: () => number;

  constructor(readonly capacity = DEFAULT_SKETCH_CAPACITY, seed = DEFAULT_SKETCH_SEED, stream = 0) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`reservoir capacity must be an integer ≥ 1, got ${capacity}`);
    this.values = new Float64Array(capacity);
    this.random = seededRandom(seed, stream);
  }

  /** Values added so far. */
  get count(): number {
    return this.seen;
  }

  /** Values held (≤ capacity): the sample the quantiles are computed from. */
  get retained(): number {
    return this.size;
  }

  /** True while every value added is held, so quantiles are exact. */
  get exact(): boolean {
    return this.seen === this.size;
  }

  add(value: number): void {
    this.seen++;
    if (this.size < this.capacity) {
      this.values[this.size++] = value;
      this.sorted = undefined;
      return;
    }
    const slot = Math.floor(this.random() * this.seen);
    if (slot < this.capacity) {
      this.values[slot] = value;
      this.sorted = undefined;
    }
  }

  /** The values held, sorted ascending (every value added while `exact`; else the uniform sample). */
  sortedSample(): Float64Array {
    if (!this.sorted) this.sorted = this.values.slice(0, this.size).sort();
    return this.sorted;
  }

  /**
   * The q-quantile (0 ≤ q ≤ 1) of the sample by linear interpolation between order statistics (Hyndman & Fan type 7,
   * the default of numpy, torch.quantile and R); undefined when empty.
   */
  quantile(q: number): number | undefined {
    if (this.size === 0) return undefined;
    const sorted = this.sortedSample();
    const h = (this.size - 1) * Math.min(1, Math.max(0, q));
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, this.size - 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  }
}

/** count, mean, std (sample, n − 1, as torch.std and pandas), min, quartiles, max; null fields when empty. */
export interface DistributionSummary {
  count: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  p25: number | null;
  p50: number | null;
  p75: number | null;
  max: number | null;
}

/** One score distribution: exact running moments and extremes, quartiles from a reservoir. */
export class Distribution {
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  readonly sketch: QuantileReservoir;

  constructor(capacity: number, seed: number, stream: number) {
    this.sketch = new QuantileReservoir(capacity, seed, stream);
  }

  get count(): number {
    return this.n;
  }

  add(value: number): void {
    this.n++;
    const delta = value - this.mean;
    this.mean += delta / this.n;
    this.m2 += delta * (value - this.mean);
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.sketch.add(value);
  }

  summary(): DistributionSummary {
    if (this.n === 0) return { count: 0, mean: null, std: null, min: null, p25: null, p50: null, p75: null, max: null };
    return {
      count: this.n,
      mean: this.mean,
      std: this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0,
      min: this.min,
      p25: this.sketch.quantile(0.25)!,
      p50: this.sketch.quantile(0.5)!,
      p75: this.sketch.quantile(0.75)!,
      max: this.max,
    };
  }
}

/**
 * Lower bounds of the rank buckets (1-2-5 steps): 0, 1, 2, 3–4, 5–9, 10–19, 20–49, ... , ≥ 100,000. Fine where
 * negatives usually come from (the top ranks), coarse in the tail, and a fixed size whatever the ranking depth.
 */
export const RANK_BUCKET_STARTS = [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000] as const;

/** One bucket of the rank histogram: ranks from..to inclusive (`to` null for the open last bucket). */
export interface RankBucket {
  from: number;
  to: number | null;
  count: number;
}

/** How many negatives came from each raw-rank bucket; rank −1 (a --fill draw from outside the ranking) counts apart. */
export class RankHistogram {
  private readonly counts = new Array<number>(RANK_BUCKET_STARTS.length).fill(0);
  private total = 0;
  private unranked = 0;

  /** Negatives counted, ranked and filled. */
  get count(): number {
    return this.total;
  }

  /** Negatives with rank −1: drawn by --fill from outside the ranking. */
  get filled(): number {
    return this.unranked;
  }

  add(rank: number): void {
    this.total++;
    if (rank < 0) {
      this.unranked++;
      return;
    }
    let bucket = RANK_BUCKET_STARTS.length - 1;
    while (bucket > 0 && rank < RANK_BUCKET_STARTS[bucket]) bucket--;
    this.counts[bucket]++;
  }

  /** The buckets from the first to the last non-empty one (none when empty). */
  buckets(): RankBucket[] {
    const first = this.counts.findIndex((c) => c > 0);
    if (first < 0) return [];
    let last = this.counts.length - 1;
    while (this.counts[last] === 0) last--;
    const result: RankBucket[] = [];
    for (let i = first; i <= last; i++) {
      const to = i + 1 < RANK_BUCKET_STARTS.length ? RANK_BUCKET_STARTS[i + 1] - 1 : null;
      result.push({ from: RANK_BUCKET_STARTS[i], to, count: this.counts[i] });
    }
    return result;
  }
}
