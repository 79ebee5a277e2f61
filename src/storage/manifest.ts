/**
 * Reading an index part's `manifest.json`: the parsed object when the file exists, parses and names the expected
 * format; undefined otherwise (a missing or foreign manifest means "not built", and the part is (re)built).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function readManifest<T extends { format: string }>(dir: string, format: T['format']): T | undefined {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return undefined;
  try {
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as T;
    return manifest.format === format ? manifest : undefined;
  } catch {
    return undefined;
  }
}
