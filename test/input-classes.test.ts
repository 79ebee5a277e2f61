/**
 * Issue 25, item 7, the classes of bad input: keys are a record's own fields only ("constructor", "toString",
 * "__proto__" count as present only when the line has them); an id that would break a TREC run file never goes
 * into one; a shard sidecar that is not an object (null, a list, a number) or whose fields have other types is an
 * InputError naming it (exit 1), never an internal error; the rejects file is emptied only when a file is read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, UsageError } from '../src/errors.js';
import { parseRecordLine, readRecords, RejectPolicy } from '../src/io/jsonl.js';
import { corpusDocFromRecord } from '../src/corpus/corpus-source.js';
import { queryIdOf } from '../src/formats/colbert.js';
import { readQueries } from '../src/eval/beir.js';
import { checkTrecId, trecIdProblem } from '../src/eval/trec-run.js';
import { readShardSidecar } from '../src/io/shards.js';

const dir = mkdtempSync(join(tmpdir(), 'rare-mine-inputs-'));
const line = (text: string, lineNumber = 1) => ({ text, lineNumber, byteOffset: 0, endOffset: text.length + 1 });

test("a record's fields are its own: Object.prototype's members are absent, a field of that name is read", () => {
  const value = parseRecordLine('in.jsonl', line('{"question":"q","__proto__":"p","toString":"t"}'));
  for (const key of ['constructor', 'hasOwnProperty', 'valueOf']) assert.equal(value[key], undefined, key);
  assert.equal(value.toString, 't');
  assert.equal(value['__proto__'], 'p');
  assert.deepEqual(Object.keys(value), ['question', '__proto__', 'toString']);
  assert.equal(JSON.stringify(value), '{"question":"q","__proto__":"p","toString":"t"}');
});

test('an id key named after an Object.prototype member falls back as an absent one does (line:N), in the corpus and the query ids', () => {
  const raw = '{"text":"alpha"}';
  const doc = corpusDocFromRecord('c.jsonl', 7, parseRecordLine('c.jsonl', line(raw, 7)), { idKey: 'constructor', textKey: 'text', titleKey: 'title' }, raw);
  assert.equal(doc.id, 'line:7');
  const record = { lineNumber: 3, byteOffset: 0, endOffset: 0, raw: '{"question":"q"}', value: parseRecordLine('in.jsonl', line('{"question":"q"}', 3)) };
  assert.equal(queryIdOf(record, 'toString', 'in.jsonl'), 'line:3');
});

test('BEIR queries: "constructor" is no query id', async () => {
  const queries = join(dir, 'queries.jsonl');
  writeFileSync(queries, '{"text":"no id here"}\n');
  await assert.rejects(readQueries(queries), (error: unknown) => error instanceof InputError && /queries\.jsonl:1: missing field "_id"/.test(error.message));
});

test('an id a TREC run file cannot hold (empty, a space, a tab, a newline, a Unicode space) is refused, naming file and line', () => {
  for (const id of ['', 'a b', 'a\tb', 'a\nb', 'a\u00a0b']) assert.ok(trecIdProblem(id), JSON.stringify(id));
  for (const id of ['doc-1', 'MED-10', 'é:1', '42']) assert.equal(trecIdProblem(id), undefined, id);
  assert.throws(() => checkTrecId('q 1', 'query id', 'queries.jsonl', 4), (error: unknown) => error instanceof InputError && /queries\.jsonl:4: query id "q 1" holds whitespace/.test(error.message));
  assert.throws(() => checkTrecId('', 'document id', 'corpus.jsonl'), (error: unknown) => error instanceof InputError && error.exitCode === 1 && /corpus\.jsonl: document id "" is empty/.test(error.message));
});

test('a shard sidecar holding null, a list, a number or fields of other types is an InputError naming it; another version a UsageError', () => {
  const path = join(dir, 'part.jsonl.shard.json');
  for (const [text, reason] of [
    ['null', /holds null, not the object/],
    ['[1]', /holds a list/],
    ['3', /holds number/],
    ['{"format":"rare-mine-shard","version":2,"shard":"0","of":2,"range":null,"fingerprint":{"input":{"bytes":1}},"run":"r","sha256":"s","bytes":1,"lines":1,"records":1,"rejected":0}', /"shard" is not a count, "range" is not a byte range/],
    ['{"format":"rare-mine-shard","version":2,"shard":0,"of":2,"range":{"startByte":0,"endByte":1},"fingerprint":null,"run":"r","sha256":"s","bytes":1,"lines":1,"records":1,"rejected":0}', /"fingerprint" is not a run fingerprint/],
  ] as const) {
    writeFileSync(path, text);
    assert.throws(() => readShardSidecar(path), (error: unknown) => error instanceof InputError && error.exitCode === 1 && error.message.startsWith(path) && reason.test(error.message), text);
  }
  writeFileSync(path, '{"format":"rare-mine-shard","version":99}');
  assert.throws(() => readShardSidecar(path), UsageError);
});

test('the rejects file is emptied when a file is read through the policy, not when the policy is made; rejects are counted per file', async () => {
  const rejects = join(dir, 'rejects.jsonl');
  writeFileSync(rejects, '{"line":1,"reason":"from the build"}\n');
  const unused = new RejectPolicy('skip', rejects);
  assert.equal(unused.rejected, 0);
  assert.equal(readFileSync(rejects, 'utf8'), '{"line":1,"reason":"from the build"}\n', 'nothing read, nothing emptied (an index reused)');
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, '{"a":1}\nnot json\n');
  const policy = new RejectPolicy('skip', rejects);
  for await (const _ of readRecords(input, { policy })) void _;
  policy.reject(new InputError('corpus.jsonl', 2, 'bad'), 'x');
  assert.equal(policy.rejected, 2);
  assert.equal(policy.rejectedIn(input), 1);
  assert.equal(policy.rejectedIn('corpus.jsonl'), 1);
  assert.equal(readFileSync(rejects, 'utf8').trim().split('\n').length, 2);
});
