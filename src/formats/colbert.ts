/**
 * `--format colbert`: one JSON array `[qid, pos_pid, neg_pid]` per (positive, negative) pair, the layout of
 * RAGatouille's `triples.train.colbert.jsonl` (ColBERT's `Examples`); with --with-scores, ColBERT v2's
 * distillation layout `[qid, [pos_pid, score], [neg_pid, score]]`. qid and pids are strings: the query id field
 * (--query-id-key) and the corpus ids. What must hold: every pid is a corpus id — a positive given by text that is
 * not a corpus document cannot be named, so it is left out and counted (and a record with no nameable positive is
 * skipped). ColBERT's own Trainer wants integer qids/pids indexing its TSVs: docs/FORMATS.md says how to map them.
 */
import { InputError } from '../errors.js';
import { describe, type JsonRecord } from '../io/jsonl.js';
import { exactIdText } from '../io/json-members.js';
import type { MinedRecord } from '../mine/miner.js';
import { examplePositives, requiredScore } from './example-positives.js';
import type { FormatContext, FormattedRecord, OutputFormat } from './output-format.js';

/**
 * The query id of a record: the `queryIdKey` field (a string, or a number as the digits the input wrote); with the default key "_id", "id" when
 * "_id" is absent; `line:N` when the record has neither. Any other type is an InputError naming the line.
 */
export function queryIdOf(record: JsonRecord, queryIdKey: string, inputName: string): string {
  let key = queryIdKey;
  let raw = record.value[key];
  if ((raw === undefined || raw === null) && key === '_id') raw = record.value[(key = 'id')];
  if (raw === undefined || raw === null) return `line:${record.lineNumber}`;
  if (typeof raw === 'string' || typeof raw === 'number') return exactIdText(record.raw, key, raw);
  throw new InputError(inputName, record.lineNumber, `field "${queryIdKey}" (the query id) must be a string or number, found ${describe(raw)}`);
}

export const colbertFormat: OutputFormat = {
  description: 'ColBERT/RAGatouille triples: [qid, pos_pid, neg_pid] per (positive, negative) pair, by corpus id',
  consumer: 'RAGatouille / ColBERT training triples (triples.train.colbert.jsonl)',
  lines(mined: MinedRecord, context: FormatContext): FormattedRecord {
    const positives = examplePositives(mined, context);
    if (positives.length === 0) return { lines: [], skipped: 'no-positive' };
    if (mined.negatives.length === 0) return { lines: [], skipped: 'no-negative' };
    const named = positives.filter((p) => p.id !== undefined);
    const positivesWithoutId = positives.length - named.length;
    if (named.length === 0) return { lines: [], skipped: 'no-positive-id', positivesWithoutId };
    const qid = queryIdOf(mined.record, context.queryIdKey, context.inputName);
    const { corpus } = context;
    const seenIds = new Set<string>();
    const lines: string[] = [];
    for (const positive of named) {
      const positiveId = positive.id!;
      if (seenIds.has(positiveId)) continue;
      seenIds.add(positiveId);
      for (const negative of mined.negatives) {
        const negativeId = corpus.id(negative.docOrdinal);
        const triple = context.withScores
          ? [qid, [positiveId, requiredScore(positive, mined)], [negativeId, negative.score]]
          : [qid, positiveId, negativeId];
        lines.push(JSON.stringify(triple));
      }
    }
    return positivesWithoutId > 0 ? { lines, positivesWithoutId } : { lines };
  },
};
