/**
 * Issue 9, items 4 and 5, end to end (slow: many CLI runs and the use-lite conversion): the README's pipeline
 * `cat in | rare-mine bm25 | rare-mine dense --model use-lite --output-key dense_negatives` keeps every byte of each
 * stage; flag and triplet keep ids exact (numeric ids above 2^53 as written), colbert its query id (queries file); DataFlow ids name one text each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rare-mine-record-pipeline-'));

/** The line with the new members spliced before its final `}`: everything the input wrote comes first, as written. */
function assertSpliced(outLine: string, inLine: string): void {
  const close = inLine.lastIndexOf('}');
  let at = close;
  while (at > 0 && /\s/.test(inLine[at - 1])) at--;
  assert.ok(outLine.startsWith(inLine.slice(0, at)), `kept as written:\n${inLine}\n${outLine}`);
  assert.ok(outLine.endsWith(inLine.slice(at)), 'whitespace before the brace, the brace and what follows are kept');
}

const records = [
  '{"qid": 12345678901234567890, "score": 1.10, "question": "what is alpha", "text": "alpha is the first letter of the alphabet"}',
  '{ "question" : "what is b\\u00e9ta" , "text": ["beta is the second letter", "b\\u00e9ta comes after alpha"], "order": {"z": 1, "a": 2} }',
  '{"question": "what is gamma", "text": "gamma is the third letter", "big": -98765432109876543210.000}',
  '{"question": "what is delta", "text": "delta is the fourth letter of the alphabet"}',
];
const input = join(dir, 'in.jsonl');
writeFileSync(input, records.join('\n') + '\n');

test("README pipeline: cat in | rare-mine bm25 | rare-mine dense --model use-lite --output-key dense_negatives keeps the first stage's bytes", () => {
  const env = { RARE_MINE_CACHE_DIR: join(dir, 'cache') };
  const bm25 = runCli(['bm25', '--num-neg', '2'], { input: readFileSync(input) });
  assert.equal(bm25.status, 0, bm25.stderr);
  const refused = runCli(['dense', '--model', 'use-lite', '--num-neg', '2', '--min-rank', '0'], { input: bm25.stdout, env });
  assert.equal(refused.status, 1);
  assert.match(refused.messages(), /already has "hard_negatives".*\n.*--output-key dense_negatives/);
  const dense = runCli(['dense', '--model', 'use-lite', '--num-neg', '2', '--min-rank', '0', '--output-key', 'dense_negatives'], { input: bm25.stdout, env });
  assert.equal(dense.status, 0, dense.stderr);
  const bm25Lines = bm25.stdout.trimEnd().split('\n');
  const denseLines = dense.stdout.trimEnd().split('\n');
  assert.equal(denseLines.length, records.length);
  denseLines.forEach((line, i) => {
    assertSpliced(line, bm25Lines[i]);
    assertSpliced(bm25Lines[i], records[i]);
    const value = JSON.parse(line);
    assert.ok(Array.isArray(value.hard_negatives) && Array.isArray(value.dense_negatives));
  });
});

test('other formats: exact big ids in flag, triplet and the colbert queries file; DataFlow colbert numbers each text of a list on its own', () => {
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(
    corpus,
    [
      '{"_id": 12345678901234567890, "text": "alpha is the first letter of the alphabet"}',
      '{"_id": 12345678901234567891, "text": "alpha and beta are letters"}',
      '{"_id": 12345678901234567892, "text": "alpha beta gamma delta"}',
      '{"_id": 1.10, "text": "alpha particles are helium nuclei"}',
    ].join('\n') + '\n',
  );
  const queries = join(dir, 'queries.jsonl');
  writeFileSync(queries, '{"_id": 98765432109876543210, "question": "alpha letter", "pos": ["12345678901234567890"]}\n');
  const ids = ['12345678901234567890', '12345678901234567891', '12345678901234567892', '1.10'];
  const colbertDir = mkdtempSync(join(dir, 'colbert-'));
  const colbert = runCli(['bm25', '--corpus', corpus, '--positive-ids-key', 'pos', '--num-neg', '3', '--format', 'colbert', '--colbert-dir', colbertDir, queries]);
  assert.equal(colbert.status, 0, colbert.stderr);
  const triples = colbert.json() as number[][];
  assert.equal(triples.length, 3);
  const tsv = (name: string) => readFileSync(join(colbertDir, name), 'utf8').trimEnd().split('\n').map((l) => l.split('\t'));
  assert.deepEqual(tsv('queries.train.colbert.tsv'), [['0', 'alpha letter', '98765432109876543210']], 'the exact query id, third column');
  const collection = tsv('corpus.train.colbert.tsv');
  for (const [qid, pos, neg] of triples) {
    assert.equal(qid, 0);
    assert.equal(collection[pos][1], 'alpha is the first letter of the alphabet');
    assert.notEqual(collection[neg][1], collection[pos][1]);
  }
  const flag = runCli(['bm25', '--corpus', corpus, '--positive-ids-key', 'pos', '--num-neg', '3', '--format', 'flag', '--with-ids', queries]);
  assert.equal(flag.status, 0, flag.stderr);
  const [line] = flag.json();
  assert.deepEqual(line.pos_ids, ['12345678901234567890']);
  assert.deepEqual([...line.neg_ids].sort(), ids.slice(1).sort());
  const triplet = runCli(['bm25', '--corpus', corpus, '--positive-ids-key', 'pos', '--num-neg', '3', '--format', 'triplet', '--with-ids', queries]);
  assert.deepEqual(triplet.json().map((t) => t.positive_id), ids.slice(0, 1).concat(ids.slice(0, 1), ids.slice(0, 1)));

  const dataflow = join(dir, 'dataflow.jsonl');
  writeFileSync(dataflow, [
    { question: 'which letters come first', text: ['alpha is the first letter', 'beta is the second letter'] },
    { question: 'which letter is third', text: 'gamma is the third letter' },
  ].map((r) => JSON.stringify(r)).join('\n') + '\n');
  const dfDir = mkdtempSync(join(dir, 'colbert-'));
  const df = runCli(['bm25', '--num-neg', '1', '--format', 'colbert', '--colbert-dir', dfDir, dataflow]);
  assert.equal(df.status, 0, df.stderr);
  const dfCollection = readFileSync(join(dfDir, 'corpus.train.colbert.tsv'), 'utf8').trimEnd().split('\n').map((l) => l.split('\t')[1]);
  const positives = new Set(df.json().filter((t) => t[0] === 0).map((t) => dfCollection[t[1]]));
  assert.deepEqual([...positives].sort(), ['alpha is the first letter', 'beta is the second letter'], 'two positive texts, two pids');
  const withIds = runCli(['bm25', '--num-neg', '2', '--with-ids', dataflow]);
  assert.deepEqual(withIds.json()[1].hard_negatives_ids.sort(), ['line:1:0', 'line:1:1']);
});
