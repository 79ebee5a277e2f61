/**
 * Each --format parsed the way its consumer parses it: FlagEmbedding's train dataset, sentence-transformers'
 * `datasets.load_dataset("json")` columns, RAGatouille/ColBERT's `qid, *pids = json.loads(line)`, and the record
 * format's byte-for-byte prefix. Plus the table-generated --format option and the skip tally.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, CommanderError } from 'commander';
import fc from 'fast-check';
import { InputError } from '../src/errors.js';
import { noExclusions, type MinedRecord } from '../src/mine/miner.js';
import type { CorpusView } from '../src/retriever.js';
import { memoryCorpus } from './helpers/memory-corpus.js';
import { normalizedTextHash } from '../src/text/normalize.js';
import { addFormatOptions } from '../src/cli/options.js';
import { FORMAT_NAMES, FORMATS, RecordFormatter, type FormatContext, type FormatName } from '../src/formats/formats.js';
import { SKIP_REASONS } from '../src/formats/output-format.js';
import { queryIdOf } from '../src/formats/colbert.js';

const DOCS = [
  { id: 'd0', text: 'Paris is the capital of France.' },
  { id: 'd1', text: 'Lyon is a city in France.' },
  { id: 'd2', text: 'Berlin is the capital of Germany.' },
  { id: 'd3', text: 'Madrid is the capital of Spain.' },
  { id: 'd4', text: 'France borders Spain.' },
  { id: '17', text: 'Rome is the capital of Italy.' },
];

const corpus: CorpusView = memoryCorpus(DOCS);

/** What the mining stage does for positiveTextOrdinals: look the text up among the corpus texts. */
function positiveTextOrdinals(mined: MinedRecord): (number | undefined)[] {
  return mined.positives.map((text) => corpus.ordinalOfText(text));
}

function context(overrides: Partial<FormatContext> = {}): FormatContext {
  return {
    corpus,
    inputName: 'in.jsonl',
    outputKey: 'hard_negatives',
    ifKeyExists: 'fail',
    withScores: false,
    withIds: false,
    withRanks: false,
    numNeg: 2,
    queryIdKey: '_id',
    questionKey: 'question',
    textKey: 'text',
    positiveTextOrdinals,
    ...overrides,
  };
}

interface MinedSpec {
  line?: number;
  value?: Record<string, unknown>;
  positives?: string[];
  positiveOrdinals?: number[];
  positiveScores?: number[];
  negatives?: [docOrdinal: number, score: number, rank: number][];
}

function mined(spec: MinedSpec): MinedRecord {
  const value = spec.value ?? { question: 'What is the capital of France?' };
  return {
    record: { lineNumber: spec.line ?? 1, byteOffset: 0, endOffset: 0, raw: JSON.stringify(value), value },
    query: String(value.question ?? 'What is the capital of France?'),
    positives: spec.positives ?? ['Paris is the capital of France.'],
    positiveOrdinals: spec.positiveOrdinals ?? [],
    positiveScores: spec.positiveScores ?? [],
    negatives: (spec.negatives ?? [[1, 9.5, 1], [4, 7.25, 3]]).map(([docOrdinal, score, rank]) => ({ docOrdinal, score, rank })),
    excluded: { ...noExclusions(), positive: 1 },
  };
}

function lines(name: FormatName, record: MinedRecord, ctx = context()): string[] {
  return new RecordFormatter(name, ctx).lines(record);
}

/** `datasets.load_dataset("json")` needs one schema: the same columns, in the same order, on every line. */
function columnsOf(jsonLines: string[]): string[] {
  const rows = jsonLines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const columns = Object.keys(rows[0]);
  for (const row of rows) assert.deepEqual(Object.keys(row), columns, 'every line has the same columns in the same order');
  return columns;
}

test('record: the input line byte for byte, then the negatives (+ _scores, _ids, _ranks, _positive_scores)', () => {
  const value = { question: 'What is the capital of France?', n: 1.50, text: 'Paris is the capital of France.' };
  const record = mined({ value, positiveScores: [12.5] });
  record.record.raw = '{"question": "What is the capital of France?", "n": 1.50, "text": "Paris is the capital of France."}';
  const [plain] = lines('record', record);
  assert.ok(plain.startsWith('{"question": "What is the capital of France?", "n": 1.50,'), 'original bytes kept');
  assert.deepEqual(JSON.parse(plain).hard_negatives, ['Lyon is a city in France.', 'France borders Spain.']);
  assert.equal(JSON.parse(plain).hard_negatives_scores, undefined);

  const [full] = lines('record', record, context({ withScores: true, withIds: true, withRanks: true, outputKey: 'negs' }));
  const parsed = JSON.parse(full);
  assert.deepEqual(Object.keys(parsed), ['question', 'n', 'text', 'negs', 'negs_scores', 'negs_ids', 'negs_ranks', 'negs_positive_scores']);
  assert.deepEqual(parsed.negs_scores, [9.5, 7.25]);
  assert.deepEqual(parsed.negs_ids, ['d1', 'd4']);
  assert.deepEqual(parsed.negs_ranks, [1, 3]);
  assert.deepEqual(parsed.negs_positive_scores, [12.5]);
});

test('record: a record with no negative is still written, with an empty list', () => {
  const formatter = new RecordFormatter('record', context());
  const out = formatter.lines(mined({ negatives: [] }));
  assert.equal(out.length, 1);
  assert.deepEqual(JSON.parse(out[0]).hard_negatives, []);
  assert.equal(formatter.tally.lines, 1);
  assert.deepEqual(formatter.warnings(), []);
});

test('flag: one {"query","pos","neg"} line per record, as FlagEmbedding\'s train dataset reads it', () => {
  const record = mined({ positives: ['Paris is the capital of France.'], positiveOrdinals: [5], positiveScores: [12.5, 3.0] });
  const out = lines('flag', record, context({ withScores: true }));
  assert.equal(out.length, 1, 'one line per record, several positives included');
  const data = JSON.parse(out[0]) as Record<string, unknown>;
  assert.deepEqual(Object.keys(data), ['query', 'pos', 'neg', 'pos_scores', 'neg_scores']);
  assert.equal(typeof data.query, 'string');
  // FlagEmbedding: `pos = random.choice(data['pos'])`, `math.ceil((group - 1) / len(data['neg']))`
  assert.ok(Array.isArray(data.pos) && data.pos.length === 2 && data.pos.every((p) => typeof p === 'string'));
  assert.ok(Array.isArray(data.neg) && data.neg.length === 2 && data.neg.every((n) => typeof n === 'string'));
  assert.deepEqual(data.pos, ['Paris is the capital of France.', 'Rome is the capital of Italy.']);
  // distillation: teacher_scores = pos_scores[i] + neg_scores[j...], aligned with pos and neg
  assert.deepEqual(data.pos_scores, [12.5, 3.0]);
  assert.deepEqual(data.neg_scores, [9.5, 7.25]);
});

test('flag: ids and ranks when asked; null id for a text positive outside the corpus', () => {
  const record = mined({ positives: ['A passage that is not in the corpus.'], positiveOrdinals: [0] });
  const [line] = lines('flag', record, context({ withIds: true, withRanks: true }));
  const data = JSON.parse(line);
  assert.deepEqual(data.pos_ids, [null, 'd0']);
  assert.deepEqual(data.neg_ids, ['d1', 'd4']);
  assert.deepEqual(data.neg_ranks, [1, 3]);
});

test('flag/triplet/ntuple/labeled-list/colbert: no line for a record without negatives or without positives, counted by reason', () => {
  for (const name of ['flag', 'triplet', 'ntuple', 'labeled-list', 'colbert'] as const) {
    const formatter = new RecordFormatter(name, context());
    assert.deepEqual(formatter.lines(mined({ negatives: [] })), [], `${name}: no negative, no line`);
    assert.deepEqual(formatter.lines(mined({ positives: [] })), [], `${name}: no positive, no line`);
    assert.equal(formatter.tally.skipped['no-negative'], 1);
    assert.equal(formatter.tally.skipped['no-positive'], 1);
    assert.equal(formatter.tally.records, 2);
    assert.equal(formatter.tally.lines, 0);
    const warnings = formatter.warnings();
    assert.deepEqual(warnings, [
      `1 record ${SKIP_REASONS['no-positive']}: no ${name} line written`,
      `1 record ${SKIP_REASONS['no-negative']}: no ${name} line written`,
    ]);
  }
});

test('--with-scores without positive scores from the mining stage is a bug, not a silent null', () => {
  assert.throws(() => lines('flag', mined({}), context({ withScores: true })), /positiveScores is empty/);
  assert.throws(() => lines('triplet', mined({ positiveScores: [1, 2, 3] })), /3 scores for 1 positives/);
});

test('triplet: one {"anchor","positive","negative"} line per (positive, negative), positive-major', () => {
  const record = mined({ positives: ['Paris is the capital of France.'], positiveOrdinals: [5], positiveScores: [12.5, 3.0] });
  const out = lines('triplet', record, context({ withScores: true }));
  assert.equal(out.length, 4, '2 positives × 2 negatives');
  assert.deepEqual(columnsOf(out), ['anchor', 'positive', 'negative', 'positive_score', 'negative_score']);
  const rows = out.map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((r) => [r.positive, r.negative]), [
    ['Paris is the capital of France.', 'Lyon is a city in France.'],
    ['Paris is the capital of France.', 'France borders Spain.'],
    ['Rome is the capital of Italy.', 'Lyon is a city in France.'],
    ['Rome is the capital of Italy.', 'France borders Spain.'],
  ]);
  for (const row of rows) {
    assert.equal(row.anchor, 'What is the capital of France?');
    assert.equal(typeof row.positive_score, 'number');
    assert.equal(typeof row.negative_score, 'number');
  }
  assert.deepEqual(rows.map((r) => r.positive_score), [12.5, 12.5, 3.0, 3.0]);
  assert.deepEqual(columnsOf(lines('triplet', record)), ['anchor', 'positive', 'negative'], 'exactly three text columns without options');
});

test('a positive given both as text and by id is one positive (no duplicated examples)', () => {
  const record = mined({ positives: ['Paris is the capital of France.', '  paris IS the capital of France. '], positiveOrdinals: [0] });
  assert.equal(lines('triplet', record).length, 2, '1 distinct positive × 2 negatives');
  assert.equal(lines('colbert', record).length, 2);
  assert.equal(lines('labeled-pair', record).length, 3, '1 positive + 2 negatives');
  assert.deepEqual(JSON.parse(lines('flag', record)[0]).pos, ['Paris is the capital of France.']);
});

test('ntuple: one line per positive with negative_1..negative_n in column order; score = [pos, neg_1..n]', () => {
  const record = mined({ positives: ['Paris is the capital of France.'], positiveOrdinals: [5], positiveScores: [12.5, 3.0] });
  const out = lines('ntuple', record, context({ withScores: true }));
  assert.equal(out.length, 2, 'one line per positive');
  assert.deepEqual(columnsOf(out), ['anchor', 'positive', 'negative_1', 'negative_2', 'score']);
  const rows = out.map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((r) => r.positive), ['Paris is the capital of France.', 'Rome is the capital of Italy.']);
  assert.deepEqual(rows[0].score, [12.5, 9.5, 7.25]);
  assert.deepEqual(rows[1].score, [3.0, 9.5, 7.25]);
  assert.equal(rows[0].negative_1, 'Lyon is a city in France.');
  assert.equal(rows[0].negative_2, 'France borders Spain.');
});

test('ntuple: a record short of --num-neg negatives is skipped (sentence-transformers drops incomplete rows)', () => {
  const formatter = new RecordFormatter('ntuple', context({ numNeg: 3 }));
  assert.deepEqual(formatter.lines(mined({})), []);
  assert.equal(formatter.tally.skipped['fewer-negatives'], 1);
  assert.match(formatter.warnings()[0], /fewer negatives than --num-neg/);
});

test('query id: --query-id-key, "_id" falling back to "id", then line:N; other types are an InputError', () => {
  const rec = (value: Record<string, unknown>) => ({ lineNumber: 9, byteOffset: 0, endOffset: 0, raw: JSON.stringify(value), value });
  assert.equal(queryIdOf(rec({ _id: 'a', id: 'b' }), '_id', 'f'), 'a');
  assert.equal(queryIdOf(rec({ id: 'b' }), '_id', 'f'), 'b');
  assert.equal(queryIdOf(rec({ id: 42 }), '_id', 'f'), '42');
  assert.equal(queryIdOf(rec({}), '_id', 'f'), 'line:9');
  assert.equal(queryIdOf(rec({ qid: 'x', id: 'b' }), 'qid', 'f'), 'x');
  assert.equal(queryIdOf(rec({ id: 'b' }), 'qid', 'f'), 'line:9', 'only the default key falls back to "id"');
  assert.throws(
    () => queryIdOf(rec({ _id: ['x'] }), '_id', 'in.jsonl'),
    (error: unknown) => error instanceof InputError && error.message === 'in.jsonl:9: field "_id" (the query id) must be a string or number, found a list',
  );
});

test('--format choices and help come from the FORMATS table', async () => {
  assert.deepEqual(FORMAT_NAMES, ['record', 'flag', 'triplet', 'ntuple', 'labeled-pair', 'labeled-list', 'colbert']);
  const make = () => {
    const command = addFormatOptions(new Command('mine')).exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    command.action(() => {});
    return command;
  };
  const ok = make();
  await ok.parseAsync(['--format', 'flag', '--with-ranks'], { from: 'user' });
  assert.deepEqual(ok.opts(), { format: 'flag', queryIdKey: '_id', withRanks: true, withScores: false, withIds: false });
  assert.equal(make().parse([], { from: 'user' }).opts().format, 'record', 'record is the default');
  const bad = make();
  await assert.rejects(bad.parseAsync(['--format', 'csv'], { from: 'user' }), (error: unknown) => {
    assert.ok(error instanceof CommanderError);
    assert.match(error.message, /Allowed choices are record, flag, triplet, ntuple, labeled-pair, labeled-list, colbert/);
    return true;
  });
  const help = make().helpInformation();
  for (const name of FORMAT_NAMES) assert.ok(help.replace(/\s+/g, ' ').includes(`${name}: ${FORMATS[name].description}`.replace(/\s+/g, ' ')), `help explains ${name}`);
});

test('property: triplet = distinct positives × negatives lines; flag keeps every text; colbert ids resolve to the texts', () => {
  const spec = fc.record({
    positiveTexts: fc.subarray(DOCS.map((d) => d.text).concat(['Outside text one.', 'Outside text two.'])),
    positiveOrdinals: fc.subarray([0, 1, 2, 3, 4, 5]),
    negatives: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }),
    withScores: fc.boolean(),
  });
  fc.assert(
    fc.property(spec, ({ positiveTexts, positiveOrdinals, negatives, withScores }) => {
      const total = positiveTexts.length + positiveOrdinals.length;
      const record = mined({
        positives: positiveTexts,
        positiveOrdinals,
        positiveScores: withScores ? Array.from({ length: total }, (_, i) => 10 - i) : [],
        negatives: negatives.map((ordinal, rank) => [ordinal, 5 - rank, rank + 2] as [number, number, number]),
      });
      const ctx = context({ withScores, numNeg: negatives.length });
      const distinct = new Set([...positiveTexts.map((t) => normalizedTextHash(t)), ...positiveOrdinals.map((o) => corpus.normalizedTextHash(o))]);
      const triplets = lines('triplet', record, ctx);
      assert.equal(triplets.length, negatives.length === 0 ? 0 : distinct.size * negatives.length);
      for (const line of triplets) {
        const row = JSON.parse(line);
        assert.ok(typeof row.anchor === 'string' && typeof row.positive === 'string' && typeof row.negative === 'string');
      }
      const flag = lines('flag', record, ctx);
      if (distinct.size > 0 && negatives.length > 0) {
        const row = JSON.parse(flag[0]);
        assert.equal(row.pos.length, distinct.size);
        assert.deepEqual(row.neg, negatives.map((o) => DOCS[o].text));
        if (withScores) assert.equal(row.pos_scores.length, row.pos.length);
      } else {
        assert.deepEqual(flag, []);
      }
      const colbert = new RecordFormatter('colbert', context()).formatRecord(record);
      const [queries, collection] = colbert.side ?? [[], []];
      const passages = collection.map((l) => l.split('\t')[1]);
      collection.forEach((l, i) => assert.equal(l.split('\t')[0], String(i), 'pid = line index'));
      for (const line of colbert.lines) {
        const [qid, pos, neg] = JSON.parse(line) as number[];
        assert.equal(queries[qid].split('\t')[1], record.query);
        assert.ok(distinct.has(normalizedTextHash(passages[pos])), 'the positive pid names a positive');
        assert.ok(negatives.some((o) => DOCS[o].text === passages[neg]), 'the negative pid names a negative');
      }
    }),
    { numRuns: 300, seed: 7 },
  );
});
