/**
 * A mining run end to end, in the stages of docs/ARCHITECTURE.md's flow: plan the start (plan-start.ts), open the
 * run (open-run.ts), mine the stream (mine-stream.ts), finish the output (finish-output.ts), report
 * (report-run.ts); each stage hands the next a typed record of what it decided or opened. What must hold: records
 * in = records written + records rejected (under --on-error skip), always; every lock, sink, retriever and model
 * opened is released whether the run ends, fails or is taken over.
 */
import type { LeaseLock } from '../io/lease-lock.js';
import { setActiveOutput, stoppingSignal } from '../terminal/signals.js';
import type { IndexDirOptions, RetrieverKind } from '../retrievers/retriever-kind.js';
import type { MineCommandOptions } from './mine-options.js';
import { lockOutput, lockSideFiles, OutputTakenOver } from './output-locks.js';
import { planStart } from './plan-start.js';
import { openRun, type RunClock } from './open-run.js';
import { mineStream, type StreamOutcome } from './mine-stream.js';
import { finishOutput } from './finish-output.js';
import { reportRun } from './report-run.js';

/**
 * Run a mining command end to end (holding the output's writer lock with -o FILE), in the stages of
 * docs/ARCHITECTURE.md's flow: plan the start, open the run, mine the stream, finish the output, report.
 */
export async function runMine<O extends IndexDirOptions>(inputPath: string | undefined, options: MineCommandOptions & O, kind: RetrieverKind<O>): Promise<void> {
  const writerLock = options.output && options.output !== '-' ? lockOutput(options.output) : undefined;
  let sideLocks: LeaseLock[] = [];
  try {
    const clock: RunClock = { started: Date.now(), times: {} };
    const plan = planStart(inputPath, options);
    // One writer per side file, as for -o (shards sharing --rejects would lose lines). After the path checks, so a
    // side file that is -o itself is reported as such, not as a lock held by this run.
    sideLocks = lockSideFiles([
      { option: '--rejects', path: options.rejects },
      { option: '--stats-json', path: options.statsJson },
      ...plan.sidePaths.map((path) => ({ option: `--format ${options.format}`, path })),
    ]);
    const run = await openRun(plan, options, kind, clock);
    let mined: StreamOutcome;
    try {
      mined = await mineStream(plan, run, options, writerLock);
      if (mined.complete) await finishOutput(plan, run, options, mined, writerLock);
      else for (const side of run.sideSinks) await side.abort();
    } catch (error) {
      // Taken over, or a signal is stopping the run (its handler kept the partial to resume): leave it as it is.
      if (error instanceof OutputTakenOver || stoppingSignal() !== undefined) {
        run.sink.abandon();
        for (const side of run.sideSinks) side.abandon();
        throw error;
      }
      await run.sink.abort();
      for (const side of run.sideSinks) await side.abort();
      plan.journal?.remove();
      throw error;
    } finally {
      setActiveOutput(undefined);
      await run.retriever.close();
      await run.rescorer?.close();
    }
    clock.times.mine_seconds = (Date.now() - mined.started) / 1000;
    if (mined.complete) reportRun(plan, run, options, mined, clock);
  } finally {
    for (const lock of sideLocks) lock.release();
    writerLock?.release();
  }
}
