/**
 * Build aside, then rename into place: the one way an index part (a folder of files) is written. A part is built
 * in `<dir>.building-<pid>`; when it is complete, the old part (if any) is moved to `<dir>.old-<pid>`, the new one
 * renamed onto `<dir>`, and the old one removed. What must hold: a reader never sees a half-built part (rename is
 * atomic), a failed build leaves the old part untouched, and whatever a killed builder leaves behind matches
 * LEFTOVER_PATTERN, so the next holder of the build lock can remove it (src/index/build-lock.ts).
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { makeDirs } from '../io/make-dirs.js';
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

/** Move the finished `builtDir` onto `finalDir`, replacing what is there. */
export function replaceDir(finalDir: string, builtDir: string): void {
  const old = `${finalDir}.old-${process.pid}`;
  if (existsSync(finalDir)) renameSync(finalDir, old);
  renameSync(builtDir, finalDir);
  rmSync(old, { recursive: true, force: true });
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
  } catch (error) {
    await owned.release();
    throw error;
  }
  replaceDir(finalDir, aside);
  owned.disown();
  return result;
}
