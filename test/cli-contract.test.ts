/**
 * The CLI contract (issue 13), end to end through the built binary: an accepted option does what its help says,
 * a value outside its documented range or a contradictory combination is a usage error (exit 2) naming the
 * option, the value and the range; help is grouped with every default stated and generated from one declaration
 * per option; errors name what to fix; stderr is one line per log entry; a resumed run reports its whole output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { repoRoot } from './helpers/shared-data.js';
import { HEADINGS } from '../src/cli/options.js';
import { Journal, journalPath, startCheckpoint } from '../src/io/journal.js';
import type { RunFingerprint } from '../src/io/run-fingerprint.js';

const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');
const tmp = () => mkdtempSync(join(tmpdir(), 'rare-mine-contract-'));

test('--rejects with --on-error skip and --with-ids with other formats still work', () => {
  const dir = tmp();
  const rejects = join(dir, 'bad.jsonl');
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, readFileSync(fixture, 'utf8') + '{"text": "no question"}\n');
  const run = runCli(['bm25', '--on-error', 'skip', '--rejects', rejects, '--format', 'flag', '--with-ids', input]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(readFileSync(rejects, 'utf8').trim().split('\n').length, 1);
  assert.ok(run.json().every((r) => Array.isArray(r.neg_ids)));
});

test('a typo prints the error and the suggestion last, and where the help is, not the whole help', () => {
  const run = runCli(['bm25', '--num-negs', '3', fixture]);
  assert.equal(run.status, 2);
  const lines = run.stderr.trimEnd().split('\n');
  assert.ok(lines.length <= 4, run.stderr);
  assert.match(run.stderr, /unknown option '--num-negs'/);
  assert.match(run.stderr, /Did you mean --num-neg\?/);
  assert.match(lines[lines.length - 1], /see `rare-mine bm25 --help`/);
  assert.doesNotMatch(run.stderr, /Usage:/);
  const nested = runCli(['index', 'bm25', '--corpuss', 'x']);
  assert.match(nested.messages(), /see `rare-mine index bm25 --help`/);
});

/** `--help` text → the option blocks under each heading. */
function helpSections(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  let flag: string | undefined;
  for (const line of text.split('\n')) {
    if (/^\S.*:$/.test(line)) {
      current = new Map();
      sections.set(line, current);
      flag = undefined;
      continue;
    }
    const start = line.match(/^ {2}(-\w, )?(--[\w-]+)/);
    if (start && current) {
      flag = start[2];
      current.set(flag, line.trim().replace(/\s+/g, ' '));
    } else if (flag && current && line.startsWith('   ')) {
      current.set(flag, `${current.get(flag)} ${line.trim()}`);
    }
  }
  return sections;
}

test('help: options grouped by topic, every default stated, texts true', () => {
  const expected: Record<string, string[]> = {
    bm25: [HEADINGS.io, HEADINGS.corpus, HEADINGS.bm25, HEADINGS.window, HEADINGS.format, HEADINGS.run],
    dense: [HEADINGS.io, HEADINGS.corpus, HEADINGS.dense, HEADINGS.window, HEADINGS.format, HEADINGS.run],
    hybrid: [HEADINGS.io, HEADINGS.corpus, HEADINGS.dense, HEADINGS.bm25, HEADINGS.fusion, HEADINGS.window, HEADINGS.format, HEADINGS.run],
  };
  const helps: Record<string, string> = {};
  for (const [command, headings] of Object.entries(expected)) {
    const help = runCli([command, '--help']);
    assert.equal(help.status, 0);
    helps[command] = help.stdout;
    const sections = helpSections(help.stdout);
    assert.deepEqual([...sections.keys()].filter((h) => h !== 'Arguments:' && h !== 'Options:'), headings, command);
    for (const [heading, options] of sections) {
      if (heading === 'Arguments:' || heading === 'Options:') continue;
      for (const [flag, text] of options) assert.match(text, /\(default: |default: /, `${command} ${flag} states its default: ${text}`);
    }
  }
  assert.match(helps.bm25, /--threads <n>[\s\S]*default: every core/);
  // dense's --fill does not talk about BM25; index dense does not promise an index it does not write.
  const denseFill = helpSections(helps.dense).get(HEADINGS.window)!.get('--fill')!;
  assert.doesNotMatch(denseFill, /BM25/);
  const indexDense = runCli(['index', 'dense', '--help']).stdout;
  assert.match(indexDense, /From 50,000[\s\S]*IVF\s+index\s+is\s+built[\s\S]*only\s+the\s+vectors\s+are\s+written/);
});

test('each shared option is declared once: the same text and default in every command that has it', () => {
  const commands = [['bm25'], ['dense'], ['hybrid'], ['eval'], ['index', 'bm25'], ['index', 'dense'], ['stats']];
  const seen = new Map<string, { text: string; command: string }>();
  const shared = ['--k1', '--b', '--bm25-variant', '--stemmer', '--stopwords', '--rrf-k', '--rrf-weights', '--fusion-depth', '--corpus-id-key', '--corpus-text-key', '--corpus-title-key', '--max-line-bytes', '--threads', '--model', '--revision', '--onnx-file', '--rejects'];
  let compared = 0;
  for (const command of commands) {
    const sections = helpSections(runCli([...command, '--help']).stdout);
    for (const options of sections.values()) {
      for (const [flag, text] of options) {
        if (!shared.includes(flag)) continue;
        const first = seen.get(flag);
        if (first) {
          assert.equal(text, first.text, `${flag}: ${command.join(' ')} differs from ${first.command}`);
          compared++;
        } else seen.set(flag, { text, command: command.join(' ') });
      }
    }
  }
  assert.ok(compared >= 20, `compared ${compared}`);
  assert.match(seen.get('--max-line-bytes')!.text, /default: 16777216/);
});

test('a wrong --question-key names the option and the keys the record has', () => {
  // No record has it: a usage error before any work (issue 23; test/keys-check.test.ts). One record lacking it is
  // that record's error (the DataFlow test below: file:line, exit 1).
  const run = runCli(['bm25', '--question-key', 'query', fixture]);
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.messages(), /--question-key "query": no record of .*dataflow-scifact-40\.jsonl has a field "query" \(the query text\); its 40 records have "question", "text"/);
});

test('DataFlow mode (no --corpus): the first bad line is reported first', () => {
  const dir = tmp();
  const input = join(dir, 'in.jsonl');
  const lines = readFileSync(fixture, 'utf8').trimEnd().split('\n').slice(0, 6);
  lines[3] = JSON.stringify({ text: 'a record without its question' });
  lines[4] = '{"question": "malformed';
  writeFileSync(input, lines.join('\n') + '\n');
  const run = runCli(['bm25', input]);
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.messages(), /in\.jsonl:4: missing field "question"/);
  assert.doesNotMatch(run.stderr, /in\.jsonl:5/);
});

test('default stderr: one line per log entry and the statistics table; details at debug; json unchanged', () => {
  const pretty = runCli(['bm25', fixture], { env: { RARE_MINE_LOG_FORMAT: 'pretty' } });
  assert.equal(pretty.status, 0, pretty.stderr);
  const logLines = pretty.stderr.split('\n').filter((l) => /^\[\d\d:\d\d:\d\d\]/.test(l));
  assert.ok(logLines.length >= 3 && logLines.length <= 6, pretty.stderr);
  assert.doesNotMatch(pretty.stderr, /^ {4}\w+: /m, 'no multi-line log objects');
  assert.doesNotMatch(pretty.stderr, /^\s*[{}]\s*$/m, 'no JSON block');
  assert.match(pretty.stderr, /INFO: summary: 40 records in, 40 out; [\d.]+ s \(index/);
  assert.match(pretty.stderr, /^Metric +Positive +Negative +Difference$/m);
  const debug = runCli(['--log-level', 'debug', 'bm25', fixture], { env: { RARE_MINE_LOG_FORMAT: 'pretty' } });
  assert.ok(debug.stderr.length > pretty.stderr.length, 'more detail at debug');
  assert.match(debug.stderr, /excluded=\{"positive":/, 'nested details at debug');
  const json = runCli(['bm25', fixture]);
  const summary = json.logs().find((l) => l.msg === 'summary');
  assert.equal(summary.records_out, 40);
  assert.equal(typeof summary.excluded, 'object');
});

test('after --resume the summary reports the whole output and how much was resumed', () => {
  const dir = tmp();
  const out = join(dir, 'out.jsonl');
  // --shard 0/1 (the whole file) so that the complete run's sidecar gives the run fingerprint a journal must carry.
  const args = ['bm25', '--batch-size', '10', '--shard', '0/1', fixture];
  const whole = runCli([...args, '-o', join(dir, 'whole.jsonl')]);
  assert.equal(whole.status, 0, whole.stderr);
  const { fingerprint } = JSON.parse(readFileSync(join(dir, 'whole.jsonl.shard.json'), 'utf8')) as { fingerprint: RunFingerprint };
  // A partial output of the first 10 records, and the journal a run writes after its first batch.
  const inputLines = readFileSync(fixture, 'utf8').split('\n');
  const outputLines = readFileSync(join(dir, 'whole.jsonl'), 'utf8').split('\n');
  const partialText = outputLines.slice(0, 10).join('\n') + '\n';
  const interrupted = () => {
    writeFileSync(`${out}.partial`, partialText);
    new Journal(journalPath(`${out}.partial`)).begin(fingerprint, [
      startCheckpoint(0, 1),
      {
        inputByte: Buffer.byteLength(inputLines.slice(0, 10).join('\n') + '\n'),
        inputLine: 11,
        outputBytes: Buffer.byteLength(partialText),
        outputLines: 10,
        outputSha256: createHash('sha256').update(partialText).digest('hex'),
        rejectsBytes: 0,
        recordsOut: 10,
        rejected: 0,
      },
    ]);
  };
  interrupted();
  const resumed = runCli([...args, '--resume', '-o', out]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(readFileSync(out, 'utf8'), readFileSync(join(dir, 'whole.jsonl'), 'utf8'));
  const summary = resumed.logs().find((l) => l.msg === 'summary');
  assert.equal(summary.records_out, 40);
  assert.equal(summary.records_in, 40);
  assert.equal(summary.records_resumed, 10);
  assert.equal(summary.records_mined_now, 30);
  const statistics = resumed.logs().find((l) => l.msg === 'statistics');
  assert.equal(statistics.records, 30, 'under --log-format json the table is an event, covering the records mined now');
  assert.equal(statistics.records_resumed, 10);
  assert.equal(statistics.records_mined_now, 30);
  interrupted();
  const words = runCli([...args, '--resume', '-o', out], { env: { RARE_MINE_LOG_FORMAT: 'pretty' } });
  assert.match(words.stderr, /the output holds 40: 10 resumed from the partial output \+ 30 mined now/);
  assert.match(words.stderr, /this table covers the 30 records mined in this run, not the 10 resumed/);
});

test('stats on an output mined without --with-scores says scores are missing and which flag writes them', () => {
  const dir = tmp();
  const out = join(dir, 'out.jsonl');
  assert.equal(runCli(['bm25', fixture, '-o', out]).status, 0);
  const stats = runCli(['stats', out]);
  assert.equal(stats.status, 0, stats.stderr);
  assert.match(stats.stderr, /no scores: .*mine with --with-scores/);
  const scored = join(dir, 'scored.jsonl');
  assert.equal(runCli(['bm25', '--with-scores', fixture, '-o', scored]).status, 0);
  assert.doesNotMatch(runCli(['stats', scored]).stderr, /no scores/);
});

test('fail fast: a missing input or model is reported before any index is built', () => {
  const dir = tmp();
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(corpus, readFileSync(fixture, 'utf8').trimEnd().split('\n').map((l, i) => JSON.stringify({ _id: `d${i}`, text: JSON.parse(l).text })).join('\n') + '\n');
  const missingInput = runCli(['bm25', '--corpus', corpus, '--index-dir', join(dir, 'idx1'), join(dir, 'nope.jsonl')]);
  assert.equal(missingInput.status, 1, missingInput.stderr);
  assert.match(missingInput.stderr, /nope\.jsonl: cannot open: no such file/);
  assert.ok(!existsSync(join(dir, 'idx1', 'docs')), 'no doc store built for a run that cannot start');
  const missingModel = runCli(['dense', '--model', join(dir, 'no-model'), '--corpus', corpus, '--index-dir', join(dir, 'idx2'), fixture], { env: { RARE_MINE_MODELS: join(dir, 'models') } });
  assert.equal(missingModel.status, 4, missingModel.stderr);
  assert.ok(!existsSync(join(dir, 'idx2', 'docs')), 'the model is resolved before the doc store is built');
  const noFolder = runCli(['bm25', fixture, '-o', join(dir, 'no', 'such', 'out.jsonl')]);
  assert.equal(noFolder.status, 1, 'a missing directory is the user\'s condition, a file problem: exit 1 (issue 9, item 15)');
  assert.match(noFolder.stderr, /-o: directory .*does not exist \(ENOENT\)/);
});
