/**
 * The quality figures the README and docs/ANALYZERS.md state are what `rare-mine eval` measures today on the real
 * datasets (../shared/data; skipped with a printed reason when absent). The figures and the options that produced
 * them are read from the documents themselves, so a stale figure (CACM's 0.4543, measured against the uncorrected
 * qrels) fails here instead of drifting. BM25 is deterministic: a figure must be the rerun rounded to the places
 * shown. A row that runs a model is held to ±0.001: ONNX's sums may run in another order on another CPU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { repoRoot, sharedData } from '../helpers/shared-data.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
/** The README with every run of whitespace one space, for sentences that wrap. */
const prose = readme.replace(/\s+/g, ' ');
const analyzers = readFileSync(join(repoRoot, 'docs', 'ANALYZERS.md'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'rare-mine-readme-figures-'));
const env = { RARE_MINE_CACHE_DIR: join(work, 'cache') };

/** The rows (cells, trimmed) of the Markdown table whose header line starts with `header`. */
function markdownTable(text: string, header: string): string[][] {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith(header));
  assert.ok(start >= 0, `no table headed "${header}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((cell) => cell.trim()));
  }
  assert.ok(rows.length > 0, `the table headed "${header}" has no rows`);
  return rows;
}

/** A figure as written ("0.4604", "**0.4782**"). */
function figure(cell: string): string {
  const match = /^\**(\d+\.\d+)\**$/.exec(cell);
  assert.ok(match, `not a figure: "${cell}"`);
  return match[1];
}

const datasets = {
  scifact: { queries: 'queries.test.jsonl' },
  cacm: { queries: 'queries.jsonl' },
} as const;
type Dataset = keyof typeof datasets;

const reports = new Map<string, Record<string, number>>();

/** `rare-mine eval OPTIONS` on a dataset, once per (dataset, options). */
function evaluate(dataset: Dataset, options: string[]): Record<string, number> {
  const key = `${dataset} ${options.join(' ')}`;
  const known = reports.get(key);
  if (known) return known;
  const dir = sharedData(dataset)!;
  const usesModel = options.includes('--model');
  const run = runCli(
    ['eval', ...options, ...(usesModel ? ['--index-dir', join(work, `idx-${dataset}`)] : []),
      '--corpus', join(dir, 'corpus.jsonl'), '--queries', join(dir, datasets[dataset].queries), '--qrels', join(dir, 'qrels', 'test.tsv'), '--json'],
    { env },
  );
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  console.log(`# ${key}: ${JSON.stringify(report)}`);
  reports.set(key, report);
  return report;
}

/** The figure as written equals the rerun: rounded to the places shown, or within ±0.001 for a model's row. */
function assertFigure(written: string, measured: number, usesModel: boolean, what: string): void {
  if (usesModel) assert.ok(Math.abs(measured - Number(written)) <= 0.001, `${what}: the document says ${written}, a rerun gives ${measured}`);
  else assert.equal(measured.toFixed(written.split('.')[1].length), written, `${what}: the document says ${written}, a rerun gives ${measured}`);
}

const haveData = () => sharedData('scifact') !== undefined && sharedData('cacm') !== undefined;

test('README, "Dense and hybrid": each nDCG@10 is what its row\'s eval options give', (t) => {
  if (!haveData()) return t.skip('shared data absent');
  const rows = markdownTable(readme, '| retriever (`rare-mine eval` options) | SciFact nDCG@10 | CACM nDCG@10 |');
  for (const [label, scifact, cacm] of rows) {
    const options = /`([^`]+)`/.exec(label)?.[1].split(/\s+/);
    assert.ok(options && options.includes('--retriever'), `row "${label}" names its eval options`);
    const usesModel = options.includes('--model');
    assertFigure(figure(scifact), evaluate('scifact', options)['ndcg@10'], usesModel, `${label}, SciFact`);
    assertFigure(figure(cacm), evaluate('cacm', options)['ndcg@10'], usesModel, `${label}, CACM`);
  }
});

test('README, "Dense and hybrid": the sentence under the table says what the reruns say', (t) => {
  if (!haveData()) return t.skip('shared data absent');
  assert.match(prose, /At equal weights, fusing this weak model lands between the two; weighted towards BM25 \(`--rrf-weights 1,0\.3`\) it stays below BM25 on SciFact \((0\.\d+) against (0\.\d+)\) but beats it on CACM \((0\.\d+) against (0\.\d+)\)/);
  const model = ['--model', 'use-lite'];
  for (const dataset of ['scifact', 'cacm'] as const) {
    const bm25 = evaluate(dataset, ['--retriever', 'bm25'])['ndcg@10'];
    const dense = evaluate(dataset, ['--retriever', 'dense', ...model])['ndcg@10'];
    const hybrid = evaluate(dataset, ['--retriever', 'hybrid', ...model])['ndcg@10'];
    assert.ok(hybrid > Math.min(bm25, dense) && hybrid < Math.max(bm25, dense), `${dataset}: equal-weight hybrid ${hybrid} lies between dense ${dense} and bm25 ${bm25}`);
  }
  const [, scifactHybrid, scifactBm25, cacmHybrid, cacmBm25] = /stays below BM25 on SciFact \((0\.\d+) against (0\.\d+)\) but beats it on CACM \((0\.\d+) against (0\.\d+)\)/.exec(prose)!;
  const weighted = ['--retriever', 'hybrid', ...model, '--rrf-weights', '1,0.3'];
  assertFigure(scifactHybrid, evaluate('scifact', weighted)['ndcg@10'], true, 'SciFact, weighted hybrid');
  assertFigure(scifactBm25, evaluate('scifact', ['--retriever', 'bm25'])['ndcg@10'], false, 'SciFact, bm25');
  assertFigure(cacmHybrid, evaluate('cacm', weighted)['ndcg@10'], true, 'CACM, weighted hybrid');
  assertFigure(cacmBm25, evaluate('cacm', ['--retriever', 'bm25'])['ndcg@10'], false, 'CACM, bm25');
  assert.ok(evaluate('scifact', weighted)['ndcg@10'] < evaluate('scifact', ['--retriever', 'bm25'])['ndcg@10'], 'SciFact: weighted hybrid below BM25');
  assert.ok(evaluate('cacm', weighted)['ndcg@10'] > evaluate('cacm', ['--retriever', 'bm25'])['ndcg@10'], 'CACM: weighted hybrid above BM25');
});

test('README, "BM25": nDCG@10 and Recall@100 of the default analyzer, and the top-10 overlap with Anserini\'s run', (t) => {
  if (!haveData()) return t.skip('shared data absent');
  const rows = markdownTable(readme, '| data | nDCG@10 | Recall@100 | other engines (nDCG@10) |');
  assert.equal(rows.length, 2);
  for (const [data, ndcg, recall] of rows) {
    const dataset: Dataset = data.startsWith('SciFact') ? 'scifact' : data.startsWith('CACM') ? 'cacm' : assert.fail(`unknown data "${data}"`);
    const report = evaluate(dataset, ['--retriever', 'bm25']);
    assertFigure(figure(ndcg), report['ndcg@10'], false, `${data}, nDCG@10`);
    assertFigure(figure(recall), report['recall@100'], false, `${data}, Recall@100`);
  }
  const written = /Mean top-10 overlap with Anserini's own Lucene run on CACM[^:]*: (\d\.\d+)\./.exec(prose)?.[1];
  assert.ok(written, 'the README states the overlap');
  const runFile = join(work, 'cacm.run');
  const cacm = sharedData('cacm')!;
  const run = runCli(['eval', '--corpus', join(cacm, 'corpus.jsonl'), '--queries', join(cacm, 'queries.jsonl'), '--qrels', join(cacm, 'qrels', 'test.tsv'), '--json', '--run', runFile]);
  assert.equal(run.status, 0, run.stderr);
  const ranking = (path: string) => {
    const byQuery = new Map<string, string[]>();
    for (const line of readFileSync(path, 'utf8').trim().split('\n')) {
      const [qid, , docId] = line.split(/\s+/);
      byQuery.set(qid, [...(byQuery.get(qid) ?? []), docId]);
    }
    return byQuery;
  };
  const ours = ranking(runFile);
  const lucene = ranking(join(cacm, 'lucene-bm25.run'));
  let overlap = 0;
  let queries = 0;
  for (const [qid, docs] of ours) {
    const reference = lucene.get(qid);
    if (!reference) continue;
    const top = new Set(reference.slice(0, 10));
    overlap += docs.slice(0, 10).filter((d) => top.has(d)).length / Math.min(10, reference.length);
    queries++;
  }
  assertFigure(written, overlap / queries, false, 'mean top-10 overlap with Lucene on CACM');
});

test('docs/ANALYZERS.md: every stemmer and stopword combination, and the README\'s Snowball sentence', (t) => {
  if (!haveData()) return t.skip('shared data absent');
  const rows = markdownTable(analyzers, '| `--stemmer` | `--stopwords` | SciFact nDCG@10 | CACM nDCG@10 | SciFact R@100 | CACM R@100 |');
  assert.equal(rows.length, 9);
  const cell = new Map<string, string[]>();
  for (const [stemmer, stopwords, scifactNdcg, cacmNdcg, scifactRecall, cacmRecall] of rows) {
    const options = ['--stemmer', stemmer, '--stopwords', stopwords.split(' ')[0]];
    const scifact = evaluate('scifact', options);
    const cacm = evaluate('cacm', options);
    const what = `--stemmer ${stemmer} --stopwords ${stopwords}`;
    assertFigure(figure(scifactNdcg), scifact['ndcg@10'], false, `${what}, SciFact nDCG@10`);
    assertFigure(figure(cacmNdcg), cacm['ndcg@10'], false, `${what}, CACM nDCG@10`);
    assertFigure(figure(scifactRecall), scifact['recall@100'], false, `${what}, SciFact R@100`);
    assertFigure(figure(cacmRecall), cacm['recall@100'], false, `${what}, CACM R@100`);
    cell.set(`${stemmer} ${options[3]}`, [figure(scifactNdcg), figure(cacmNdcg)]);
  }
  const sentence = /Snowball's stemmer and stopwords: CACM nDCG@10 (0\.\d+) vs Lucene's (0\.\d+); SciFact (0\.\d+) vs (0\.\d+)/.exec(prose);
  assert.ok(sentence, "the README's sentence on Snowball's stemmer and stopwords");
  const [snowballScifact, snowballCacm] = cell.get('snowball snowball')!;
  const [defaultScifact, defaultCacm] = cell.get('porter lucene')!;
  assert.deepEqual(sentence.slice(1), [snowballCacm, defaultCacm, snowballScifact, defaultScifact]);
});
