/**
 * Temporary dirs (every kind in TEMP_DIR_PREFIXES: index dirs, spool copies of a one-pass input, in the system temp
 * dir) that are removed when the run ends (its run scope, src/run-scope.ts: success, error or signal) and, when a
 * kill prevented that (SIGKILL, or a signal while the OS default acts), by the next run: each holds an
 * `.owner.lock` lease lock (src/io/lease-lock.ts) whose heartbeat lives as long as its process. Every command
 * starts by sweeping the dirs of every prefix whose owner is gone — judged by the lock's heartbeat, not by the pid
 * alone (a pid means nothing on another host or in another container).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from './fs.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log } from '../log.js';
import { runScope } from '../run-scope.js';
import { inspectLock, LeaseLock, leaseMs } from './lease-lock.js';

export const OWNER_LOCK = '.owner.lock';

/**
 * Every kind of temporary dir rare-mine makes in the system temp dir: a new kind gets its prefix here, so the sweep
 * of orphans covers it. (`rare-mine-stdin-` is not made any more; it is swept for what older versions left.)
 */
export const TEMP_DIR_PREFIXES = ['rare-mine-index-', 'rare-mine-spool-', 'rare-mine-stdin-'] as const;
export type TempDirPrefix = (typeof TEMP_DIR_PREFIXES)[number];

const owned = new Map<string, LeaseLock>();
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

/** Sweep the orphans of every kind of temporary dir (TEMP_DIR_PREFIXES): what killed runs left. */
export function sweepAllTempDirs(root = tmpdir()): void {
  for (const prefix of TEMP_DIR_PREFIXES) sweepTempDirs(prefix, root);
}

function removeOwned(dir: string): void {
  const lock = owned.get(dir);
  if (!lock) return;
  owned.delete(dir);
  // The dir first, its owner lock inside it last: a dir is never without its lock while it holds anything.
  rmSync(dir, { recursive: true, force: true });
  lock.release();
}

/**
 * A fresh `<tmp>/<prefix>XXXXXX` owned by this process, after sweeping orphans of the prefix: removed when the run
 * scope closes (success, error, signal), or at exit at the latest.
 */
export function ownedTempDir(prefix: TempDirPrefix): string {
  sweepTempDirs(prefix);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const lock = LeaseLock.tryAcquire(join(dir, OWNER_LOCK), `owning ${dir}`);
  if (!(lock instanceof LeaseLock)) throw new Error(`${dir}: a fresh temporary dir is already owned`);
  owned.set(dir, lock);
  runScope().own(`temporary dir ${dir}`, () => removeOwned(dir));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const path of [...owned.keys()]) removeOwned(path);
    });
  }
  return dir;
}
