/**
 * Index integrity: a truncated, corrupted or other-version index file is an IndexError (exit 3) that says to
 * rebuild — never wrong results; two processes building the same --index-dir at once leave one valid index.
 * A damaged manifest (missing, garbled, edited) is an error, never "not built", so an existing index is never
 * replaced by another corpus without --rebuild; a file of another build (valid CRC) is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { assertDamageRefused, builtIndex, damages, fixture, INDEX_FILES } from './helpers/index-damage.js';
import { writePartManifest } from '../src/storage/manifest.js';

// Each damage on one file, the files taking turns (test/slow/index-damage.test.ts walks every file × damage).
damages.forEach(([name, damage, message], i) => {
  const file = INDEX_FILES[i % INDEX_FILES.length];
  test(`${file} ${name}: error with a rebuild hint, exit 3`, () => assertDamageRefused(file, damage, message));
});

test('an index of another format version (manifest) is refused with a rebuild hint; --rebuild repairs it', () => {
  const { indexDir, reference } = builtIndex();
  const manifestPath = join(indexDir, 'bm25', 'manifest.json');
  const { checksum: _checksum, storage: _storage, ...manifest } = JSON.parse(readFileSync(manifestPath, 'utf8'));
  writePartManifest(join(indexDir, 'bm25'), { ...manifest, version: 0 });
  const run = runCli(['bm25', '--index-dir', indexDir, fixture]);
  assert.equal(run.status, 3);
  assert.match(run.stderr, /format 0 is not readable/);
  const rebuilt = runCli(['bm25', '--index-dir', indexDir, '--rebuild', fixture]);
  assert.equal(rebuilt.status, 0, rebuilt.stderr);
  assert.equal(rebuilt.stdout, reference);
});

// ---- Item: an existing index is never replaced silently; a damaged part is an error (exit 3) with a rebuild hint.

/** Run mining on a damaged index dir: exit 3, a rebuild hint, no output, and the doc store left as it was. */
function assertRefused(indexDir: string, args: string[], message: RegExp): void {
  const texts = readFileSync(join(indexDir, 'docs', 'texts.bin'));
  const run = runCli(['bm25', '--index-dir', indexDir, ...args]);
  assert.equal(run.status, 3, run.stderr);
  assert.match(run.stderr, message);
  assert.match(run.stderr, /--rebuild/);
  assert.equal(run.stdout, '');
  assert.deepEqual(readFileSync(join(indexDir, 'docs', 'texts.bin')), texts, 'the doc store is not replaced');
}

const builtCorpusIndexes: Array<{ dir: string; indexDir: string; corpus: string }> = [];

/**
 * A corpus file with ids (so the index dir holds a corpus index, not DataFlow input texts) and an index of it: a
 * fresh copy of one of two builds (`build` 0 or 1: same corpus, different build ids), built once per file.
 */
function corpusIndex(build = 0): { dir: string; indexDir: string; corpus: string } {
  while (builtCorpusIndexes.length <= build) {
    const dir = mkdtempSync(join(tmpdir(), 'rare-mine-identity-'));
    const corpus = join(dir, 'corpus.jsonl');
    writeFileSync(corpus, readFileSync(fixture, 'utf8').trimEnd().split('\n').map((l, i) => JSON.stringify({ _id: `d${i}`, text: JSON.parse(l).text })).join('\n') + '\n');
    const indexDir = join(dir, 'idx');
    const built = runCli(['index', 'bm25', '--corpus', corpus, '--index-dir', indexDir]);
    assert.equal(built.status, 0, built.stderr);
    assert.ok(built.logs().some((l) => l.msg === 'creating a new index dir (it did not exist)'), 'a new index dir is logged as such');
    builtCorpusIndexes.push({ dir, indexDir, corpus });
  }
  const { indexDir, corpus } = builtCorpusIndexes[build];
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-identity-'));
  cpSync(indexDir, join(dir, 'idx'), { recursive: true });
  return { dir, indexDir: join(dir, 'idx'), corpus };
}

const manifestDamages: Array<[string, (path: string) => void, RegExp]> = [
  ['deleted', (path) => rmSync(path), /manifest.json: missing/],
  ['garbled', (path) => writeFileSync(path, '{"format": "rare-mine-do'), /not valid JSON/],
  ['emptied', (path) => writeFileSync(path, ''), /not valid JSON/],
  ['a JSON array', (path) => writeFileSync(path, '[]'), /not a JSON object/],
  ['edited (docCount)', (path) => writeFileSync(path, readFileSync(path, 'utf8').replace(/"docCount": \d+/, '"docCount": 3')), /checksum mismatch/],
  ['edited (averageDocLength)', (path) => writeFileSync(path, readFileSync(path, 'utf8').replace(/"averageDocLength": [\d.]+/, '"averageDocLength": 99.5')), /checksum mismatch/],
];

for (const part of ['docs', 'bm25']) {
  test(`${part}/manifest.json deleted, garbled, emptied, not an object or edited: mining is refused (exit 3), nothing replaced`, () => {
    const { indexDir, corpus } = corpusIndex();
    const manifestPath = join(indexDir, part, 'manifest.json');
    const original = readFileSync(manifestPath);
    manifestDamages.forEach(([name, damage, message], i) => {
      if (part === 'docs' && name.includes('averageDocLength')) return;
      writeFileSync(manifestPath, original);
      damage(manifestPath);
      assertRefused(indexDir, [fixture], message);
      // With --corpus (the same corpus) too: a damaged part is never taken for "not built".
      if (i === 0) assertRefused(indexDir, ['--corpus', corpus, fixture], message);
    });
  });
}

test('--rebuild replaces a damaged index and gives the same results as a fresh one', () => {
  const { indexDir, corpus } = corpusIndex();
  const reference = runCli(['bm25', '--index-dir', indexDir, fixture]);
  assert.equal(reference.status, 0, reference.stderr);
  rmSync(join(indexDir, 'docs', 'manifest.json'));
  writeFileSync(join(indexDir, 'bm25', 'manifest.json'), 'garbage');
  const rebuilt = runCli(['bm25', '--index-dir', indexDir, '--corpus', corpus, '--rebuild', fixture]);
  assert.equal(rebuilt.status, 0, rebuilt.stderr);
  assert.equal(rebuilt.stdout, reference.stdout);
  const again = runCli(['bm25', '--index-dir', indexDir, fixture]);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stdout, reference.stdout);
});

test('an index of another corpus is never replaced without --rebuild (--corpus, and DataFlow inputs)', () => {
  const { dir, indexDir, corpus } = corpusIndex();
  const other = join(dir, 'other.jsonl');
  writeFileSync(other, '{"_id": "x1", "text": "a different corpus"}\n{"_id": "x2", "text": "with other documents"}\n');
  assertRefused(indexDir, ['--corpus', other, fixture], /holds the index of another corpus/);
  const sameCorpus = runCli(['bm25', '--index-dir', indexDir, '--corpus', corpus, fixture]);
  assert.equal(sameCorpus.status, 0, sameCorpus.stderr);
  assert.ok(sameCorpus.logs().some((l) => l.msg === 'reusing doc store: corpus fingerprint matches'));
  const replaced = runCli(['bm25', '--index-dir', indexDir, '--corpus', other, '--rebuild', '--with-ids', fixture]);
  assert.equal(replaced.status, 0, replaced.stderr);
  assert.ok(replaced.json().every((r) => r.hard_negatives_ids.every((id: string) => id.startsWith('x'))));

  // DataFlow style: an index built from one input's texts is not replaced by another input's.
  const dataflowDir = join(dir, 'dataflow-idx');
  assert.equal(runCli(['bm25', '--index-dir', dataflowDir, fixture]).status, 0);
  const half = join(dir, 'half.jsonl');
  writeFileSync(half, readFileSync(fixture, 'utf8').trimEnd().split('\n').slice(0, 20).join('\n') + '\n');
  assertRefused(dataflowDir, [half], /holds the index of another corpus/);
  // The same input again reuses it.
  const same = runCli(['bm25', '--index-dir', dataflowDir, fixture]);
  assert.equal(same.status, 0, same.stderr);
  assert.ok(same.logs().some((l) => l.msg === 'reusing doc store: corpus fingerprint matches'));
  assert.ok(!same.logs().some((l) => l.msg === 'creating a new index dir (it did not exist)'), 'an existing dir is not "new"');
});

// ---- Item: manifests are checksummed; every file carries its build's identity; old storage versions are refused.

test('a file copied in from another build of the same corpus (valid CRC) is refused: docs/texts.bin, docs/table.bin, bm25/postings.bin', () => {
  const first = corpusIndex(0);
  const second = corpusIndex(1);
  for (const file of ['docs/texts.bin', 'docs/table.bin', 'bm25/postings.bin', 'bm25/lengths.bin']) {
    const target = join(first.indexDir, file);
    const saved = readFileSync(target);
    copyFileSync(join(second.indexDir, file), target);
    const run = runCli(['bm25', '--index-dir', first.indexDir, fixture]);
    assert.equal(run.status, 3, `${file}: ${run.stderr}`);
    assert.match(run.stderr, /belongs to another index build/);
    assert.match(run.messages(), /hint: rebuild/);
    assert.equal(run.stdout, '');
    writeFileSync(target, saved);
  }
  assert.equal(runCli(['bm25', '--index-dir', first.indexDir, fixture]).status, 0, 'restored, it opens again');
});

test('a bm25/ part copied from another index dir (same corpus) is rebuilt over this doc store, and the log says why', () => {
  const first = corpusIndex(0);
  const second = corpusIndex(1);
  rmSync(join(first.indexDir, 'bm25'), { recursive: true });
  cpSync(join(second.indexDir, 'bm25'), join(first.indexDir, 'bm25'), { recursive: true });
  const run = runCli(['bm25', '--index-dir', first.indexDir, fixture]);
  assert.equal(run.status, 0, run.stderr);
  assert.ok(run.logs().some((l) => l.msg === 'building BM25 index' && l.reason === 'the doc store was rebuilt'), run.stderr);
});

test('files and manifests of the previous storage version are refused with "rebuild with ..."', () => {
  const { indexDir, corpus } = corpusIndex();
  // A container header of storage version 1 has 0 at byte 14 (and no build id).
  const texts = join(indexDir, 'docs', 'texts.bin');
  const bytes = readFileSync(texts);
  bytes.writeUInt16LE(0, 14);
  writeFileSync(texts, bytes);
  const run = runCli(['bm25', '--index-dir', indexDir, fixture]);
  assert.equal(run.status, 3, run.stderr);
  assert.match(run.stderr, /written by an older rare-mine \(storage version 1/);
  assert.match(run.messages(), /hint: rebuild the index: rare-mine index bm25 --corpus CORPUS --index-dir .* --rebuild/);

  // A manifest without checksum and storage version (as rare-mine wrote them before).
  const manifestPath = join(indexDir, 'bm25', 'manifest.json');
  const { checksum: _checksum, storage: _storage, ...old } = JSON.parse(readFileSync(manifestPath, 'utf8'));
  writeFileSync(manifestPath, JSON.stringify(old, null, 2));
  const rebuilt = runCli(['index', 'bm25', '--corpus', corpus, '--index-dir', indexDir, '--rebuild']);
  assert.equal(rebuilt.status, 0, rebuilt.stderr);
  writeFileSync(manifestPath, JSON.stringify(old, null, 2));
  const refused = runCli(['bm25', '--index-dir', indexDir, fixture]);
  assert.equal(refused.status, 3, refused.stderr);
  assert.match(refused.stderr, /bm25\/manifest.json: written by an older rare-mine \(storage version 1/);
});
