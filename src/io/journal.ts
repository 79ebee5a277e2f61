/**
 * The resume journal beside a partial output (`<out>.partial.journal`). Its first line names the run (the run
 * fingerprint, src/io/run-fingerprint.ts) and the start checkpoint; after each batch whose output bytes have
 * reached the file, one line records how far the input was consumed, how long the output and the rejects file
 * then were, and the SHA-256 of the output so far. `--resume` refuses another run's journal, then keeps the longest
 * prefix of the partial that matches a checkpoint byte for byte (a partial shorter than its journal — power loss,
 * a network filesystem — falls back to an earlier checkpoint), cuts the partial there and continues the input.
 * Invariants: an entry is appended only after the output bytes it counts were handed to the OS; a partial is never
 * appended to past bytes no checkpoint vouches for.
 */
import { createHash, type Hash } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, readFullSync, rmSync, statSync, truncateSync } from './fs.js';
import { writeFileAtomically } from './output.js';
import { UsageError } from '../errors.js';
import { log } from '../log.js';
import { fingerprintDifferences, type RunFingerprint } from './run-fingerprint.js';

export const JOURNAL_VERSION = 2;

export interface Checkpoint {
  /** Input byte offset where the next unread line starts. */
  inputByte: number;
  /** Line number of that line. */
  inputLine: number;
  outputBytes: number;
  outputLines: number;
  /** SHA-256 (hex) of the first outputBytes bytes of the output. */
  outputSha256: string;
  rejectsBytes: number;
  recordsOut: number;
  rejected: number;
}

interface JournalHeader {
  journal: number;
  fingerprint: RunFingerprint;
}

export interface JournalContents {
  /** Undefined for a journal written before fingerprints (rare-mine 0.1.0). */
  fingerprint?: RunFingerprint;
  version: number;
  /** In the order written (outputBytes never decreases). */
  checkpoints: Checkpoint[];
}

export function journalPath(partial: string): string {
  return `${partial}.journal`;
}

/** The checkpoint of a run that has written nothing yet. */
export function startCheckpoint(inputByte: number, inputLine: number): Checkpoint {
  return { inputByte, inputLine, outputBytes: 0, outputLines: 0, outputSha256: createHash('sha256').digest('hex'), rejectsBytes: 0, recordsOut: 0, rejected: 0 };
}

function isCheckpoint(entry: Partial<Checkpoint>): entry is Checkpoint {
  return typeof entry.inputByte === 'number' && typeof entry.outputBytes === 'number';
}

export class Journal {
  constructor(readonly path: string) {}

  /** Start the journal of a run: its fingerprint and the checkpoints it continues from, written atomically. */
  begin(fingerprint: RunFingerprint, checkpoints: Checkpoint[]): void {
    const header: JournalHeader = { journal: JOURNAL_VERSION, fingerprint };
    writeFileAtomically(this.path, [header, ...checkpoints].map((entry) => JSON.stringify(entry) + '\n').join(''), `${this.path}.new`);
  }

  record(checkpoint: Checkpoint): void {
    appendFileSync(this.path, JSON.stringify(checkpoint) + '\n');
  }

  /** What the journal holds, or undefined when there is none. Lines cut short by a kill are ignored. */
  read(): JournalContents | undefined {
    if (!existsSync(this.path)) return undefined;
    const contents: JournalContents = { version: 1, checkpoints: [] };
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      let entry: Partial<Checkpoint & JournalHeader>;
      try {
        entry = JSON.parse(line) as Partial<Checkpoint & JournalHeader>;
      } catch {
        continue; // a line cut short by a kill
      }
      if (typeof entry.journal === 'number' && entry.fingerprint) {
        contents.version = entry.journal;
        contents.fingerprint = entry.fingerprint;
      } else if (isCheckpoint(entry)) contents.checkpoints.push(entry);
    }
    return contents;
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}

export interface Recovery {
  /** The last checkpoint the partial (and rejects file) hold byte for byte. */
  checkpoint: Checkpoint;
  /** SHA-256 state of the partial's first checkpoint.outputBytes bytes, to continue hashing from. */
  hash: Hash;
  /** Index of that checkpoint in the list given (the last one unless the partial fell short of it). */
  index: number;
}

/**
 * The last of `checkpoints` (ascending; the first one must be a start checkpoint) that the partial matches:
 * its first outputBytes bytes hash to outputSha256 and the rejects file holds at least rejectsBytes.
 */
export function recoverPartial(partial: string, checkpoints: Checkpoint[], rejectsPath: string | undefined): Recovery {
  const rejectsSize = rejectsPath && existsSync(rejectsPath) ? statSync(rejectsPath).size : 0;
  const hash = createHash('sha256');
  let recovery: Recovery = { checkpoint: checkpoints[0], hash: hash.copy(), index: 0 };
  const fd = openSync(partial, 'r');
  try {
    const size = statSync(partial).size;
    const buffer = Buffer.allocUnsafe(1 << 20);
    let at = 0;
    for (let i = 0; i < checkpoints.length; i++) {
      const checkpoint = checkpoints[i];
      if (checkpoint.outputBytes > size || checkpoint.rejectsBytes > rejectsSize || checkpoint.outputBytes < at) break;
      while (at < checkpoint.outputBytes) {
        const n = readFullSync(fd, buffer, 0, Math.min(buffer.length, checkpoint.outputBytes - at), at, partial);
        if (n <= 0) break;
        hash.update(buffer.subarray(0, n));
        at += n;
      }
      if (at !== checkpoint.outputBytes || hash.copy().digest('hex') !== checkpoint.outputSha256) break;
      recovery = { checkpoint, hash: hash.copy(), index: i };
    }
  } finally {
    closeSync(fd);
  }
  return recovery;
}

/**
 * Refuse to resume `partial` when its journal was written by another run (the sections of the fingerprint
 * given differ), or by a rare-mine too old to say which run it was. Exit 2, naming every difference.
 */
export function refuseOtherRun(partial: string, previous: JournalContents, now: RunFingerprint, sections: (keyof RunFingerprint)[]): void {
  const startOver = `remove ${partial} and ${journalPath(partial)} to start over, or run without --resume`;
  if (!previous.fingerprint) {
    throw new UsageError(`--resume: ${journalPath(partial)} was written by an older rare-mine and does not say which run it belongs to`, { hint: startOver });
  }
  const differences = fingerprintDifferences(previous.fingerprint, now, sections);
  if (differences.length > 0) {
    throw new UsageError(`--resume: ${partial} belongs to another run: ${differences.join('; ')}`, {
      hint: `resume with the same input, options, index and shard as the interrupted run, or ${startOver}`,
    });
  }
}

/**
 * Recover the partial to its last consistent checkpoint and cut the partial and the rejects file there.
 * Undefined when nothing is worth keeping (the run starts over; the partial is rewritten from its first byte).
 */
export function resumeFrom(partial: string, previous: JournalContents, start: Checkpoint, rejectsPath: string | undefined): Recovery | undefined {
  const checkpoints = previous.checkpoints[0]?.outputBytes === 0 ? previous.checkpoints : [start, ...previous.checkpoints];
  const recovery = recoverPartial(partial, checkpoints, rejectsPath);
  const last = checkpoints[checkpoints.length - 1];
  if (recovery.index < checkpoints.length - 1) {
    log().warn(
      { partial, partialBytes: statSync(partial).size, journalBytes: last.outputBytes, recoveredBytes: recovery.checkpoint.outputBytes, recoveredRecords: recovery.checkpoint.recordsOut },
      'the partial does not hold what its journal recorded last (cut short or changed: power loss, a network filesystem?): recovered to the last checkpoint it matches',
    );
  }
  if (recovery.checkpoint.outputBytes === 0 && recovery.checkpoint.recordsOut === 0 && recovery.checkpoint.rejectsBytes === 0) {
    log().info({ partial }, 'nothing to resume: starting from the beginning');
    if (rejectsPath) truncateTo(rejectsPath, 0);
    return undefined;
  }
  truncateTo(partial, recovery.checkpoint.outputBytes);
  if (rejectsPath) truncateTo(rejectsPath, recovery.checkpoint.rejectsBytes);
  log().info({ partial, inputLine: recovery.checkpoint.inputLine, recordsAlreadyOut: recovery.checkpoint.recordsOut }, 'resuming an interrupted run');
  return recovery;
}

/** Cut a file back to `bytes` (dropping output written after the checkpoint). */
export function truncateTo(path: string, bytes: number): void {
  if (existsSync(path) && statSync(path).size > bytes) truncateSync(path, bytes);
}
