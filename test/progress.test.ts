/**
 * The one progress line: percentage, bar and ETA when the total is known, count and rate otherwise; drawn only on a
 * terminal and never under RARE_MINE_NO_PROGRESS; every long phase (corpus reading, indexing, embedding, mining,
 * downloading) draws through it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration, formatProgress, Progress, progressWanted } from '../src/terminal/progress.js';
import { repoRoot } from './helpers/shared-data.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writeTinyBertModelDir } from './helpers/tiny-models.js';
import { OnnxEmbedder } from '../src/embed/onnx-embedder.js';
import { CachedEmbedder } from '../src/embed/cached-embedder.js';

test('with a total: percentage, bar, amount, rate and ETA', () => {
  const line = formatProgress('embedding', { done: 250, total: 1000, unit: 'items', itemLabel: 'documents', elapsedSeconds: 10 });
  assert.equal(line, 'embedding [#####...............]  25% 250/1,000 documents · 25 documents/s · ETA 0:30');
  const bytes = formatProgress('mining', { done: 30e6, total: 120e6, unit: 'bytes', itemLabel: 'records', items: 4000, elapsedSeconds: 20 });
  assert.equal(bytes, 'mining [#####...............]  25% 30.0/120.0 MB · 4,000 records · 1.5 MB/s · 200 records/s · ETA 1:00');
  const small = formatProgress('mining', { done: 61_000, total: 122_000, unit: 'bytes', itemLabel: 'records', items: 400, elapsedSeconds: 1 });
  assert.match(small, /50% 61\.0\/122\.0 kB · 400 records · 61\.0 kB\/s/);
});

test('without a total: count and rate, no percentage', () => {
  const line = formatProgress('mining', { done: 5000, unit: 'items', itemLabel: 'records', elapsedSeconds: 4 });
  assert.equal(line, 'mining 5,000 records · 1,250 records/s · 0:04');
  assert.equal(formatDuration(3725), '1:02:05');
});

test('drawn only on a terminal and never under RARE_MINE_NO_PROGRESS or --log-format json; erased at the end', () => {
  assert.equal(progressWanted({ isTTY: true }, {}, 'pretty'), true);
  assert.equal(progressWanted({ isTTY: false }, {}, 'pretty'), false);
  assert.equal(progressWanted({ isTTY: true }, { RARE_MINE_NO_PROGRESS: '1' }, 'pretty'), false);
  assert.equal(progressWanted({ isTTY: true }, {}, 'json'), false, 'a progress line is not a JSON object');
  let clock = 0;
  const writes: string[] = [];
  const stream = { isTTY: true, write: (text: string) => writes.push(text) };
  const progress = new Progress('indexing BM25', { total: 10, itemLabel: 'documents', stream, env: {}, now: () => clock });
  for (let i = 0; i < 10; i++) {
    clock += 50;
    progress.tick();
  }
  progress.done();
  assert.ok(writes.length >= 4 && writes.length <= 7, `redrawn at most ten times a second: ${writes.length}`);
  assert.match(writes[writes.length - 2], /^\rindexing BM25 \[#+\.*\] +\d+% \d+\/10 documents/);
  assert.equal(writes[writes.length - 1], '\r\x1b[K');
  const silent: string[] = [];
  const quiet = new Progress('mining', { stream: { isTTY: true, write: (t: string) => silent.push(t) }, env: { RARE_MINE_NO_PROGRESS: '1' }, now: () => (clock += 1000) });
  quiet.tick(5);
  quiet.done();
  assert.deepEqual(silent, []);
});

test('one implementation: every long phase draws through src/terminal/progress.ts, none draws its own', () => {
  const users = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) users.set(path.slice(repoRoot.length + 1), readFileSync(path, 'utf8'));
    }
  };
  walk(join(repoRoot, 'src'));
  const drawing = [...users].filter(([path, text]) => path !== join('src', 'terminal', 'progress.ts') && /\\r[^\n]*\\x1b\[K|\\u001b\[K/.test(text));
  assert.deepEqual(drawing.map(([path]) => path), [], 'no other file draws a progress line');
  for (const [file, label] of [
    ['src/commands/mine.ts', "'mining'"],
    ['src/embed/hub-download.ts', '`downloading'],
  ]) {
    assert.ok(users.get(file)?.includes(`new Progress(${label}`), `${file} draws ${label} through Progress`);
  }
  // Index builds report through the reporter they are given (src/index/parts.ts); the CLI's draws with Progress.
  for (const label of ["'reading corpus'", "'indexing BM25'", "'embedding'"]) {
    assert.ok(users.get('src/index/index-dir.ts')?.includes(`progress(${label}`), `src/index/index-dir.ts reports ${label} through its ProgressReporter`);
  }
  assert.match(users.get('src/terminal/progress.ts') ?? '', /export function phaseProgress\([^)]*\): Progress \{\n\s*return new Progress\(label/);
  const drawsItself = [...users].filter(([path, text]) => /^src\/(index|dense|corpus|bm25|vector)\//.test(path) && /from '\.\.\/(cli|terminal)\//.test(text));
  assert.deepEqual(drawsItself.map(([path]) => path), [], 'index parts import no progress line: progress is passed in');
});

test('embedding moves the progress line per model batch, and cached texts count at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-embed-progress-'));
  const modelDir = join(dir, 'model');
  await writeTinyBertModelDir(modelDir, { seed: 3 });
  const texts = Array.from({ length: 10 }, (_, i) => `document number ${i} about topic ${i % 3}`);
  const steps: number[] = [];
  const cached = new CachedEmbedder(OnnxEmbedder.open(modelDir, { threads: 1, batchSize: 4 }), { cacheDir: join(dir, 'cache') });
  await cached.embedDocuments([...texts, texts[0]], (done) => steps.push(done));
  assert.deepEqual(steps, [0, 4, 4, 2, 1], 'nothing cached, three model batches, then the repeated text');
  const again: number[] = [];
  await cached.embedDocuments(texts, (done) => again.push(done));
  assert.deepEqual(again, [10], 'every text cached: done at once');
  await cached.close();
});
