/**
 * The bad-input table of docs/BAD-INPUT.md, one case per row, run through the built CLI: the default policy
 * stops with `file:line: what is wrong` and a non-zero exit (and no output file); `--on-error skip` writes the
 * line to --rejects and counts it. A property test checks records in = records out + rejected over random inputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { runCli } from '../helpers/cli.js';

const good = (i: number) => JSON.stringify({ question: `what is topic ${i}`, text: `topic ${i} is a passage about subject ${i % 3}` });
const dir = mkdtempSync(join(tmpdir(), 'rare-mine-bad-'));
let counter = 0;
function file(content: string | Buffer): string {
  const path = join(dir, `case-${counter++}.jsonl`);
  writeFileSync(path, content);
  return path;
}

interface Case {
  name: string;
  /** The file's bytes; the bad line is line 3 unless said otherwise. */
  content: string | Buffer;
  /** Expected stderr under the default policy, or 'ok' when the case is accepted. */
  fail: RegExp | 'ok';
  /** Records written when accepted or skipped. */
  out: number;
}

const lines = (...middle: string[]) => [good(1), good(2), ...middle, good(4)].join('\n') + '\n';
const cases: Case[] = [
  { name: 'malformed JSON', content: lines('{"question": "x",'), fail: /:3: malformed JSON/, out: 3 },
  { name: 'trailing garbage after the object', content: lines('{"question": "x", "text": "y"} extra'), fail: /:3: malformed JSON/, out: 3 },
  { name: 'a JSON value that is not an object', content: lines('["question"]'), fail: /:3: expected a JSON object, found an array/, out: 3 },
  { name: 'missing question', content: lines('{"text": "y"}'), fail: /:3: missing field "question"/, out: 3 },
  { name: 'null question', content: lines('{"question": null, "text": "y"}'), fail: /:3: field "question" must be a string, found null/, out: 3 },
  { name: 'non-string question', content: lines('{"question": 12, "text": "y"}'), fail: /:3: field "question" must be a string, found a number/, out: 3 },
  { name: 'empty question', content: lines('{"question": "  ", "text": "y"}'), fail: /:3: field "question" is empty/, out: 3 },
  { name: 'a list where a string is expected', content: lines('{"question": ["a", "b"], "text": "y"}'), fail: /:3: field "question" must be a string, found a list/, out: 3 },
  { name: 'positive text of the wrong type', content: lines('{"question": "q", "text": {"a": 1}}'), fail: /:3: field "text" must be a string or a list of strings, found an object/, out: 3 },
  { name: 'invalid UTF-8', content: Buffer.concat([Buffer.from(good(1) + '\n' + good(2) + '\n{"question": "caf'), Buffer.from([0xe9]), Buffer.from('", "text": "y"}\n' + good(4) + '\n')]), fail: /:3: invalid UTF-8 at byte 17 of the line/, out: 3 },
  { name: 'empty lines (not records)', content: lines('', '   '), fail: 'ok', out: 3 },
  { name: 'UTF-8 BOM at the start', content: '\ufeff' + lines(good(3)), fail: 'ok', out: 4 },
  { name: 'CRLF line ends', content: lines(good(3)).replace(/\n/g, '\r\n'), fail: 'ok', out: 4 },
  { name: 'empty file', content: '', fail: 'ok', out: 0 },
];

for (const c of cases) {
  test(`bad input: ${c.name}`, () => {
    const input = file(c.content);
    const out = join(dir, `out-${counter}.jsonl`);
    const strict = runCli(['bm25', '-o', out, input]);
    if (c.fail === 'ok') {
      assert.equal(strict.status, 0, strict.stderr);
      const written = readFileSync(out, 'utf8');
      assert.equal(written === '' ? 0 : written.trimEnd().split('\n').length, c.out);
      if (c.out > 0) assert.ok(written.split('\n').filter(Boolean).every((l) => Array.isArray(JSON.parse(l).hard_negatives)));
      return;
    }
    assert.equal(strict.status, 1, strict.stderr);
    assert.match(strict.messages(), new RegExp(`${input.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}${c.fail.source}`));
    assert.ok(!existsSync(out) && !existsSync(`${out}.partial`), 'no output file left behind');
    const rejects = join(dir, `rejects-${counter}.jsonl`);
    const lenient = runCli(['bm25', '--on-error', 'skip', '--rejects', rejects, input]);
    assert.equal(lenient.status, 0, lenient.stderr);
    assert.equal(lenient.json().length, c.out);
    const rejected = readFileSync(rejects, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0].line, 3);
    const summary = lenient.logs().find((l) => l.msg === 'summary');
    assert.equal(summary.rejected, 1);
    assert.equal(summary.records_in, c.out + 1);
  });
}

test('bad input: a 50 MB line is refused with its line number (memory stays bounded); --max-line-bytes raises the limit', () => {
  const huge = JSON.stringify({ question: 'big', text: 'word '.repeat(10 * 1024 * 1024) });
  const input = file(lines(huge));
  const strict = runCli(['bm25', input]);
  assert.equal(strict.status, 1);
  assert.match(strict.messages(), /:3: line is longer than 16777216 bytes/);
  assert.match(strict.messages(), /--max-line-bytes/);
  const lenient = runCli(['bm25', '--on-error', 'skip', input]);
  assert.equal(lenient.status, 0, lenient.stderr);
  assert.equal(lenient.json().length, 3);
});

test('bad input: duplicate corpus ids and positive ids missing from the corpus', () => {
  const corpus = file([{ _id: 'a', text: 'alpha passage' }, { _id: 'b', text: 'beta passage' }, { _id: 'a', text: 'again alpha' }].map((r) => JSON.stringify(r)).join('\n') + '\n');
  const input = file(JSON.stringify({ question: 'alpha', pos: 'a' }) + '\n');
  const dup = runCli(['bm25', '--corpus', corpus, '--positive-ids-key', 'pos', input]);
  assert.equal(dup.status, 1);
  assert.match(dup.messages(), /:3: duplicate corpus id "a"/);
  const skipped = runCli(['bm25', '--corpus', corpus, '--positive-ids-key', 'pos', '--on-error', 'skip', input]);
  assert.equal(skipped.status, 0, skipped.stderr);
  // The duplicate is a corpus line: counted apart from the input's records (issue 25).
  const summary = skipped.logs().find((l) => l.msg === 'summary');
  assert.equal(summary.rejected, 0);
  assert.equal(summary.corpus_rejected, 1);
  assert.equal(summary.records_in, 1);

  const cleanCorpus = file([{ _id: 'a', text: 'alpha passage' }, { _id: 'b', text: 'beta passage' }].map((r) => JSON.stringify(r)).join('\n') + '\n');
  const unknown = file(JSON.stringify({ question: 'alpha', pos: 'zzz' }) + '\n');
  const strict = runCli(['bm25', '--corpus', cleanCorpus, '--positive-ids-key', 'pos', unknown]);
  assert.equal(strict.status, 1);
  assert.match(strict.messages(), /:1: positive id "zzz" \(field "pos"\) is not in the corpus/);
  const lenient = runCli(['bm25', '--corpus', cleanCorpus, '--positive-ids-key', 'pos', '--on-error', 'skip', unknown]);
  assert.equal(lenient.status, 0);
  assert.equal(lenient.json().length, 1, 'the record is still mined');
  assert.equal(lenient.logs().find((l) => l.msg === 'summary').unknown_positive_ids, 1);
});

test('property: records in = records out + rejected, output in input order (--on-error skip)', () => {
  const line = fc.oneof(
    fc.integer({ min: 0, max: 1000 }).map((i) => ({ kind: 'good' as const, text: good(i) })),
    fc.constantFrom('{"question":', 'nonsense', '[1]', '{"question": 3}', '{"question": ""}', '{"text": "no q"}', '"string"', 'null').map((text) => ({ kind: 'bad' as const, text })),
    fc.constantFrom('', '  ').map((text) => ({ kind: 'blank' as const, text })),
  );
  fc.assert(
    fc.property(fc.array(line, { minLength: 0, maxLength: 30 }), (items) => {
      const input = file(items.map((i) => i.text).join('\n') + '\n');
      const rejects = join(dir, `prop-rejects-${counter}.jsonl`);
      const run = runCli(['bm25', '--on-error', 'skip', '--rejects', rejects, input]);
      assert.equal(run.status, 0, run.stderr);
      const out = run.json();
      const rejected = readFileSync(rejects, 'utf8').split('\n').filter(Boolean);
      const records = items.filter((i) => i.kind !== 'blank').length;
      assert.equal(out.length + rejected.length, records);
      assert.deepEqual(out.map((r) => r.question), items.filter((i) => i.kind === 'good').map((i) => JSON.parse(i.text).question));
    }),
    { numRuns: 20, seed: 7 },
  );
});
