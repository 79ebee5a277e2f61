/**
 * `--stemmer porter|snowball|none` and `--stopwords lucene|snowball|none|FILE`: what each does to the terms, that
 * the choice is part of the analyzer fingerprint (so an index is rebuilt, never searched with another analyzer),
 * and that the default Lucene analyzer keeps its fingerprint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAnalyzer, SNOWBALL_ENGLISH_STOPWORDS } from '../src/text/analyzer.js';
import { runCli } from './helpers/cli.js';
import { repoRoot } from './helpers/shared-data.js';

test('stemmer choices: porter (Lucene), snowball (Porter2), none', () => {
  const text = 'generously running studies';
  assert.deepEqual(createAnalyzer('en').terms(text), createAnalyzer({ lang: 'en', stemmer: 'porter' }).terms(text));
  assert.deepEqual(createAnalyzer({ lang: 'en', stemmer: 'porter' }).terms(text), ['gener', 'run', 'studi']);
  assert.deepEqual(createAnalyzer({ lang: 'en', stemmer: 'snowball' }).terms(text), ['generous', 'run', 'studi']);
  assert.deepEqual(createAnalyzer({ lang: 'en', stemmer: 'none' }).terms(text), ['generously', 'running', 'studies']);
});

test('stopword choices: lucene (33), snowball (174), none, and a file', () => {
  assert.equal(SNOWBALL_ENGLISH_STOPWORDS.length, 174);
  const text = "Which of these would it's not the answer";
  assert.deepEqual(createAnalyzer({ lang: 'en', stemmer: 'none' }).terms(text), ['which', 'would', 'answer']);
  assert.deepEqual(createAnalyzer({ lang: 'en', stemmer: 'none', stopwords: 'snowball' }).terms(text), ['answer']);
  assert.deepEqual(createAnalyzer({ lang: 'en', stemmer: 'none', stopwords: 'none' }).terms(text), ['which', 'of', 'these', 'would', 'it', 'not', 'the', 'answer']);
  const file = join(mkdtempSync(join(tmpdir(), 'rare-mine-stop-')), 'stop.txt');
  writeFileSync(file, '# my list\nanswer\nWOULD\n');
  assert.deepEqual(createAnalyzer({ lang: 'en', stemmer: 'none', stopwords: file }).terms(text), ['which', 'of', 'these', 'it', 'not', 'the']);
});

test('the choices are part of the fingerprint; the default fingerprint is unchanged', () => {
  assert.equal(createAnalyzer('en').fingerprint, 'analyzer=v1;lang=en;stem=porter;stop=33;possessive=1');
  const prints = new Set(
    ['porter', 'snowball', 'none'].flatMap((stemmer) => ['lucene', 'snowball', 'none'].map((stopwords) => createAnalyzer({ lang: 'en', stemmer, stopwords }).fingerprint)),
  );
  assert.equal(prints.size, 9);
  assert.throws(() => createAnalyzer({ lang: 'zh', stemmer: 'snowball' }), /no Snowball stemmer for --lang zh/);
});

test('CLI: another --stopwords rebuilds the index; a missing FILE is a usage error before any work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-analyzer-'));
  const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');
  const idx = join(dir, 'idx');
  const first = runCli(['bm25', '--index-dir', idx, fixture]);
  assert.equal(first.status, 0, first.stderr);
  const same = runCli(['bm25', '--index-dir', idx, fixture]);
  assert.ok(same.logs().some((l) => l.msg === 'reusing BM25 index: corpus and settings match'));
  const other = runCli(['bm25', '--index-dir', idx, '--stopwords', 'snowball', '--stemmer', 'snowball', fixture]);
  assert.equal(other.status, 0, other.stderr);
  const built = other.logs().find((l) => l.msg === 'building BM25 index');
  assert.ok(built, other.stderr);
  assert.match(built.analyzer, /stem=english;stop=174;stoplist=/);
  const manifest = readFileSync(join(idx, 'bm25', 'manifest.json'), 'utf8');
  assert.match(manifest, /stem=english;stop=174/);
  const missing = runCli(['bm25', '--index-dir', join(dir, 'idx2'), '--stopwords', join(dir, 'no-such-list.txt'), fixture]);
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /--stopwords must be lucene, snowball, none or a readable file/);
});
