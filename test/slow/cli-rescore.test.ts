/**
 * --rescore-model end to end with a generated tiny cross-encoder (random weights: this checks mechanics, not
 * quality): the negatives' and positives' scores are the cross-encoder's, filters apply to them, and the loading
 * path is the one real models take (Hugging Face layout, ONNX).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyCrossEncoderModelDir } from '../helpers/tiny-models.js';
import { CrossEncoder } from '../../src/rescore/cross-encoder.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared-data.js';

const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');

test('cross-encoder scores do not depend on the batch, and long pairs are truncated to maxLength', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-ce-'));
  await writeTinyCrossEncoderModelDir(dir, { seed: 3 });
  const encoder = await CrossEncoder.open(dir, { maxLength: 64, threads: 1 });
  const passages = ['cats eat fish', 'the stock market fell sharply today in early trading', 'word '.repeat(500)];
  const together = await encoder.score('what do cats eat', passages);
  for (let i = 0; i < passages.length; i++) {
    const [alone] = await encoder.score('what do cats eat', [passages[i]]);
    assert.ok(Math.abs(alone - together[i]) < 1e-5, `pair ${i}: ${alone} vs ${together[i]}`);
  }
  assert.ok(together.every(Number.isFinite));
  await encoder.close();
});

test('bm25 --rescore-model: scores come from the cross-encoder and the ratio filter applies to them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-ce-'));
  await writeTinyCrossEncoderModelDir(dir, { seed: 3 });
  const plain = runCli(['bm25', '--with-scores', '--fill', 'none', fixture]);
  const rescored = runCli(['bm25', '--with-scores', '--fill', 'none', '--rescore-model', dir, fixture]);
  assert.equal(rescored.status, 0, rescored.stderr);
  assert.ok(rescored.logs().some((l) => l.msg === 'rescoring with a cross-encoder'));
  const a = plain.json();
  const b = rescored.json();
  assert.equal(b.length, a.length);
  assert.notDeepEqual(b.map((r) => r.hard_negatives_scores), a.map((r) => r.hard_negatives_scores));
  assert.ok(b.every((r) => r.hard_negatives_positive_scores.length === 1));
  const filtered = runCli(['bm25', '--with-scores', '--fill', 'none', '--rescore-model', dir, '--max-score-ratio', '0.9', fixture]);
  assert.equal(filtered.status, 0, filtered.stderr);
  const summary = filtered.logs().find((l) => l.msg === 'summary');
  assert.ok(summary.excluded.max_score_ratio > 0);
  for (const record of filtered.json()) {
    const reference = Math.min(...record.hard_negatives_positive_scores);
    const threshold = reference - 0.1 * Math.abs(reference);
    for (const score of record.hard_negatives_scores) assert.ok(score <= threshold + 1e-9);
  }
  const missing = runCli(['bm25', '--rescore-model', join(dir, 'nope'), fixture]);
  assert.equal(missing.status, 4);
  assert.match(missing.stderr, /no such directory/);
});
