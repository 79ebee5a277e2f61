/**
 * Issue 25, item 7, through the built binary: summary counts say what they count (corpus lines rejected are not
 * input records), a reused index leaves the rejects file of the build that wrote it, eval refuses a query id a TREC
 * run file cannot hold (exit 1, file:line, no run file), and merge refuses a sidecar holding null (exit 1 naming it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rare-mine-input-classes-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const docs = ['alpha is the first letter', 'beta is the second letter', 'gamma is the third letter', 'delta comes after gamma'];
const corpus = join(dir, 'corpus.jsonl');
writeFileSync(corpus, [...docs.map((text, i) => JSON.stringify({ _id: `d${i}`, text })), 'not json at all'].join('\n') + '\n');
const input = join(dir, 'in.jsonl');
writeFileSync(input, ['what is alpha', 'what is beta', 'what is gamma'].map((question, i) => JSON.stringify({ question, text: docs[i] })).join('\n') + '\n');

test('corpus lines rejected are counted apart from input records; a reused index keeps the rejects of its build', () => {
  const rejects = join(dir, 'rejects.jsonl');
  const mined = runCli(['bm25', input, '--corpus', corpus, '--on-error', 'skip', '--rejects', rejects, '-o', join(dir, 'out.jsonl'), '--num-neg', '1']);
  assert.equal(mined.status, 0, mined.messages());
  const summary = mined.logs().find((line) => line.msg === 'summary');
  assert.equal(summary.records_in, 3, 'three input records (the bad corpus line is not one)');
  assert.equal(summary.records_out, 3);
  assert.equal(summary.rejected, 0);
  assert.equal(summary.corpus_rejected, 1);

  const index = join(dir, 'index');
  const indexRejects = join(dir, 'index-rejects.jsonl');
  const built = runCli(['index', 'bm25', '--corpus', corpus, '--index-dir', index, '--on-error', 'skip', '--rejects', indexRejects]);
  assert.equal(built.status, 0, built.messages());
  const written = readFileSync(indexRejects, 'utf8');
  assert.match(written, /"line":5/);
  const reused = runCli(['index', 'bm25', '--corpus', corpus, '--index-dir', index, '--on-error', 'skip', '--rejects', indexRejects]);
  assert.equal(reused.status, 0, reused.messages());
  assert.equal(readFileSync(indexRejects, 'utf8'), written, 'the reused index did not empty the rejects of its build');
});

test('eval --run refuses a query id with whitespace before writing (exit 1, file:line); --run /dev/stdout writes to stdout', () => {
  const cleanCorpus = join(dir, 'beir-corpus.jsonl');
  writeFileSync(cleanCorpus, docs.map((text, i) => JSON.stringify({ _id: `d${i}`, text })).join('\n') + '\n');
  const queries = join(dir, 'queries.jsonl');
  writeFileSync(queries, [JSON.stringify({ _id: 'q1', text: 'what is alpha' }), JSON.stringify({ _id: 'q 2', text: 'what is beta' })].join('\n') + '\n');
  const qrels = join(dir, 'qrels.tsv');
  writeFileSync(qrels, 'query-id\tcorpus-id\tscore\nq1\td0\t1\nq 2\td1\t1\n');
  const run = join(dir, 'run.trec');
  const refused = runCli(['eval', '--corpus', cleanCorpus, '--queries', queries, '--qrels', qrels, '--run', run]);
  assert.equal(refused.status, 1, refused.messages());
  assert.match(refused.messages(), /queries\.jsonl:2: query id "q 2" holds whitespace/);
  assert.ok(!existsSync(run), 'no run file');
  writeFileSync(queries, JSON.stringify({ _id: 'q1', text: 'what is alpha' }) + '\n');
  const toStdout = runCli(['eval', '--corpus', cleanCorpus, '--queries', queries, '--qrels', qrels, '--run', '/dev/stdout', '--json']);
  assert.equal(toStdout.status, 0, toStdout.messages());
  assert.match(toStdout.stdout, /^q1 Q0 d0 1 [\d.]+ rare-mine-bm25$/m);
});

test('merge: a sidecar holding null is exit 1 naming it, not an internal error', () => {
  const part = join(dir, 'part.jsonl');
  writeFileSync(part, '{}\n');
  writeFileSync(`${part}.shard.json`, 'null');
  const merged = runCli(['merge', part, '-o', join(dir, 'merged.jsonl')]);
  assert.equal(merged.status, 1, merged.messages());
  assert.match(merged.messages(), /part\.jsonl\.shard\.json: the shard sidecar holds null/);
});
