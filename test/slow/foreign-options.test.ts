/**
 * Coming from another tool (issue 23, item 2), through the built CLI: an unknown option that is a
 * sentence-transformers, FlagEmbedding or RAGatouille name gets rare-mine's option with the value mapped (exit 2,
 * nothing mined), in both spellings (`--range_min`, `--range-min`); a slip of rare-mine's own options keeps
 * commander's suggestion. Also pins the hook: commander 14 reports unknown options through `unknownOption`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Command } from 'commander';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared-data.js';
import { FOREIGN_OPTIONS, foreignKey, foreignSuggestion } from '../../src/cli/foreign-options.js';

const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');

/** Each foreign call and what the message must say. */
const FOREIGN: Array<{ args: string[]; says: RegExp[] }> = [
  // sentence-transformers mine_hard_negatives
  { args: ['--range_min', '10'], says: [/range_min of sentence-transformers/, /in rare-mine: --min-rank 10\n/, /--min-rank N\+1/] },
  { args: ['--range-min', '10'], says: [/range_min of sentence-transformers/, /--min-rank 10/] },
  { args: ['--range_max', '50'], says: [/--max-rank 50/] },
  { args: ['--range_max=50'], says: [/--max-rank 50/] },
  { args: ['--num_negatives', '5'], says: [/--num-neg 5/] },
  { args: ['--relative_margin', '0.05'], says: [/--max-score-ratio 0\.95\n/] },
  { args: ['--relative-margin', '0.1'], says: [/--max-score-ratio 0\.9\n/] },
  { args: ['--absolute_margin', '0.2'], says: [/--margin 0\.2\n/] },
  { args: ['--sampling_strategy', 'random'], says: [/--sample random\n/] },
  { args: ['--output_format', 'n-tuple'], says: [/--format ntuple\n/] },
  { args: ['--output_format', 'n-tuple-scores'], says: [/--format ntuple --with-scores/] },
  // FlagEmbedding hn_mine
  { args: ['--negative_number', '15'], says: [/negative_number of FlagEmbedding hn_mine/, /--num-neg 15\n/] },
  { args: ['--range_for_sampling', '10-210'], says: [/--min-rank 10 --max-rank 210 --sample random/] },
  { args: ['--use_gpu_for_searching'], says: [/searches on the CPU/, /--threads/] },
  { args: ['--candidate_pool', 'pool.jsonl'], says: [/--corpus pool\.jsonl/] },
  { args: ['--batch_size', '64'], says: [/--embed-batch-size 64/, /records searched per batch/] },
  // RAGatouille
  { args: ['--min_rank', '10'], says: [/min_rank of RAGatouille/, /--min-rank 10/] },
  { args: ['--max_rank', '110'], says: [/--max-rank 110/] },
  { args: ['--num_new_negatives', '10'], says: [/--num-neg 10/] },
];

test('other tools\' option names get rare-mine\'s option and how the value maps (exit 2, nothing mined)', () => {
  for (const { args, says } of FOREIGN) {
    const run = runCli(['bm25', ...args, fixture]);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.messages(), new RegExp(`unknown option '${args[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));
    for (const pattern of says) assert.match(run.messages(), pattern, args.join(' '));
    assert.match(run.messages(), /docs\/COMING-FROM\.md/);
    assert.equal(run.stdout, '', 'nothing mined');
  }
});

test('a slip of rare-mine\'s own option keeps commander\'s suggestion; another command\'s own option is not taken for a foreign one', () => {
  const typo = runCli(['bm25', '--num-negs', '3', fixture]);
  assert.equal(typo.status, 2);
  assert.match(typo.messages(), /unknown option '--num-negs'\n\(Did you mean --num-neg\?\)/);
  const dashed = runCli(['stats', '--batch-size', '3', fixture]);
  assert.equal(dashed.status, 2);
  assert.doesNotMatch(dashed.stderr, /sentence-transformers|FlagEmbedding/, '--batch-size is rare-mine\'s own (mining), not batch_size');
});

test('the table: both spellings map to one key; a dashed spelling that is rare-mine\'s own option stays ours', async () => {
  assert.equal(foreignKey('--range-min'), 'range_min');
  assert.equal(foreignKey('--Range_Min=3'), 'range_min');
  assert.match(foreignSuggestion('--relative_margin=0.2', undefined)!, /--max-score-ratio 0\.8\n/);
  assert.equal(foreignSuggestion('--no-such-thing', '1'), undefined);
  const help = runCli(['bm25', '--help']).stdout + runCli(['dense', '--help']).stdout + runCli(['hybrid', '--help']).stdout + runCli(['eval', '--help']).stdout;
  // Where the dashed spelling is rare-mine's own option (the same or another meaning), only the underscore one maps.
  const ours = Object.keys(FOREIGN_OPTIONS).filter((key) => new RegExp(`--${key.replace(/_/g, '-')}(?![\\w-])`).test(help));
  assert.deepEqual(ours.sort(), ['batch_size', 'max_rank', 'min_rank', 'model_size']);
  const own = runCli(['dense', '--model-size', 'huge', fixture]);
  assert.doesNotMatch(own.stderr, /RAGatouille/, 'rare-mine\'s own --model-size is checked as ours');
  // The hook main.ts overrides: commander still routes unknown options through Command.unknownOption.
  const command = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  let seen: string | undefined;
  (command as unknown as { unknownOption(flag: string): void }).unknownOption = (flag: string) => {
    seen = flag;
    throw new Error('unknown');
  };
  command.action(() => {});
  assert.throws(() => command.parse(['--range_min', '3'], { from: 'user' }));
  assert.equal(seen, '--range_min');
});
