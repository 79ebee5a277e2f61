/**
 * The fault-injection loop in npm test, sampled (the whole loop: test/slow/fault-injection.test.ts): `stats
 * --stats-json`, run once to count its filesystem operations, then failed at three of them — the first, the middle
 * and the last, each with another mode — must end with exit 1 naming the path (or succeed whole), its input and the
 * previous --stats-json byte-identical, nothing temporary left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { FaultBench, prepareShared, scenario, twoAtATime, type FaultMode } from './helpers/fault-injection.js';

test('fault injection, sampled: stats --stats-json failed at its first, middle and last operation', async (t) => {
  const shared = await prepareShared({ model: false });
  const bench = await FaultBench.open(scenario('stats --stats-json'), shared, { repeatCheck: false });
  try {
    const plan: Array<[number, FaultMode]> = [
      [1, 'EIO'],
      [Math.ceil(bench.count / 2), 'short'],
      [bench.count, 'ENOSPC'],
    ];
    const problems = (await twoAtATime(plan.map(([k, mode]) => (slot: number) => bench.inject(k, mode, slot)))).flat();
    t.diagnostic(`stats --stats-json: ${bench.count} operations counted, ${plan.length} failures injected`);
    assert.deepEqual(problems, [], problems.join('\n'));
  } finally {
    bench.dispose();
    rmSync(shared, { recursive: true, force: true });
  }
});
