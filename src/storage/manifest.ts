/**
 * An index part's `manifest.json` (docs/, bm25/, dense/<model>-<precision>/): its own fields plus an envelope
 * every part shares — `storage` (the storage version, container.ts), `buildId` (the random identity of the
 * build, also written into the header of every container file of the part) and `checksum` (sha256 of the
 * manifest's JSON without it). What must hold: a part is absent (its folder does not exist: build it) or its
 * manifest verifies; a missing, garbled, edited or older-version manifest in an existing part is an IndexError
 * with a rebuild hint, never "not built" — so a damaged index is never silently replaced by another corpus.
 */
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, readFileSync } from '../io/fs.js';
import { writeFileAtomically } from '../io/output.js';
import { join } from 'node:path';
import { IndexError } from '../errors.js';
import { BUILD_ID_BYTES, STORAGE_VERSIONS } from './container.js';

export const MANIFEST_FILE = 'manifest.json';

/** The fields every part's manifest carries. */
export interface ManifestEnvelope {
  format: string;
  /** Identity of the build: every container file of the part carries the same id in its header. */
  buildId: string;
}

/** A fresh build id (32 hex digits), drawn once per part build. */
export function newBuildId(): string {
  return randomBytes(BUILD_ID_BYTES).toString('hex');
}

function checksumOf(body: object): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

/** Write `<dir>/manifest.json` with the envelope (storage version, checksum), atomically (written aside, renamed). */
export function writePartManifest<T extends ManifestEnvelope>(dir: string, manifest: T): T {
  const body = { ...manifest, storage: STORAGE_VERSIONS.current };
  const path = join(dir, MANIFEST_FILE);
  writeFileAtomically(path, JSON.stringify({ ...body, checksum: checksumOf(body) }, null, 2) + '\n');
  return manifest;
}

/**
 * Read and verify `<dir>/manifest.json`.
 * @returns undefined when the part folder does not exist (nothing built there yet)
 * @throws IndexError when the folder exists and its manifest is missing, not JSON, of another format, of another
 *   storage version or fails its checksum; the hint quotes `rebuildHint` with --rebuild
 */
export function readPartManifest<T extends ManifestEnvelope>(dir: string, format: T['format'], rebuildHint: string): T | undefined {
  if (!existsSync(dir)) return undefined;
  const path = join(dir, MANIFEST_FILE);
  const hint = `rebuild the index: ${rebuildHint} --rebuild`;
  const fail = (what: string, cause?: unknown): never => {
    throw new IndexError(`${path}: ${what}`, { hint, cause });
  };
  if (!existsSync(path)) fail('missing: the index part is damaged (its files are there, its manifest is not)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    fail(`not valid JSON (damaged): ${(cause as Error).message}`, cause);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('not a JSON object (damaged)');
  const { checksum, ...body } = parsed as Record<string, unknown>;
  if (body.format !== format) fail(`not a "${format}" manifest (format ${JSON.stringify(body.format)})`);
  const storage = typeof body.storage === 'number' ? body.storage : 1;
  if (storage < STORAGE_VERSIONS.oldestReadable) {
    fail(`written by an older rare-mine (storage version ${storage}, without checksums or build ids; this one reads ${STORAGE_VERSIONS.oldestReadable}..${STORAGE_VERSIONS.current})`);
  }
  if (storage > STORAGE_VERSIONS.current) fail(`storage version ${storage} is newer than this rare-mine reads (${STORAGE_VERSIONS.current}); upgrade rare-mine or rebuild`);
  if (checksum !== checksumOf(body)) fail('checksum mismatch: the manifest was edited or is damaged');
  if (typeof body.buildId !== 'string' || body.buildId.length !== BUILD_ID_BYTES * 2) fail('no valid build id');
  return body as unknown as T;
}
