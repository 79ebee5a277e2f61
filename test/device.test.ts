/**
 * --device: a device that cannot run here is refused before any work with exit 4 (no silent CPU fall back). This
 * machine has no WebGPU adapter (no Vulkan driver Dawn accepts), so `--device webgpu` must end with exit 4, naming
 * the device and the reason, having written no record; on a machine with an adapter the run must succeed instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { probeDevice } from '../src/embed/device.js';
import { ModelError } from '../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'rare-mine-device-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('--device webgpu without an adapter: exit 4 before any index is built', async (t) => {
  const usable = await probeDevice('webgpu').then(
    () => true,
    (error) => {
      assert.ok(error instanceof ModelError, String(error));
      return false;
    },
  );
  const indexDir = join(root, 'idx');
  const result = runCli(['dense', '--model', 'use-lite', '--device', 'webgpu', '--index-dir', indexDir, '--num-neg', '1', 'fixtures/dataflow-scifact-40.jsonl'], {
    env: { RARE_MINE_CACHE_DIR: join(root, 'cache') },
  });
  if (usable) {
    assert.equal(result.status, 0, result.stderr);
    t.diagnostic('a WebGPU adapter exists here: the run went through on it');
    return;
  }
  assert.equal(result.status, 4, result.stderr);
  assert.match(result.stderr, /--device webgpu: onnxruntime cannot run a model on it here: .*adapter/);
  assert.equal(result.stdout, '');
  assert.ok(!existsSync(join(indexDir, 'docs')), 'no doc store was built');
});

test('--device takes cpu or webgpu only', () => {
  const result = runCli(['dense', '--model', 'use-lite', '--device', 'cuda', 'fixtures/dataflow-scifact-40.jsonl']);
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /--device/);
});
