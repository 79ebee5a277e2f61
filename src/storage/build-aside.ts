/**
 * Build aside, then rename into place: the one way an index part (a folder of files) is written. A part is built
 * in `<dir>.building-<pid>`; when it is complete, the old part (if any) is moved to `<dir>.old-<pid>`, the new one
 * renamed onto `<dir>`, and the old one removed. What must hold: a reader never sees a half-built part (rename is
 * atomic), a failed build leaves the old part untouched, and whatever a killed builder leaves behind matches
 * LEFTOVER_PATTERN, so the next holder of the build lock can remove it (src/index/build-lock.ts).
 */
import { dirname } from 'node:path';
import { existsSync, renameSync, rmSync } from '../io/fs.js';
import { makeDirs } from '../io/make-dirs.js';
import { syncDir } from '../io/output.js';
import { log } from '../log.js';
import { runScope } from '../run-scope.js';

/** Names of what an interrupted build leaves beside a part: built aside, or moved aside while being replaced. */
export const LEFTOVER_PATTERN = /\.(building|old)-\d+$/;

/** A fresh, empty folder beside `finalDir` to build the part in (a leftover of this pid is removed first). */
export function prepareAside(finalDir: string): string {
  const aside = `${finalDir}.building-${process.pid}`;
  rmSync(aside, { recursive: true, force: true });
  makeDirs(aside);
  return aside;
}

/**
 * Move the finished `builtDir` onto `finalDir`, replacing what is there. If the new part cannot be renamed into place,
 * the old one is moved back, so `finalDir` is the old part or the new one, never missing. Once the new part is in
 * place, failing to remove the old one is a warning: the run has what it built, and the `.old-<pid>` folder left is
 * swept by the next holder of the build lock.
 */
export function replaceDir(finalDir: string, builtDir: string): void {
  const old = `${finalDir}.old-${process.pid}`;
  const hadOld = existsSync(finalDir);
  if (hadOld) renameSync(finalDir, old);
  try {
    renameSync(builtDir, finalDir);
  } catch (error) {
    if (hadOld) renameSync(old, finalDir);
    throw error;
  }
  syncDir(dirname(finalDir));
  try {
    rmSync(old, { recursive: true, force: true });
  } catch (error) {
    log().warn({ dir: old, code: (error as NodeJS.ErrnoException).code }, 'could not remove the replaced index part (the next build removes it)');
  }
}

/** Remove an aside folder after a failed build. */
export function discardAside(aside: string): void {
  rmSync(aside, { recursive: true, force: true });
}

/**
 * Run `build` on a fresh aside folder and rename it onto `finalDir` when it succeeds; on failure the aside folder
 * is removed and `finalDir` left as it was.
 */
export async function buildAside<T>(finalDir: string, build: (aside: string) => T | Promise<T>): Promise<T> {
  const aside = prepareAside(finalDir);
  // Owned by the run scope while it is built: a signal during an async build (embedding) removes it too.
  const owned = runScope().own(`index part built aside ${aside}`, () => discardAside(aside));
  let result: T;
  try {
    result = await build(aside);
    replaceDir(finalDir, aside);
  } catch (error) {
    try {
      await owned.release();
    } catch {
      // the build's error is the one to report; the aside folder left matches LEFTOVER_PATTERN and is swept
    }
    throw error;
  }
  owned.disown();
  return result;
}
