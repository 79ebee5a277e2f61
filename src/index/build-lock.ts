/**
 * One builder at a time per index dir, and no lock at all for readers. withBuildLock first runs the open
 * without any lock and without writing anything: when every part matches, that is all (a read-only or shared,
 * published index dir works). A part that must be built calls requireBuildLock(), which stops that attempt; the
 * open then runs again under `<dir>/.build.lock`, a lease lock (src/io/lease-lock.ts: host, pid, heartbeat; stale
 * after the lease whatever the pid says). Waiting for another builder is bounded and logged. Whoever holds the
 * lock removes the leftovers of builders that are gone (`*.building-PID`, `*.old-PID` beside the parts): holding
 * the lock proves no other builder of this dir is alive.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readdirSync, rmSync } from '../io/fs.js';
import { join } from 'node:path';
import { IndexError } from '../errors.js';
import { log } from '../log.js';
import { LeaseLock } from '../io/lease-lock.js';
import { LEFTOVER_PATTERN } from '../storage/build-aside.js';
import { buildAsideDirs, type PartPlace } from './layout.js';

export const BUILD_LOCK_NAME = '.build.lock';

const DEFAULT_MAX_WAIT_SECONDS = 6 * 3600;

/** How long to wait for another live builder: RARE_MINE_BUILD_WAIT_SECONDS, default 6 hours. */
function maxWaitMs(): number {
  const value = process.env.RARE_MINE_BUILD_WAIT_SECONDS;
  const seconds = value === undefined || value === '' ? DEFAULT_MAX_WAIT_SECONDS : Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) throw new IndexError(`RARE_MINE_BUILD_WAIT_SECONDS must be a number of seconds ≥ 0, got "${value}"`);
  return seconds * 1000;
}

/** Thrown by requireBuildLock() in a lock-free attempt: the open must build something. */
class BuildNeeded extends Error {}

const buildPermission = new AsyncLocalStorage<{ locked: boolean }>();

/**
 * Called by every index build before it writes anything: outside withBuildLock's locked run it stops the
 * attempt, so that the build happens under the lock.
 */
export function requireBuildLock(what: string): void {
  if (buildPermission.getStore()?.locked === false) throw new BuildNeeded(what);
}

/**
 * Remove `*.building-PID` / `*.old-PID` dirs beside the parts of `parts` (src/storage/build-aside.ts). Call only
 * while holding the lock.
 */
export function removeBuildLeftovers(indexDir: string, parts: readonly PartPlace[]): void {
  for (const dir of buildAsideDirs(indexDir, parts)) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.filter((n) => LEFTOVER_PATTERN.test(n))) {
      log().warn({ dir: join(dir, name) }, 'removing what an interrupted build left behind');
      rmSync(join(dir, name), { recursive: true, force: true });
    }
  }
}

/**
 * Open an index with `open`, lock-free when nothing must be built; otherwise under the dir's build lock, whose
 * holder first removes the leftovers of every part of `parts` (the table of parts: src/retrievers/index-parts.ts).
 */
export async function withBuildLock<T>(indexDir: string, parts: readonly PartPlace[], open: () => Promise<T>): Promise<T> {
  try {
    return await buildPermission.run({ locked: false }, open);
  } catch (error) {
    if (!(error instanceof BuildNeeded)) throw error;
    log().debug({ indexDir, part: error.message }, 'a part must be built: taking the build lock');
  }
  const path = join(indexDir, BUILD_LOCK_NAME);
  let lock: LeaseLock;
  try {
    lock = await LeaseLock.acquire(path, `building ${indexDir}`, {
      maxWaitMs: maxWaitMs(),
      waitingFor: `the build of ${indexDir}`,
      onTimeout: (holder) =>
        new IndexError(`gave up waiting for the build of ${indexDir} by ${holder}`, {
          hint: `raise RARE_MINE_BUILD_WAIT_SECONDS, or if no build is running there, remove ${path}`,
        }),
    });
  } catch (error) {
    if (error instanceof IndexError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new IndexError(`${indexDir}: cannot create the build lock ${path} (${code ?? (error as Error).message})`, {
      cause: error,
      hint: code === 'EROFS' || code === 'EACCES' || code === 'EPERM' ? 'the index dir is read-only and its index must be (re)built: build it where it is writable' : 'check the disk (space, permissions)',
    });
  }
  try {
    removeBuildLeftovers(indexDir, parts);
    return await buildPermission.run({ locked: true }, open);
  } finally {
    lock.release();
  }
}
