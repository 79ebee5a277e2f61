/**
 * `--onnx-file` and `--revision` on the command line: the ONNX file asked for is the one run and is recorded in
 * the vector index manifest; a missing one is a model error before any index is built; `--revision` on a local
 * directory (which has no revisions) is refused rather than ignored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBertModelDir } from './helpers/tiny-models.js';
import { runCli } from './helpers/cli.js';
import { repoRoot } from './helpers/shared-data.js';

const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');

test('--onnx-file is used and recorded in the manifest; a missing one fails before the doc store; --revision on a directory is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-onnx-file-'));
  const model = join(dir, 'tiny-bert');
  await writeTinyBertModelDir(model, { seed: 9 });
  copyFileSync(join(model, 'onnx', 'model.onnx'), join(model, 'onnx', 'model_quantized.onnx'));
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(corpus, readFileSync(fixture, 'utf8').trimEnd().split('\n').map((l, i) => JSON.stringify({ _id: `d${i}`, text: JSON.parse(l).text })).join('\n') + '\n');
  const env = { RARE_MINE_CACHE_DIR: join(dir, 'cache') };

  const built = runCli(['index', 'dense', '--model', model, '--onnx-file', 'onnx/model_quantized.onnx', '--corpus', corpus, '--index-dir', join(dir, 'idx')], { env });
  assert.equal(built.status, 0, built.stderr);
  const denseDir = join(dir, 'idx', 'dense');
  const [indexName] = readdirSync(denseDir);
  const manifest = JSON.parse(readFileSync(join(denseDir, indexName, 'manifest.json'), 'utf8'));
  assert.equal(manifest.model.onnxFile, 'onnx/model_quantized.onnx');
  assert.ok(built.logs().some((l) => l.msg === 'model' && l.onnxFile === 'onnx/model_quantized.onnx'));

  const missing = runCli(['dense', '--model', model, '--onnx-file', 'onnx/model_int8.onnx', '--corpus', corpus, '--index-dir', join(dir, 'idx2'), fixture], { env });
  assert.equal(missing.status, 4, missing.stderr);
  assert.match(missing.stderr, /model_int8\.onnx/);
  assert.ok(!existsSync(join(dir, 'idx2', 'docs')), 'no doc store built before the model failed');

  const revision = runCli(['dense', '--model', model, '--revision', 'v2', '--corpus', corpus, '--index-dir', join(dir, 'idx3'), fixture], { env });
  assert.equal(revision.status, 2, revision.stderr);
  assert.match(revision.stderr, /--revision v2 applies to hub models/);
});
