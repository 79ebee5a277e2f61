/**
 * Stage 3 of a mining run, mine the stream: records read in input order, parsed, mined a batch at a time,
 * formatted and written, a journal checkpoint after each batch. What must hold: every record is written or
 * rejected, in input order; a checkpoint never claims output or rejects bytes of records after it (rejections of
 * lines read while a batch is searched ahead are held back until that batch is written).
 */
import { existsSync, statSync } from '../io/fs.js';
import { InputError } from '../errors.js';
import { log } from '../log.js';
import { readRecords } from '../io/jsonl.js';
import type { LeaseLock } from '../io/lease-lock.js';
import { Progress } from '../terminal/progress.js';
import type { ParsedRecord } from '../mine/miner.js';
import type { FormattedRecord } from '../formats/formats.js';
import type { MineCommandOptions } from './mine-options.js';
import { assertStillWriter } from './output-locks.js';
import type { StartPlan } from './plan-start.js';
import type { OpenRun } from './open-run.js';

/** What mining the stream did. */
export interface StreamOutcome {
  /** When mining began (after the run was open). */
  readonly started: number;
  /** Records written, the resumed ones included. */
  readonly written: number;
  /** Records rejected by runs this one resumes. */
  readonly rejectedBefore: number;
  /** False when the reader closed the output early (`| head`): nothing to commit or report. */
  readonly complete: boolean;
}

/**
 * Stage 3, mine the stream: records read in input order, parsed, mined a batch at a time, formatted and written,
 * a journal checkpoint after each batch (every record is written or rejected; a checkpoint never claims bytes the
 * output has not got).
 */
export async function mineStream(plan: StartPlan, run: OpenRun, options: MineCommandOptions, writerLock: LeaseLock | undefined): Promise<StreamOutcome> {
  const { range, readPath, miner, formatter, statistics, sink, sideSinks, policy } = run;
  const started = Date.now();
  let written = run.resumed?.checkpoint.recordsOut ?? 0;
  const rejectedBefore = run.resumed?.checkpoint.rejected ?? 0;
  // Bytes of the input file (or shard) when there is one: a percentage and an ETA; records and a rate otherwise.
  const totalBytes = readPath !== undefined && readPath !== '-' ? (range.endByte ?? statSync(readPath).size) - range.startByte : undefined;
  const progress = new Progress('mining', totalBytes === undefined ? { itemLabel: 'records' } : { unit: 'bytes', total: totalBytes, itemLabel: 'records' });
  let lastEndByte = range.startByte;
  const rejectsBytes = () => (options.rejects && existsSync(options.rejects) ? statSync(options.rejects).size : 0);
  try {
    type ResumePoint = { inputByte: number; inputLine: number };
    let batch: ParsedRecord[] = [];
    // A full batch is searched ahead (off-thread search) while the one before it is selected and written.
    let waiting: { batch: ParsedRecord[]; resumePoint: ResumePoint } | undefined;
    const flush = async (ready: ParsedRecord[], resumePoint: ResumePoint) => {
      if (ready.length > 0) {
        const mined = await miner.mine(ready);
        assertStillWriter(writerLock, options.output);
        for (const record of mined) {
          let formatted: FormattedRecord;
          try {
            formatted = formatter.formatRecord(record);
          } catch (error) {
            if (!(error instanceof InputError)) throw error;
            policy.reject(error, record.record.raw);
            continue;
          }
          statistics.add(record);
          // Side lines first: the ids a main line names are on their way to the side files before it is.
          for (const [i, sideLines] of (formatted.side ?? []).entries()) {
            for (const line of sideLines) {
              const wait = sideSinks[i].write(line + '\n');
              if (wait) await wait;
            }
          }
          for (const line of formatted.lines) {
            const wait = sink.write(line + '\n');
            if (wait) await wait;
          }
          written++;
        }
        progress.tick(mined.length, totalBytes === undefined ? undefined : lastEndByte - range.startByte);
      }
      if (plan.journal) {
        await sink.settled();
        assertStillWriter(writerLock, options.output);
        plan.journal.record({
          ...resumePoint,
          outputBytes: sink.bytesWritten,
          outputLines: sink.linesWritten,
          outputSha256: sink.sha256()!,
          rejectsBytes: rejectsBytes(),
          recordsOut: written,
          rejected: rejectedBefore + policy.rejectedIn(plan.displayName), // the input's lines only: corpus rejects are no input records
        });
      }
    };
    /**
     * Search `next` ahead, then mine and write the batch waiting before it. The rejections of lines read while
     * that batch waited belong after it: they are held back until it is written (and checkpointed).
     */
    const handOver = async (next: { batch: ParsedRecord[]; resumePoint: ResumePoint } | undefined) => {
      const readAhead = policy.stopHolding();
      if (next) miner.searchAhead(next.batch);
      if (waiting) await flush(waiting.batch, waiting.resumePoint);
      policy.rejectHeld(readAhead);
      waiting = next;
      if (waiting) policy.hold();
    };
    const records = readRecords(readPath, {
      policy,
      maxLineBytes: options.maxLineBytes,
      displayName: plan.displayName,
      startByte: range.startByte,
      endByte: range.endByte,
      startLine: range.startLine,
    });
    for await (const record of records) {
      if (sink.closed) break;
      let parsed: ParsedRecord;
      try {
        parsed = miner.parse(record);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        policy.reject(error, record.raw);
        continue;
      }
      batch.push(parsed);
      lastEndByte = record.endOffset;
      if (batch.length >= options.batchSize) {
        await handOver({ batch, resumePoint: { inputByte: record.endOffset, inputLine: record.lineNumber + 1 } });
        batch = [];
      }
    }
    await handOver({ batch, resumePoint: { inputByte: range.endByte ?? Number.MAX_SAFE_INTEGER, inputLine: 0 } });
    await handOver(undefined);
  } finally {
    progress.done();
  }
  if (sink.closed) {
    log().debug('output closed by the reader (e.g. | head): stopping early, not an error');
    await sink.abort();
    return { started, written, rejectedBefore, complete: false };
  }
  return { started, written, rejectedBefore, complete: true };
}
