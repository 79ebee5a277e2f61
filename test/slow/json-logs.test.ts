/**
 * Machine-clean logs (issue 23, item 4): under --log-format json (RARE_MINE_LOG_FORMAT=json, which runCli sets)
 * every line rare-mine writes on stderr is one JSON object, whatever the command and however it ends — the
 * statistics table is a 'statistics' event carrying the --stats-json figures, an error at exit is an event with its
 * exit code and hint, commander's usage errors too. And `stats` / `report` read an output with the layout, keys and
 * --num-neg its run recorded in --stats-json, an explicit option winning with a warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { cliPath, repoRoot } from '../helpers/shared-data.js';

const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'rare-mine-json-logs-'));

/** Every non-empty stderr line of `run` parsed as a JSON object (a line that is not one fails, naming it). */
function jsonLines(run: CliResult, what: string): Array<Record<string, unknown>> {
  const lines = run.stderr.split('\n').filter((line) => line.trim().length > 0);
  return lines.map((line, i) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      assert.fail(`${what}: stderr line ${i + 1} is not JSON: ${JSON.stringify(line)}\n--- stderr ---\n${run.stderr}`);
    }
    assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${what}: stderr line ${i + 1} is not a JSON object: ${line}`);
    assert.equal(typeof (value as { msg?: unknown }).msg, 'string', `${what}: stderr line ${i + 1} has no msg: ${line}`);
    return value as Record<string, unknown>;
  });
}

// A tiny BEIR set from the fixture: each record's positive is a document, its question a query judging it.
const records = readFileSync(fixture, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { question: string; text: string });
const corpus = join(dir, 'corpus.jsonl');
const queries = join(dir, 'queries.jsonl');
const qrels = join(dir, 'qrels.tsv');
writeFileSync(corpus, records.map((r, i) => JSON.stringify({ _id: `d${i}`, title: '', text: r.text })).join('\n') + '\n');
writeFileSync(queries, records.map((r, i) => JSON.stringify({ _id: `q${i}`, text: r.question })).join('\n') + '\n');
writeFileSync(qrels, 'query-id\tcorpus-id\tscore\n' + records.map((_, i) => `q${i}\td${i}\t1`).join('\n') + '\n');

test('--log-format json: every stderr line of every command is one JSON object (the statistics table is an event)', () => {
  const out = join(dir, 'negs.jsonl');
  const statsJson = join(dir, 'run.json');
  const mined = runCli(['bm25', fixture, '-o', out, '--output-key', 'negs', '--with-scores', '--with-ranks', '--stats-json', statsJson]);
  assert.equal(mined.status, 0, mined.stderr);
  const statistics = jsonLines(mined, 'bm25').find((line) => line.msg === 'statistics');
  assert.ok(statistics, `a statistics event: ${mined.stderr}`);
  const written = JSON.parse(readFileSync(statsJson, 'utf8'));
  assert.equal(statistics.records, 40);
  assert.deepEqual(statistics.scores, written.scores, 'the event carries the figures --stats-json holds');
  assert.deepEqual(statistics.rank_histogram, written.rank_histogram);

  const runs: Array<[string, CliResult, number]> = [
    ['index bm25', runCli(['index', 'bm25', '--corpus', corpus, '--index-dir', join(dir, 'idx')]), 0],
    ['eval', runCli(['eval', '--retriever', 'bm25', '--corpus', corpus, '--queries', queries, '--qrels', qrels, '--index-dir', join(dir, 'idx')]), 0],
    ['stats (warnings: no positives under the default keys)', runCli(['stats', out, '--output-key', 'negs', '--text-key', 'nope']), 0],
    ['stats, no scores', runCli(['stats', out, '--output-key', 'negs', '--format', 'record', '--num-neg', '3', '--log-level', 'debug']), 0],
    ['report', runCli(['report', out, '--stats-json', statsJson, '-o', join(dir, 'report.html')]), 0],
    ['a missing input (exit 1)', runCli(['bm25', join(dir, 'nope.jsonl')]), 1],
    ['a bad line (exit 1)', runCli(['bm25'], { input: '{"question": "q", "text": "t"}\nnot json\n' }), 1],
    ['an out-of-range value (exit 2)', runCli(['bm25', fixture, '--num-neg', '0']), 2],
    ['an unknown option (exit 2)', runCli(['bm25', fixture, '--num-negs', '3']), 2],
    ['an option of another tool (exit 2)', runCli(['bm25', fixture, '--negative_number', '3']), 2],
    ['a command without its subcommand (exit 2)', runCli(['index']), 2],
    ['a bad choice given as --log-format json (exit 2)', runCli(['--log-format', 'json', 'bm25', '--format', 'nope'], { env: { RARE_MINE_LOG_FORMAT: 'pretty' } }), 2],
    ['a missing key (exit 2)', runCli(['bm25', fixture, '--question-key', 'query']), 2],
  ];
  const shards = [0, 1].map((i) => join(dir, `part-${i}.jsonl`));
  for (const [i, part] of shards.entries()) runs.push([`bm25 --shard ${i}/2`, runCli(['bm25', '--shard', `${i}/2`, fixture, '-o', part]), 0]);
  runs.push(['merge', runCli(['merge', '-o', join(dir, 'merged.jsonl'), ...shards]), 0]);
  runs.push(['merge onto an input (exit 2)', runCli(['merge', '-o', shards[1], ...shards]), 2]);
  for (const [what, run, status] of runs) {
    const lines = jsonLines(run, what);
    assert.equal(run.status, status, `${what}: ${run.stderr}`);
    if (status !== 0) {
      const error = lines.at(-1)!;
      assert.equal(error.level, 50, `${what}: the last line is the error: ${run.stderr}`);
      assert.equal(error.exit_code, status, what);
      assert.ok(!String(error.msg).startsWith('rare-mine:'), `${what}: the message without the prompt prefix`);
    }
  }
  const missing = jsonLines(runs[5][1], 'missing input').at(-1)!;
  assert.equal(missing.error, 'InputError');
  assert.match(String(missing.file), /nope\.jsonl$/);
  const badLine = jsonLines(runs[6][1], 'bad line').at(-1)!;
  assert.equal(badLine.line, 2, 'an InputError carries its line number as a field');
  const unknown = jsonLines(runs[8][1], 'unknown option').at(-1)!;
  assert.match(String(unknown.msg), /unknown option '--num-negs'/);
  assert.match(String(unknown.hint), /see `rare-mine bm25 --help`/);
  const usage = jsonLines(runs[7][1], 'out of range').at(-1)!;
  assert.match(String(usage.msg), /--num-neg must be an integer ≥ 1, got "0"/);
  assert.equal(usage.error, 'UsageError');
  const warned = jsonLines(runs[2][1], 'stats').filter((line) => line.level === 40);
  assert.ok(warned.some((line) => /no record has a positive under "nope"/.test(String(line.msg))), runs[2][1].stderr);
});

test('pretty mode prints the table as before; the statistics event is an info event', () => {
  const pretty = runCli(['bm25', fixture], { env: { RARE_MINE_LOG_FORMAT: 'pretty' } });
  assert.equal(pretty.status, 0, pretty.stderr);
  assert.match(pretty.stderr, /^Metric +Positive +Negative +Difference$/m, 'the table for people, as before');
  assert.doesNotMatch(pretty.stderr, /"msg":"statistics"/);
  const quiet = runCli(['bm25', fixture, '--log-level', 'warn']);
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.ok(!jsonLines(quiet, 'warn level').some((line) => line.msg === 'statistics'), 'the statistics event is info: not logged at --log-level warn');
});

test('--log-format json: the SIGINT note of an interrupted run is a JSON event too', async () => {
  const big = join(dir, 'big.jsonl');
  writeFileSync(big, readFileSync(fixture, 'utf8').repeat(300));
  const out = join(dir, 'interrupted.jsonl');
  const child = spawn(process.execPath, [cliPath, 'bm25', big, '-o', out, '--batch-size', '8'], { env: { ...process.env, RARE_MINE_LOG_FORMAT: 'json', RARE_MINE_NO_PROGRESS: '1' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!(existsSync(`${out}.partial`) && statSync(`${out}.partial`).size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, `interrupted, not finished: ${stderr}`);
  const lines = jsonLines({ status: code, pid: child.pid!, stdout: '', stderr, json: () => [], logs: () => [], messages: () => stderr }, 'SIGINT');
  const note = lines.find((line) => line.signal === 'SIGINT');
  assert.ok(note, stderr);
  assert.match(String(note.msg), /SIGINT: stopping; partial output kept/);
});

test('stats and report take the format, keys and --num-neg the run recorded in --stats-json; an explicit option wins with a warning', () => {
  const work = mkdtempSync(join(tmpdir(), 'rare-mine-run-options-'));
  const input = join(work, 'in.jsonl');
  // Renamed keys: the query under "q", the positive under "pos_text"; negatives written under "negs".
  writeFileSync(input, records.map((r) => JSON.stringify({ q: r.question, pos_text: r.text })).join('\n') + '\n');
  const out = join(work, 'out.jsonl');
  const statsJson = join(work, 'run.json');
  const mined = runCli(['bm25', input, '-o', out, '--question-key', 'q', '--text-key', 'pos_text', '--output-key', 'negs', '--num-neg', '5', '--max-rank', '6', '--fill', 'none', '--with-scores', '--stats-json', statsJson]);
  assert.equal(mined.status, 0, mined.stderr);
  const run = JSON.parse(readFileSync(statsJson, 'utf8'));
  assert.ok(run.short_records.count > 0, 'some records are short of the 5 negatives asked (a window of ranks 0..5 less the positive)');

  const stats = runCli(['stats', out, '--run-stats', statsJson, '--json']);
  assert.equal(stats.status, 0, stats.stderr);
  const report = JSON.parse(stats.stdout);
  assert.equal(report.records, 40);
  assert.equal(report.negatives, run.negatives, 'the negatives under the run\'s --output-key "negs"');
  assert.equal(report.short_records.asked, 5, "short records counted against the run's --num-neg 5");
  assert.equal(report.short_records.asked_inferred, false);
  assert.equal(report.short_records.count, run.short_records.count);
  assert.equal(report.records_without_positives, 0, 'positives found under the run\'s --text-key "pos_text"');
  assert.deepEqual(report.scores, run.scores);

  const without = runCli(['stats', out]);
  assert.equal(without.status, 1, 'without the run, the default --output-key is not in the output');
  assert.match(without.messages(), /missing field "hard_negatives"/);

  const explicit = runCli(['stats', out, '--run-stats', statsJson, '--num-neg', '4', '--json']);
  assert.equal(explicit.status, 0, explicit.stderr);
  assert.equal(JSON.parse(explicit.stdout).short_records.asked, 4, 'the explicit --num-neg wins');
  const warning = explicit.logs().find((line) => line.level === 40 && line.option === '--num-neg');
  assert.ok(warning, `a warning that --num-neg 4 differs from the run's 5: ${explicit.stderr}`);
  assert.equal(warning.given, 4);
  assert.equal(warning.recorded, 5);
  assert.ok(!runCli(['stats', out, '--run-stats', statsJson, '--num-neg', '5']).logs().some((line) => line.level === 40 && line.option !== undefined), 'no warning when they agree');

  const html = join(work, 'report.html');
  const reported = runCli(['report', out, '--stats-json', statsJson, '-o', html]);
  assert.equal(reported.status, 0, reported.stderr);
  const page = readFileSync(html, 'utf8');
  assert.match(page, /Read with the run&#39;s --format &quot;record&quot;, --output-key &quot;negs&quot;, --question-key &quot;q&quot;, --text-key &quot;pos_text&quot;|Read with the run's --format "record", --output-key "negs", --question-key "q", --text-key "pos_text"/);
  assert.match(page, /Short records are counted against --num-neg 5/);
  assert.ok(!reported.logs().some((line) => line.level === 40), `no warning: the output is the run's: ${reported.stderr}`);

  const flagOut = join(work, 'flag.jsonl');
  const flagStats = join(work, 'flag-run.json');
  assert.equal(runCli(['bm25', input, '-o', flagOut, '--question-key', 'q', '--text-key', 'pos_text', '--format', 'flag', '--stats-json', flagStats]).status, 0);
  const flag = runCli(['stats', flagOut, '--run-stats', flagStats, '--json']);
  assert.equal(flag.status, 0, flag.stderr);
  assert.equal(JSON.parse(flag.stdout).records, 40);
  const forced = runCli(['stats', flagOut, '--run-stats', flagStats, '--format', 'record']);
  assert.equal(forced.status, 1, 'an explicit --format wins, here wrongly');
  assert.ok(forced.logs().some((line) => line.level === 40 && line.option === '--format' && line.recorded === 'flag'), forced.stderr);

  const tripletOut = join(work, 'triplet.jsonl');
  const tripletStats = join(work, 'triplet-run.json');
  assert.equal(runCli(['bm25', input, '-o', tripletOut, '--question-key', 'q', '--text-key', 'pos_text', '--format', 'triplet', '--stats-json', tripletStats]).status, 0);
  const triplet = runCli(['stats', tripletOut, '--run-stats', tripletStats]);
  assert.equal(triplet.status, 2, triplet.stderr);
  assert.match(triplet.messages(), /records --format triplet, which rare-mine stats reads record and flag outputs/);

  const ownStats = join(work, 'own-stats.json');
  assert.equal(runCli(['stats', out, '--output-key', 'negs', '--stats-json', ownStats]).status, 0);
  const noRun = runCli(['stats', out, '--run-stats', ownStats]);
  assert.equal(noRun.status, 1, noRun.stderr);
  assert.match(noRun.messages(), /has no "run" section/);
  const sameFile = runCli(['stats', out, '--run-stats', statsJson, '--stats-json', statsJson]);
  assert.notEqual(sameFile.status, 0, 'stats never overwrites the run file it reads');
  assert.equal(JSON.parse(readFileSync(statsJson, 'utf8')).run.options.outputKey, 'negs');
});
