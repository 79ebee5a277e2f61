/**
 * Issue 25, item 4: native modules are loaded only by the commands that need them. onnxruntime (the models) and
 * usearch (the vector index) are imported where a dense retriever, a re-scoring model or a device probe opens
 * (src/retrievers/dense-open.ts, src/run/open-run.ts, src/embed/device.ts), so BM25 commands, stats, --help and the
 * rest load none: a preload that records every `process.dlopen` shows it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliPath, repoRoot } from '../helpers/shared-data.js';

const probe = fileURLToPath(new URL('../helpers/dlopen-probe.js', import.meta.url));

function addonsOf(args: string[]): { status: number | null; addons: string[]; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', probe, ...args], { encoding: 'utf8', env: { ...process.env, RARE_MINE_NO_PROGRESS: '1' }, timeout: 120_000 });
  const addons = result.stderr.split('\n').filter((line) => line.startsWith('native-addon: ')).map((line) => line.slice('native-addon: '.length));
  return { status: result.status, addons, stderr: result.stderr };
}

test('the probe sees a native addon load (onnxruntime imported by hand)', () => {
  const seen = addonsOf(['--input-type=module', '-e', "await import('onnxruntime-node')"]);
  assert.equal(seen.status, 0, seen.stderr);
  assert.ok(seen.addons.some((path) => path.includes('onnxruntime')), seen.stderr);
});

test('bm25 mining, index bm25, stats and --help load no onnxruntime and no usearch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-native-'));
  try {
    const corpus = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');
    const out = join(dir, 'out.jsonl');
    const runs: string[][] = [
      ['--help'],
      ['bm25', '--help'],
      ['bm25', corpus, '-o', out, '--with-scores'],
      ['index', 'bm25', '--corpus', corpus, '--index-dir', join(dir, 'index')],
      ['stats', out],
    ];
    for (const args of runs) {
      const run = addonsOf([cliPath, ...args]);
      assert.equal(run.status, 0, `${args.join(' ')}: ${run.stderr}`);
      assert.deepEqual(run.addons.filter((path) => /onnxruntime|usearch/.test(path)), [], `rare-mine ${args.join(' ')} loaded native modules it does not use`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
