/**
 * Issue 25, item 4: the BM25 merge opens a bounded number of sorted runs (src/bm25/posting-runs.ts): with more runs
 * than the fan-in, groups are merged first, level by level, into the same postings a one-step merge reads; the
 * fan-in stays within a quarter of the open-file limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeFanIn, MAX_MERGE_FAN_IN, reduceRuns, RunReader, writeRun } from '../src/bm25/posting-runs.js';

/** Every (term, doc, tf) of `paths` read term by term, groups in run order: what the final merge sees. */
function mergedPostings(paths: readonly string[], termCount: number): number[] {
  const readers = paths.map((path) => new RunReader(path));
  const out: number[] = [];
  for (let t = 0; t < termCount; t++) {
    for (const reader of readers) {
      if (reader.term !== t) continue;
      for (; reader.remaining > 0; reader.remaining--) out.push(t, reader.next(), reader.next());
      reader.nextGroup();
    }
  }
  for (const reader of readers) reader.close(false);
  return out;
}

test('runs beyond the fan-in are merged level by level into the postings a one-step merge reads, and removed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-runs-'));
  try {
    const termCount = 50;
    const paths: string[] = [];
    let doc = 0;
    for (let r = 0; r < 23; r++) {
      const count = 40 + r;
      const terms = new Uint32Array(count);
      const docs = new Uint32Array(count);
      const tfs = new Uint32Array(count);
      for (let i = 0; i < count; i++) {
        terms[i] = (i * 7 + r * 3) % termCount;
        docs[i] = doc + Math.floor(i / 3);
        tfs[i] = 1 + ((i + r) % 4);
      }
      doc += Math.ceil(count / 3);
      const path = join(dir, `run-${r}.tmp`);
      writeRun(path, termCount, [terms], [docs], [tfs]);
      paths.push(path);
    }
    const expected = mergedPostings(paths, termCount);
    const reduced = reduceRuns(paths, 3);
    assert.ok(reduced.length <= 3, `${reduced.length} runs left`);
    assert.deepEqual(mergedPostings(reduced, termCount), expected);
    assert.deepEqual(readdirSync(dir).sort(), reduced.map((p) => p.slice(dir.length + 1)).sort(), 'the merged runs are removed');
    assert.deepEqual(reduceRuns(reduced, 3), reduced, 'few enough runs are left as they are');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the fan-in: 64 at most, a quarter of the open-file limit, at least 2', () => {
  assert.equal(mergeFanIn(undefined), MAX_MERGE_FAN_IN);
  assert.equal(mergeFanIn(1_048_576), 64);
  assert.equal(mergeFanIn(64), 16);
  assert.equal(mergeFanIn(5), 2);
});
