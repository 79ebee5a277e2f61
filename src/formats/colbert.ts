/**
 * `--format colbert`: ColBERT's training data, as RAGatouille's `TrainingDataProcessor.export_training_data` lays it
 * out and ColBERT's `Trainer` reads it: one JSON array `[qid, pos_pid, neg_pid]` of integers per (positive, negative)
 * pair (`triples.train.colbert.jsonl`, the main output), plus two side files in --colbert-dir:
 * `queries.train.colbert.tsv` (`qid\tquery\tquery id`) and `corpus.train.colbert.tsv` (`pid\tpassage`). With
 * --with-scores, ColBERT v2's distillation layout `[qid, [pos_pid, score], [neg_pid, score]]`.
 * What must hold: every id a triple names resolves — a qid is written to the queries file, and a pid to the
 * collection, with the record that first names it, before the run ends — and pid = line index of the collection
 * (ColBERT's `load_collection` asserts `int(pid) == line_idx`): pids are numbered 0, 1, 2, ... on first use and
 * their lines appended in that order. A passage is numbered once: a corpus document by its ordinal, a text positive
 * that is not a corpus document by its normalised text. Tabs, CRs and newlines inside a text become spaces (ColBERT
 * splits lines on them, and columns on tabs).
 */
import { InputError } from '../errors.js';
import { describe, type JsonRecord } from '../io/jsonl.js';
import { exactIdText } from '../io/json-members.js';
import type { MinedRecord } from '../mine/miner.js';
import { normalizedTextHash } from '../text/normalize.js';
import { examplePositives, requiredScore, type ExamplePositive } from './example-positives.js';
import type { FormatContext, FormattedRecord, OutputFormat, SideFile } from './output-format.js';

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

/** The side files, in the order of a FormattedRecord's `side`: RAGatouille's names, which its trainer reads from its data dir. */
export const COLBERT_SIDE_FILES = [
  { fileName: 'queries.train.colbert.tsv', holds: 'queries' },
  { fileName: 'corpus.train.colbert.tsv', holds: 'passages' },
] as const satisfies readonly SideFile[];

/** One TSV column: tabs, CRs and newlines become spaces (ColBERT reads `line.split('\t')` over universal-newline lines). */
export function tsvField(text: string): string {
  return text.replace(/[\t\r\n]/g, ' ');
}

/**
 * The run's numbering. Memory: 4 bytes per corpus document (an array by ordinal, made on first use) plus one Map
 * entry (a 64-bit hash and a number, some 80 bytes) per distinct text positive that is not a corpus document; the
 * texts themselves are never kept.
 */
interface ColbertState {
  nextQid: number;
  nextPid: number;
  /** pid + 1 of each corpus document already in the collection, by ordinal; 0 = not yet. */
  pidOfOrdinal?: Uint32Array;
  /** pid of each text positive outside the corpus, by normalised-text hash. */
  readonly pidOfOutsideText: Map<bigint, number>;
}

export const colbertFormat: OutputFormat<ColbertState> = {
  description: 'ColBERT/RAGatouille: [qid, pos_pid, neg_pid] integer triples per (positive, negative) pair; queries and collection TSVs in --colbert-dir',
  consumer: 'ColBERT Trainer / RAGatouille (triples.train.colbert.jsonl, queries.train.colbert.tsv, corpus.train.colbert.tsv)',
  sideFiles: COLBERT_SIDE_FILES,
  newState: () => ({ nextQid: 0, nextPid: 0, pidOfOutsideText: new Map() }),
  lines(mined: MinedRecord, context: FormatContext, state: ColbertState): FormattedRecord {
    const positives = examplePositives(mined, context);
    if (positives.length === 0) return { lines: [], skipped: 'no-positive' };
    if (mined.negatives.length === 0) return { lines: [], skipped: 'no-negative' };
    // Read (and refuse) the query id before anything is numbered: a rejected record leaves no id behind.
    const queryId = queryIdOf(mined.record, context.queryIdKey, context.inputName);
    const { corpus } = context;
    const qid = state.nextQid++;
    const queries = [`${qid}\t${tsvField(mined.query)}\t${tsvField(queryId)}`];
    const collection: string[] = [];
    const pidOfDocument = (docOrdinal: number, text: () => string): number => {
      state.pidOfOrdinal ??= new Uint32Array(corpus.docCount);
      const known = state.pidOfOrdinal[docOrdinal];
      if (known !== 0) return known - 1;
      const pid = state.nextPid++;
      state.pidOfOrdinal[docOrdinal] = pid + 1;
      collection.push(`${pid}\t${tsvField(text())}`);
      return pid;
    };
    const pidOfPositive = (positive: ExamplePositive): number => {
      if (positive.docOrdinal !== undefined) return pidOfDocument(positive.docOrdinal, () => positive.text);
      const hash = normalizedTextHash(positive.text);
      const known = state.pidOfOutsideText.get(hash);
      if (known !== undefined) return known;
      const pid = state.nextPid++;
      state.pidOfOutsideText.set(hash, pid);
      collection.push(`${pid}\t${tsvField(positive.text)}`);
      return pid;
    };
    const positivePids = positives.map(pidOfPositive);
    const negativePids = mined.negatives.map((n) => pidOfDocument(n.docOrdinal, () => corpus.text(n.docOrdinal)));
    const lines: string[] = [];
    positives.forEach((positive, i) => {
      mined.negatives.forEach((negative, j) => {
        const triple = context.withScores
          ? [qid, [positivePids[i], requiredScore(positive, mined)], [negativePids[j], negative.score]]
          : [qid, positivePids[i], negativePids[j]];
        lines.push(JSON.stringify(triple));
      });
    });
    return { lines, side: [queries, collection] };
  },
};
