/**
 * What `rare-mine report` gathers from an output in one streaming pass: the statistics `rare-mine stats` computes
 * (the same MiningStatistics over the same observations), the negatives scoring closest to their positive, a seeded
 * sample of records, and with qrels the judged-relevant share of the negatives, overall and per rank bucket.
 * What must hold: memory is bounded whatever the output's size (fixed-size review lists and reservoirs, texts cut
 * to MAX_TEXT_CHARS, histograms of fixed buckets); the same file, options and seed give the same data.
 */
import { InputError } from '../errors.js';
import { describe } from '../io/jsonl.js';
import type { Qrels } from '../eval/metrics.js';
import { seededRandom } from '../seeded-random.js';
import { MiningStatistics } from '../mine/statistics.js';
import { RankHistogram, type RankBucket } from '../mine/distribution.js';
import type { LayoutName, OutputLine } from '../formats/output-reader.js';
import { FLAG_FIELDS } from '../formats/flag.js';

/** Longest text kept for a review row, in UTF-16 code units: reports stay small however long the passages. */
export const MAX_TEXT_CHARS = 600;
/** Most negatives and positives shown per sampled record. */
export const MAX_LISTED_PER_RECORD = 10;

export interface CollectorSettings {
  /** record layout: the query and positive-text fields (the mining run's --question-key and --text-key). */
  questionKey: string;
  textKey: string;
  /** record layout: the field holding positive corpus ids (the run's --positive-ids-key), to name them. */
  positiveIdsKey?: string;
  /** --num-neg, for short records (default: the most negatives any record has, as `rare-mine stats`). */
  numNeg?: number;
  /** Seed of the record sample. */
  seed: number;
  /** Rows of the likeliest-false-negatives table. */
  reviewRows: number;
  /** Records in the seeded sample. */
  sampleRecords: number;
  /** Judgments (BEIR qrels) and the record field holding the query id; both or neither. */
  qrels?: { judgments: Qrels; queriesKey: string; file: string };
}

/** A text cut to MAX_TEXT_CHARS (never inside a surrogate pair), and whether it was cut. */
export interface ShownText {
  text: string;
  cut: boolean;
}

/** One negative of the likeliest-false-negatives table. */
export interface ReviewRow {
  line: number;
  query: ShownText;
  /** The record's lowest-scoring positive (the filters' reference); undefined when it was given by id. */
  positive?: ShownText;
  /** Its corpus id when it was given by id (and --positive-ids-key is known). */
  positiveId?: string;
  positiveScore: number;
  negative: ShownText;
  negativeScore: number;
  /** positiveScore − negativeScore: below 0, the negative scored above the positive. */
  difference: number;
  rank?: number;
  id?: string;
  /** With --qrels: whether the qrels judge this negative relevant to the query (undefined: query not judged). */
  judgedRelevant?: boolean;
}

/** One record of the seeded sample. */
export interface SampledRecord {
  line: number;
  query: ShownText;
  /** Positives by text, then by id (text undefined; named when --positive-ids-key is known), as their scores are. */
  positives: { text?: ShownText; id?: string; score?: number }[];
  negatives: { text: ShownText; score?: number; rank?: number; id?: string; judgedRelevant?: boolean }[];
  /** Negatives and positives not listed (past MAX_LISTED_PER_RECORD). */
  unlisted: number;
}

/** One rank bucket of the false-negative table. */
export interface FalseNegativeBucket {
  label: string;
  negatives: number;
  judgedRelevant: number;
}

export interface FalseNegativeRate {
  file: string;
  queriesKey: string;
  judgedRecords: number;
  /** Records whose query id has no judgment in the qrels: left out of the rate. */
  unjudgedRecords: number;
  negatives: number;
  judgedRelevant: number;
  /** Per rank bucket; null when the output has no ranks. */
  byRank: FalseNegativeBucket[] | null;
}

/** Everything the HTML needs, in bounded size. */
export interface ReportData {
  layout: LayoutName | undefined;
  statistics: MiningStatistics;
  /** Sorted by difference ascending (ties: line, then position); at most reviewRows. */
  review: ReviewRow[];
  /** Negatives that had a difference (positive and negative scores both present). */
  reviewCandidates: number;
  sample: SampledRecord[];
  falseNegatives: FalseNegativeRate | null;
}

/** Cut a text to MAX_TEXT_CHARS, never splitting a surrogate pair. */
export function shown(text: string): ShownText {
  if (text.length <= MAX_TEXT_CHARS) return { text, cut: false };
  let end = MAX_TEXT_CHARS;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return { text: text.slice(0, end), cut: true };
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
}

function bucketLabel(bucket: RankBucket): string {
  const n = (v: number) => v.toLocaleString('en-US');
  return bucket.to === null ? `${n(bucket.from)}+` : bucket.from === bucket.to ? n(bucket.from) : `${n(bucket.from)}–${n(bucket.to)}`;
}

/** Accumulates ReportData one output line at a time. */
export class ReportCollector {
  readonly statistics: MiningStatistics;
  private layout: LayoutName | undefined;
  private readonly review: ReviewRow[] = [];
  private reviewCandidates = 0;
  private readonly sample: SampledRecord[] = [];
  private seen = 0;
  private readonly random: () => number;
  private readonly judged = new RankHistogram();
  private readonly judgedRelevant = new RankHistogram();
  private fn = { judgedRecords: 0, unjudgedRecords: 0, negatives: 0, judgedRelevant: 0, ranked: true };

  constructor(readonly settings: CollectorSettings) {
    this.statistics = new MiningStatistics({ numNeg: settings.numNeg });
    this.random = seededRandom(settings.seed, 0x7e90);
  }

  add(line: OutputLine, file: string): void {
    this.layout ??= line.layout;
    this.statistics.addObservation(line.observation);
    const relevant = this.judgments(line, file);
    this.offerReview(line, relevant);
    // Algorithm R over whole records (seeded); a record becomes a row only when it enters the sample.
    this.seen++;
    if (this.sample.length < this.settings.sampleRecords) this.sample.push(this.sampledRecord(line, relevant));
    else {
      const slot = Math.floor(this.random() * this.seen);
      if (slot < this.settings.sampleRecords) this.sample[slot] = this.sampledRecord(line, relevant);
    }
  }

  /** The judged-relevant ids of the record's query (undefined when no --qrels or the query is not judged). */
  private judgments(line: OutputLine, file: string): ReadonlySet<string> | undefined {
    const qrels = this.settings.qrels;
    if (!qrels) return undefined;
    const { record, fields, observation } = line;
    const rawId = record.value[qrels.queriesKey];
    if (typeof rawId !== 'string' && typeof rawId !== 'number') {
      const flag = line.layout === 'flag' ? '; flag lines carry no query id: mine with --format record to measure false negatives' : '';
      throw new InputError(file, record.lineNumber, `--qrels needs the query id in field "${qrels.queriesKey}" (--queries-key), found ${rawId === undefined ? 'no such field' : describe(rawId)}${flag}`);
    }
    const ids = record.value[fields.negativeIds];
    if (!Array.isArray(ids) || ids.length !== observation.negativeCount || !ids.every((id) => typeof id === 'string')) {
      throw new InputError(file, record.lineNumber, `--qrels needs the corpus id of each negative in field "${fields.negativeIds}", found ${ids === undefined ? 'no such field' : Array.isArray(ids) ? `${ids.length} values for ${observation.negativeCount} negatives` : describe(ids)}`, {
        hint: 'mine with --with-ids',
      });
    }
    const judgments = qrels.judgments.get(String(rawId));
    if (!judgments) {
      this.fn.unjudgedRecords++;
      return undefined;
    }
    const relevant = new Set([...judgments].filter(([, grade]) => grade > 0).map(([id]) => id));
    this.fn.judgedRecords++;
    if (observation.negativeRanks.length === 0 && observation.negativeCount > 0) this.fn.ranked = false;
    (ids as string[]).forEach((id, i) => {
      const hit = relevant.has(id);
      this.fn.negatives++;
      if (hit) this.fn.judgedRelevant++;
      if (observation.negativeRanks.length > 0) {
        this.judged.add(observation.negativeRanks[i]);
        if (hit) this.judgedRelevant.add(observation.negativeRanks[i]);
      }
    });
    return relevant;
  }

  private texts(line: OutputLine): { query: string; positives: unknown[]; positiveIds: unknown[]; negatives: unknown[]; ids: unknown[] } {
    const value = line.record.value;
    const query = line.layout === 'flag' ? value[FLAG_FIELDS.query] : value[this.settings.questionKey];
    const positivesValue = line.layout === 'flag' ? value[FLAG_FIELDS.positives] : value[this.settings.textKey];
    const positives = Array.isArray(positivesValue) ? positivesValue : positivesValue === undefined || positivesValue === null ? [] : [positivesValue];
    const negatives = value[line.fields.negatives] as unknown[];
    const ids = Array.isArray(value[line.fields.negativeIds]) ? (value[line.fields.negativeIds] as unknown[]) : [];
    const idsValue = line.layout === 'record' && this.settings.positiveIdsKey ? value[this.settings.positiveIdsKey] : undefined;
    const positiveIds = Array.isArray(idsValue) ? idsValue : idsValue === undefined || idsValue === null ? [] : [idsValue];
    return { query: query === undefined ? '' : textOf(query), positives, positiveIds, negatives, ids };
  }

  /** Keep the reviewRows negatives with the smallest positive − negative difference (ties: earlier line first). */
  private offerReview(line: OutputLine, relevant: ReadonlySet<string> | undefined): void {
    const { positiveScores, negativeScores, negativeRanks } = line.observation;
    if (positiveScores.length === 0 || negativeScores.length === 0) return;
    let lowest = 0;
    for (let i = 1; i < positiveScores.length; i++) if (positiveScores[i] < positiveScores[lowest]) lowest = i;
    const limit = this.settings.reviewRows;
    let texts: ReturnType<ReportCollector['texts']> | undefined;
    negativeScores.forEach((negativeScore, i) => {
      this.reviewCandidates++;
      const difference = positiveScores[lowest] - negativeScore;
      if (this.review.length >= limit && difference >= this.review[this.review.length - 1].difference) return;
      texts ??= this.texts(line);
      const id = texts.ids[i] === undefined ? undefined : textOf(texts.ids[i]);
      const row: ReviewRow = {
        line: line.record.lineNumber,
        query: shown(texts.query),
        positive: lowest < texts.positives.length ? shown(textOf(texts.positives[lowest])) : undefined,
        positiveId: lowest >= texts.positives.length && texts.positiveIds[lowest - texts.positives.length] !== undefined ? textOf(texts.positiveIds[lowest - texts.positives.length]) : undefined,
        positiveScore: positiveScores[lowest],
        negative: shown(textOf(texts.negatives[i])),
        negativeScore,
        difference,
        rank: negativeRanks[i],
        id,
        judgedRelevant: relevant && id !== undefined ? relevant.has(id) : undefined,
      };
      // Insert after every row with a smaller or equal difference: rows from earlier lines stay first on ties.
      let at = this.review.length;
      while (at > 0 && this.review[at - 1].difference > difference) at--;
      this.review.splice(at, 0, row);
      if (this.review.length > limit) this.review.pop();
    });
  }

  private sampledRecord(line: OutputLine, relevant: ReadonlySet<string> | undefined): SampledRecord {
    const texts = this.texts(line);
    const { positiveScores, negativeScores, negativeRanks } = line.observation;
    const allPositives: SampledRecord['positives'] = [
      ...texts.positives.map((p, i) => ({ text: shown(textOf(p)), score: positiveScores[i] })),
      ...texts.positiveIds.map((id, j) => ({ id: textOf(id), score: positiveScores[texts.positives.length + j] })),
    ];
    const positives = allPositives.slice(0, MAX_LISTED_PER_RECORD);
    const negatives = texts.negatives.slice(0, MAX_LISTED_PER_RECORD).map((n, i) => {
      const id = texts.ids[i] === undefined ? undefined : textOf(texts.ids[i]);
      return { text: shown(textOf(n)), score: negativeScores[i], rank: negativeRanks[i], id, judgedRelevant: relevant && id !== undefined ? relevant.has(id) : undefined };
    });
    const unlisted = allPositives.length - positives.length + texts.negatives.length - negatives.length;
    return { line: line.record.lineNumber, query: shown(texts.query), positives, negatives, unlisted };
  }

  /** The report's data; the sample is listed in file order. */
  finish(): ReportData {
    const qrels = this.settings.qrels;
    let falseNegatives: FalseNegativeRate | null = null;
    if (qrels) {
      let byRank: FalseNegativeBucket[] | null = null;
      if (this.fn.ranked && this.judged.count > 0) {
        const hits = new Map(this.judgedRelevant.buckets().map((b) => [b.from, b.count]));
        byRank = this.judged.buckets().map((b) => ({ label: bucketLabel(b), negatives: b.count, judgedRelevant: hits.get(b.from) ?? 0 }));
        if (this.judged.filled > 0) byRank.push({ label: 'filled', negatives: this.judged.filled, judgedRelevant: this.judgedRelevant.filled });
      }
      falseNegatives = {
        file: qrels.file,
        queriesKey: qrels.queriesKey,
        judgedRecords: this.fn.judgedRecords,
        unjudgedRecords: this.fn.unjudgedRecords,
        negatives: this.fn.negatives,
        judgedRelevant: this.fn.judgedRelevant,
        byRank,
      };
    }
    return {
      layout: this.layout,
      statistics: this.statistics,
      review: this.review,
      reviewCandidates: this.reviewCandidates,
      sample: this.sample.slice().sort((a, b) => a.line - b.line),
      falseNegatives,
    };
  }
}
