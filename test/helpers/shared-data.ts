/**
 * Where the real datasets live (../shared/data beside the repository, or $RARE_MINE_SHARED_DATA), and a
 * helper that makes a test skip with a printed reason when they are absent (a fresh clone has no shared/).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file compiles to dist/test/helpers/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const sharedDataDir = process.env.RARE_MINE_SHARED_DATA ?? resolve(repoRoot, '..', 'shared', 'data');

/** Path of a dataset file, or undefined (with a printed reason) when it is not there. */
export function sharedData(...parts: string[]): string | undefined {
  const path = join(sharedDataDir, ...parts);
  if (existsSync(path)) return path;
  console.log(`# skipping: ${path} not found (the real datasets live in ../shared/data; CI has them)`);
  return undefined;
}

/** The built CLI entry point, for end-to-end runs. */
export const cliPath = join(repoRoot, 'bin', 'rare-mine.js');
