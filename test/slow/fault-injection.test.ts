/**
 * The fault-injection loop over every command (issue 25), as SQLite tests its I/O errors: each command is run once
 * to count its filesystem operations, then again with the k-th failing — ENOSPC, EIO, EMFILE, a short write or read,
 * or SIGTERM delivered at it, the mode rotating with k — for every k of the small commands and an even sample of
 * the large ones (each scenario's `sample`, to keep the loop within about 4 minutes; RARE_MINE_FAULT_SAMPLE=0 tries
 * every k of every command, =N tries N of each). What each run must show is checked by FaultBench.inject
 * (test/helpers/fault-injection.ts): it ends, exits 1 (3, 4) naming a path or dies of the signal, never 70; inputs and
 * previous outputs byte-identical; no temporary file left after the next run. Each command prints its counts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { FAULT_MODES, FAULT_SCENARIOS, FaultBench, prepareShared, sampleOperations, twoAtATime } from '../helpers/fault-injection.js';

/** RARE_MINE_FAULT_SAMPLE=N tries N operations of every command (N=0: every operation of every command). */
const SAMPLE = process.env.RARE_MINE_FAULT_SAMPLE === undefined ? undefined : Number(process.env.RARE_MINE_FAULT_SAMPLE);

const shared = prepareShared();
after(async () => rmSync(await shared, { recursive: true, force: true }));

for (const scenario of FAULT_SCENARIOS) {
  test(`fault injection: ${scenario.name}`, async (t) => {
    const started = performance.now();
    const bench = await FaultBench.open(scenario, await shared);
    try {
      const most = SAMPLE === 0 ? bench.count : (SAMPLE ?? scenario.sample ?? bench.count);
      const ks = sampleOperations(bench.count, most);
      const tasks = ks.map((k, i) => (slot: number) => bench.inject(k, FAULT_MODES[i % FAULT_MODES.length], slot));
      const problems = (await twoAtATime(tasks)).flat();
      const line = `${scenario.name}: ${bench.count} operations counted, ${tasks.length} failures injected (k = ${ks.length === bench.count ? 'every one' : ks.join(' ')}), ${Math.round(performance.now() - started)} ms`;
      t.diagnostic(line);
      console.log(line);
      assert.deepEqual(problems, [], problems.join('\n'));
    } finally {
      bench.dispose();
    }
  });
}
