/**
 * Issue 9, items 5, 6 and 14: the two corpus readers (JSONL and JSON array) share one text policy and keep ids
 * exact. A `.json` corpus that is not exactly one array (truncated, trailing data, two arrays, a trailing comma,
 * empty) is an InputError with file, line and byte — never an unhandled stream error; invalid UTF-8 is an error
 * with its byte offset in both readers; a lone surrogate escape is an error naming the field in both; numeric ids
 * keep the digits as written (two ids above 2^53 are never "duplicate"); DataFlow ids name one text each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonArray } from '../src/io/json-array-reader.js';
import { corpusFromInput, readCorpusFile, type NumberedDoc } from '../src/corpus/corpus-source.js';
import { RejectPolicy } from '../src/io/jsonl.js';
import { InputError } from '../src/errors.js';
import { exactIdText, objectLayout, rawMemberText } from '../src/io/json-members.js';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rare-mine-corpus-readers-'));
let counter = 0;
function file(content: string | Buffer, extension: string): string {
  const path = join(dir, `c${counter++}.${extension}`);
  writeFileSync(path, content);
  return path;
}

async function elements(content: string | Buffer, maxElementBytes = 1 << 20): Promise<string[]> {
  const texts: string[] = [];
  for await (const element of readJsonArray(file(content, 'json'), { maxElementBytes })) texts.push(element.text);
  return texts;
}

async function arrayError(content: string | Buffer): Promise<InputError> {
  try {
    await elements(content);
  } catch (error) {
    assert.ok(error instanceof InputError, String(error));
    return error;
  }
  assert.fail('expected an InputError');
}

const keys = { idKey: '_id', textKey: 'text', titleKey: 'title' };

async function docs(path: string, onError: 'fail' | 'skip' = 'fail'): Promise<NumberedDoc[]> {
  const out: NumberedDoc[] = [];
  for await (const doc of readCorpusFile(path, keys, new RejectPolicy(onError))) out.push(doc);
  return out;
}

async function corpusError(path: string): Promise<string> {
  try {
    await docs(path);
  } catch (error) {
    assert.ok(error instanceof InputError, String(error));
    return error.message;
  }
  assert.fail('expected an InputError');
}

test('JSON array reader: elements as written, any layout; strings and brackets inside strings do not confuse it', async () => {
  assert.deepEqual(await elements('[]'), []);
  assert.deepEqual(await elements('\ufeff [ ]\n'), [], 'a BOM and whitespace are fine');
  assert.deepEqual(await elements('[1, -2.50e3,"a]\\"b",true,null,{"x":"}]"},[1,[2]]]'), ['1', '-2.50e3', '"a]\\"b"', 'true', 'null', '{"x":"}]"}', '[1,[2]]']);
  assert.deepEqual(await elements('[\n  {"_id": 1},\n  {"_id": 2}\n]\n'), ['{"_id": 1}', '{"_id": 2}']);
  // Elements that straddle the reader's 1 MiB chunks.
  const big = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ _id: i, text: `text ${i} ${'w'.repeat(700)} é` }));
  assert.deepEqual(await elements(`[${big.join(',\n')}]`), big);
});

test('JSON array reader: not exactly one array is an InputError with line and byte (truncated, trailing data, two arrays, trailing comma, empty)', async () => {
  const cases: Array<[string, RegExp]> = [
    ['[{"_id": "a", "text": "x"}, {"_id": "b", "te', /:1: truncated: the JSON array is not closed \(the file ends at line 1, byte 44, inside array element 1\)/],
    ['[{"_id": "a"}', /truncated: the JSON array is not closed/],
    ['[1, 2', /truncated/],
    ['[{"_id": "a"}]\ngarbage', /:2: trailing data after the JSON array: "g" at line 2, byte 15/],
    ['[{"_id": "a"}]\n[{"_id": "b"}]', /:2: trailing data after the JSON array: "\[" at line 2, byte 15 \(a second array\?/],
    ['[{"_id": "a"},]', /trailing comma before "\]" at line 1, byte 14/],
    ['[,{"_id": "a"}]', /unexpected "," at line 1, byte 1: an element is missing/],
    ['[{"_id": "a"} {"_id": "b"}]', /expected "," or "\]" after array element 0, found "\{"/],
    ['{"_id": "a"}', /expected a JSON array \("\["\), found "\{"/],
    ['', /expected a JSON array, found an empty file/],
    ['  \n ', /found only whitespace/],
  ];
  for (const [content, message] of cases) {
    const error = await arrayError(content);
    assert.match(error.message, message, JSON.stringify(content));
  }
  const over = await (async () => {
    try {
      await elements(`[${JSON.stringify({ text: 'x'.repeat(2000) })}]`, 1000);
    } catch (error) {
      return error as InputError;
    }
    assert.fail('expected an error');
  })();
  assert.match(over.message, /array element 0 is longer than 1000 bytes/);
});

test('one text policy: invalid UTF-8 is an InputError with its byte offset in both readers', async () => {
  const bad = (prefix: string, suffix: string) => Buffer.concat([Buffer.from(prefix), Buffer.from([0xe9]), Buffer.from(suffix)]);
  const json = file(bad('[{"_id": "a", "text": "ok"},\n {"_id": "b", "text": "caf', ' au lait"}]'), 'json');
  assert.match(await corpusError(json), /c\d+\.json:2: invalid UTF-8 at byte 55 of the file \(array element 1\)/);
  const jsonl = file(bad('{"_id": "a", "text": "ok"}\n{"_id": "b", "text": "caf', ' au lait"}\n'), 'jsonl');
  assert.match(await corpusError(jsonl), /c\d+\.jsonl:2: invalid UTF-8 at byte 25 of the line/);
  // A truncated multi-byte sequence at the very end of an element, and an overlong encoding.
  assert.match(await corpusError(file(Buffer.concat([Buffer.from('[{"_id": "a", "text": "x'), Buffer.from([0xe2, 0x82]), Buffer.from('"}]')]), 'json')), /invalid UTF-8 at byte 24/);
  assert.match(await corpusError(file(Buffer.concat([Buffer.from('[{"_id": "a", "text": "'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}]')]), 'json')), /invalid UTF-8 at byte 23/);
});

test('one text policy: a lone surrogate escape in a text or title is an InputError naming the field in both readers; pairs are fine', async () => {
  for (const [extension, content] of [
    ['json', '[{"_id": "a", "text": "fine \\ud83d\\ude00"}, {"_id": "b", "text": "half \\udc00 here"}]'],
    ['jsonl', '{"_id": "a", "text": "fine \\ud83d\\ude00"}\n{"_id": "b", "text": "half \\udc00 here"}\n'],
  ]) {
    assert.match(await corpusError(file(content, extension)), /:1?\d?: field "text" holds a lone surrogate escape \(\\udc00, half of a UTF-16 pair\) at character 5: not Unicode text/);
  }
  assert.match(await corpusError(file('{"_id": "a", "title": "\\ud800", "text": "x"}\n', 'jsonl')), /:1: field "title" holds a lone surrogate escape \(\\ud800/);
  const kept = await docs(file('[{"_id": "a", "text": "fine \\ud83d\\ude00"}, {"_id": "b", "text": "half \\udc00 here"}]', 'json'), 'skip');
  assert.deepEqual(kept.map((d) => [d.id, d.text]), [['a', 'fine 😀']], 'under skip the bad document is rejected, the good one kept as written');
});

test('corpus ids are the digits as written: two ids above 2^53 are distinct, 1.10 stays 1.10 (both readers)', async () => {
  const records = ['{"_id": 12345678901234567890, "text": "first"}', '{"_id": 12345678901234567891, "text": "second"}', '{"id": 1.10, "text": "third"}', '{"_id": "s", "text": "fourth"}'];
  for (const path of [file(records.join('\n') + '\n', 'jsonl'), file(`[${records.join(',\n')}]`, 'json')]) {
    assert.deepEqual((await docs(path)).map((d) => d.id), ['12345678901234567890', '12345678901234567891', '1.10', 's']);
  }
  const duplicate = file('{"_id": 12345678901234567890, "text": "a"}\n{"_id": 12345678901234567890, "text": "b"}\n', 'jsonl');
  assert.match(await corpusError(duplicate), /:2: duplicate corpus id "12345678901234567890"/);
});

test('DataFlow corpus: each text of a list of positives has its own id (line:N:i); a string positive is line:N', async () => {
  const input = file(
    [
      { question: 'q1', text: 'only text' },
      { question: 'q2', text: ['first of two', 'second of two'] },
      { question: 'q3', text: ['first of two', 'new third', 'bad \ud800 text'] },
    ].map((r) => JSON.stringify(r)).join('\n') + '\n',
    'jsonl',
  );
  const out: NumberedDoc[] = [];
  for await (const doc of corpusFromInput(input, 'text', new RejectPolicy('skip'))) out.push(doc);
  assert.deepEqual(out.map((d) => [d.id, d.text]), [['line:1', 'only text'], ['line:2:0', 'first of two'], ['line:2:1', 'second of two'], ['line:3:1', 'new third']]);
});

test('object layout: members, raw value texts and exact ids', () => {
  const text = ' { "a" : 12345678901234567890 , "b":[1,{"c":"}"}], "a\\u0062c": "x", "n": 1.10 }  ';
  const layout = objectLayout(text);
  assert.deepEqual(layout.members.map((m) => [m.key, text.slice(m.valueStart, m.valueEnd)]), [['a', '12345678901234567890'], ['b', '[1,{"c":"}"}]'], ['abc', '"x"'], ['n', '1.10']]);
  assert.equal(text[layout.closeBrace], '}');
  assert.equal(rawMemberText('{"k": 1, "k": 2.50}', 'k'), '2.50', 'the last of duplicate keys, as JSON.parse reads');
  assert.equal(exactIdText('{"_id": 9007199254740993}', '_id', 9007199254740993), '9007199254740993');
  assert.equal(exactIdText('{"_id": "x"}', '_id', 'x'), 'x');
});

test('CLI: a broken .json corpus is exit 1 with file and position, never an unhandled error event', () => {
  const input = file('{"question": "alpha"}\n', 'jsonl');
  for (const [content, message] of [
    ['[{"_id": "a", "text": "alpha"}, {"_id": "b", "text": "be', /c\d+\.json:1: truncated: the JSON array is not closed/],
    ['[{"_id": "a", "text": "alpha"}]\n[{"_id": "b", "text": "beta"}]\n', /c\d+\.json:2: trailing data after the JSON array/],
  ] as const) {
    const run = runCli(['bm25', '--corpus', file(content, 'json'), input]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, message);
    assert.doesNotMatch(run.stderr, /Unhandled|internal error|at .*\.js:\d+/);
  }
});
