/**
 * Bounded-memory BM25 builds: a tiny --memory-budget forces many sorted runs on disk, and the merged index is
 * byte-for-byte the index an unbounded build writes (payloads of every file; manifests differ only in time).
 * Two builds differ in their build ids (storage/manifest.ts): the writer tests give both the same one; the CLI
 * test compares the payloads, after the container header that holds the id.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAnalyzer } from '../../src/text/analyzer.js';
import { Bm25IndexWriter } from '../../src/bm25/index-writer.js';
import { Bm25Index } from '../../src/bm25/index-reader.js';
import { HEADER_BYTES } from '../../src/storage/container.js';
import { seededRandom } from '../../src/seeded-random.js';
import { runCli } from '../helpers/cli.js';
import { cliPath, repoRoot } from '../helpers/shared-data.js';

const analyzer = createAnalyzer('en');
const BUILD_ID = '0123456789abcdef0123456789abcdef';
const DOCS_BUILD_ID = 'fedcba9876543210fedcba9876543210';

function randomCorpus(count: number): string[] {
  const random = seededRandom(14, 0);
  const vocabulary = Array.from({ length: 400 }, (_, i) => `term${i}q`);
  return Array.from({ length: count }, () => Array.from({ length: 3 + Math.floor(random() * 30) }, () => vocabulary[Math.floor(random() ** 2 * vocabulary.length)]).join(' '));
}

function build(dir: string, texts: string[], budget?: number): Bm25IndexWriter {
  const writer = new Bm25IndexWriter(dir, analyzer, { k1: 0.9, b: 0.4, variant: 'lucene' }, budget, BUILD_ID);
  texts.forEach((text, i) => writer.add(i % 3 === 0 ? `title ${i % 7}` : '', text));
  writer.finish('test', DOCS_BUILD_ID);
  return writer;
}

test('a tiny memory budget flushes many runs and merges them into the same bytes as an unbounded build', () => {
  const root = mkdtempSync(join(tmpdir(), 'rare-mine-bounded-'));
  try {
    const texts = randomCorpus(3000);
    const unbounded = build(join(root, 'unbounded'), texts);
    assert.equal(unbounded.runCount, 0);
    const bounded = build(join(root, 'bounded'), texts, 64 * 1024);
    assert.ok(bounded.runCount >= 10, `runs: ${bounded.runCount}`);
    for (const file of ['postings.bin', 'terms.bin', 'lengths.bin', 'bounds.bin', 'impacts.bin']) {
      assert.ok(readFileSync(join(root, 'bounded', file)).equals(readFileSync(join(root, 'unbounded', file))), `${file} identical`);
    }
    assert.deepEqual(readdirSync(join(root, 'bounded')).filter((f) => f.endsWith('.tmp')), [], 'runs are removed after the merge');
    const a = Bm25Index.open(join(root, 'bounded'), analyzer, 'test');
    const b = Bm25Index.open(join(root, 'unbounded'), analyzer, 'test');
    for (const query of ['term1q term2q', 'term399q term0q term5q title']) assert.deepEqual(a.search(query, 20), b.search(query, 20));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--memory-budget: parsed with units, out of range is a usage error, and the index is the same', () => {
  const root = mkdtempSync(join(tmpdir(), 'rare-mine-budget-cli-'));
  try {
    const corpus = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');
    const common = ['index', 'bm25', '--corpus', corpus];
    const small = runCli([...common, '--index-dir', join(root, 'small'), '--memory-budget', '64K']);
    assert.equal(small.status, 0, small.stderr);
    assert.ok(small.logs().some((l) => l.msg === 'BM25 index built' && l.runs > 1), small.stderr);
    const large = runCli([...common, '--index-dir', join(root, 'large'), '--memory-budget', '1G']);
    assert.equal(large.status, 0, large.stderr);
    const payload = (part: string) => readFileSync(join(root, part, 'bm25', 'postings.bin')).subarray(HEADER_BYTES);
    assert.ok(payload('small').equals(payload('large')));
    // The doc store streams its table columns through temporary files, gone once table.bin is written.
    assert.deepEqual(readdirSync(join(root, 'small', 'docs')).sort(), ['manifest.json', 'table.bin', 'texts.bin', 'titles.bin']);
    const mined = runCli(['bm25', '--index-dir', join(root, 'small'), '--num-neg', '2', '--with-ids', corpus]);
    assert.equal(mined.status, 0, mined.stderr);
    assert.equal(mined.json().length, 40);
    for (const bad of ['0', '12X', '-5M', 'lots']) {
      const run = runCli([...common, '--index-dir', join(root, 'bad'), '--memory-budget', bad]);
      assert.equal(run.status, 2, `--memory-budget ${bad}: ${run.stderr}`);
      assert.match(run.messages(), /--memory-budget/);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a bounded build with more sorted runs than open files (ulimit -n 64) merges them level by level: success, the same bytes, no run left', () => {
  const root = mkdtempSync(join(tmpdir(), 'rare-mine-fan-in-'));
  try {
    const corpus = join(root, 'corpus.jsonl');
    writeFileSync(corpus, randomCorpus(12_000).map((text, i) => JSON.stringify({ _id: `d${i}`, text })).join('\n') + '\n');
    const common = ['index', 'bm25', '--corpus', corpus];
    const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const limited = spawnSync('bash', ['-c', `ulimit -n 64 && exec ${[process.execPath, cliPath, ...common, '--index-dir', join(root, 'small'), '--memory-budget', '64K'].map(quote).join(' ')}`], {
      env: { ...process.env, RARE_MINE_LOG_FORMAT: 'json', RARE_MINE_NO_PROGRESS: '1' },
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(limited.status, 0, limited.stderr);
    const built = limited.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg?: string; runs?: number }).find((l) => l.msg === 'BM25 index built');
    assert.ok(built && built.runs! > 64, `runs: ${built?.runs} (more than the open-file limit)`);
    const large = runCli([...common, '--index-dir', join(root, 'large')]);
    assert.equal(large.status, 0, large.stderr);
    for (const file of ['postings.bin', 'terms.bin', 'lengths.bin', 'impacts.bin']) {
      const payload = (part: string) => readFileSync(join(root, part, 'bm25', file)).subarray(HEADER_BYTES);
      assert.ok(payload('small').equals(payload('large')), `${file} identical`);
    }
    assert.deepEqual(readdirSync(join(root, 'small', 'bm25')).filter((f) => f.endsWith('.tmp')), [], 'no run left');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
