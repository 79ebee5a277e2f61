/**
 * `rare-mine report`: the HTML is well-formed and offline; its figures equal `rare-mine stats` on the same file;
 * the funnel adds up to the negatives written; the same file and seed give the same bytes; record and flag outputs,
 * with and without scores, ranks and --stats-json (what cannot be shown is said); the false-negative rate against
 * --qrels equals a count made here; bad options and inputs are usage and input errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { InputError, UsageError } from '../src/errors.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { checkWellFormed, tableRows } from './helpers/html-check.js';
import { cliPath, repoRoot } from './helpers/shared-data.js';
import { spawnSync } from 'node:child_process';
import { ReportCollector } from '../src/report/collector.js';
import { renderReport } from '../src/report/html.js';
import { summarizeOutput } from '../src/commands/stats.js';
import { readOutputLines } from '../src/formats/output-reader.js';
import { buildReport, register as registerReport, runReport, type ReportOptions } from '../src/commands/report.js';
import { Command } from 'commander';

const work = mkdtempSync(join(tmpdir(), 'rare-mine-report-'));
const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');
// The fixture with query ids, so --qrels has something to join on.
const input = join(work, 'in.jsonl');
writeFileSync(input, readFileSync(fixture, 'utf8').trim().split('\n').map((line, i) => JSON.stringify({ _id: `q${i}`, ...JSON.parse(line) })).join('\n') + '\n');

function mine(name: string, args: string[]): { out: string; stats: string } {
  const out = join(work, `${name}.jsonl`);
  const stats = join(work, `${name}.stats.json`);
  const run = runCli(['bm25', '--num-neg', '3', '--min-rank', '1', '--max-score-ratio', '0.97', '--stats-json', stats, '-o', out, ...args, input]);
  assert.equal(run.status, 0, run.stderr);
  return { out, stats };
}

/** The report of the CLI (`rare-mine report ARGS -o FILE`), for the end-to-end cases. */
function reportCli(args: string[]): { html: string; status: number | null; stderr: string } {
  const path = join(work, `report-${Math.random().toString(36).slice(2)}.html`);
  const run = runCli(['report', ...args, '-o', path]);
  return { html: run.status === 0 ? readFileSync(path, 'utf8') : '', status: run.status, stderr: run.stderr };
}

const DEFAULTS: ReportOptions = { format: 'auto', outputKey: 'hard_negatives', questionKey: 'question', textKey: 'text', seed: 42, reviewRows: 30, samples: 8, maxLineBytes: 1 << 24 };

/** The same report built in this process (what the command writes), to keep the suite fast. */
function report(path: string, options: Partial<ReportOptions> = {}): Promise<string> {
  return buildReport(path, { ...DEFAULTS, ...options });
}

/** `rare-mine stats --json` of a file, in this process. */
async function statsOf(path: string, numNeg?: number): Promise<unknown> {
  return (await summarizeOutput(path, { format: 'auto', outputKey: 'hard_negatives', textKey: 'text', numNeg, maxLineBytes: 1 << 24 })).toJSON();
}

/** The statistics block the report embeds for machines. */
function embedded(html: string): { statistics: Record<string, unknown>; false_negatives: { negatives: number; judgedRelevant: number } | null } {
  const match = /<script type="application\/json" id="rare-mine-report">(.*?)<\/script>/s.exec(html);
  assert.ok(match, 'the JSON data block is there');
  return JSON.parse(match[1]);
}

function assertOffline(html: string): void {
  assert.doesNotMatch(html, /(src|href)="(?!#)/, 'no link or source outside the file');
  assert.doesNotMatch(html, /url\(/, 'no CSS url()');
  assert.equal((html.match(/<script/g) ?? []).length, 1, 'no script but the JSON data block');
  assert.match(html, /<script type="application\/json"/);
}

const full = mine('full', ['--with-scores', '--with-ranks', '--with-ids']);
const flag = mine('flag', ['--format', 'flag', '--with-scores', '--with-ranks', '--with-ids']);
// The same records as mined without --with-scores, --with-ranks, --with-ids (those fields are only appended).
const bare = { out: join(work, 'bare.jsonl') };
writeFileSync(
  bare.out,
  readFileSync(full.out, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const value = JSON.parse(line);
      for (const key of ['hard_negatives_scores', 'hard_negatives_ranks', 'hard_negatives_ids', 'hard_negatives_positive_scores']) delete value[key];
      return JSON.stringify(value);
    })
    .join('\n') + '\n',
);

test('record output with --stats-json: well-formed, offline, figures equal rare-mine stats, funnel adds up', async () => {
  const { html, status, stderr } = reportCli([full.out, '--stats-json', full.stats]);
  assert.equal(status, 0, stderr);
  const check = checkWellFormed(html);
  assert.deepEqual(check.errors, []);
  assert.equal(check.elements.get('svg'), 4, 'three score histograms and the rank histogram (every record has 3 negatives: no chart of one bar)');
  assertOffline(html);

  const statistics = await summarizeOutput(full.out, { format: 'auto', outputKey: 'hard_negatives', textKey: 'text', numNeg: 3, maxLineBytes: 1 << 24 });
  const fromStats = statistics.toJSON();
  assert.deepEqual(embedded(html).statistics, fromStats, 'the embedded statistics are rare-mine stats --json');

  // The table a reader sees holds the numbers of the stats table (what `rare-mine stats` prints), row by row.
  const table = statistics.toTable().split('\n').slice(1, 9).map((l) => l.trim().split(/\s+/));
  assert.deepEqual(tableRows(html, 'id="scores"', '<table class="stats">'), table);

  // The funnel: each step's "left" is the previous minus its "removed"; it starts at ranked + fill draws and ends at the negatives.
  const run = JSON.parse(readFileSync(full.stats, 'utf8'));
  const rows = tableRows(html, 'id="funnel"').map(([label, removed, left]) => ({ label, removed: Number(removed.replace(/[−,]/g, '') || 0), left: Number(left.replace(/,/g, '')) }));
  assert.equal(rows[0].left, run.funnel.ranked + run.funnel.fill_drawn);
  for (let i = 1; i < rows.length; i++) assert.equal(rows[i].left, rows[i - 1].left - rows[i].removed, rows[i].label);
  assert.equal(rows.at(-1)!.left, fromStats.negatives);
  assert.ok(rows.some((r) => r.label === 'after --max-score-ratio' && r.removed === run.removed.max_score_ratio && r.removed > 0));
  assert.ok(rows.some((r) => r.label.startsWith('in the window') && r.removed > 0), '--min-rank 1 leaves rank 0 out');

  // The run section: command line, version, retriever and its analyzer.
  assert.match(html, /rare-mine bm25 --num-neg 3 --min-rank 1 --max-score-ratio 0\.97/);
  assert.match(html, /analyzer=v1;lang=en/);
  assert.match(html, /rare-mine version<\/td><td>0\.1\.0/);
});

test('the likeliest false negatives are the negatives with the smallest positive − negative difference', async () => {
  const html = await report(full.out, { reviewRows: 5 });
  const all: number[] = [];
  for (const line of readFileSync(full.out, 'utf8').trim().split('\n')) {
    const r = JSON.parse(line);
    const lowest = Math.min(...r.hard_negatives_positive_scores);
    for (const s of r.hard_negatives_scores) all.push(lowest - s);
  }
  all.sort((a, b) => a - b);
  const shown = tableRows(html, 'id="review"').map((row) => Number(row[7]));
  assert.deepEqual(shown, all.slice(0, 5).map((d) => Number(d.toFixed(4))));
});

test('same file, same seed: the same bytes; another seed draws another sample', async () => {
  const a = await report(full.out, { statsJson: full.stats });
  const b = await report(full.out, { statsJson: full.stats });
  assert.equal(a, b);
  const c = await report(full.out, { statsJson: full.stats, seed: 7 });
  const lines = (html: string) => [...html.matchAll(/<span class="tag">line (\d+)<\/span>/g)].map((m) => m[1]).join(',');
  assert.notEqual(lines(a), lines(c));
  assert.equal(lines(a).split(',').length, 8);
});

test('flag output: figures equal rare-mine stats; --qrels needs a query id the flag layout does not carry', async () => {
  const html = await report(flag.out);
  assert.deepEqual(checkWellFormed(html).errors, []);
  assert.deepEqual(embedded(html).statistics, await statsOf(flag.out));
  assert.match(html, /flag format/);
  const qrels = join(work, 'flag-qrels.tsv');
  writeFileSync(qrels, 'query-id\tcorpus-id\tscore\nq0\t1\t1\n');
  await assert.rejects(report(flag.out, { qrels }), (error: Error) => {
    assert.ok(error instanceof InputError);
    assert.match(error.message, /flag\.jsonl:1: --qrels needs the query id in field "_id".*flag lines carry no query id/);
    return true;
  });
});

test('without scores, ranks or --stats-json the report says what cannot be shown and why', async () => {
  const html = await report(bare.out);
  assert.deepEqual(checkWellFormed(html).errors, []);
  assert.match(html, /Not recorded: an output file holds no run information/);
  assert.match(html, /No positive scores: the output was mined without <code>--with-scores<\/code>/);
  assert.match(html, /No ranks: the output was mined without <code>--with-ranks<\/code>/);
  assert.match(html, /Not known: an output file records only the negatives chosen/);
  assert.match(html, /Not measured: pass <code>--qrels/);
  assert.match(html, /Not shown: ranking negatives by how close they score/);
  assert.deepEqual(embedded(html).statistics, await statsOf(bare.out));
});

test('--qrels: the false-negative rate equals a count over the output, overall and per rank', async () => {
  const lines = readFileSync(full.out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  // Judge the first negative of every even query relevant, plus a document that is not a negative; leave q1 unjudged.
  const judgments = ['query-id\tcorpus-id\tscore'];
  for (const r of lines) {
    const n = Number(r._id.slice(1));
    if (n === 1) continue;
    judgments.push(`${r._id}\tnot-a-negative\t1`);
    if (n % 2 === 0 && r.hard_negatives_ids.length > 0) judgments.push(`${r._id}\t${r.hard_negatives_ids[0]}\t1`);
    if (n % 3 === 0 && r.hard_negatives_ids.length > 1) judgments.push(`${r._id}\t${r.hard_negatives_ids[1]}\t0`);
  }
  const qrels = join(work, 'qrels.tsv');
  writeFileSync(qrels, judgments.join('\n') + '\n');
  let negatives = 0;
  let relevant = 0;
  for (const r of lines) {
    if (r._id === 'q1') continue;
    negatives += r.hard_negatives_ids.length;
    if (Number(r._id.slice(1)) % 2 === 0 && r.hard_negatives_ids.length > 0) relevant++;
  }
  const html = await report(full.out, { qrels, queriesKey: '_id' });
  assert.deepEqual(checkWellFormed(html).errors, []);
  const fn = embedded(html).false_negatives!;
  assert.equal(fn.negatives, negatives);
  assert.equal(fn.judgedRelevant, relevant);
  const [overall] = tableRows(html, 'id="false-negatives"');
  assert.deepEqual(overall, [String(lines.length - 1), String(negatives), String(relevant), `${((100 * relevant) / negatives).toFixed(2)}%`]);
  assert.match(html, /1 records have a query id with no judgment/);
  const byRank = tableRows(html, 'id="false-negatives"', '<table').length;
  assert.ok(byRank > 0);
  const perRank = tableRows(html.slice(html.indexOf('</table>', html.indexOf('id="false-negatives"'))), '<table');
  assert.equal(perRank.reduce((a, row) => a + Number(row[1]), 0), negatives);
  assert.equal(perRank.reduce((a, row) => a + Number(row[2]), 0), relevant);
  assert.match(html, /<span class="yes">relevant<\/span>|judged relevant<\/span>/);
});

test('errors: out-of-range counts and --queries-key without --qrels are usage errors; missing ids, a bad --stats-json, a missing file are input errors', async () => {
  const outOfRange = runCli(['report', full.out, '--review-rows', '0']);
  assert.equal(outOfRange.status, 2);
  assert.match(outOfRange.messages(), /--review-rows must be an integer in 1\.\.1000, got "0"/);
  const isError = (type: typeof UsageError | typeof InputError, message: RegExp, hint?: RegExp) => (error: Error) => {
    assert.ok(error instanceof type, String(error));
    assert.match(error.message, message);
    if (hint) assert.match((error as InputError).hint ?? '', hint);
    return true;
  };
  await assert.rejects(report(full.out, { queriesKey: 'qid' }), isError(UsageError, /--queries-key names the query-id field for --qrels/));
  const qrels = join(work, 'q.tsv');
  writeFileSync(qrels, 'query-id\tcorpus-id\tscore\nq0\tx\t1\n');
  await assert.rejects(report(bare.out, { qrels }), isError(InputError, /bare\.jsonl:1: --qrels needs the corpus id of each negative in field "hard_negatives_ids"/, /mine with --with-ids/));
  const badJson = join(work, 'bad.json');
  writeFileSync(badJson, '[1,2]');
  await assert.rejects(report(full.out, { statsJson: badJson }), isError(InputError, /bad\.json: expected the statistics object a mining run writes with --stats-json, found a list/));
  const partial = join(work, 'never.html');
  const program = new Command();
  registerReport(program);
  await assert.rejects(runReport(join(work, 'missing.jsonl'), { ...DEFAULTS, output: partial }, program.commands[0]), isError(InputError, /missing\.jsonl: cannot (open|read)/));
  assert.ok(!existsSync(partial) && !existsSync(`${partial}.partial`), 'no HTML file after a failure');
  // A reader that goes away (`rare-mine report OUT | head -c 100`) is not an error.
  const piped = spawnSync('bash', ['-c', `"${process.execPath}" "${cliPath}" report "${full.out}" | head -c 100 >/dev/null; exit \${PIPESTATUS[0]}`], { encoding: 'utf8', env: { ...process.env, RARE_MINE_LOG_LEVEL: 'warn' } });
  assert.equal(piped.status, 0, piped.stderr);
  assert.equal(piped.stderr, '');
});

test('memory and size stay bounded: 5,000 records make a report about as big as 200 do', async () => {
  const sizes: number[] = [];
  for (const records of [200, 5_000]) {
    const path = join(work, `synthetic-${records}.jsonl`);
    const long = 'word '.repeat(200);
    const out: string[] = [];
    for (let i = 0; i < records; i++) {
      out.push(JSON.stringify({ _id: `q${i}`, question: `question ${i}`, text: `positive ${i} ${long}`, hard_negatives: [`neg a ${i} ${long}`, `neg b ${i}`], hard_negatives_scores: [(i % 97) / 10, (i % 13) / 10], hard_negatives_positive_scores: [5], hard_negatives_ranks: [i % 50, 3] }));
    }
    writeFileSync(path, out.join('\n') + '\n');
    const collector = new ReportCollector({ questionKey: 'question', textKey: 'text', seed: 42, reviewRows: 30, sampleRecords: 8 });
    for await (const line of readOutputLines(path, { format: 'auto', outputKey: 'hard_negatives', maxLineBytes: 1 << 20 })) collector.add(line, path);
    const data = collector.finish();
    assert.equal(data.review.length, 30);
    assert.equal(data.sample.length, 8);
    assert.ok(data.review.every((r) => r.negative.text.length <= 600));
    sizes.push(renderReport({ source: path, data, notes: [], seed: 42, version: 'test' }).length);
  }
  assert.ok(sizes[1] < sizes[0] * 1.3 && sizes[1] < 400_000, `report sizes ${sizes.join(' vs ')}`);
});

test('a positive given by id is named by its id (--positive-ids-key, or the run\'s), its text being absent', async () => {
  const path = join(work, 'by-id.jsonl');
  writeFileSync(
    path,
    [
      { _id: 'q1', question: 'first', pos: ['d7', 'd9'], hard_negatives: ['n1', 'n2'], hard_negatives_scores: [3, 1], hard_negatives_positive_scores: [5, 2] },
      { _id: 'q2', question: 'second', text: 'a text positive', pos: 'd4', hard_negatives: ['n3'], hard_negatives_scores: [4], hard_negatives_positive_scores: [6, 1] },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  const html = await report(path, { positiveIdsKey: 'pos' });
  const rows = tableRows(html, 'id="review"');
  // Differences: q2 1−4 = −3 (its lowest positive is the id d4, after the text), q1 2−3 = −1 and 2−1 = 1 (lowest: d9).
  assert.deepEqual(rows.map((r) => [r[1], r[3], r[7]]), [['2', 'given by id: d4', '-3.0000'], ['1', 'given by id: d9', '-1.0000'], ['1', 'given by id: d9', '1.0000']]);
  // The sample lists them too, with their scores (texts first, then ids: q2's text positive scored 6, d4 1).
  assert.match(html, /<li><span class="cut">given by id:<\/span> <span class="tag">d7<\/span><span class="tag">score 5\.0000<\/span><\/li>/);
  assert.match(html, /<li>a text positive <span class="tag">score 6\.0000<\/span><\/li><li><span class="cut">given by id:<\/span> <span class="tag">d4<\/span><span class="tag">score 1\.0000<\/span><\/li>/);
  const unnamed = tableRows(await report(path), 'id="review"');
  assert.equal(unnamed[0][3], '(given by id: its text is not in the output)');
});
