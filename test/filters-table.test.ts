/**
 * The score-filter table (src/mine/filters.ts SCORE_FILTERS) is the one place a filter is declared: its option,
 * help and range on every mining command, its test and order, its exclusion counter, its report label and its
 * loosen hint are all derived from its row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { FILTERS_IN_TEST_ORDER, optionKey, rejectingFilter, SCORE_FILTERS } from '../src/mine/filters.js';
import { MINER_EXCLUSIONS, noExclusions } from '../src/mine/miner.js';
import { EXCLUSIONS, funnelStages } from '../src/mine/statistics.js';
import { addMiningOptions, FILL_HELP } from '../src/cli/options.js';
import { UsageError } from '../src/errors.js';

const kebab = (name: string) => name.replace(/_/g, '-');

test('every filter row is a mining option: flag from its name, help and range from its row', () => {
  const command = addMiningOptions(new Command(), { minRank: 0, sample: 'top', fillHelp: FILL_HELP.bm25 });
  for (const filter of SCORE_FILTERS) {
    assert.equal(filter.flag.split(' ')[0], `--${kebab(filter.name)}`, `${filter.name}: its flag is its name in kebab-case`);
    const option = command.options.find((o) => o.long === `--${kebab(filter.name)}`);
    assert.ok(option, `${filter.flag} is declared`);
    assert.equal(option.attributeName(), optionKey(filter.name), 'commander stores it under the key the miner reads');
    assert.ok(option.description.startsWith(filter.help), `${filter.flag}: help from the row`);
    const parse = option.parseArg as (value: string, previous: unknown) => unknown;
    if (Number.isFinite(filter.min)) {
      assert.throws(() => parse(String(filter.min - 1), undefined), UsageError, `${filter.flag} below ${filter.min} is a usage error`);
      assert.equal(parse(String(filter.min), undefined), filter.min);
    } else assert.equal(parse('-1e9', undefined), -1e9, `${filter.flag} takes any number`);
    assert.throws(() => parse('x', undefined), UsageError);
  }
});

test('exclusion counters, report labels and loosen hints come from the rows, in table order after the miner\'s own', () => {
  const names = SCORE_FILTERS.map((f) => f.name);
  assert.deepEqual(Object.keys(noExclusions()), [...Object.keys(MINER_EXCLUSIONS), ...names]);
  assert.deepEqual(Object.keys(EXCLUSIONS), Object.keys(noExclusions()), 'the report lists reasons in counter order');
  for (const filter of SCORE_FILTERS) {
    assert.equal(noExclusions()[filter.name], 0);
    assert.deepEqual(EXCLUSIONS[filter.name], { removed: filter.removed, loosen: filter.loosenHint });
  }
});

test('a candidate is tested by the absolute filters first, then the relative ones, and counted under the first that rejects it', () => {
  assert.deepEqual(FILTERS_IN_TEST_ORDER.map((f) => f.relative), [false, false, true, true]);
  // 5 is below --min-score 6 and within --margin 1 of the positive 5.5: the absolute filter counts it.
  assert.equal(rejectingFilter(5, 5.5, { minScore: 6, margin: 1 }), 'min_score');
  assert.equal(rejectingFilter(5, 5.5, { margin: 1 }), 'margin');
  // Every row rejects on its own, under its own name.
  const rejected: Record<string, [score: number, reference: number, value: number]> = { max_score_ratio: [9.8, 10, 0.95], margin: [9.5, 10, 1], min_score: [1, 10, 2], max_score: [3, 10, 2] };
  for (const filter of SCORE_FILTERS) {
    const [score, reference, value] = rejected[filter.name];
    assert.equal(rejectingFilter(score, reference, { [optionKey(filter.name)]: value }), filter.name);
    assert.equal(rejectingFilter(score, filter.relative ? undefined : reference, { [optionKey(filter.name)]: filter.relative ? value : undefined }), undefined, `${filter.name}: off, or relative without a positive`);
  }
});

test('the report funnel has one step per filter, in test order', () => {
  const removed = Object.fromEntries(SCORE_FILTERS.map((f, i) => [f.name, i + 1]));
  const stages = funnelStages({ funnel: { ranked: 100, fill_drawn: 0, outside_window: 0, not_selected: 0 }, removed })!;
  const filterSteps = stages.filter((s) => FILTERS_IN_TEST_ORDER.some((f) => s.label === `after ${f.flag.split(' ')[0]}`));
  assert.deepEqual(filterSteps.map((s) => s.label), FILTERS_IN_TEST_ORDER.map((f) => `after ${f.flag.split(' ')[0]}`));
  assert.deepEqual(filterSteps.map((s) => s.removed), FILTERS_IN_TEST_ORDER.map((f) => removed[f.name]));
});
