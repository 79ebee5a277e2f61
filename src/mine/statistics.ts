/**
 * End-of-run statistics of a mining run, or of an existing output (`rare-mine stats`): the distribution of positive
 * scores, negative scores and their difference; records short of negatives and the options to loosen; candidates
 * each exclusion and filter removed, and the funnel they make (ranked → window → exclusions → filters → dedup →
 * chosen, which adds up: see funnelStages); the histogram of the raw rank each negative came from.
 * What must hold: memory stays bounded however many records pass. Count, mean and std are exact running sums
 * (Welford), min and max exact; quartiles come from a seeded fixed-size reservoir sample (distribution.ts), ±1% in
 * rank with probability ≥ 1 − 4·10⁻⁶ at the default 65,536 values. Same seed, same input order: same report.
 */
import { MINER_EXCLUSIONS, type CandidateFunnel, type ExclusionReason, type MinedRecord } from './miner.js';
import { byFilter, FILTERS_IN_TEST_ORDER } from './filters.js';
import { DEFAULT_SKETCH_CAPACITY, DEFAULT_SKETCH_SEED, Distribution, dkwConfidence, RankHistogram, STATED_RANK_ERROR, type DistributionSummary, type RankBucket } from './distribution.js';

/**
 * Every reason the mining stage removes a candidate (MinedRecord.excluded), what the report calls it, and what to
 * loosen when it left records short — undefined for exclusions no option relaxes: the miner's own reasons
 * (MINER_EXCLUSIONS), then each score filter's row (SCORE_FILTERS). Report order is this order.
 */
export const EXCLUSIONS: Readonly<Record<ExclusionReason, { readonly removed: string; readonly loosen: string | undefined }>> = {
  ...MINER_EXCLUSIONS,
  ...byFilter((filter) => ({ removed: filter.removed, loosen: filter.loosenHint })),
};

/** Advice about the window and the ranking, for short records no filter explains alone. */
export const WINDOW_ADVICE = {
  maxRank: 'raise --max-rank (a deeper window has more candidates)',
  minRank: 'lower --min-rank',
  fill: 'use --fill random (top up from documents outside the BM25 ranking)',
  corpus: 'use a larger corpus (every candidate of the ranking was already used)',
} as const;

/** The settings the report compares against; all optional (`rare-mine stats` knows none of them). */
export interface StatisticsOptions {
  /** --num-neg; when undefined, the most negatives any record got (and the report says it was inferred). */
  numNeg?: number;
  /** --min-rank, to suggest lowering it when records are short. */
  minRank?: number;
  /** --max-rank, to suggest raising it when records are short. */
  maxRank?: number;
  /** True when the retriever supports --fill random but it is off: short records then suggest it. */
  suggestFill?: boolean;
  /** Reservoir size per distribution (default 65,536); memory is 8 bytes × capacity × 3. */
  sketchCapacity?: number;
  /** Reservoir seed (default 42). */
  seed?: number;
}

/** One record as the statistics see it; `rare-mine stats` builds these from output lines. */
export interface RecordObservation {
  /** The retriever's score of each positive; empty when not scored. */
  positiveScores: readonly number[];
  /** How many negatives the record got. */
  negativeCount: number;
  /** The score of each negative (empty when scores are unknown, else one per negative). */
  negativeScores: readonly number[];
  /** The raw rank of each negative, −1 for a filled one (empty when ranks are unknown, else one per negative). */
  negativeRanks: readonly number[];
  /** Candidates removed from this record, by reason (MinedRecord.excluded); absent when unknown. */
  excluded?: Readonly<Partial<Record<ExclusionReason, number>>>;
  /** Where the record's other candidates went (MinedRecord.funnel); absent when unknown (an output file). */
  funnel?: Readonly<CandidateFunnel>;
  /** Positives the record has (by text and by known id); absent when unknown. Zero: nothing was excluded for it. */
  positiveCount?: number;
}

/** The candidates `removed` does not account for, summed over records (StatisticsReport.funnel). */
export interface FunnelCounts {
  /** Candidates the retriever ranked (summed final search depths). */
  ranked: number;
  /** Documents drawn by --fill random from outside the ranking. */
  fill_drawn: number;
  /** Ranked candidates outside the --min-rank/--max-rank window. */
  outside_window: number;
  /** Survivors not chosen: past the first --num-neg (--sample top; never examined) or not drawn (random). */
  not_selected: number;
}

/** The statistics as `--stats-json` writes them (snake_case, stable field names). */
export interface StatisticsReport {
  records: number;
  negatives: number;
  negatives_per_record: number | null;
  scores: { positive: DistributionSummary; negative: DistributionSummary; difference: DistributionSummary };
  quantiles: { method: 'reservoir'; capacity: number; seed: number; exact: boolean; rank_error: number; confidence: number };
  short_records: {
    count: number;
    fraction: number | null;
    asked: number | null;
    asked_inferred: boolean;
    /** Short records from which each reason removed at least one candidate. */
    cut_by: Partial<Record<ExclusionReason, number>>;
    loosen: string[];
  };
  /** Candidates removed, by reason (only reasons seen). */
  removed: Partial<Record<ExclusionReason, number>>;
  records_by_negative_count: Record<string, number>;
  /** Negatives per raw-rank bucket; null when ranks are unknown. */
  rank_histogram: RankBucket[] | null;
  /** Negatives drawn by --fill from outside the ranking (rank −1). */
  filled_negatives: number;
  /** The funnel's counts beside `removed`; null when unknown (`rare-mine stats` on a file: only the run knows). */
  funnel: FunnelCounts | null;
  /**
   * Records with no positive (nothing was excluded for them: their own answers may be among their negatives); null
   * when the positives are not known for every record.
   */
  records_without_positives: number | null;
}

/** One step of the funnel: what it removed and how many candidates are left after it. */
export interface FunnelStage {
  label: string;
  removed: number;
  left: number;
}

/** The steps of the funnel, in the miner's order; the filter steps follow rejectingFilter's order. */
const FUNNEL_STEPS: readonly { label: string; reasons: readonly ExclusionReason[] }[] = [
  { label: 'after exclusions (positives, the query)', reasons: ['positive', 'query'] },
  ...FILTERS_IN_TEST_ORDER.map((filter) => ({ label: `after ${filter.flag.split(' ')[0]}`, reasons: [filter.name] })),
  { label: 'after dedup (duplicates, --dedup-threshold)', reasons: ['duplicate', 'near_duplicate'] },
];

/**
 * The funnel of a report: candidates → in the window → after exclusions → after each score filter that removed
 * any → after dedup → chosen. Each step's `left` is the previous step's minus what it removed, and the last equals
 * the negatives written (a test holds every run to it). Null when the report has no funnel counts.
 */
export function funnelStages(report: Pick<StatisticsReport, 'funnel' | 'removed'>): FunnelStage[] | null {
  const funnel = report.funnel;
  if (!funnel) return null;
  let left = funnel.ranked + funnel.fill_drawn;
  const fill = funnel.fill_drawn > 0 ? ` + ${funnel.fill_drawn.toLocaleString('en-US')} drawn by --fill` : '';
  const stages: FunnelStage[] = [{ label: `candidates (ranked by the retriever${fill})`, removed: 0, left }];
  const step = (label: string, removed: number) => {
    left -= removed;
    stages.push({ label, removed, left });
  };
  step('in the window (--min-rank, --max-rank)', funnel.outside_window);
  for (const { label, reasons } of FUNNEL_STEPS) {
    const removed = reasons.reduce((sum, reason) => sum + (report.removed[reason] ?? 0), 0);
    const optional = reasons.every((reason) => EXCLUSIONS[reason].loosen !== undefined);
    if (removed > 0 || !optional) step(label, removed);
  }
  step('chosen (the rest not needed: past --num-neg, or not drawn)', funnel.not_selected);
  return stages;
}

/** Accumulates the statistics of a run, one record at a time, in bounded memory. */
export class MiningStatistics {
  readonly positive: Distribution;
  readonly negative: Distribution;
  /** Lowest positive score of the record − each negative's score. */
  readonly difference: Distribution;
  readonly ranks = new RankHistogram();
  private records = 0;
  private negatives = 0;
  private readonly byNegativeCount = new Map<number, number>();
  private readonly removed = new Map<ExclusionReason, number>();
  private readonly shortCutBy = new Map<ExclusionReason, number>();
  private readonly funnel: FunnelCounts = { ranked: 0, fill_drawn: 0, outside_window: 0, not_selected: 0 };
  private funnelRecords = 0;
  /** Records whose positives are known, and how many of them have none. */
  private positivesKnown = 0;
  private withoutPositives = 0;
  private readonly capacity: number;
  private readonly seed: number;

  constructor(readonly options: StatisticsOptions = {}) {
    this.capacity = options.sketchCapacity ?? DEFAULT_SKETCH_CAPACITY;
    this.seed = options.seed ?? DEFAULT_SKETCH_SEED;
    this.positive = new Distribution(this.capacity, this.seed, 1);
    this.negative = new Distribution(this.capacity, this.seed, 2);
    this.difference = new Distribution(this.capacity, this.seed, 3);
  }

  /** Add a mined record: its scores, ranks, and the candidates each exclusion and filter removed. */
  add(mined: MinedRecord): void {
    this.addObservation({
      positiveScores: mined.positiveScores,
      negativeCount: mined.negatives.length,
      negativeScores: mined.negatives.map((n) => n.score),
      negativeRanks: mined.negatives.map((n) => n.rank),
      excluded: mined.excluded,
      funnel: mined.funnel,
      positiveCount: mined.positives.length + mined.positiveOrdinals.length,
    });
  }

  /** Add one record's observation (what `add` does after unpacking a MinedRecord). */
  addObservation(record: RecordObservation): void {
    this.records++;
    this.negatives += record.negativeCount;
    if (record.positiveCount !== undefined) {
      this.positivesKnown++;
      if (record.positiveCount === 0) this.withoutPositives++;
    }
    this.byNegativeCount.set(record.negativeCount, (this.byNegativeCount.get(record.negativeCount) ?? 0) + 1);
    let lowestPositive = Number.POSITIVE_INFINITY;
    for (const score of record.positiveScores) {
      this.positive.add(score);
      if (score < lowestPositive) lowestPositive = score;
    }
    for (const score of record.negativeScores) {
      this.negative.add(score);
      if (record.positiveScores.length > 0) this.difference.add(lowestPositive - score);
    }
    for (const rank of record.negativeRanks) this.ranks.add(rank);
    if (record.funnel) {
      this.funnelRecords++;
      this.funnel.ranked += record.funnel.ranked;
      this.funnel.fill_drawn += record.funnel.fillDrawn;
      this.funnel.outside_window += record.funnel.outsideWindow;
      this.funnel.not_selected += record.funnel.notSelected;
    }
    const short = this.options.numNeg !== undefined && record.negativeCount < this.options.numNeg;
    for (const [reason, removed] of Object.entries(record.excluded ?? {}) as [ExclusionReason, number][]) {
      if (!(removed > 0)) continue;
      this.removed.set(reason, (this.removed.get(reason) ?? 0) + removed);
      if (short) this.shortCutBy.set(reason, (this.shortCutBy.get(reason) ?? 0) + 1);
    }
  }

  /** --num-neg, or the most negatives any record got when it was not given. */
  private asked(): number | null {
    if (this.options.numNeg !== undefined) return this.options.numNeg;
    return this.byNegativeCount.size === 0 ? null : Math.max(...this.byNegativeCount.keys());
  }

  private shortCount(asked: number | null): number {
    if (asked === null) return 0;
    let count = 0;
    for (const [negatives, records] of this.byNegativeCount) if (negatives < asked) count += records;
    return count;
  }

  /** What to loosen, most useful first: the filters by how many short records they cut, then the window. */
  private loosen(): string[] {
    const filters = [...this.shortCutBy.entries()]
      .filter(([reason]) => EXCLUSIONS[reason]?.loosen !== undefined)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([reason]) => EXCLUSIONS[reason].loosen!);
    const window: string[] = [];
    if (this.options.maxRank !== undefined) window.push(WINDOW_ADVICE.maxRank);
    if ((this.options.minRank ?? 0) > 0) window.push(WINDOW_ADVICE.minRank);
    if (this.options.suggestFill) window.push(WINDOW_ADVICE.fill);
    const all = [...filters, ...window];
    return all.length > 0 ? all : [WINDOW_ADVICE.corpus];
  }

  toJSON(): StatisticsReport {
    const asked = this.asked();
    const short = this.shortCount(asked);
    const exact = this.positive.sketch.exact && this.negative.sketch.exact && this.difference.sketch.exact;
    return {
      records: this.records,
      negatives: this.negatives,
      negatives_per_record: this.records === 0 ? null : this.negatives / this.records,
      scores: { positive: this.positive.summary(), negative: this.negative.summary(), difference: this.difference.summary() },
      quantiles: {
        method: 'reservoir',
        capacity: this.capacity,
        seed: this.seed,
        exact,
        rank_error: exact ? 0 : STATED_RANK_ERROR,
        confidence: exact ? 1 : dkwConfidence(this.capacity, STATED_RANK_ERROR),
      },
      short_records: {
        count: short,
        fraction: this.records === 0 ? null : short / this.records,
        asked,
        asked_inferred: this.options.numNeg === undefined,
        cut_by: Object.fromEntries(byTableOrder(this.shortCutBy)),
        loosen: short > 0 ? this.loosen() : [],
      },
      removed: Object.fromEntries(byTableOrder(this.removed)),
      records_by_negative_count: Object.fromEntries([...this.byNegativeCount.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v])),
      rank_histogram: this.ranks.count === 0 ? null : this.ranks.buckets(),
      filled_negatives: this.ranks.filled,
      // Counts for only some records would not add up: the funnel is all records' or none.
      funnel: this.funnelRecords > 0 && this.funnelRecords === this.records ? { ...this.funnel } : null,
      records_without_positives: this.positivesKnown > 0 && this.positivesKnown === this.records ? this.withoutPositives : null,
    };
  }

  /** An aligned text table for stderr, in the shape of sentence-transformers' end-of-run table, plus the notes. */
  toTable(): string {
    const report = this.toJSON();
    const { header, cells } = summaryCells(report);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
    const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[0]) : cell.padStart(widths[i] + 3))).join('').trimEnd();
    const out = [line(header), ...cells.map(line)];

    const count = (n: number) => n.toLocaleString('en-US');
    const percent = (part: number, whole: number) => (whole === 0 ? '0.00%' : `${((100 * part) / whole).toFixed(2)}%`);
    const sr = report.short_records;
    const perRecord = report.negatives_per_record === null ? '' : ` (${report.negatives_per_record.toFixed(2)} per record${sr.asked === null ? '' : `, ${sr.asked} ${sr.asked_inferred ? 'most seen' : 'asked'}`})`;
    out.push('', `Records: ${count(report.records)}; negatives: ${count(report.negatives)}${perRecord}`);
    const without = report.records_without_positives;
    if (without !== null && without > 0) {
      out.push(`Without positives: ${count(without)} record${without === 1 ? '' : 's'} (${percent(without, report.records)}): nothing was excluded for them, so their own answers may be among their negatives`);
    }
    if (sr.count > 0) {
      out.push(`Short: ${count(sr.count)} records (${percent(sr.count, report.records)}) got fewer than ${sr.asked} negatives; to find more: ${sr.loosen.join('; ')}`);
    }
    for (const [reason, removed] of Object.entries(report.removed) as [ExclusionReason, number][]) {
      const cut = sr.cut_by[reason];
      const label = EXCLUSIONS[reason]?.removed ?? reason;
      out.push(`Removed ${count(removed)} candidate${removed === 1 ? '' : 's'}: ${label}${cut ? ` (in ${count(cut)} of the short records)` : ''}`);
    }
    const stages = funnelStages(report);
    if (stages) {
      out.push('', 'Funnel (candidates left after each step):');
      const labelWidth = Math.max(...stages.map((s) => s.label.length));
      const leftWidth = Math.max(...stages.map((s) => count(s.left).length));
      const total = stages[0].left;
      for (const stage of stages) {
        const removed = stage === stages[0] ? '' : `  −${count(stage.removed)}`;
        out.push(`  ${stage.label.padEnd(labelWidth)}  ${count(stage.left).padStart(leftWidth)}  ${percent(stage.left, total).padStart(7)}${removed}`);
      }
    }
    const q = report.quantiles;
    out.push(
      q.exact
        ? 'Quartiles: exact'
        : `Quartiles: from a ${count(q.capacity)}-value reservoir sample per column (rank error ≤ ${q.rank_error * 100}% with probability ≥ ${(q.confidence * 100).toFixed(4)}%)`,
    );
    if (report.rank_histogram) {
      out.push('', 'Raw rank of the negatives (0-based):');
      const buckets = report.rank_histogram.map((b) => ({
        label: b.to === null ? `${count(b.from)}+` : b.from === b.to ? count(b.from) : `${count(b.from)}–${count(b.to)}`,
        count: b.count,
      }));
      if (report.filled_negatives > 0) buckets.push({ label: 'filled', count: report.filled_negatives });
      const labels = buckets.map((b) => b.label);
      const counts = buckets.map((b) => count(b.count));
      const labelWidth = Math.max(...labels.map((l) => l.length));
      const countWidth = Math.max(...counts.map((c) => c.length));
      const most = Math.max(...buckets.map((b) => b.count));
      buckets.forEach((b, i) => {
        const bar = '█'.repeat(Math.round((40 * b.count) / most));
        out.push(`  ${labels[i].padEnd(labelWidth)}  ${counts[i].padStart(countWidth)}  ${percent(b.count, this.ranks.count).padStart(7)}  ${bar}`.trimEnd());
      });
    }
    return out.join('\n') + '\n';
  }
}

const SUMMARY_ROWS: [string, (s: DistributionSummary) => string][] = [
  ['Count', (s) => s.count.toLocaleString('en-US')],
  ['Mean', (s) => score(s.mean)],
  ['Std', (s) => score(s.std)],
  ['Min', (s) => score(s.min)],
  ['25%', (s) => score(s.p25)],
  ['50%', (s) => score(s.p50)],
  ['75%', (s) => score(s.p75)],
  ['Max', (s) => score(s.max)],
];

/** The score summary as text cells (a row per metric, a column per distribution): the stderr table and the report's. */
export function summaryCells(report: StatisticsReport): { header: string[]; cells: string[][] } {
  const columns = [report.scores.positive, report.scores.negative, report.scores.difference];
  return {
    header: ['Metric', 'Positive', 'Negative', 'Difference'],
    cells: SUMMARY_ROWS.map(([label, cell]) => [label, ...columns.map(cell)]),
  };
}

function score(value: number | null): string {
  return value === null ? '' : value.toFixed(4);
}

/** Entries in the order of the EXCLUSIONS table, so reports list reasons the same way every run. */
function byTableOrder(counts: Map<ExclusionReason, number>): [ExclusionReason, number][] {
  const order = Object.keys(EXCLUSIONS);
  return [...counts.entries()].sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
}
