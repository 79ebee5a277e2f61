/**
 * End-to-end runs of the built `rare-mine bm25` on small self-made data: the record contract (every record, in
 * order, fields untouched), exclusions, windows, index reuse, stdin, atomic output and bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { repoRoot } from './helpers/shared-data.js';
import { noExclusions } from '../src/mine/miner.js';

const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');
const fixtureLines = readFileSync(fixture, 'utf8').trimEnd().split('\n');
const tmp = () => mkdtempSync(join(tmpdir(), 'rare-mine-cli-'));
const norm = (s: string) => s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();

test('DataFlow style: every record out, in order, original fields untouched, no own text among negatives', () => {
  const run = runCli(['bm25', '--num-neg', '3', '--with-scores', '--with-ids', fixture]);
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trimEnd().split('\n');
  assert.equal(lines.length, fixtureLines.length);
  lines.forEach((line, i) => {
    // The input line is kept byte for byte; the mined fields are appended.
    assert.ok(line.startsWith(fixtureLines[i].slice(0, -1)), `line ${i + 1} keeps its original text`);
    const record = JSON.parse(line);
    const input = JSON.parse(fixtureLines[i]);
    assert.equal(record.question, input.question);
    assert.ok(record.hard_negatives.length <= 3);
    assert.equal(record.hard_negatives_scores.length, record.hard_negatives.length);
    assert.equal(record.hard_negatives_ids.length, record.hard_negatives.length);
    for (const negative of record.hard_negatives) assert.notEqual(norm(negative), norm(input.text));
    assert.equal(new Set(record.hard_negatives.map(norm)).size, record.hard_negatives.length, 'no duplicate negatives');
    const scores: number[] = record.hard_negatives_scores;
    for (let j = 1; j < scores.length; j++) assert.ok(scores[j - 1] >= scores[j], 'top sampling keeps rank order');
  });
  const summary = run.logs().find((l) => l.msg === 'summary');
  assert.equal(summary.records_in, 40);
  assert.equal(summary.records_out, 40);
  const short = JSON.parse('[' + lines.join(',') + ']').filter((r: any) => r.hard_negatives.length < 3).length;
  assert.equal(summary.short_records, short, 'short records are counted, not dropped');
});

test('positives by text and by id, the query itself and duplicates are never negatives', () => {
  const dir = tmp();
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(
    corpus,
    [
      { _id: 'p1', text: 'apples are red fruit' },
      { _id: 'p2', text: 'Apples   are RED fruit' }, // same text as p1 after normalisation
      { _id: 'q', text: 'red apples' }, // equal to the query
      { _id: 'd1', text: 'red fruit salad with apples and pears' },
      { _id: 'd2', text: 'red fruit salad with apples and pears' }, // duplicate of d1
      { _id: 'd3', text: 'green apples are sour' },
      { _id: 'd4', text: 'red cars are fast' },
      { _id: 'pid', text: 'apples red red red apples' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  const input = JSON.stringify({ question: 'red apples', text: 'apples are red fruit', pos_ids: ['pid'] }) + '\n';
  const run = runCli(['bm25', '--corpus', corpus, '--positive-ids-key', 'pos_ids', '--num-neg', '10', '--with-ids', '-'], { input });
  assert.equal(run.status, 0, run.stderr);
  const [record] = run.json();
  assert.deepEqual(record.hard_negatives_ids, ['d1', 'd3', 'd4']);
  const summary = run.logs().find((l) => l.msg === 'summary');
  assert.deepEqual(summary.excluded, { ...noExclusions(), positive: 3, query: 1, duplicate: 1 });
  assert.equal(summary.short_records, 1, 'every document was ranked: nothing to fill from, so the record is short');
  assert.equal(summary.filled_records, 0);
});

test('--fill: a ranking that runs out is topped up with flagged zero-score documents, or left short with --fill none', () => {
  const dir = tmp();
  const corpus = join(dir, 'corpus.jsonl');
  const docs = [{ _id: 'm', text: 'quokka habitat' }, ...Array.from({ length: 20 }, (_, i) => ({ _id: `o${i}`, text: `unrelated passage number ${i}` }))];
  writeFileSync(corpus, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const input = JSON.stringify({ question: 'quokka', text: 'a positive not in the corpus' }) + '\n';
  const filled = runCli(['bm25', '--corpus', corpus, '--num-neg', '3', '--with-ids', '--with-scores', '-'], { input });
  assert.equal(filled.status, 0, filled.stderr);
  const [record] = filled.json();
  assert.equal(record.hard_negatives_ids[0], 'm');
  assert.equal(record.hard_negatives_ids.length, 3);
  assert.deepEqual(record.hard_negatives_scores.slice(1), [0, 0]);
  const summary = filled.logs().find((l) => l.msg === 'summary');
  assert.equal(summary.filled_records, 1);
  assert.equal(summary.filled_negatives, 2);
  const again = runCli(['bm25', '--corpus', corpus, '--num-neg', '3', '--with-ids', '-'], { input });
  assert.deepEqual(again.json()[0].hard_negatives_ids, record.hard_negatives_ids, 'the fill draw is seeded');
  const none = runCli(['bm25', '--corpus', corpus, '--num-neg', '3', '--fill', 'none', '--with-ids', '-'], { input });
  assert.deepEqual(none.json()[0].hard_negatives_ids, ['m']);
  assert.equal(none.logs().find((l) => l.msg === 'summary').short_records, 1);
});

test('ranks count before exclusions: --min-rank skips the raw top ranks, positives included', () => {
  const dir = tmp();
  const corpus = join(dir, 'corpus.jsonl');
  // Raw BM25 ranking for "zebra": z0 (positive) > z1 > z2 > z3 > z4, by decreasing term frequency.
  const docs = [0, 1, 2, 3, 4].map((i) => ({ _id: `z${i}`, text: `${'zebra '.repeat(6 - i)}${'filler '.repeat(i)}` }));
  writeFileSync(corpus, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const input = JSON.stringify({ question: 'zebra', pos: 'z0' }) + '\n';
  const ids = (extra: string[]) => {
    const run = runCli(['bm25', '--corpus', corpus, '--positive-ids-key', 'pos', '--with-ids', ...extra], { input });
    assert.equal(run.status, 0, run.stderr);
    return run.json()[0].hard_negatives_ids;
  };
  assert.deepEqual(ids(['--num-neg', '2']), ['z1', 'z2']);
  // --min-rank 1 skips raw rank 0 (the positive): same negatives, the positive was not counted twice.
  assert.deepEqual(ids(['--num-neg', '2', '--min-rank', '1']), ['z1', 'z2']);
  // --min-rank 2 skips z0 and z1.
  assert.deepEqual(ids(['--num-neg', '2', '--min-rank', '2']), ['z2', 'z3']);
  // --max-rank 3 allows raw ranks 0..2 only: z1, z2.
  assert.deepEqual(ids(['--num-neg', '5', '--max-rank', '3']), ['z1', 'z2']);
  // Random sampling is reproducible with a seed and stays inside the window.
  const a = ids(['--num-neg', '2', '--sample', 'random', '--seed', '7']);
  const b = ids(['--num-neg', '2', '--sample', 'random', '--seed', '7']);
  assert.deepEqual(a, b);
  for (const id of a) assert.ok(['z1', 'z2', 'z3', 'z4'].includes(id));
});

test('--index-dir: built once, reused when it matches, rebuilt when stale or with --rebuild', () => {
  const dir = tmp();
  const indexDir = join(dir, 'idx');
  const messages = (run: ReturnType<typeof runCli>) => run.logs().map((l) => l.msg);
  const first = runCli(['bm25', '--index-dir', indexDir, fixture]);
  assert.equal(first.status, 0, first.stderr);
  assert.ok(messages(first).includes('building BM25 index'));
  const second = runCli(['bm25', '--index-dir', indexDir, fixture]);
  assert.ok(messages(second).includes('reusing BM25 index: corpus and settings match'));
  assert.equal(second.stdout, first.stdout, 'same output from a reused index');
  const changedK1 = runCli(['bm25', '--index-dir', indexDir, '--k1', '1.2', fixture]);
  assert.ok(changedK1.logs().some((l) => l.msg === 'building BM25 index' && /settings changed/.test(l.reason)));
  const forced = runCli(['bm25', '--index-dir', indexDir, '--k1', '1.2', '--rebuild', fixture]);
  assert.ok(forced.logs().some((l) => l.msg === 'building BM25 index' && l.reason === '--rebuild'));
  // Build once, mine many times: `index bm25` then `bm25 --index-dir` without --corpus.
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(corpus, fixtureLines.map((l, i) => JSON.stringify({ _id: `d${i}`, text: JSON.parse(l).text })).join('\n') + '\n');
  const built = runCli(['index', 'bm25', '--corpus', corpus, '--index-dir', join(dir, 'idx2')]);
  assert.equal(built.status, 0, built.stderr);
  const mined = runCli(['bm25', '--index-dir', join(dir, 'idx2'), '--with-ids', fixture]);
  assert.equal(mined.status, 0, mined.stderr);
  assert.ok(mined.logs().some((l) => l.msg === 'no --corpus: using the corpus already indexed in --index-dir'));
  assert.ok(mined.json().every((r) => r.hard_negatives_ids.every((id: string) => id.startsWith('d'))));
});

test('stdin works with and without --corpus (spooled when the input is also the corpus)', () => {
  const input = readFileSync(fixture);
  const fromStdin = runCli(['bm25'], { input });
  const fromFile = runCli(['bm25', fixture]);
  assert.equal(fromStdin.status, 0, fromStdin.stderr);
  assert.equal(fromStdin.stdout, fromFile.stdout);
});

test('-o writes atomically; bad input leaves no output file and names file and line', () => {
  const dir = tmp();
  const out = join(dir, 'out.jsonl');
  const ok = runCli(['bm25', '-o', out, fixture]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, '');
  assert.equal(readFileSync(out, 'utf8').trimEnd().split('\n').length, 40);
  assert.ok(!existsSync(`${out}.partial`));

  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, fixtureLines.slice(0, 5).join('\n') + '\n{"question": "broken",\n');
  const out2 = join(dir, 'out2.jsonl');
  const run = runCli(['bm25', '--corpus', join(dir, 'out.jsonl'), '--corpus-id-key', 'question', '-o', out2, bad]);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /bad\.jsonl:6: malformed JSON/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('out2')), [], 'no partial or final output left');

  const missing = join(dir, 'missing.jsonl');
  writeFileSync(missing, '{"question": "a"}\n{"text": "no question here"}\n');
  const run2 = runCli(['bm25', missing]);
  assert.equal(run2.status, 1);
  assert.match(run2.messages(), /missing\.jsonl:2: missing field "question"/);
  const nonString = join(dir, 'nonstring.jsonl');
  writeFileSync(nonString, '{"question": 42, "text": "x"}\n');
  assert.match(runCli(['bm25', nonString]).messages(), /nonstring\.jsonl:1: field "question" must be a string, found a number/);
  const unreadable = runCli(['bm25', join(dir, 'does-not-exist.jsonl')]);
  assert.equal(unreadable.status, 1);
  assert.match(unreadable.stderr, /does-not-exist\.jsonl: cannot (open|read)/);
});

test('--on-error skip: bad lines go to --rejects and are counted; records in = out + rejected', () => {
  const dir = tmp();
  const input = join(dir, 'mixed.jsonl');
  writeFileSync(input, [fixtureLines[0], 'not json', '{"question": ""}', fixtureLines[1], '[1,2]', '', fixtureLines[2]].join('\n') + '\n');
  const rejects = join(dir, 'rejects.jsonl');
  const run = runCli(['bm25', '--on-error', 'skip', '--rejects', rejects, input]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.json().length, 3);
  const rejected = readFileSync(rejects, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rejected.map((r) => r.line), [2, 3, 5]);
  assert.match(rejected[1].reason, /field "question" is empty/);
  const summary = run.logs().find((l) => l.msg === 'summary');
  assert.equal(summary.records_in, 6);
  assert.equal(summary.rejected, 3);
  assert.equal(summary.blank_lines, 1);
});

test('a closed pipe (| head -1) exits 0 without an error message', () => {
  const result = spawnSync('bash', ['-o', 'pipefail', '-c', `node ${join(repoRoot, 'bin', 'rare-mine.js')} bm25 ${fixture} --log-level warn | head -1`], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trimEnd().split('\n').length, 1);
  assert.doesNotMatch(result.stderr, /error|EPIPE/i);
});

