/**
 * A long dense build survives SIGKILL: every embedded document is in the embedding cache (append-only, whole records
 * only) the moment it is embedded, so a rerun after a kill embeds only what the killed run had not, and ends with
 * the same vectors, row for row and bit for bit, as a build that was never interrupted (blocks of documents are the
 * same blocks, whatever was cached). The killed build's aside folder is removed by the rerun.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBertModelDir } from '../helpers/tiny-models.js';
import { runCli } from '../helpers/cli.js';
import { cliPath } from '../helpers/shared-data.js';

const DOCS = 6000;
const words = ['kernel', 'memory', 'page', 'cache', 'lock', 'spin', 'driver', 'block', 'device', 'network', 'queue', 'timer', 'thread', 'signal', 'file', 'inode'];

/** The dense index folder's float32 rows (vectors.bin without its header). */
function rowsOf(indexDir: string): Buffer {
  const denseRoot = join(indexDir, 'dense');
  const [part] = readdirSync(denseRoot).filter((name) => !name.startsWith('.'));
  const bytes = readFileSync(join(denseRoot, part, 'vectors.bin'));
  const rowBytes = 4 * 32; // the tiny model's 32 dims
  return bytes.subarray(bytes.length - DOCS * rowBytes);
}

function cacheVectorBytes(cacheRoot: string): number {
  const root = join(cacheRoot, 'embeddings');
  if (!existsSync(root)) return 0;
  return readdirSync(root).reduce((sum, dir) => {
    const file = join(root, dir, 'vectors.bin');
    return sum + (existsSync(file) ? statSync(file).size : 0);
  }, 0);
}

test('index dense killed with SIGKILL mid-embedding: the rerun continues from the cache and ends with the same vectors', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rare-mine-dense-kill-'));
  try {
    const model = join(root, 'tiny-bert');
    await writeTinyBertModelDir(model, { seed: 9, pooling: 'mean', hiddenSize: 32 });
    const corpus = join(root, 'corpus.jsonl');
    writeFileSync(
      corpus,
      Array.from({ length: DOCS }, (_, i) => JSON.stringify({ _id: `d${i}`, text: Array.from({ length: 8 + (i % 40) }, (_, w) => words[(i * 7 + w * 3) % words.length]).join(' ') + ` ${i}` })).join('\n') + '\n',
    );
    const build = (indexDir: string) => ['index', 'dense', '--model', model, '--corpus', corpus, '--index-dir', indexDir, '--threads', '1'];

    // The reference: one uninterrupted build with a cache of its own.
    const whole = runCli(build(join(root, 'whole')), { env: { RARE_MINE_CACHE_DIR: join(root, 'cache-a') } });
    assert.equal(whole.status, 0, whole.stderr);

    // The same build, killed once a third of the documents are in its cache.
    const cacheB = join(root, 'cache-b');
    const child = spawn(process.execPath, [cliPath, ...build(join(root, 'killed'))], { env: { ...process.env, RARE_MINE_CACHE_DIR: cacheB, RARE_MINE_NO_PROGRESS: '1' }, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const started = Date.now();
    let killedAt = 0;
    while (Date.now() - started < 120_000) {
      killedAt = cacheVectorBytes(cacheB);
      if (killedAt > (DOCS / 3) * 4 * 32) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL', 'the build was still running when killed');
    assert.ok(killedAt > 0, 'documents were embedded before the kill');

    const rerun = runCli(build(join(root, 'killed')), { env: { RARE_MINE_CACHE_DIR: cacheB } });
    assert.equal(rerun.status, 0, rerun.stderr);
    const cacheLog = rerun.logs().find((l) => typeof l.msg === 'string' && l.msg.startsWith('embedding cache'));
    assert.ok(cacheLog, rerun.stderr);
    assert.ok(cacheLog.hits > 0 && cacheLog.hits < DOCS, `the rerun took the killed run's documents from the cache (${JSON.stringify(cacheLog)})`);
    assert.equal(cacheLog.hits + cacheLog.misses, DOCS);
    assert.ok(rowsOf(join(root, 'killed')).equals(rowsOf(join(root, 'whole'))), 'the same vectors as the uninterrupted build');
    assert.deepEqual(
      readdirSync(join(root, 'killed', 'dense')).filter((name) => name.startsWith('.')),
      [],
      'the killed build left nothing behind after the rerun',
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
