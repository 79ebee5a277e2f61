/**
 * Index integrity: a truncated, corrupted or other-version index file is an IndexError (exit 3) that says to
 * rebuild — never wrong results; two processes building the same --index-dir at once leave one valid index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, truncateSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { cliPath, repoRoot } from './helpers/shared-data.js';

const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');

let pristine: { indexDir: string; reference: string } | undefined;

/** A fresh copy of one index built through the CLI (built once: each case damages its own copy). */
function builtIndex(): { dir: string; indexDir: string; reference: string } {
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

const damages: Array<[string, (path: string) => void, RegExp]> = [
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
      const bytes = readFileSync(path);
      bytes.writeUInt16LE(99, 12);
      writeFileSync(path, bytes);
    },
    /header checksum mismatch|format version 99/,
  ],
  ['not an index file', (path) => writeFileSync(path, 'hello world, this is not an index at all!'), /bad magic/],
];

for (const file of ['bm25/postings.bin', 'bm25/terms.bin', 'docs/texts.bin', 'docs/table.bin']) {
  for (const [name, damage, message] of damages) {
    test(`${file} ${name}: error with a rebuild hint, exit 3`, () => {
      const { indexDir } = builtIndex();
      damage(join(indexDir, file));
      const run = runCli(['bm25', '--index-dir', indexDir, fixture]);
      assert.equal(run.status, 3, run.stderr);
      assert.match(run.stderr, message);
      assert.match(run.stderr, /hint: rebuild/);
      assert.equal(run.stdout, '', 'no results from a damaged index');
    });
  }
}

test('an index of another format version (manifest) is refused with a rebuild hint; --rebuild repairs it', () => {
  const { indexDir, reference } = builtIndex();
  const manifestPath = join(indexDir, 'bm25', 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  writeFileSync(manifestPath, JSON.stringify({ ...manifest, version: 0 }));
  const run = runCli(['bm25', '--index-dir', indexDir, fixture]);
  assert.equal(run.status, 3);
  assert.match(run.stderr, /format 0 is not readable/);
  const rebuilt = runCli(['bm25', '--index-dir', indexDir, '--rebuild', fixture]);
  assert.equal(rebuilt.status, 0, rebuilt.stderr);
  assert.equal(rebuilt.stdout, reference);
});

test('two processes building the same --index-dir at once: both succeed, one valid index', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-concurrent-'));
  const indexDir = join(dir, 'idx');
  const big = join(dir, 'big.jsonl');
  const lines = readFileSync(fixture, 'utf8').trimEnd().split('\n');
  writeFileSync(big, Array.from({ length: 200 }, (_, c) => lines.map((l) => { const r = JSON.parse(l); return JSON.stringify({ question: r.question, text: `${r.text} (${c})` }); }).join('\n')).join('\n') + '\n');
  const start = () =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [cliPath, 'bm25', '--index-dir', indexDir, '--log-level', 'warn', big]);
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.on('exit', (code) => resolve({ code, stdout }));
    });
  const [a, b] = await Promise.all([start(), start()]);
  assert.equal(a.code, 0);
  assert.equal(b.code, 0);
  assert.equal(a.stdout, b.stdout);
  assert.deepEqual(readdirSync(indexDir).sort(), ['bm25', 'docs']);
  const again = runCli(['bm25', '--index-dir', indexDir, big]);
  assert.ok(again.logs().some((l) => l.msg === 'reusing BM25 index: corpus and settings match'));
  assert.equal(again.stdout, a.stdout);
});
