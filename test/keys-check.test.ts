/**
 * No silent misconfiguration (issue 23, item 1), through the built CLI: a key an option names that none of the first
 * records has is a usage error (exit 2) naming the option, the value, the keys the records have and the closest,
 * before any index is built; an empty DataFlow corpus is an error; records mined without a positive end the run
 * with a WARN line (the last on stderr) and --require-positives makes them bad input lines; stats and report show
 * their count; reading the prefix of a one-pass input loses no record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { repoRoot } from './helpers/shared-data.js';
import { closestKey, editDistance } from '../src/io/record-keys.js';

const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');
const work = mkdtempSync(join(tmpdir(), 'rare-mine-keys-'));

const CORPUS = [
  { _id: 'd1', title: 'Cats', text: 'the cat sat on the mat by the door' },
  { _id: 'd2', title: 'Dogs', text: 'dogs chase cats across the park' },
  { _id: 'd3', title: 'Pets', text: 'a cat and a dog share a mat' },
  { _id: 'd4', title: 'Mats', text: 'mat making for cats and dogs' },
  { _id: 'd5', title: 'Birds', text: 'birds sing while cats watch' },
];
const corpus = join(work, 'corpus.jsonl');
writeFileSync(corpus, CORPUS.map((d) => JSON.stringify(d)).join('\n') + '\n');

/** Queries with positives by id under `pos_ids`, the third without any. */
const queries = join(work, 'queries.jsonl');
writeFileSync(
  queries,
  [
    { question: 'where did the cat sit', pos_ids: ['d1'] },
    { question: 'what do dogs chase', pos_ids: 'd2' },
    { question: 'cat on a mat' },
    { question: 'who watches birds', pos_ids: ['d5'] },
  ]
    .map((r) => JSON.stringify(r))
    .join('\n') + '\n',
);

/** A fresh --index-dir path (not created): nothing may appear there when a run fails before any work. */
function freshIndexDir(): string {
  return join(mkdtempSync(join(work, 'idx-')), 'index');
}

function assertNothingBuilt(indexDir: string): void {
  assert.ok(!existsSync(indexDir) || readdirSync(indexDir).length === 0, `nothing built in ${indexDir}: ${existsSync(indexDir) ? readdirSync(indexDir).join(', ') : ''}`);
}

test('closest key: a small Damerau–Levenshtein distance over the keys seen', () => {
  assert.equal(editDistance('pos_id', 'pos_ids'), 1);
  assert.equal(editDistance('qeustion', 'question'), 1, 'an adjacent transposition is one edit');
  assert.equal(editDistance('Text', 'text'), 0, 'case-insensitive');
  assert.equal(closestKey('pos_id', ['question', 'pos_ids']), 'pos_ids');
  assert.equal(closestKey('txt', ['question', 'text']), 'text');
  assert.equal(closestKey('id', ['text', 'title']), undefined, 'a short name suggests nothing far from it');
  assert.equal(closestKey('query', ['question', 'text']), undefined);
});

test('a misspelled --positive-ids-key is a usage error naming option, value, keys and the closest, before the index is built', () => {
  const indexDir = freshIndexDir();
  const run = runCli(['bm25', '--corpus', corpus, '--index-dir', indexDir, '--positive-ids-key', 'pos_id', queries]);
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.messages(), /--positive-ids-key "pos_id": no record of .*queries\.jsonl has a field "pos_id" \(the positive corpus ids\)/);
  assert.match(run.messages(), /its 4 records have "question", "pos_ids" \(3 of them\)/, 'the keys the records have, and how many have each');
  assert.match(run.stderr, /did you mean --positive-ids-key pos_ids\?/);
  assert.equal(run.stdout, '');
  assertNothingBuilt(indexDir);
});

test('a misspelled --question-key fails before the index is built; a key present as a prototype name is not present', () => {
  const indexDir = freshIndexDir();
  const run = runCli(['bm25', '--corpus', corpus, '--index-dir', indexDir, '--question-key', 'qeustion', queries]);
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.messages(), /--question-key "qeustion".*did you mean --question-key question\?/);
  assert.doesNotMatch(run.stderr, /building/, 'no build was started');
  assertNothingBuilt(indexDir);

  const proto = runCli(['bm25', '--corpus', corpus, '--index-dir', indexDir, '--positive-ids-key', 'constructor', queries]);
  assert.equal(proto.status, 2, proto.stderr);
  assert.match(proto.messages(), /--positive-ids-key "constructor": no record of .* has a field "constructor"/);
  assertNothingBuilt(indexDir);
});

test('DataFlow mode: a misspelled --text-key fails before any index; an existing key with no text is an empty corpus (exit 1)', () => {
  const indexDir = freshIndexDir();
  const run = runCli(['bm25', '--index-dir', indexDir, '--text-key', 'txt', fixture]);
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.messages(), /--text-key "txt": no record of .*dataflow-scifact-40\.jsonl has a field "txt" \(the positive texts, which form the corpus when there is no --corpus\)/);
  assert.match(run.stderr, /did you mean --text-key text\?/);
  assert.equal(run.stdout, '');
  assertNothingBuilt(indexDir);

  // The key is there but holds no text: a corpus of 0 documents would give [] (or a random fill) for every record.
  const blank = join(work, 'blank-texts.jsonl');
  writeFileSync(blank, '{"question":"q one","text":""}\n{"question":"q two","text":[]}\n');
  const empty = runCli(['bm25', blank]);
  assert.equal(empty.status, 1, empty.stderr);
  assert.match(empty.messages(), /the corpus is empty: .* none of its 2 records has a non-empty text under "text"/);
  assert.equal(empty.stdout, '');
});

test('the prefix: a key some records lack is no error; a key none of the first 1,000 has is, and the message says so', () => {
  const sparse = runCli(['bm25', '--corpus', corpus, '--positive-ids-key', 'pos_ids', '--num-neg', '1', queries]);
  assert.equal(sparse.status, 0, sparse.stderr);

  const many = join(work, 'many.jsonl');
  const lines = Array.from({ length: 1_005 }, (_, i) => JSON.stringify({ question: `cat ${i}`, text: 'a cat' }));
  lines.push(JSON.stringify({ question: 'late', text: 'x', pos_ids: ['d1'] }));
  writeFileSync(many, lines.join('\n') + '\n');
  const run = runCli(['bm25', '--corpus', corpus, '--positive-ids-key', 'pos_ids', many]);
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.messages(), /--positive-ids-key "pos_ids": none of the first 1,000 records of .*many\.jsonl has a field "pos_ids" \(the positive corpus ids\); they have "question", "text"/);
});

test('corpus keys: index and mining commands check --corpus-text-key (and a non-default id or title key) before building', () => {
  const indexDir = freshIndexDir();
  const index = runCli(['index', 'bm25', '--corpus', corpus, '--index-dir', indexDir, '--corpus-text-key', 'txt']);
  assert.equal(index.status, 2, index.stderr);
  assert.match(index.messages(), /--corpus-text-key "txt": no record of .*corpus\.jsonl has a field "txt" \(the document text\); its 5 records have "_id", "title", "text"; did you mean --corpus-text-key text\?/);
  assertNothingBuilt(indexDir);

  const title = runCli(['bm25', '--corpus', corpus, '--index-dir', indexDir, '--corpus-title-key', 'titel', queries]);
  assert.equal(title.status, 2, title.stderr);
  assert.match(title.messages(), /--corpus-title-key "titel".*did you mean --corpus-title-key title\?/);
  assertNothingBuilt(indexDir);
});

test('records without positives: the run goes on and stderr ends with a WARN counting them; --require-positives makes them errors', () => {
  const statsJson = join(work, 'run-stats.json');
  const out = join(work, 'mined.jsonl');
  const run = runCli(['bm25', '--corpus', corpus, '--positive-ids-key', 'pos_ids', '--num-neg', '2', '--stats-json', statsJson, '-o', out, queries]);
  assert.equal(run.status, 0, run.stderr);
  const last = run.stderr.trimEnd().split('\n').at(-1)!;
  const warning = JSON.parse(last);
  assert.equal(warning.level, 40, `the last stderr line is a WARN: ${last}`);
  assert.equal(warning.records_without_positives, 1);
  assert.match(warning.msg, /1 of 4 records has no positive .*their own answers may be among their negatives.*--require-positives/);
  assert.equal(run.logs().find((l) => l.msg === 'statistics')?.records_without_positives, 1, 'the end-of-run statistics (an event under --log-format json) say it too');
  assert.equal(JSON.parse(readFileSync(statsJson, 'utf8')).records_without_positives, 1);

  // stats and report show the count.
  const stats = runCli(['stats', '--positive-ids-key', 'pos_ids', out]);
  assert.equal(stats.status, 0, stats.stderr);
  assert.match(stats.stdout, /Without positives: 1 record \(25\.00%\)/);
  const statsJsonOut = runCli(['stats', '--json', '--positive-ids-key', 'pos_ids', out]);
  assert.equal(JSON.parse(statsJsonOut.stdout).records_without_positives, 1);
  const report = runCli(['report', '--stats-json', statsJson, out]);
  assert.equal(report.status, 0, report.stderr);
  assert.match(report.stdout, /<h3>Records without positives<\/h3>\s*<p class="missing">1 of 4 records \(25\.00%\) have no positive/);

  const strict = runCli(['bm25', '--corpus', corpus, '--positive-ids-key', 'pos_ids', '--require-positives', queries]);
  assert.equal(strict.status, 1, strict.stderr);
  assert.match(strict.messages(), /queries\.jsonl:3: no positive \(--require-positives\): no text under "text" \(--text-key\) and no known corpus id under "pos_ids"/);
  assert.equal(strict.stdout.split('\n').filter(Boolean).length <= 2, true, 'nothing past the bad record');

  const skipped = runCli(['bm25', '--corpus', corpus, '--positive-ids-key', 'pos_ids', '--require-positives', '--on-error', 'skip', queries]);
  assert.equal(skipped.status, 0, skipped.stderr);
  assert.equal(skipped.json().length, 3, 'the record without a positive is set aside, the others mined');
  assert.doesNotMatch(skipped.stderr, /have no positive|has no positive/);
});

test('stdin: reading the prefix loses no record, with --corpus (peeked and replayed) and without (spooled)', () => {
  const input = readFileSync(fixture);
  const withCorpus = runCli(['bm25', '--corpus', fixture, '--corpus-text-key', 'text', '--corpus-id-key', 'question', '--num-neg', '1'], { input });
  assert.equal(withCorpus.status, 0, withCorpus.stderr);
  assert.equal(withCorpus.json().length, 40, '40 in, 40 out');
  const dataflow = runCli(['bm25', '--num-neg', '1'], { input });
  assert.equal(dataflow.status, 0, dataflow.stderr);
  assert.equal(dataflow.json().length, 40);

  // Longer than the prefix: the peek stops at 1,000 lines; the rest still comes through, in order.
  const long = Buffer.concat(Array.from({ length: 30 }, () => input));
  const longRun = runCli(['bm25', '--corpus', corpus, '--num-neg', '1'], { input: long });
  assert.equal(longRun.status, 0, longRun.stderr);
  const out = longRun.json();
  assert.equal(out.length, 1_200);
  const questions = input.toString('utf8').trim().split('\n').map((l) => JSON.parse(l).question);
  assert.deepEqual(out.map((r) => r.question), Array.from({ length: 30 }, () => questions).flat());
});
