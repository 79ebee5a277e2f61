/**
 * Create a directory and its missing parents, one level at a time. Node 20's recursive mkdir (`mkdirSync` and
 * `fs.promises.mkdir` with `{ recursive: true }`) loops for ever, at full CPU and deaf to SIGTERM, where mkdir
 * fails with ENOENT under a parent that exists (any path in /proc, as `--index-dir /proc/x`); one level at a
 * time, that is the error it is. Every directory rare-mine creates goes through here.
 */
import { existsSync, mkdirSync } from './fs.js';
import { dirname, resolve } from 'node:path';

export function makeDirs(path: string): void {
  const missing: string[] = [];
  for (let dir = resolve(path); !existsSync(dir); dir = dirname(dir)) {
    missing.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
