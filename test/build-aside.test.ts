/**
 * Building a part aside and renaming it into place (src/storage/build-aside.ts), the one way every part of an
 * index dir — doc store, BM25, dense — is written: the old part stays whole until the new one is complete, a failed
 * build leaves nothing behind, and what a killed build leaves is swept by the next holder of the build lock,
 * dense indexes included (they were built in `<dir>.partial-<pid>` before, which the sweep did not know).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAside, LEFTOVER_PATTERN } from '../src/storage/build-aside.js';
import { removeBuildLeftovers } from '../src/index/build-lock.js';
import { docStoreDir } from '../src/corpus/doc-store-part.js';
import { BM25_PART } from '../src/bm25/bm25-part.js';
import { denseDir } from '../src/dense/dense-part.js';
import { INDEX_PARTS } from '../src/retrievers/index-parts.js';
import type { Precision } from '../src/vector/precision.js';

/** Where each part lives in the index dir `root`, as the part modules place them. */
function indexLayout(root: string) {
  return { root, docs: docStoreDir(root), bm25: join(root, BM25_PART.folder), dense: (model: string, precision: Precision) => denseDir(root, model, precision) };
}


process.env.RARE_MINE_LOG_LEVEL ??= 'silent';
const root = mkdtempSync(join(tmpdir(), 'rare-mine-build-aside-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('a part is built in <dir>.building-<pid> and replaces the old one only when complete', async () => {
  const part = join(root, 'replace', 'bm25');
  mkdirSync(part, { recursive: true });
  writeFileSync(join(part, 'old.bin'), 'old');
  let seenAside = '';
  const result = await buildAside(part, (aside) => {
    seenAside = aside;
    assert.equal(aside, `${part}.building-${process.pid}`);
    assert.deepEqual(readdirSync(aside), [], 'an empty folder to build in');
    assert.equal(readFileSync(join(part, 'old.bin'), 'utf8'), 'old', 'the old part is whole while the new one is built');
    writeFileSync(join(aside, 'new.bin'), 'new');
    return 42;
  });
  assert.equal(result, 42);
  assert.deepEqual(readdirSync(part), ['new.bin']);
  assert.equal(existsSync(seenAside), false);
  assert.deepEqual(readdirSync(join(root, 'replace')), ['bm25'], 'no .building- or .old- folder left');
});

test('a failed build removes its aside folder and leaves the old part as it was', async () => {
  const part = join(root, 'fail', 'docs');
  mkdirSync(part, { recursive: true });
  writeFileSync(join(part, 'texts.bin'), 'kept');
  await assert.rejects(
    buildAside(part, async (aside) => {
      writeFileSync(join(aside, 'texts.bin'), 'half');
      throw new Error('the corpus has a bad line');
    }),
    /the corpus has a bad line/,
  );
  assert.equal(readFileSync(join(part, 'texts.bin'), 'utf8'), 'kept');
  assert.deepEqual(readdirSync(join(root, 'fail')), ['docs']);
});

test('what a killed build leaves, beside any part (dense ones too), matches the sweep and is removed', () => {
  const layout = indexLayout(join(root, 'killed'));
  const leftovers = [`${layout.docs}.building-123`, `${layout.bm25}.old-456`, `${layout.dense('org/model', 'f32')}.building-789`];
  for (const dir of leftovers) {
    assert.match(dir, LEFTOVER_PATTERN);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'half.bin'), 'half');
  }
  mkdirSync(layout.dense('org/model', 'f32'), { recursive: true });
  removeBuildLeftovers(layout.root, INDEX_PARTS);
  for (const dir of leftovers) assert.equal(existsSync(dir), false, `${dir} removed`);
  assert.ok(existsSync(layout.dense('org/model', 'f32')), 'the part itself stays');
});
