/** rare-mine's own version, read once from its package.json (this file compiles to dist/src/). */
import { readFileSync } from 'node:fs';

let cachedVersion: string | undefined;

export function rareMineVersion(): string {
  if (cachedVersion === undefined) {
    const packageJson = new URL('../../package.json', import.meta.url);
    cachedVersion = String((JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown }).version ?? 'unknown');
  }
  return cachedVersion;
}
