/**
 * `rare-mine stats`: flag and record outputs written by the formats round-trip through the reader to the same
 * statistics the mining run computed; inconsistent lines are InputErrors naming file:line; the registered command
 * prints the table (or JSON) on stdout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../src/errors.js';
import { noExclusions, type ExclusionReason, type MinedRecord } from '../src/mine/miner.js';
import type { CorpusView } from '../src/retriever.js';
import { MiningStatistics, type StatisticsReport } from '../src/mine/statistics.js';
import { normalizedTextHash } from '../src/text/normalize.js';
import { RecordFormatter, type FormatContext, type FormatName } from '../src/formats/formats.js';
import { summarizeOutput } from '../src/commands/stats.js';
import { repoRoot } from './helpers/shared-data.js';

const TEXTS = ['alpha passage', 'beta passage', 'gamma passage', 'delta passage', 'epsilon passage', 'zeta passage'];
const corpus: CorpusView = {
  docCount: TEXTS.length,
  text: (o) => TEXTS[o],
  id: (o) => `doc${o}`,
  ordinalOfId: (id) => (id.startsWith('doc') ? Number(id.slice(3)) : undefined),
  normalizedTextHash: (o) => normalizedTextHash(TEXTS[o]),
  ordinalOfText: (text) => {
    const i = TEXTS.findIndex((t) => normalizedTextHash(t) === normalizedTextHash(text));
    return i < 0 ? undefined : i;
  },
};

const NONE: Record<ExclusionReason, number> = noExclusions();

/** Records with several positives (text and id), scores below zero, a filled negative and a short record. */
function minedRecords(): MinedRecord[] {
  const make = (line: number, positives: string[], positiveOrdinals: number[], positiveScores: number[], negatives: [number, number, number][]): MinedRecord => {
    const value = { question: `query ${line}`, text: positives };
    return {
      record: { lineNumber: line, byteOffset: 0, endOffset: 0, raw: JSON.stringify(value), value },
      query: `query ${line}`,
      positives,
      positiveOrdinals,
      positiveScores,
      negatives: negatives.map(([docOrdinal, score, rank]) => ({ docOrdinal, score, rank })),
      excluded: { ...NONE },
    };
  };
  return [
    make(1, ['a positive text'], [0], [3.5, -0.25], [[1, 2.5, 0], [2, -1.75, 4]]),
    make(2, ['another positive'], [], [-2], [[3, -2.5, 1], [4, -3, 17]]),
    make(3, ['third positive'], [5], [7, 6.5], [[1, 0, -1]]),
    make(4, ['fourth positive'], [], [1.125], [[0, 0.5, 120], [2, 0.25, 121]]),
  ];
}

function context(overrides: Partial<FormatContext> = {}): FormatContext {
  return {
    corpus,
    inputName: 'in.jsonl',
    outputKey: 'hard_negatives',
    ifKeyExists: 'fail',
    withScores: true,
    withIds: false,
    withRanks: true,
    numNeg: 2,
    queryIdKey: '_id',
    questionKey: 'question',
    textKey: 'text',
    positiveTextOrdinals: (m) => m.positives.map(() => undefined),
    ...overrides,
  };
}

function writeOutput(name: FormatName, records: MinedRecord[], ctx = context()): string {
  const formatter = new RecordFormatter(name, ctx);
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-stats-'));
  const path = join(dir, `out.${name}.jsonl`);
  writeFileSync(path, records.flatMap((m) => formatter.lines(m)).map((l) => l + '\n').join(''));
  return path;
}

/** What a file can carry: everything but the exclusion counts (and so the advice derived from them). */
function comparable(report: StatisticsReport) {
  const { removed: _removed, short_records, ...rest } = report;
  return { ...rest, short: { count: short_records.count, asked: short_records.asked, fraction: short_records.fraction } };
}

test('flag output round-trips through the stats reader: the same statistics as the mining run', async () => {
  const records = minedRecords();
  const direct = new MiningStatistics({ numNeg: 2 });
  for (const m of records) direct.add(m);
  const path = writeOutput('flag', records);
  const read = await summarizeOutput(path, { format: 'auto', outputKey: 'hard_negatives', numNeg: 2, maxLineBytes: 1 << 20 });
  assert.deepEqual(comparable(read.toJSON()), comparable(direct.toJSON()));
  const report = read.toJSON();
  assert.equal(report.records, 4);
  assert.equal(report.scores.positive.count, 6, 'every positive score, text and id positives alike');
  assert.equal(report.scores.difference.min, -2.75, 'lowest positive of line 1 (−0.25) − its best negative (2.5)');
  assert.equal(report.short_records.count, 1);
  assert.equal(report.filled_negatives, 1);
  assert.deepEqual(report.rank_histogram?.map((b) => b.count), [1, 1, 0, 1, 0, 1, 0, 0, 2]);
});

test('record output (with _scores, _ranks, _positive_scores) round-trips too, records without negatives included', async () => {
  const records = minedRecords();
  records.push({ ...records[1], negatives: [], record: { ...records[1].record, lineNumber: 5 } });
  const direct = new MiningStatistics({ numNeg: 2 });
  for (const m of records) direct.add(m);
  const path = writeOutput('record', records, context({ outputKey: 'negs' }));
  const read = await summarizeOutput(path, { format: 'auto', outputKey: 'negs', textKey: 'text', numNeg: 2, maxLineBytes: 1 << 20 });
  assert.deepEqual(comparable(read.toJSON()), comparable(direct.toJSON()));
  assert.equal(read.toJSON().records, 5);
  assert.equal(read.toJSON().short_records.count, 2);
});

test('without scores or ranks: counts only, and no histogram', async () => {
  const path = writeOutput('flag', minedRecords(), context({ withScores: false, withRanks: false }));
  const report = (await summarizeOutput(path, { format: 'flag', outputKey: 'x', maxLineBytes: 1 << 20 })).toJSON();
  assert.equal(report.negatives, 7);
  assert.equal(report.scores.negative.count, 0);
  assert.equal(report.scores.negative.mean, null);
  assert.equal(report.rank_histogram, null);
  assert.equal(report.short_records.asked, 2, 'inferred: the most negatives any record has');
  assert.equal(report.short_records.asked_inferred, true);
});

async function readError(lines: string[], options: { format?: 'auto' | 'record' | 'flag'; outputKey?: string } = {}): Promise<InputError> {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-stats-'));
  const path = join(dir, 'bad.jsonl');
  writeFileSync(path, lines.join('\n') + '\n');
  try {
    await summarizeOutput(path, { format: options.format ?? 'auto', outputKey: options.outputKey ?? 'hard_negatives', maxLineBytes: 1 << 20 });
  } catch (error) {
    assert.ok(error instanceof InputError, `an InputError, got ${error}`);
    assert.equal(error.file, path);
    return error;
  }
  assert.fail('expected an InputError');
}

test('inconsistent lines are InputErrors naming file:line', async () => {
  const flag = (extra: Record<string, unknown>) => JSON.stringify({ query: 'q', pos: ['p'], neg: ['a', 'b'], ...extra });
  let error = await readError([flag({}), flag({ neg_scores: [1] })]);
  assert.equal(error.line, 2);
  assert.equal(error.reason, 'field "neg_scores" has 1 values for 2 negatives');
  error = await readError([flag({ neg_ranks: [0, 'x'] })]);
  assert.match(error.reason, /field "neg_ranks" must be a list of ranks/);
  error = await readError([flag({ pos_scores: [1, 2] })]);
  assert.equal(error.reason, 'field "pos_scores" has 2 values for 1 positives');
  error = await readError([flag({}), JSON.stringify({ query: 'q', pos: ['p'] })]);
  assert.equal(error.line, 2);
  assert.equal(error.reason, 'missing field "neg"');
});

test('a triplet file or the wrong --output-key is refused with a hint saying what stats reads', async () => {
  const triplet = await readError([JSON.stringify({ anchor: 'q', positive: 'p', negative: 'n' })]);
  assert.equal(triplet.reason, 'missing field "hard_negatives"');
  assert.match(triplet.hint ?? '', /--output-key/);
  const wrongKey = await readError([JSON.stringify({ question: 'q', negs: ['n'] })], { outputKey: 'hard_negatives' });
  assert.match(wrongKey.hint ?? '', /pass the key it was mined with/);
  const asFlag = await readError([JSON.stringify({ anchor: 'q', positive: 'p', negative: 'n' })], { format: 'flag' });
  assert.match(asFlag.hint ?? '', /triplet, ntuple, labeled-pair, labeled-list, colbert lines hold one example each/);
});

test('the registered `stats` command prints the table on stdout, or the JSON report', () => {
  const path = writeOutput('flag', minedRecords());
  const statsModule = pathToFileURL(join(repoRoot, 'dist', 'src', 'commands', 'stats.js')).href;
  const script = `
    import { Command } from 'commander';
    import { register } from ${JSON.stringify(statsModule)};
    const program = new Command('rare-mine');
    register(program);
    await program.parseAsync(process.argv.slice(1), { from: 'user' });
  `;
  const run = (...args: string[]) => spawnSync(process.execPath, ['--input-type=module', '-e', script, ...args], { cwd: repoRoot, encoding: 'utf8' });
  const table = run('stats', path, '--num-neg', '2');
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^Metric\s+Positive\s+Negative\s+Difference\n/);
  assert.match(table.stdout, /\nShort: 1 records \(25\.00%\) got fewer than 2 negatives/);
  assert.match(table.stdout, /\nRaw rank of the negatives \(0-based\):\n {2}0 /);
  assert.match(table.stdout, /\n {2}filled +1 /);

  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-stats-'));
  const jsonFile = join(dir, 'stats.json');
  const json = run('stats', path, '--json', '--stats-json', jsonFile);
  assert.equal(json.status, 0, json.stderr);
  const report = JSON.parse(json.stdout) as StatisticsReport;
  assert.equal(report.records, 4);
  assert.equal(report.negatives, 7);
  assert.deepEqual(JSON.parse(readFileSync(jsonFile, 'utf8')), report, '--stats-json writes the same report');

  const bare = run('stats', writeOutput('flag', minedRecords(), context({ withRanks: false })));
  assert.equal(bare.status, 0, bare.stderr);
  assert.match(bare.stderr, /no rank histogram: .*--with-ranks/);
  assert.ok(!bare.stdout.includes('Raw rank'));
});
