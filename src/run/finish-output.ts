/**
 * Stage 4 of a mining run, finish the output. What must hold: a shard's sidecar is written before its output is
 * renamed into place (a final output never lacks it), the side files are committed before the main output (which
 * never names an id they lack), and the journal goes last.
 */
import { rmSync } from '../io/fs.js';
import type { LeaseLock } from '../io/lease-lock.js';
import { shardSidecarPath, writeShardSidecar } from '../io/shards.js';
import type { MineCommandOptions } from './mine-options.js';
import { assertStillWriter } from './output-locks.js';
import type { StartPlan } from './plan-start.js';
import type { OpenRun } from './open-run.js';
import type { StreamOutcome } from './mine-stream.js';

/**
 * Stage 4, finish the output: a shard's sidecar (written before the rename: a final output never lacks its
 * sidecar, which merge checks), the output committed (renamed into place), the journal removed.
 */
export async function finishOutput(plan: StartPlan, run: OpenRun, options: MineCommandOptions, mined: StreamOutcome, writerLock: LeaseLock | undefined): Promise<void> {
  const { sink, policy } = run;
  await sink.settled();
  assertStillWriter(writerLock, options.output);
  if (plan.shard && options.output) {
    writeShardSidecar(options.output, {
      fingerprint: plan.fingerprint,
      shard: plan.shard,
      range: { startByte: plan.start.inputByte, endByte: run.range.endByte!, startLine: plan.start.inputLine },
      bytes: sink.bytesWritten,
      lines: sink.linesWritten,
      sha256: sink.sha256()!,
      records: mined.written,
      rejected: mined.rejectedBefore + policy.rejectedIn(plan.displayName), // the input's lines only, as merge totals them
    });
  } else if (options.output && options.output !== '-') rmSync(shardSidecarPath(options.output), { force: true });
  // The side files first: a committed main output never names an id its side files lack.
  for (const side of run.sideSinks) await side.commit();
  await sink.commit();
  plan.journal?.remove();
}
