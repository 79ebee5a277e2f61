/**
 * One builder at a time per index dir: `<dir>/.build.lock` is created exclusively (O_EXCL) and holds the
 * builder's pid. A second process waits for it (logging once) and then finds the index built and reuses it; a
 * lock left by a dead process is taken over. Readers of a finished index take no lock: parts are renamed into
 * place whole (src/index/index-dir.ts).
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from '../log.js';

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withBuildLock<T>(indexDir: string, work: () => Promise<T>): Promise<T> {
  const path = join(indexDir, '.build.lock');
  let waited = false;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder = NaN;
      try {
        holder = Number(readFileSync(path, 'utf8'));
      } catch {
        continue; // released between our open and read
      }
      if (Number.isInteger(holder) && holder > 0 && !processAlive(holder)) {
        log().warn({ lock: path, pid: holder }, 'taking over a build lock left by a process that is gone');
        rmSync(path, { force: true });
        continue;
      }
      if (!waited) log().info({ lock: path, pid: holder }, 'another rare-mine is building this index: waiting for it');
      waited = true;
      await sleep(100);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(path, { force: true });
  }
}
