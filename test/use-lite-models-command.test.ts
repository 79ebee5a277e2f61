import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../src/errors.js';
import { modelsList, modelsPrepare, preparableModelNames } from '../src/commands/models.js';
import { listLocalModels } from '../src/models/registry.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'rare-mine-models-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Collects what a command writes to its output. */
function capture(): { out: { write(text: string): boolean }; text: () => string } {
  let written = '';
  return {
    out: {
      write(text: string) {
        written += text;
        return true;
      },
    },
    text: () => written,
  };
}

test('models list shows use-lite (before and after prepare) and ONNX dirs in both caches', async () => {
  const cacheRoot = join(root, 'cache');
  const hubCache = join(root, 'hub');
  const env = { RARE_MINE_CACHE_DIR: cacheRoot, HF_HUB_CACHE: hubCache };

  const snapshot = join(hubCache, 'models--org--tiny-model', 'snapshots', 'abcdef0123456789');
  await mkdir(join(snapshot, 'onnx'), { recursive: true });
  await writeFile(join(snapshot, 'onnx', 'model.onnx'), 'stand-in bytes: listing does not load models');
  await writeFile(join(snapshot, 'tokenizer.json'), '{}');
  const ownDir = join(cacheRoot, 'models', 'my-exported-model');
  await mkdir(ownDir, { recursive: true });
  await writeFile(join(ownDir, 'model.onnx'), 'stand-in');

  const before = listLocalModels({ env });
  assert.deepEqual(
    before.map((m) => [m.name, m.kind, m.ready]),
    [
      ['use-lite', 'built-in', false],
      [ownDir, 'onnx-dir', false], // no tokenizer.json
      ['org/tiny-model', 'onnx-dir', true],
    ],
  );
  assert.equal(before[0]!.path, join(cacheRoot, 'models', 'use-lite'));
  assert.equal(before[2]!.path, snapshot);

  const prepared = capture();
  await modelsPrepare('use-lite', { cacheDir: cacheRoot, out: prepared.out });
  assert.equal(prepared.text(), `use-lite\t${join(cacheRoot, 'models', 'use-lite')}\tconverted\n`);
  const again = capture();
  await modelsPrepare('use-lite', { cacheDir: cacheRoot, json: true, out: again.out });
  assert.deepEqual(JSON.parse(again.text()), { name: 'use-lite', dir: join(cacheRoot, 'models', 'use-lite'), converted: false });

  const listed = capture();
  await modelsList({ env, json: true, out: listed.out });
  const rows = listed.text().trimEnd().split('\n').map((line) => JSON.parse(line) as { name: string; ready: boolean; note: string });
  assert.equal(rows.length, 3);
  assert.equal(rows[0]!.name, 'use-lite');
  assert.equal(rows[0]!.ready, true);
  assert.match(rows[0]!.note, /@energetic-ai\/model-embeddings-en@0\.2\.0; 512 dims, first 128 pieces/);

  const table = capture();
  await modelsList({ env, out: table.out });
  const lines = table.text().trimEnd().split('\n');
  assert.match(lines[0]!, /^NAME\s+READY\s+KIND\s+PATH\s+NOTE$/);
  assert.match(lines[1]!, /^use-lite\s+yes\s+built-in\s+/);
});

test('models prepare refuses an unknown name and lists the valid ones', async () => {
  assert.deepEqual(preparableModelNames(), ['use-lite']);
  await assert.rejects(modelsPrepare('bert-large', { cacheDir: join(root, 'unused') }), (error: unknown) => {
    return error instanceof UsageError && error.hint === 'models that can be prepared: use-lite';
  });
});
