/**
 * The mining stage shared by every retriever: for each input record, in input order, find candidates, apply
 * the rank window, exclusions and filters, choose negatives, and hand the result to an output format.
 *
 * Order of operations (README "How negatives are chosen"; tested in test/cli-bm25.test.ts and
 * test/mine-filters.test.ts):
 *  1. Rank: the retriever ranks the corpus for the query; rank r is the 0-based position in that RAW ranking,
 *     counted BEFORE anything is excluded (as RAGatouille's min_rank/max_rank).
 *  2. Window: only ranks minRank ≤ r < maxRank are candidates (maxRank unset = the whole ranking; with
 *     --sample random it defaults to minRank + 100).
 *  3. Exclusions: a positive (by corpus id or by normalised text) and the query text itself.
 *  4. Re-scoring (optional, --rescore-model): candidates and positives get the cross-encoder's scores.
 *  5. Score filters (src/mine/filters.ts) against the lowest positive's score and absolute bounds.
 *  6. Duplicates, in rank order: a text equal (normalised) to a kept candidate is dropped; with
 *     --dedup-threshold J, so is one whose shingle Jaccard with a positive or a kept candidate is ≥ J. With
 *     `random`, every survivor of the window is decided (step 7 draws by the survivors' count), each through an
 *     inverted shingle index (src/mine/near-duplicates.ts), so the cost grows with the window, not window × kept.
 *  7. Selection: `top` keeps the first numNeg survivors; `random` draws numNeg of them, seeded by (seed, line),
 *     and lists them in rank order.
 *  8. Fill (--fill random, BM25): when the ranking ran out (every document sharing a term with the query was
 *     seen) and the window reaches past it, the rest come from a seeded draw of the documents scoring 0, through
 *     the same exclusions and filters; they are flagged `filled` and counted.
 * A record with fewer survivors than numNeg is written with what exists and counted as short; never dropped.
 */
import { InputError } from '../errors.js';
import { optionalStrings, requireString, type JsonRecord } from '../io/jsonl.js';
import { normalizedTextHash } from '../text/normalize.js';
import type { Candidate, Retriever } from '../retriever.js';
import { seededRandom } from '../seeded-random.js';
import { byFilter, rejectingFilter, type FilterName, type ScoreFilterOptions } from './filters.js';
import { NearDuplicateIndex, noNearDuplicateWork, shingleSet, ShingleCache, type NearDuplicateWork } from './near-duplicates.js';

/** Pieces a batch's off-thread search is asked for in (see Retriever.searchesOffThread). */
const SEARCH_PIECES = 8;

/**
 * The first search depth is minRank + numNeg × PER_NEGATIVE + SLACK ranks (window permitting), leaving room
 * for the ranks a record typically loses to exclusions and filters (its positives, their duplicates); a record
 * left short is searched again 4× deeper. For an exact ranking the shallow depth gives the same negatives as any
 * deeper one, and each search costs less (at 8.8M passages, MaxScore at k = 10 takes ~70% of k = 28's time);
 * an approximate engine is asked for the deeper first depth it was tuned at.
 */
const FIRST_DEPTH = { exact: { perNegative: 2, slack: 4 }, approximate: { perNegative: 4, slack: 16 } } as const;

export interface MiningOptions extends ScoreFilterOptions {
  questionKey: string;
  textKey: string;
  positiveIdsKey?: string;
  numNeg: number;
  minRank: number;
  /** Exclusive upper bound on raw rank; undefined = unbounded (random sampling: minRank + 100). */
  maxRank?: number;
  sample: 'top' | 'random';
  seed: number;
  /** Top short records up with seeded random zero-score documents (see step 8). */
  fill: 'none' | 'random';
  /** Near-duplicate Jaccard threshold (0..1]; undefined = exact duplicates only. */
  dedupThreshold?: number;
  /** --require-positives: a record with no positive (by text or by a known id) is an InputError naming its line. */
  requirePositives?: boolean;
  /** A positive id missing from the corpus: an input error (default) or a counted warning (--on-error skip). */
  onUnknownPositiveId?: 'fail' | 'warn';
}

/** A cross-encoder (or any second-stage scorer) that re-scores (query, passage) pairs. */
export interface Rescorer {
  readonly name: string;
  score(query: string, passages: readonly string[]): Promise<number[]>;
}

export interface MinedNegative {
  docOrdinal: number;
  /** The retriever's score, or the rescorer's when --rescore-model is set. */
  score: number;
  /** 0-based rank in the retriever's raw ranking; -1 for a filled (zero-score, unranked) document. */
  rank: number;
  filled?: boolean;
}

export interface MinedRecord {
  record: JsonRecord;
  query: string;
  /** Positive passages given by text (--text-key), in record order. */
  positives: string[];
  /** Corpus ordinals of positives given by id (--positive-ids-key). */
  positiveOrdinals: number[];
  /** Score of each positive (texts first, then ids), by the rescorer when set, else by the retriever. */
  positiveScores: number[];
  /** Chosen negatives in rank order (filled ones last). */
  negatives: MinedNegative[];
  /** Candidates inside the window removed, by reason (ranked candidates and --fill draws alike). */
  excluded: Record<ExclusionReason, number>;
  /** Where the other candidates went (the report's funnel); absent for records not built by the Miner. */
  funnel?: CandidateFunnel;
}

/**
 * The candidates of one record that `excluded` does not account for. What must hold, per record:
 * ranked + fillDrawn = outsideWindow + Σ excluded + notSelected + negatives.length.
 */
export interface CandidateFunnel {
  /** Candidates the retriever ranked for the record (the final search depth; fewer when the ranking ran out). */
  ranked: number;
  /** Ranked candidates outside the window (rank < --min-rank, or at or past the window's end). */
  outsideWindow: number;
  /** Distinct documents drawn by --fill random from outside the ranking (before exclusions and filters). */
  fillDrawn: number;
  /** Survivors not chosen, or never reached: past the first --num-neg with --sample top, not drawn with random. */
  notSelected: number;
}

/** What the miner removes before and after the score filters (steps 3 and 6), in report order. */
export const MINER_EXCLUSIONS = {
  positive: { removed: 'positives (by id or normalised text)', loosen: undefined },
  query: { removed: 'copies of the query', loosen: undefined },
  duplicate: { removed: 'duplicates of a kept negative', loosen: undefined },
  near_duplicate: { removed: 'near-duplicates (--dedup-threshold)', loosen: 'raise --dedup-threshold' },
} as const satisfies Record<string, { removed: string; loosen: string | undefined }>;

/** Every reason a candidate is removed: the miner's own, then each score filter (src/mine/filters.ts). */
export type ExclusionReason = keyof typeof MINER_EXCLUSIONS | FilterName;

export interface MiningCounters {
  records: number;
  negatives: number;
  short: number;
  filledRecords: number;
  filledNegatives: number;
  withoutPositives: number;
  unknownPositiveIds: number;
  excluded: Record<ExclusionReason, number>;
}

/** A zero count for every exclusion reason, in report order (the miner's reasons, then the filters'). */
export function noExclusions(): Record<ExclusionReason, number> {
  return { positive: 0, query: 0, duplicate: 0, near_duplicate: 0, ...byFilter(() => 0) };
}

export interface ParsedRecord {
  record: JsonRecord;
  query: string;
  positives: string[];
  positiveOrdinals: number[];
  excludedHashes: Set<bigint>;
  queryHash: bigint;
}

/** The effective exclusive rank limit for the options (see step 2). */
export function windowEnd(options: Pick<MiningOptions, 'maxRank' | 'minRank' | 'sample'>, docCount: number): number {
  const end = options.maxRank ?? (options.sample === 'random' ? options.minRank + 100 : docCount);
  return Math.min(end, docCount);
}

export class Miner {
  readonly counters: MiningCounters = {
    records: 0,
    negatives: 0,
    short: 0,
    filledRecords: 0,
    filledNegatives: 0,
    withoutPositives: 0,
    unknownPositiveIds: 0,
    excluded: noExclusions(),
  };

  /** What the near-duplicate tests (--dedup-threshold) have cost so far, in lookups, not time. */
  readonly nearDuplicateWork: NearDuplicateWork = noNearDuplicateWork();
  private readonly shingleCache: ShingleCache;
  /** Reset by each survivors() call, which uses it synchronously (no await) from reset to its last test. */
  private readonly nearDuplicates: NearDuplicateIndex;

  constructor(
    readonly retriever: Retriever,
    readonly options: MiningOptions,
    readonly inputName: string,
    readonly rescorer?: Rescorer,
  ) {
    this.shingleCache = new ShingleCache((docOrdinal) => retriever.corpus.text(docOrdinal), this.nearDuplicateWork);
    this.nearDuplicates = new NearDuplicateIndex(this.nearDuplicateWork);
  }

  /** Validate a record's fields; throws InputError naming the line. */
  parse(record: JsonRecord): ParsedRecord {
    const { questionKey, textKey, positiveIdsKey } = this.options;
    const query = requireString(this.inputName, record, questionKey, '--question-key');
    const positives = optionalStrings(this.inputName, record, textKey);
    const ids = positiveIdsKey ? optionalStrings(this.inputName, record, positiveIdsKey) : [];
    const positiveOrdinals: number[] = [];
    for (const id of ids) {
      const ordinal = this.retriever.corpus.ordinalOfId(id);
      if (ordinal === undefined) {
        // A positive that is not in the corpus usually means the wrong corpus: stop, unless told to go on.
        if (this.options.onUnknownPositiveId !== 'warn') {
          throw new InputError(this.inputName, record.lineNumber, `positive id "${id}" (field "${positiveIdsKey}") is not in the corpus`, {
            hint: 'check --corpus / --corpus-id-key, or pass --on-error skip to mine such records anyway (the unknown ids are counted)',
          });
        }
        this.counters.unknownPositiveIds++;
      } else positiveOrdinals.push(ordinal);
    }
    if (this.options.requirePositives && positives.length === 0 && positiveOrdinals.length === 0) {
      const ids = positiveIdsKey === undefined ? '' : ` and no known corpus id under "${positiveIdsKey}" (--positive-ids-key)`;
      throw new InputError(this.inputName, record.lineNumber, `no positive (--require-positives): no text under "${textKey}" (--text-key)${ids}`, {
        hint: 'mined without a positive, its own answer could be among its negatives; fix the record, or pass --on-error skip to set such records aside in --rejects',
      });
    }
    const excludedHashes = new Set<bigint>();
    for (const text of positives) excludedHashes.add(normalizedTextHash(text));
    for (const ordinal of positiveOrdinals) excludedHashes.add(this.retriever.corpus.normalizedTextHash(ordinal));
    return { record, query, positives, positiveOrdinals, excludedHashes, queryHash: normalizedTextHash(query) };
  }

  /** Searches asked for by searchAhead, by batch, until mine(batch) takes them up. */
  private readonly searchedAhead = new WeakMap<ParsedRecord[], { depth: number; pieceSize: number; pieces: Array<Promise<Candidate[][]>> }>();

  /**
   * Ask for a batch's first searches now, when search runs off this thread: the search threads then work on it
   * while the batch before it is selected and written (mine(batch) takes them up). Otherwise nothing.
   */
  searchAhead(batch: ParsedRecord[]): void {
    if (!this.retriever.searchesOffThread || batch.length === 0) return;
    const depth = this.firstDepth();
    this.searchedAhead.set(batch, { depth, ...this.requestSearches(batch, batch.map((_, i) => i), depth) });
  }

  /** Enough ranks to fill the window after typical exclusions (FIRST_DEPTH); deepened per record while short. */
  private firstDepth(): number {
    const { numNeg, minRank } = this.options;
    const limit = windowEnd(this.options, this.retriever.corpus.docCount);
    const { perNegative, slack } = this.retriever.exactRanking ? FIRST_DEPTH.exact : FIRST_DEPTH.approximate;
    return Math.min(limit, Math.max(minRank + numNeg * perNegative + slack, this.options.maxRank ?? 0, this.options.sample === 'random' ? limit : 0));
  }

  /** Off-thread search: all pieces are asked for at once; piece p is selected while p + 1.. are searched. */
  private requestSearches(batch: ParsedRecord[], pending: number[], depth: number): { pieceSize: number; pieces: Array<Promise<Candidate[][]>> } {
    const pieceSize = this.retriever.searchesOffThread ? Math.max(16, Math.ceil(pending.length / SEARCH_PIECES)) : pending.length;
    const pieces: Array<Promise<Candidate[][]>> = [];
    for (let from = 0; from < pending.length; from += pieceSize) {
      const slice = pending.slice(from, from + pieceSize);
      const piece = this.retriever.search(slice.map((i) => batch[i].query), depth, slice.map((i) => batch[i].record.lineNumber));
      piece.catch(() => undefined); // awaited (and thrown) in order by mine(); not an unhandled rejection meanwhile
      pieces.push(piece);
    }
    return { pieceSize, pieces };
  }

  /** Mine a batch of parsed records (one retriever call per deepening round). */
  async mine(batch: ParsedRecord[]): Promise<MinedRecord[]> {
    const { numNeg } = this.options;
    const limit = windowEnd(this.options, this.retriever.corpus.docCount);
    const ahead = this.searchedAhead.get(batch);
    this.searchedAhead.delete(batch);
    let depth = ahead?.depth ?? this.firstDepth();
    const results: MinedRecord[] = new Array(batch.length);
    // Positives are scored once the first searches are asked for: off-thread search runs meanwhile.
    let positiveScores: number[][] | undefined;
    let pending = batch.map((_, i) => i);
    for (let round = 0; ; round++) {
      const { pieceSize, pieces } = round === 0 && ahead ? ahead : this.requestSearches(batch, pending, depth);
      positiveScores ??= await Promise.all(batch.map((parsed) => this.scorePositives(parsed)));
      const retry: number[] = [];
      let candidates: Candidate[][] = [];
      for (let j = 0; j < pending.length; j++) {
        if (j % pieceSize === 0) candidates = await pieces[j / pieceSize];
        const i = pending[j];
        const ranked = candidates[j % pieceSize];
        const exhausted = ranked.length < depth || depth >= limit;
        const mined = await this.select(batch[i], ranked, positiveScores[i], limit);
        if (mined.negatives.length < numNeg && !exhausted) retry.push(i);
        else {
          if (mined.negatives.length < numNeg && this.options.fill === 'random' && ranked.length < depth && limit > ranked.length) {
            await this.fill(batch[i], mined, ranked, positiveScores[i]);
          }
          results[i] = mined;
        }
      }
      if (retry.length === 0) break;
      depth = Math.min(limit, depth * 4);
      pending = retry;
    }
    for (const mined of results) this.count(mined);
    return results;
  }

  private async scorePositives(parsed: ParsedRecord): Promise<number[]> {
    const corpus = this.retriever.corpus;
    if (this.rescorer) {
      const texts = [...parsed.positives, ...parsed.positiveOrdinals.map((o) => corpus.text(o))];
      return texts.length === 0 ? [] : this.rescorer.score(parsed.query, texts);
    }
    const line = parsed.record.lineNumber;
    const byText = parsed.positives.length > 0 ? await this.retriever.scoreTexts(parsed.query, parsed.positives, line) : [];
    const byId = parsed.positiveOrdinals.length > 0 ? await this.retriever.scoreDocuments(parsed.query, parsed.positiveOrdinals, line) : [];
    return [...byText, ...byId];
  }

  private async select(parsed: ParsedRecord, ranked: Candidate[], positiveScores: number[], limit: number): Promise<MinedRecord> {
    const { numNeg, sample, seed, minRank } = this.options;
    const corpus = this.retriever.corpus;
    const excluded = noExclusions();
    const positiveOrdinals = new Set(parsed.positiveOrdinals);

    // Steps 2-3: window and exclusions.
    let window: MinedNegative[] = [];
    const windowEndRank = Math.min(limit, ranked.length);
    for (let rank = minRank; rank < windowEndRank; rank++) {
      const { docOrdinal, score } = ranked[rank];
      const hash = corpus.normalizedTextHash(docOrdinal);
      if (positiveOrdinals.has(docOrdinal) || parsed.excludedHashes.has(hash)) excluded.positive++;
      else if (hash === parsed.queryHash) excluded.query++;
      else window.push({ docOrdinal, score, rank });
    }
    // Step 4: re-scoring.
    if (this.rescorer && window.length > 0) {
      const scores = await this.rescorer.score(parsed.query, window.map((c) => corpus.text(c.docOrdinal)));
      window = window.map((c, i) => ({ ...c, score: scores[i] }));
    }
    const reference = positiveScores.length > 0 ? Math.min(...positiveScores) : undefined;
    const { kept, examined } = this.survivors(parsed, window, reference, excluded, sample === 'top' ? numNeg : Number.POSITIVE_INFINITY, []);
    let negatives = kept;
    if (sample === 'random' && kept.length > numNeg) {
      const random = seededRandom(seed, parsed.record.lineNumber);
      const pool = kept.slice();
      for (let i = 0; i < numNeg; i++) {
        const j = i + Math.floor(random() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j], pool[i]];
      }
      negatives = pool.slice(0, numNeg).sort((a, b) => a.rank - b.rank);
    }
    return {
      record: parsed.record,
      query: parsed.query,
      positives: parsed.positives,
      positiveOrdinals: parsed.positiveOrdinals,
      positiveScores,
      negatives,
      excluded,
      funnel: {
        ranked: ranked.length,
        outsideWindow: ranked.length - Math.max(0, windowEndRank - minRank),
        fillDrawn: 0,
        notSelected: window.length - examined + kept.length - negatives.length,
      },
    };
  }

  /**
   * Steps 5-6 over `candidates` in order, keeping at most `want`, after those already `kept`; `examined` is how many
   * candidates it looked at before it had enough (the rest were never reached).
   */
  private survivors(parsed: ParsedRecord, candidates: MinedNegative[], reference: number | undefined, excluded: Record<ExclusionReason, number>, want: number, kept: MinedNegative[]): { kept: MinedNegative[]; examined: number } {
    const corpus = this.retriever.corpus;
    const out: MinedNegative[] = [];
    let examined = 0;
    const keptHashes = new Set<bigint>(kept.map((c) => corpus.normalizedTextHash(c.docOrdinal)));
    const threshold = this.options.dedupThreshold;
    // The sets a candidate must not resemble: the positives, then every negative kept (before and during this call).
    let near: NearDuplicateIndex | undefined;
    if (threshold !== undefined) {
      near = this.nearDuplicates;
      near.reset(threshold);
      for (const text of parsed.positives) {
        near.add(shingleSet(text));
        this.nearDuplicateWork.textsShingled++;
      }
      for (const ordinal of parsed.positiveOrdinals) near.add(this.shingleCache.get(ordinal));
      for (const c of kept) near.add(this.shingleCache.get(c.docOrdinal));
    }
    for (const candidate of candidates) {
      if (out.length >= want) break;
      examined++;
      const filter = rejectingFilter(candidate.score, reference, this.options);
      if (filter) {
        excluded[filter]++;
        continue;
      }
      const hash = corpus.normalizedTextHash(candidate.docOrdinal);
      if (keptHashes.has(hash)) {
        excluded.duplicate++;
        continue;
      }
      if (near?.addUnlessMatch(this.shingleCache.get(candidate.docOrdinal))) {
        excluded.near_duplicate++;
        continue;
      }
      keptHashes.add(hash);
      out.push(candidate);
    }
    return { kept: out, examined };
  }

  /** Step 8: top up from a seeded draw of documents outside the ranking (they score 0 for the retriever). */
  private async fill(parsed: ParsedRecord, mined: MinedRecord, ranked: Candidate[], positiveScores: number[]): Promise<void> {
    const corpus = this.retriever.corpus;
    const need = this.options.numNeg - mined.negatives.length;
    const inRanking = new Set(ranked.map((c) => c.docOrdinal));
    const positiveOrdinals = new Set(parsed.positiveOrdinals);
    const random = seededRandom(this.options.seed ^ 0x5eed, parsed.record.lineNumber);
    const draws: MinedNegative[] = [];
    const seen = new Set<number>();
    const outside = corpus.docCount - inRanking.size;
    for (let attempt = 0; attempt < Math.min(outside * 3, need * 50 + 100) && draws.length < need * 4; attempt++) {
      const docOrdinal = Math.floor(random() * corpus.docCount);
      if (inRanking.has(docOrdinal) || seen.has(docOrdinal)) continue;
      seen.add(docOrdinal);
      const hash = corpus.normalizedTextHash(docOrdinal);
      if (positiveOrdinals.has(docOrdinal) || parsed.excludedHashes.has(hash)) {
        mined.excluded.positive++;
        continue;
      }
      if (hash === parsed.queryHash) {
        mined.excluded.query++;
        continue;
      }
      draws.push({ docOrdinal, score: 0, rank: -1, filled: true });
    }
    let candidates = draws;
    if (this.rescorer && candidates.length > 0) {
      const scores = await this.rescorer.score(parsed.query, candidates.map((c) => corpus.text(c.docOrdinal)));
      candidates = candidates.map((c, i) => ({ ...c, score: scores[i] }));
    }
    const reference = positiveScores.length > 0 ? Math.min(...positiveScores) : undefined;
    const { kept: extra, examined } = this.survivors(parsed, candidates, reference, mined.excluded, need, mined.negatives);
    mined.negatives.push(...extra);
    if (mined.funnel) {
      mined.funnel.fillDrawn = seen.size;
      mined.funnel.notSelected += candidates.length - examined;
    }
  }

  private count(mined: MinedRecord): void {
    const c = this.counters;
    c.records++;
    c.negatives += mined.negatives.length;
    if (mined.negatives.length < this.options.numNeg) c.short++;
    const filled = mined.negatives.filter((n) => n.filled).length;
    if (filled > 0) {
      c.filledRecords++;
      c.filledNegatives += filled;
    }
    if (mined.positives.length === 0 && mined.positiveOrdinals.length === 0) c.withoutPositives++;
    for (const [reason, count] of Object.entries(mined.excluded)) c.excluded[reason as ExclusionReason] += count;
  }
}
