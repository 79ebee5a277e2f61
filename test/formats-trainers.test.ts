/**
 * Each trainer format in the shape its trainer's own reading code expects (issue 23, item 3), checked by mirrors of
 * that code: sentence-transformers' `CrossEncoderDataCollator.__call__` (label column = the first of label, labels,
 * score, scores; every other column is model input) for labeled-pair and labeled-list; FlagEmbedding's
 * `AbsEmbedderSameDatasetTrainDataset._create_batch_data` (prompt, type) for flag; ColBERT's `load_queries`,
 * `load_collection` (`assert int(pid) == line_idx`) and `LazyBatcher.__next__` for colbert, unit-level and through
 * the built CLI on the bundled fixture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/errors.js';
import { noExclusions, type MinedRecord } from '../src/mine/miner.js';
import type { CorpusView } from '../src/retriever.js';
import { memoryCorpus } from './helpers/memory-corpus.js';
import { RecordFormatter, type FormatContext } from '../src/formats/formats.js';
import { runCli } from './helpers/cli.js';
import { repoRoot } from './helpers/shared-data.js';

const DOCS = [
  { id: 'd0', text: 'Paris is the capital of France.' },
  { id: 'd1', text: 'Lyon is a city\tin France.' },
  { id: 'd2', text: 'Berlin is the capital of Germany.' },
  { id: 'd3', text: 'France borders\r\nSpain.' },
];

const corpus: CorpusView = memoryCorpus(DOCS);

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
    positiveTextOrdinals: (mined) => mined.positives.map((text) => corpus.ordinalOfText(text)),
    ...overrides,
  };
}

function mined(spec: { line?: number; value?: Record<string, unknown>; positives?: string[]; positiveOrdinals?: number[]; positiveScores?: number[]; negatives?: [number, number][] }): MinedRecord {
  const value = spec.value ?? { question: 'Capital of France?' };
  return {
    record: { lineNumber: spec.line ?? 1, byteOffset: 0, endOffset: 0, raw: JSON.stringify(value), value },
    query: String(value.question ?? 'Capital of France?'),
    positives: spec.positives ?? ['Paris is the capital of France.'],
    positiveOrdinals: spec.positiveOrdinals ?? [],
    positiveScores: spec.positiveScores ?? [],
    negatives: (spec.negatives ?? [[1, 9.5], [3, 7.25]]).map(([docOrdinal, score], rank) => ({ docOrdinal, score, rank })),
    excluded: { ...noExclusions(), positive: 1 },
  };
}

/** sentence-transformers' CrossEncoderDataCollator.__call__: the first label column found, the rest are inputs in column order. */
function crossEncoderBatch(rows: Record<string, unknown>[]): { label: unknown[]; inputs: string[] } {
  const columns = Object.keys(rows[0]);
  const label = ['label', 'labels', 'score', 'scores'].find((name) => columns.includes(name));
  assert.ok(label !== undefined, 'a label column');
  return { label: rows.map((row) => row[label]), inputs: columns.filter((c) => c !== label) };
}

test('labeled-pair: the exact lines of mine_hard_negatives(output_format="labeled-pair"): positives label 1, then negatives label 0', () => {
  const out = new RecordFormatter('labeled-pair', context()).lines(mined({}));
  assert.deepEqual(out, [
    '{"question":"Capital of France?","text":"Paris is the capital of France.","label":1}',
    '{"question":"Capital of France?","text":"Lyon is a city\\tin France.","label":0}',
    '{"question":"Capital of France?","text":"France borders\\r\\nSpain.","label":0}',
  ]);
  const batch = crossEncoderBatch(out.map((l) => JSON.parse(l)));
  assert.deepEqual(batch, { label: [1, 0, 0], inputs: ['question', 'text'] }, 'BinaryCrossEntropyLoss: two inputs, one 0/1 label');
});

test('labeled-pair --with-scores: "score" in place of "label" (one label column: a second would be fed to the model as text)', () => {
  const out = new RecordFormatter('labeled-pair', context({ withScores: true, questionKey: 'query', textKey: 'answer' })).lines(mined({ positiveScores: [12.5] }));
  assert.deepEqual(out, [
    '{"query":"Capital of France?","answer":"Paris is the capital of France.","score":12.5}',
    '{"query":"Capital of France?","answer":"Lyon is a city\\tin France.","score":9.5}',
    '{"query":"Capital of France?","answer":"France borders\\r\\nSpain.","score":7.25}',
  ]);
  assert.deepEqual(crossEncoderBatch(out.map((l) => JSON.parse(l))).inputs, ['query', 'answer']);
});

test('labeled-pair: a record without negatives still gives its positives (as sentence-transformers does); without positives, nothing', () => {
  const formatter = new RecordFormatter('labeled-pair', context());
  assert.deepEqual(formatter.lines(mined({ negatives: [] })), ['{"question":"Capital of France?","text":"Paris is the capital of France.","label":1}']);
  assert.deepEqual(formatter.lines(mined({ positives: [] })), []);
  assert.equal(formatter.tally.skipped['no-positive'], 1);
  assert.equal(formatter.tally.skipped['no-negative'], 0);
});

test('labeled-list: one line per record, passages = positives then negatives, labels [1, ..., 0, ...]; --with-scores: "scores"', () => {
  const record = mined({ positives: ['Paris is the capital of France.'], positiveOrdinals: [2], positiveScores: [12.5, 4] });
  const [plain] = new RecordFormatter('labeled-list', context()).lines(record);
  assert.equal(
    plain,
    '{"question":"Capital of France?","text":["Paris is the capital of France.","Berlin is the capital of Germany.","Lyon is a city\\tin France.","France borders\\r\\nSpain."],"labels":[1,1,0,0]}',
  );
  const [scored] = new RecordFormatter('labeled-list', context({ withScores: true })).lines(record);
  assert.equal(
    scored,
    '{"question":"Capital of France?","text":["Paris is the capital of France.","Berlin is the capital of Germany.","Lyon is a city\\tin France.","France borders\\r\\nSpain."],"scores":[12.5,4,9.5,7.25]}',
  );
  for (const line of [plain, scored]) {
    const row = JSON.parse(line);
    const batch = crossEncoderBatch([row]);
    assert.deepEqual(batch.inputs, ['question', 'text']);
    assert.equal((batch.label[0] as unknown[]).length, row.text.length, 'one label per passage (LambdaLoss pairs them by position)');
  }
});

test('flag keeps the input\'s "prompt" and "type" (FlagEmbedding reads them per line); a non-string is an InputError', () => {
  const value = { question: 'Capital of France?', prompt: 'Represent this query: ', type: 'normal' };
  const formatter = new RecordFormatter('flag', context({ withScores: true }));
  const [line] = formatter.lines(mined({ value, positiveScores: [12.5] }));
  assert.equal(
    line,
    '{"query":"Capital of France?","pos":["Paris is the capital of France."],"neg":["Lyon is a city\\tin France.","France borders\\r\\nSpain."],"pos_scores":[12.5],"neg_scores":[9.5,7.25],"prompt":"Represent this query: ","type":"normal"}',
  );
  // _create_batch_data: query_instruction_format.format(data['prompt'], data['query'])
  const row = JSON.parse(line);
  assert.equal('{}{}'.replace('{}', row.prompt).replace('{}', row.query), 'Represent this query: Capital of France?');
  assert.deepEqual(formatter.warnings(), []);

  const [plain] = new RecordFormatter('flag', context()).lines(mined({ value: { question: 'Capital of France?', prompt: null } }));
  assert.deepEqual(Object.keys(JSON.parse(plain)), ['query', 'pos', 'neg'], 'a null or absent prompt is not written');

  assert.throws(
    () => new RecordFormatter('flag', context()).lines(mined({ line: 4, value: { question: 'q', type: 3 } })),
    (error: unknown) => error instanceof InputError && /in\.jsonl:4: field "type" must be a string/.test(error.message),
  );
});

test('flag: a prompt or type that only some lines have is warned about (datasets fills the others with null)', () => {
  const formatter = new RecordFormatter('flag', context());
  formatter.lines(mined({ value: { question: 'a', prompt: 'P: ', type: 'normal' } }));
  formatter.lines(mined({ value: { question: 'b', type: 'symmetric_sts' } }));
  const warnings = formatter.warnings();
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /^1 of 2 flag lines have a "prompt".*"None"/);
  assert.match(warnings[1], /do not share one "type".*"normal" and "symmetric_sts"/);
});

/** ColBERT's readers, mirrored: load_queries, load_collection (with its assert), Examples + LazyBatcher lookups. */
function colbertRead(triples: string[], queriesTsv: string[], collectionTsv: string[]) {
  const queries = new Map<number, string>();
  for (const line of queriesTsv) {
    const [qid, query] = line.trim().split('\t');
    assert.ok(query !== undefined && query.length > 0, `load_queries unpacks qid, query: ${JSON.stringify(line)}`);
    assert.ok(!queries.has(Number(qid)), 'Query QID is repeated!');
    queries.set(Number(qid), query);
  }
  const collection: string[] = [];
  collectionTsv.forEach((line, lineIdx) => {
    assert.ok(!/[\r\n]/.test(line), 'one passage per line (Python reads universal newlines)');
    const [pid, passage, ...rest] = line.replace(/^[\n\r ]+|[\n\r ]+$/g, '').split('\t');
    assert.equal(Number(pid), lineIdx, `pid=${pid}, line_idx=${lineIdx}`);
    assert.equal(rest.length, 0, 'no third column (ColBERT would read it as a title)');
    collection.push(passage);
  });
  return triples.map((line) => {
    const [qid, ...pids] = JSON.parse(line) as [number, ...(number | [number, number])[]];
    assert.ok(Number.isInteger(qid) && queries.has(qid), `qid ${qid} resolves`);
    const ids = pids.map((p) => (Array.isArray(p) ? p[0] : p));
    for (const pid of ids) assert.ok(Number.isInteger(pid) && pid >= 0 && pid < collection.length, `pid ${pid} resolves`);
    const scores = pids.flatMap((p) => (Array.isArray(p) ? [p[1]] : []));
    return { query: queries.get(qid)!, passages: ids.map((pid) => collection[pid]), scores };
  });
}

test('colbert: integer triples whose qids and pids resolve in the side files; pid = line index; a passage numbered once', () => {
  const formatter = new RecordFormatter('colbert', context());
  const records = [
    mined({ value: { _id: 'q1', question: 'Capital of France?' }, positives: ['Paris is the capital of France.', 'A passage\toutside the corpus.'] }),
    mined({ value: { id: 7, question: 'Capital of\tGermany?' }, positives: ['a passage outside THE corpus.'], positiveOrdinals: [2], negatives: [[1, 3], [0, 2]] }),
  ];
  const triples: string[] = [];
  const queries: string[] = [];
  const collection: string[] = [];
  for (const record of records) {
    const out = formatter.formatRecord(record);
    triples.push(...out.lines);
    queries.push(...out.side![0]);
    collection.push(...out.side![1]);
  }
  // pids on first use: the record's positives, then its negatives; the second record's text positive is the first's
  // outside text (same normalised text), so it keeps pid 1.
  assert.deepEqual(triples, ['[0,0,2]', '[0,0,3]', '[0,1,2]', '[0,1,3]', '[1,1,2]', '[1,1,0]', '[1,4,2]', '[1,4,0]']);
  assert.deepEqual(queries, ['0\tCapital of France?\tq1', '1\tCapital of Germany?\t7']);
  assert.deepEqual(collection, [
    '0\tParis is the capital of France.',
    '1\tA passage outside the corpus.',
    '2\tLyon is a city in France.',
    '3\tFrance borders  Spain.',
    '4\tBerlin is the capital of Germany.',
  ]);
  assert.deepEqual(formatter.tally.sideLines, [2, 5]);
  const read = colbertRead(triples, queries, collection);
  assert.deepEqual(read[0], { query: 'Capital of France?', passages: ['Paris is the capital of France.', 'Lyon is a city in France.'], scores: [] });
});

test('colbert --with-scores: [qid, [pid, score], [pid, score]], as LazyBatcher unzips them; a rejected record numbers nothing', () => {
  const formatter = new RecordFormatter('colbert', context({ withScores: true }));
  assert.throws(() => formatter.formatRecord(mined({ value: { _id: ['x'], question: 'q' }, positiveScores: [1] })), InputError);
  const out = formatter.formatRecord(mined({ positiveScores: [12.5] }));
  assert.deepEqual(out.lines, ['[0,[0,12.5],[1,9.5]]', '[0,[0,12.5],[2,7.25]]']);
  assert.deepEqual(out.side![0], ['0\tCapital of France?\tline:1']);
  assert.deepEqual(colbertRead(out.lines, out.side![0], out.side![1])[1].scores, [12.5, 7.25]);
});

const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');
const tmp = () => mkdtempSync(join(tmpdir(), 'rare-mine-trainers-'));
const fixtureLines = () => readFileSync(fixture, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { question: string; text: string });

test('CLI colbert: -o DIR/triples.train.colbert.jsonl makes DIR a RAGatouille data dir whose ids resolve every triple', () => {
  const dir = tmp();
  const out = join(dir, 'triples.train.colbert.jsonl');
  const run = runCli(['bm25', '--num-neg', '3', '--format', 'colbert', '-o', out, fixture]);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(readdirSync(dir).sort(), ['corpus.train.colbert.tsv', 'queries.train.colbert.tsv', 'triples.train.colbert.jsonl'], 'no partial or lock left behind');
  const lines = (name: string) => readFileSync(join(dir, name), 'utf8').split('\n').slice(0, -1);
  const triples = lines('triples.train.colbert.jsonl');
  const read = colbertRead(triples, lines('queries.train.colbert.tsv'), lines('corpus.train.colbert.tsv'));
  const input = fixtureLines();
  // What ColBERT reads back: tabs and newlines as spaces, the line's trailing spaces stripped (line.strip('\n\r ')).
  const positiveOf = new Map(input.map((r) => [r.question.replace(/[\t\r\n]/g, ' ').trim(), r.text.replace(/[\t\r\n]/g, ' ').replace(/ +$/, '')]));
  assert.equal(read.length, 40 * 3, '40 records × 1 positive × 3 negatives');
  for (const { query, passages } of read) {
    assert.equal(passages[0], positiveOf.get(query), 'the positive pid names the record\'s own text (DataFlow: positives by text)');
    assert.notEqual(passages[1], passages[0]);
  }
  const stats = runCli(['stats', out]);
  assert.equal(stats.status, 1, 'stats cannot read triples back, and says so');
  assert.match(stats.messages(), /expected a JSON object, found an array\n  hint: rare-mine stats reads record and flag outputs \(.*colbert lines hold one example each/);
  const summary = run.logs().find((l) => l.msg === 'summary');
  assert.deepEqual(summary.side_files, { [join(dir, 'queries.train.colbert.tsv')]: 40, [join(dir, 'corpus.train.colbert.tsv')]: lines('corpus.train.colbert.tsv').length });
});

test('CLI colbert to stdout writes the side files to --colbert-dir; without it, a usage error before any work', () => {
  const dir = tmp();
  const run = runCli(['bm25', '--num-neg', '2', '--format', 'colbert', '--with-scores', '--colbert-dir', dir, fixture]);
  assert.equal(run.status, 0, run.stderr);
  const read = colbertRead(run.stdout.trimEnd().split('\n'), readFileSync(join(dir, 'queries.train.colbert.tsv'), 'utf8').trimEnd().split('\n'), readFileSync(join(dir, 'corpus.train.colbert.tsv'), 'utf8').trimEnd().split('\n'));
  assert.ok(read.every((r) => r.scores.length === 2));

  const refused = [
    { args: ['--format', 'colbert'], message: /--format colbert to stdout needs --colbert-dir/ },
    { args: ['--format', 'flag', '--colbert-dir', dir], message: /--colbert-dir applies to --format colbert only/ },
    { args: ['--format', 'colbert', '-o', join(dir, 'x.jsonl'), '--resume'], message: /--resume does not apply to --format colbert/ },
    { args: ['--format', 'colbert', '-o', join(dir, 'x.jsonl'), '--shard', '0/2'], message: /--shard does not apply to --format colbert/ },
    { args: ['--format', 'colbert', '-o', join(dir, 'corpus.train.colbert.tsv')], message: /name the same file/ },
    { args: ['--format', 'labeled-pair', '--with-ids'], message: /--with-ids does not apply to --format labeled-pair/ },
    { args: ['--format', 'labeled-list', '--text-key', 'label'], message: /would take for the label column/ },
  ];
  for (const { args, message } of refused) {
    const r = runCli(['bm25', ...args, fixture]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.messages(), message);
  }
  const reader = join(dir, 'in');
  mkdirSync(reader);
  const input = join(reader, 'corpus.train.colbert.tsv');
  copyFileSync(fixture, input);
  const same = runCli(['bm25', '--format', 'colbert', '--colbert-dir', reader, '-o', join(dir, 'y.jsonl'), input]);
  assert.equal(same.status, 2, same.stderr);
  assert.match(same.stderr, /--colbert-dir .*corpus\.train\.colbert\.tsv is the same file as input/);
  assert.equal(readFileSync(input, 'utf8'), readFileSync(fixture, 'utf8'), 'the input is untouched');
  assert.equal(existsSync(join(dir, 'y.jsonl')), false);
});

test('CLI labeled-pair and labeled-list on the fixture: column names from the keys, one label column, counts as sentence-transformers', () => {
  const pair = runCli(['bm25', '--num-neg', '2', '--format', 'labeled-pair', fixture]);
  assert.equal(pair.status, 0, pair.stderr);
  const rows = pair.json() as Record<string, unknown>[];
  assert.equal(rows.length, 40 * 3, 'per record: its positive (label 1) and 2 negatives (label 0)');
  const input = fixtureLines();
  rows.forEach((row, i) => {
    assert.deepEqual(Object.keys(row), ['question', 'text', 'label']);
    assert.equal(row.question, input[Math.floor(i / 3)].question);
    assert.equal(row.label, i % 3 === 0 ? 1 : 0);
    if (i % 3 === 0) assert.equal(row.text, input[i / 3].text);
  });
  const stats = runCli(['stats', '-'], { input: pair.stdout });
  assert.equal(stats.status, 1);
  assert.match(stats.messages(), /missing field "hard_negatives".*\n.*labeled-pair, labeled-list, colbert lines hold one example each/);
  const list = runCli(['bm25', '--num-neg', '2', '--format', 'labeled-list', '--with-scores', fixture]);
  assert.equal(list.status, 0, list.stderr);
  for (const row of list.json() as { question: string; text: string[]; scores: number[] }[]) {
    assert.deepEqual(Object.keys(row), ['question', 'text', 'scores']);
    assert.equal(row.text.length, 3);
    assert.equal(row.scores.length, 3);
  }
});

const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : undefined;

test('CLI colbert read back by Python with ColBERT\'s reading logic (universal newlines, strip, int pids = line index)', { skip: python === undefined && 'no python3 here' }, () => {
  const dir = tmp();
  const input = join(dir, 'in.jsonl');
  // Texts with the characters that break TSVs or Python's line reading: tab, CR, CRLF, LF, NEL, LINE SEPARATOR, trailing spaces.
  const texts = ['alpha\tbeta gamma  ', 'alpha\rdelta\r\nepsilon', 'beta\ngamma \u0085 zeta', 'gamma \u2028 eta theta', 'delta beta alpha', 'epsilon zeta eta'];
  writeFileSync(input, texts.map((text, i) => JSON.stringify({ _id: `q${i}`, question: `which\t${text.slice(0, 11)}?`, text })).join('\n') + '\n');
  const out = join(dir, 'triples.train.colbert.jsonl');
  const run = runCli(['bm25', '--num-neg', '2', '--fill', 'random', '--format', 'colbert', '--with-scores', '-o', out, input]);
  assert.equal(run.status, 0, run.stderr);
  const read = spawnSync(python!, [join(repoRoot, 'test', 'helpers', 'colbert_read.py'), out, join(dir, 'queries.train.colbert.tsv'), join(dir, 'corpus.train.colbert.tsv'), '2'], { encoding: 'utf8' });
  assert.equal(read.status, 0, read.stderr);
  const rows = read.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { query: string; passages: string[]; scores: number[] });
  assert.equal(rows.length, texts.length * 2, 'every triple read');
  const spaced = (text: string) => text.replace(/[\t\r\n]/g, ' ');
  texts.forEach((text, i) => {
    for (const row of rows.slice(2 * i, 2 * i + 2)) {
      assert.equal(row.query, spaced(`which\t${text.slice(0, 11)}?`).trim(), 'the query, one column');
      assert.equal(row.passages[0], spaced(text).replace(/[ ]+$/, ''), 'the positive, one line and one column');
      assert.ok(texts.some((t) => spaced(t).replace(/[ ]+$/, '') === row.passages[1]) && row.passages[1] !== row.passages[0], 'a negative from the corpus');
      assert.equal(row.scores.length, 2);
    }
  });
});
