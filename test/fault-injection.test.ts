/**
 * The fault-injection loop in npm test, sampled (the whole loop: test/slow/fault-injection.test.ts): `stats
 * --stats-json` and a mining run (`bm25 -o` with `--stats-json`, from a built index), each run once to count its
 * filesystem operations, then failed at three of them, each with another mode — the first, middle and last for
 * stats; a third of the way (EMFILE), two thirds (SIGTERM) and the last (ENOSPC) for mining. Each must end with exit 1
 * naming the path (or the signal's exit, or succeed whole), its inputs and the previous outputs byte-identical,
 * nothing temporary left.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { FaultBench, prepareShared, scenario, twoAtATime, type FaultMode } from './helpers/fault-injection.js';

let shared: string;
before(async () => {
  shared = await prepareShared({ model: false });
});
after(() => rmSync(shared, { recursive: true, force: true }));

/** `repeatCheck`: run it fault-free twice to learn which outputs differ run to run (--stats-json's timings). */
async function sampled(name: string, repeatCheck: boolean, plan: (count: number) => Array<[number, FaultMode]>, diagnostic: (message: string) => void): Promise<void> {
  const bench = await FaultBench.open(scenario(name), shared, { repeatCheck });
  try {
    const faults = plan(bench.count);
    const problems = (await twoAtATime(faults.map(([k, mode]) => (slot: number) => bench.inject(k, mode, slot)))).flat();
    diagnostic(`${name}: ${bench.count} operations counted, ${faults.length} failures injected (${faults.map(([k, mode]) => `${k} ${mode}`).join(', ')})`);
    assert.deepEqual(problems, [], problems.join('\n'));
  } finally {
    bench.dispose();
  }
}

test('fault injection, sampled: stats --stats-json failed at its first, middle and last operation', async (t) => {
  await sampled('stats --stats-json', false, (count) => [[1, 'EIO'], [Math.ceil(count / 2), 'short'], [count, 'ENOSPC']], (m) => t.diagnostic(m));
});

test('fault injection, sampled: bm25 -o --stats-json failed a third of the way, two thirds and at its last operation', async (t) => {
  await sampled('bm25 -o', true, (count) => [[Math.ceil(count / 3), 'EMFILE'], [Math.ceil((2 * count) / 3), 'SIGTERM'], [count, 'ENOSPC']], (m) => t.diagnostic(m));
});
