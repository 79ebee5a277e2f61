/**
 * One writer per output: the lease lock of `-o` and of every side file a run writes (`--rejects`, `--stats-json`,
 * a format's side files) held while a run lasts, and the check before every write that no other run took it over.
 * What must hold: two runs never write one file (shards sharing a `--rejects` file would truncate and interleave
 * each other's lines: the second refuses at once); a run whose lock was taken over stops without writing,
 * renaming or removing anything.
 */
import { existsSync } from '../io/fs.js';
import { dirname, resolve } from 'node:path';
import { FileError, fileErrorFrom, UsageError } from '../errors.js';
import { directOutput, partialPath } from '../io/output.js';
import { describeHolder, LeaseLock } from '../io/lease-lock.js';

/**
 * One writer per output: `<output>.lock` (a lease lock, src/io/lease-lock.ts) while the run lasts. A second run on
 * the same -o refuses at once (two writers would mix their bytes); a lock whose holder is gone is taken over.
 */
export function lockOutput(output: string, option = '-o'): LeaseLock | undefined {
  // A missing folder is reported by the path checks (exit 1); a FIFO or device is written directly, unlocked.
  if (!existsSync(dirname(resolve(output))) || directOutput(output)) return undefined;
  let lock: ReturnType<typeof LeaseLock.tryAcquire>;
  try {
    lock = LeaseLock.tryAcquire(`${output}.lock`, `writing ${output}`);
  } catch (error) {
    // The machine's condition (read-only dir, disk full, permissions): exit 1 naming the lock file.
    const system = fileErrorFrom(error, `${output}.lock`);
    if (system) throw new FileError(system.path, `cannot create the writer lock of ${option} ${output}: ${system.reason}`, { cause: error });
    throw error;
  }
  if (lock instanceof LeaseLock) return lock;
  throw new UsageError(`${option} ${output} is being written by another rare-mine run (${describeHolder(lock)})`, {
    hint: `two runs on one file would mix or lose its lines (give each shard its own ${option}): let that run finish, or write elsewhere. A lock whose holder is gone goes stale after RARE_MINE_LOCK_LEASE_SECONDS (default 60) or at once on the holder's host.`,
  });
}

/** A file a run writes beside its output, and the option that names it. */
export interface SideFile {
  readonly option: string;
  readonly path: string | undefined;
}

/**
 * The writer locks of a run's side files (`--rejects`, `--stats-json`, a format's side files), taken after the path
 * checks (so a side file that is -o itself is reported as such): all of them, or none (a refusal releases those
 * taken). Stdout, FIFOs and devices are written unlocked.
 */
export function lockSideFiles(files: readonly SideFile[]): LeaseLock[] {
  const locks: LeaseLock[] = [];
  try {
    for (const { option, path } of files) {
      if (path === undefined || path === '-') continue;
      const lock = lockOutput(path, option);
      if (lock) locks.push(lock);
    }
  } catch (error) {
    for (const lock of locks) lock.release();
    throw error;
  }
  return locks;
}

/**
 * Another run took over this run's output: its writer lock went stale (no heartbeat for a whole lease: the process
 * was frozen, or the filesystem stalled) and was taken. This run stops writing at once and leaves the partial and
 * its journal to that run. Exit 1.
 */
export class OutputTakenOver extends FileError {}

/** Throw OutputTakenOver unless this run still holds the output's writer lock (checked before every write). */
export function assertStillWriter(lock: LeaseLock | undefined, output: string | undefined): void {
  if (!lock || lock.stillHeld()) return;
  throw new OutputTakenOver(output!, `another rare-mine run took over this output (${output}.lock had no heartbeat from this run for a whole lease); stopped without writing, renaming or removing ${partialPath(output!)}`, {
    hint: 'that run now writes it. A run is taken over only when its heartbeat stops for RARE_MINE_LOCK_LEASE_SECONDS (default 60): a frozen (stopped, swapped-out) process or a stalled filesystem',
  });
}
