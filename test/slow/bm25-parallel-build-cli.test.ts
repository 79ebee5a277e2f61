/**
 * `index bm25 --threads N` builds on N threads (src/bm25/build-pool.ts) and writes the payloads of a `--threads 1`
 * build (the container headers differ by their build ids); `--threads 0` is a usage error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEADER_BYTES } from '../../src/storage/container.js';
import { seededRandom } from '../../src/seeded-random.js';
import { runCli } from '../helpers/cli.js';

test('index bm25 --threads 2 writes the bytes of --threads 1', () => {
  const root = mkdtempSync(join(tmpdir(), 'rare-mine-parallel-build-cli-'));
  try {
    const random = seededRandom(26, 1);
    const vocabulary = Array.from({ length: 2000 }, (_, i) => `v${i.toString(36)}z`);
    const lines = Array.from({ length: 3500 }, (_, i) => {
      const words = Array.from({ length: 3 + Math.floor(random() * 30) }, () => vocabulary[Math.floor(random() ** 2 * vocabulary.length)]);
      if (i % 3 === 0) words.push(`only${i}`);
      return JSON.stringify({ _id: `d${i}`, title: i % 4 === 0 ? `heading ${i % 9}` : '', text: words.join(' ') });
    });
    const corpus = join(root, 'corpus.jsonl');
    writeFileSync(corpus, lines.join('\n') + '\n');
    const built = (threads: string) => {
      const run = runCli(['index', 'bm25', '--corpus', corpus, '--index-dir', join(root, `t${threads}`), '--threads', threads]);
      assert.equal(run.status, 0, run.stderr);
    };
    built('1');
    built('2');
    for (const file of ['terms.bin', 'postings.bin', 'lengths.bin', 'bounds.bin', 'impacts.bin']) {
      const payload = (threads: string) => readFileSync(join(root, `t${threads}`, 'bm25', file)).subarray(HEADER_BYTES);
      assert.ok(payload('2').equals(payload('1')), `${file} identical`);
    }
    const bad = runCli(['index', 'bm25', '--corpus', corpus, '--index-dir', join(root, 'bad'), '--threads', '0']);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.messages(), /--threads/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
