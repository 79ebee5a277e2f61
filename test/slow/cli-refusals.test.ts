/**
 * Out-of-range and contradictory options, through the built binary: exit 2 naming option, value and range, before
 * any work (moved from test/cli-contract.test.ts: 23 runs of the binary, kept out of npm test's three minutes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared-data.js';

const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');

/** Each refused example: the arguments and what the message must name (option, value, range). */
const REFUSED: Array<{ args: string[]; names: RegExp[] }> = [
  { args: ['bm25', '--b', '5'], names: [/--b/, /"5"/, /0\.\.1/] },
  { args: ['bm25', '--dedup-threshold', '2'], names: [/--dedup-threshold/, /"2"/, /0\.\.1/] },
  { args: ['bm25', '--min-rank', '20', '--max-rank', '5'], names: [/--max-rank 5/, /--min-rank 20/] },
  { args: ['bm25', '--min-score', '5', '--max-score', '1'], names: [/--min-score 5/, /--max-score 1/] },
  { args: ['hybrid', '--model', 'use-lite', '--rrf-weights', '0,0'], names: [/--rrf-weights/, /"0,0"/, /not both 0/] },
  { args: ['bm25', '--num-neg', ''], names: [/--num-neg/, /""/, /integer ≥ 1/] },
  { args: ['bm25', '--num-neg', '0'], names: [/--num-neg/, /"0"/, /integer ≥ 1/] },
  { args: ['bm25', '--seed', '9007199254740993'], names: [/--seed/, /"9007199254740993"/, /2\^53/] },
  { args: ['bm25', '--k1', '-1'], names: [/--k1/, /"-1"/, /≥ 0/] },
  { args: ['--log-format', 'xml', 'bm25'], names: [/--log-format/, /xml/, /pretty, json/] },
  { args: ['--log-level', 'verbose', 'bm25'], names: [/--log-level/, /verbose/, /trace, debug, info/] },
  { args: ['bm25', '--rejects', 'bad.jsonl'], names: [/--rejects/, /--on-error skip/] },
  { args: ['bm25', '--format', 'colbert', '--with-ids'], names: [/--with-ids/, /colbert/] },
  { args: ['bm25', '--format', 'colbert', '--with-ranks'], names: [/--with-ranks/, /colbert/] },
  { args: ['bm25', '--format', 'colbert'], names: [/--format colbert to stdout/, /--colbert-dir/] },
  { args: ['bm25', '--format', 'triplet', '--colbert-dir', '.'], names: [/--colbert-dir/, /--format triplet/] },
  { args: ['bm25', '--format', 'labeled-pair', '--with-ids'], names: [/--with-ids/, /labeled-pair/] },
  { args: ['bm25', '--format', 'labeled-list', '--with-ranks'], names: [/--with-ranks/, /labeled-list/] },
  { args: ['bm25', '--format', 'labeled-pair', '--question-key', 'score'], names: [/"score"/, /label column/] },
  { args: ['eval', '--corpus', 'c', '--queries', 'q', '--qrels', 'r', '--depth', '0'], names: [/--depth/, /"0"/, /≥ 1/] },
  { args: ['stats', '--max-line-bytes', '0'], names: [/--max-line-bytes/, /"0"/, /≥ 1/] },
];

test('out-of-range and contradictory options: exit 2, naming option, value and range, before any work', () => {
  for (const { args, names } of REFUSED) {
    const run = runCli([...args, fixture]);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    for (const name of names) assert.match(run.messages(), name, args.join(' '));
    assert.doesNotMatch(run.stderr, /internal error/, args.join(' '));
    assert.equal(run.stdout, '', 'nothing mined');
  }
  // The environment's log settings are checked the same way.
  const env = runCli(['bm25', fixture], { env: { RARE_MINE_LOG_FORMAT: 'xml' } });
  assert.equal(env.status, 2, env.stderr);
  assert.match(env.messages(), /--log-format must be one of pretty, json, got "xml"/);
});
