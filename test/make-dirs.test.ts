import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeDirs } from '../src/io/make-dirs.js';
import { repoRoot } from './helpers/shared-data.js';

test('makeDirs creates missing parents, accepts an existing dir, and fails plainly under a file', () => {
  const root = mkdtempSync(join(tmpdir(), 'rare-mine-make-dirs-'));
  try {
    const deep = join(root, 'a', 'b', 'c');
    makeDirs(deep);
    assert.ok(statSync(deep).isDirectory());
    makeDirs(deep);
    writeFileSync(join(root, 'file'), 'x');
    assert.throws(() => makeDirs(join(root, 'file', 'd')), (error: NodeJS.ErrnoException) => error.code === 'ENOTDIR');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--index-dir under /proc is a plain error at once (Node\'s recursive mkdirSync spins there for ever)', { skip: existsSync('/proc/self') ? false : 'no /proc on this system' }, () => {
  const input = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');
  const run = spawnSync(process.execPath, [join(repoRoot, 'bin', 'rare-mine.js'), 'bm25', '--index-dir', '/proc/rare-mine-x/y', input], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /\/proc\/rare-mine-x.*ENOENT/);
  assert.equal(run.stdout, '');
});
