/**
 * Damaged index files for the integrity tests (test/index-integrity.test.ts samples them, test/slow/index-damage
 * walks every file × every damage): one index built through the CLI, copied for each case, and the damages with
 * the message each must produce.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { runCli } from './cli.js';
import { repoRoot } from './shared-data.js';

export const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');

let pristine: { indexDir: string; reference: string } | undefined;

/** A fresh copy of one index built through the CLI (built once: each case damages its own copy). */
export function builtIndex(): { dir: string; indexDir: string; reference: string } {
  if (!pristine) {
    const indexDir = join(mkdtempSync(join(tmpdir(), 'rare-mine-integrity-pristine-')), 'idx');
    const run = runCli(['bm25', '--index-dir', indexDir, fixture]);
    assert.equal(run.status, 0, run.stderr);
    pristine = { indexDir, reference: run.stdout };
  }
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-integrity-'));
  const indexDir = join(dir, 'idx');
  cpSync(pristine.indexDir, indexDir, { recursive: true });
  return { dir, indexDir, reference: pristine.reference };
}

export const damages: Array<[string, (path: string) => void, RegExp]> = [
  ['truncated', (path) => truncateSync(path, statSync(path).size - 7), /truncated|bytes where its header says/],
  [
    'corrupted payload byte',
    (path) => {
      const bytes = readFileSync(path);
      bytes[bytes.length - 3] ^= 0xff;
      writeFileSync(path, bytes);
    },
    /payload checksum mismatch/,
  ],
  [
    'newer format version',
    (path) => {
      // A valid header of a newer version: the header CRC (bytes 44..47 over 0..43) is recomputed, so what is
      // refused is the version, not a damaged header.
      const bytes = readFileSync(path);
      bytes.writeUInt16LE(99, 12);
      bytes.writeUInt32LE(crc32(bytes.subarray(0, 44)) >>> 0, 44);
      writeFileSync(path, bytes);
    },
    /format version 99 is newer than this rare-mine reads \(\d+\); upgrade rare-mine or rebuild/,
  ],
  ['not an index file', (path) => writeFileSync(path, 'hello world, this is not an index at all!'), /bad magic/],
];


/** Every binary file of an index dir of the fixture (BM25 format 3, doc store). */
export const INDEX_FILES = ['bm25/postings.bin', 'bm25/impacts.bin', 'bm25/bounds.bin', 'bm25/terms.bin', 'bm25/lengths.bin', 'docs/texts.bin', 'docs/table.bin'];

/** Damage `file` of a fresh copy of the index with `damage`: mining must exit 3 with `message` and a rebuild hint. */
export function assertDamageRefused(file: string, damage: (path: string) => void, message: RegExp): void {
  const { indexDir } = builtIndex();
  damage(join(indexDir, file));
  const run = runCli(['bm25', '--index-dir', indexDir, fixture]);
  assert.equal(run.status, 3, run.stderr);
  assert.match(run.stderr, message);
  assert.match(run.messages(), /hint: rebuild/);
  assert.equal(run.stdout, '', 'no results from a damaged index');
}
