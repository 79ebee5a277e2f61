/**
 * Issue 9, items 4 and 5: the record format keeps the input line's bytes (big integers, `1.10`, key order,
 * whitespace, `\u` escapes) and splices the new keys in before the final `}`; an existing key is never overwritten
 * silently (--if-key-exists fail|replace). The README's pipeline (`cat in | bm25 | dense --model use-lite`) and the
 * other formats' exact ids run in test/slow/record-pipeline.test.ts (many CLI runs and a model conversion).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFields } from '../src/formats/record.js';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rare-mine-record-bytes-'));

/** The line with the new members spliced before its final `}`: everything the input wrote comes first, as written. */
function assertSpliced(outLine: string, inLine: string): void {
  const close = inLine.lastIndexOf('}');
  let at = close;
  while (at > 0 && /\s/.test(inLine[at - 1])) at--;
  assert.ok(outLine.startsWith(inLine.slice(0, at)), `kept as written:\n${inLine}\n${outLine}`);
  assert.ok(outLine.endsWith(inLine.slice(at)), 'whitespace before the brace, the brace and what follows are kept');
}

test('withFields: new keys spliced before the final brace; every input byte kept', () => {
  const cases = [
    '{"qid": 12345678901234567890, "score": 1.10, "question": "x"}',
    '{ "question" : "caf\\u00e9 \\ud83d\\ude00",\t"z": -0.0e+00 , "a": [1.0, {"b": null}] }   ',
    '{"question":"x","nested":{"question":"inner"}}',
    '{}',
    '{ }',
  ];
  for (const raw of cases) {
    const value = JSON.parse(raw) as Record<string, unknown>;
    const out = withFields(raw, value, { hard_negatives: ['n1', 'n"2'], hard_negatives_scores: [1.5] });
    assertSpliced(out, raw);
    assert.deepEqual(JSON.parse(out), { ...value, hard_negatives: ['n1', 'n"2'], hard_negatives_scores: [1.5] });
  }
  assert.equal(withFields('{"a": 12345678901234567890}', { a: 1 }, { k: [] }), '{"a": 12345678901234567890,"k":[]}');
  assert.equal(withFields('{}', {}, { k: [1] }), '{"k":[1]}');
});

test('withFields: an existing key is replaced in place (the last of duplicates, as JSON.parse reads), every other byte kept', () => {
  const raw = '{"qid": 12345678901234567890, "hard_negatives": ["old", "older"] , "score": 1.10}';
  const out = withFields(raw, JSON.parse(raw), { hard_negatives: ['new'], hard_negatives_ids: ['d1'] });
  assert.equal(out, '{"qid": 12345678901234567890, "hard_negatives": ["new"] , "score": 1.10,"hard_negatives_ids":["d1"]}');
  const duplicated = '{"k": 1, "x": 1.10, "k": [2]}';
  assert.equal(withFields(duplicated, JSON.parse(duplicated), { k: ['n'] }), '{"k": 1, "x": 1.10, "k": ["n"]}');
});

const records = [
  '{"qid": 12345678901234567890, "score": 1.10, "question": "what is alpha", "text": "alpha is the first letter of the alphabet"}',
  '{ "question" : "what is b\\u00e9ta" , "text": ["beta is the second letter", "b\\u00e9ta comes after alpha"], "order": {"z": 1, "a": 2} }',
  '{"question": "what is gamma", "text": "gamma is the third letter", "big": -98765432109876543210.000}',
  '{"question": "what is delta", "text": "delta is the fourth letter of the alphabet"}',
];
const input = join(dir, 'in.jsonl');
writeFileSync(input, records.join('\n') + '\n');

test('CLI record format: every line kept byte for byte with the negatives spliced in', () => {
  const run = runCli(['bm25', '--num-neg', '2', '--with-scores', '--with-ids', input]);
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trimEnd().split('\n');
  assert.equal(lines.length, records.length);
  lines.forEach((line, i) => assertSpliced(line, records[i]));
  assert.ok(run.json().every((r) => Array.isArray(r.hard_negatives) && r.hard_negatives_ids.length === r.hard_negatives.length));
});

test('CLI: a key the record already has is refused with a hint naming --output-key (exit 1, no output); --if-key-exists replace overwrites in place', () => {
  const out = join(dir, 'clash.jsonl');
  const clash = runCli(['bm25', '--output-key', 'question', input, '-o', out]);
  assert.equal(clash.status, 1, clash.stderr);
  assert.match(clash.messages(), /in\.jsonl:1: the record already has "question" \(an earlier rare-mine run\?\): not overwritten/);
  assert.match(clash.stderr, /--output-key/);
  assert.throws(() => readFileSync(out), 'no output file');
  const skipped = runCli(['bm25', '--output-key', 'order', '--on-error', 'skip', input]);
  assert.equal(skipped.status, 0, skipped.stderr);
  assert.equal(skipped.json().length, 3, 'the one record with "order" is rejected and counted, the others written');
  assert.equal(skipped.logs().find((l) => l.msg === 'summary').rejected, 1);

  const first = runCli(['bm25', '--num-neg', '1', input]);
  const again = runCli(['bm25', '--num-neg', '2', '--with-ids'], { input: first.stdout });
  assert.equal(again.status, 1, 'bm25 | bm25 with one key is refused');
  assert.match(again.messages(), /<stdin>:1: the record already has "hard_negatives"/);
  const replaced = runCli(['bm25', '--num-neg', '2', '--with-ids', '--if-key-exists', 'replace'], { input: first.stdout });
  assert.equal(replaced.status, 0, replaced.stderr);
  const firstLines = first.stdout.trimEnd().split('\n');
  replaced.stdout.trimEnd().split('\n').forEach((line, i) => {
    const before = firstLines[i];
    const prefix = before.slice(0, before.indexOf('"hard_negatives":'));
    assert.ok(line.startsWith(`${prefix}"hard_negatives":`), 'bytes before the replaced value kept');
    const value = JSON.parse(line);
    assert.equal(value.hard_negatives.length, value.hard_negatives_ids.length);
    assert.equal(line.match(/"hard_negatives":/g)!.length, 1, 'replaced, not duplicated');
  });
});
