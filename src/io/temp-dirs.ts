/**
 * Temporary dirs (`rare-mine-index-*`, `rare-mine-stdin-*` in the system temp dir) that are removed at exit and,
 * when a kill prevented that, by a later run: each holds an `.owner.lock` lease lock (src/io/lease-lock.ts) whose
 * heartbeat lives as long as its process. Creating one sweeps the dirs of the same prefix whose owner is gone —
 * judged by the lock's heartbeat, not by the pid alone (a pid means nothing on another host or in another container).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from './fs.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log } from '../log.js';
import { inspectLock, LeaseLock, leaseMs } from './lease-lock.js';

export const OWNER_LOCK = '.owner.lock';

const owned: { dir: string; lock: LeaseLock }[] = [];
let exitHookInstalled = false;

/**
 * A dir without an owner lock was made by a rare-mine before owner locks (or the lock was never written): whether
 * its run still lives cannot be known, so it is removed only when this old.
 */
export const UNOWNED_TEMP_DIR_MAX_AGE_MS = 24 * 3600 * 1000;

/** Remove `<tmp>/<prefix>*` dirs whose owner is gone: a stale owner lock, or none and a day old. */
export function sweepTempDirs(prefix: string, root = tmpdir()): void {
  let names: string[];
  try {
    names = readdirSync(root).filter((name) => name.startsWith(prefix));
  } catch {
    return;
  }
  const lease = leaseMs();
  for (const name of names) {
    const dir = join(root, name);
    try {
      const state = inspectLock(join(dir, OWNER_LOCK), lease);
      const orphan = state.kind === 'stale' || (state.kind === 'free' && Date.now() - statSync(dir).mtimeMs > UNOWNED_TEMP_DIR_MAX_AGE_MS);
      if (!orphan) continue;
      log().info({ dir, reason: state.kind === 'stale' ? state.reason : 'no owner lock, a day old' }, 'removing a temporary dir left by a run that is gone');
      rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      log().debug({ dir, error: (error as Error).message }, 'could not inspect a temporary dir; left alone');
    }
  }
}

/** A fresh `<tmp>/<prefix>XXXXXX` owned by this process (removed at exit), after sweeping orphans of the prefix. */
export function ownedTempDir(prefix: string): string {
  sweepTempDirs(prefix);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const lock = LeaseLock.tryAcquire(join(dir, OWNER_LOCK), `owning ${dir}`);
  if (!(lock instanceof LeaseLock)) throw new Error(`${dir}: a fresh temporary dir is already owned`);
  owned.push({ dir, lock });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const { dir: path, lock: ownerLock } of owned) {
        ownerLock.release();
        rmSync(path, { recursive: true, force: true });
      }
    });
  }
  return dir;
}
