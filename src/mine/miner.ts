/**
 * The mining stage shared by every retriever: for each input record, in input order, find candidates, apply
 * the rank window and the exclusions, choose negatives, and write the record back enriched.
 *
 * Order of operations (documented in README "How negatives are chosen", tested in test/mine-window.test.ts):
 *  1. The retriever ranks the corpus for the query; rank r is the 0-based position in that raw ranking,
 *     counted BEFORE anything is excluded (as RAGatouille's min_rank/max_rank).
 *  2. Window: only ranks minRank ≤ r < maxRank are candidates (maxRank unset = the whole ranking).
 *  3. Exclusions, in rank order: a positive (by corpus id, or by normalised text), the query text itself, and
 *     any text equal (normalised) to a negative already kept.
 *  4. Selection: `top` keeps the first numNeg survivors; `random` draws numNeg of them, seeded per record
 *     (seed, line number), then lists them in rank order.
 * A record with fewer survivors than numNeg is written with what exists and counted as short; never dropped.
 */
import { optionalStrings, requireString, type JsonRecord } from '../io/jsonl.js';
import { normalizedTextHash } from '../text/normalize.js';
import type { Candidate, Retriever } from './retriever.js';
import { seededRandom } from './random.js';

export interface MiningOptions {
  questionKey: string;
  textKey: string;
  positiveIdsKey?: string;
  numNeg: number;
  minRank: number;
  /** Exclusive upper bound on raw rank; undefined = unbounded. */
  maxRank?: number;
  sample: 'top' | 'random';
  seed: number;
}

export interface MinedNegative {
  docOrdinal: number;
  score: number;
  /** 0-based rank in the retriever's raw ranking. */
  rank: number;
}

export interface MinedRecord {
  record: JsonRecord;
  query: string;
  /** Positive passages given by text (--text-key), in record order. */
  positives: string[];
  /** Corpus ordinals of positives given by id (--positive-ids-key). */
  positiveOrdinals: number[];
  /** The retriever's score of each positive: texts first, then ids; empty when scores were not needed. */
  positiveScores: number[];
  /** Chosen negatives in rank order. */
  negatives: MinedNegative[];
  /** Candidates inside the window removed, by reason. */
  excluded: { positive: number; query: number; duplicate: number };
}

export interface MiningCounters {
  records: number;
  negatives: number;
  short: number;
  withoutPositives: number;
  unknownPositiveIds: number;
  excludedPositive: number;
  excludedQuery: number;
  excludedDuplicate: number;
  outsideWindow: number;
}

export function newCounters(): MiningCounters {
  return { records: 0, negatives: 0, short: 0, withoutPositives: 0, unknownPositiveIds: 0, excludedPositive: 0, excludedQuery: 0, excludedDuplicate: 0, outsideWindow: 0 };
}

interface Parsed {
  record: JsonRecord;
  query: string;
  positives: string[];
  positiveOrdinals: number[];
  excludedHashes: Set<bigint>;
  queryHash: bigint;
}

export class Miner {
  readonly counters = newCounters();

  constructor(readonly retriever: Retriever, readonly options: MiningOptions, readonly inputName: string) {}

  /** Validate a record's fields; throws InputError naming the line. */
  parse(record: JsonRecord): Parsed {
    const { questionKey, textKey, positiveIdsKey } = this.options;
    const query = requireString(this.inputName, record, questionKey);
    const positives = optionalStrings(this.inputName, record, textKey);
    const ids = positiveIdsKey ? optionalStrings(this.inputName, record, positiveIdsKey) : [];
    const positiveOrdinals: number[] = [];
    for (const id of ids) {
      const ordinal = this.retriever.corpus.ordinalOfId(id);
      if (ordinal === undefined) this.counters.unknownPositiveIds++;
      else positiveOrdinals.push(ordinal);
    }
    const excludedHashes = new Set<bigint>();
    for (const text of positives) excludedHashes.add(normalizedTextHash(text));
    for (const ordinal of positiveOrdinals) excludedHashes.add(this.retriever.corpus.normalizedTextHash(ordinal));
    return { record, query, positives, positiveOrdinals, excludedHashes, queryHash: normalizedTextHash(query) };
  }

  /** Mine a batch of parsed records (one retriever call for the batch). */
  async mine(batch: Parsed[]): Promise<MinedRecord[]> {
    const { numNeg, minRank, maxRank } = this.options;
    const docCount = this.retriever.corpus.docCount;
    const limit = Math.min(maxRank ?? docCount, docCount);
    // Ask for enough ranks to fill the window after typical exclusions; deepen per record when short.
    let depth = Math.min(limit, Math.max(minRank + numNeg * 4 + 16, maxRank ?? 0));
    const results: MinedRecord[] = new Array(batch.length);
    let pending = batch.map((_, i) => i);
    let candidates = await this.retriever.search(pending.map((i) => batch[i].query), depth);
    for (;;) {
      const retry: number[] = [];
      pending.forEach((recordIndex, j) => {
        const mined = this.select(batch[recordIndex], candidates[j], minRank, limit);
        const exhausted = candidates[j].length < depth || depth >= limit;
        if (mined.negatives.length < numNeg && !exhausted) retry.push(recordIndex);
        else results[recordIndex] = mined;
      });
      if (retry.length === 0) break;
      depth = Math.min(limit, depth * 4);
      pending = retry;
      candidates = await this.retriever.search(pending.map((i) => batch[i].query), depth);
    }
    for (const mined of results) this.count(mined);
    return results;
  }

  private select(parsed: Parsed, ranked: Candidate[], minRank: number, limit: number): MinedRecord {
    const { numNeg, sample, seed } = this.options;
    const positiveOrdinals = new Set(parsed.positiveOrdinals);
    const kept: MinedNegative[] = [];
    const keptHashes = new Set<bigint>();
    const stats = { positive: 0, query: 0, duplicate: 0 };
    const want = sample === 'top' ? numNeg : Number.POSITIVE_INFINITY;
    for (let rank = minRank; rank < Math.min(limit, ranked.length) && kept.length < want; rank++) {
      const { docOrdinal, score } = ranked[rank];
      const hash = this.retriever.corpus.normalizedTextHash(docOrdinal);
      if (positiveOrdinals.has(docOrdinal) || parsed.excludedHashes.has(hash)) {
        stats.positive++;
        continue;
      }
      if (hash === parsed.queryHash) {
        stats.query++;
        continue;
      }
      if (keptHashes.has(hash)) {
        stats.duplicate++;
        continue;
      }
      keptHashes.add(hash);
      kept.push({ docOrdinal, score, rank });
    }
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
    return { record: parsed.record, query: parsed.query, positives: parsed.positives, positiveOrdinals: parsed.positiveOrdinals, positiveScores: [], negatives, excluded: stats };
  }

  private count(mined: MinedRecord): void {
    const c = this.counters;
    c.records++;
    c.negatives += mined.negatives.length;
    if (mined.negatives.length < this.options.numNeg) c.short++;
    if (mined.positives.length === 0 && mined.positiveOrdinals.length === 0) c.withoutPositives++;
    c.excludedPositive += mined.excluded.positive;
    c.excludedQuery += mined.excluded.query;
    c.excludedDuplicate += mined.excluded.duplicate;
  }
}
