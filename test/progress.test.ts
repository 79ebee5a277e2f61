/**
 * The one progress line: percentage, bar and ETA when the total is known, count and rate otherwise; drawn only on a
 * terminal and never under RARE_MINE_NO_PROGRESS; every long phase (corpus reading, indexing, embedding, mining,
 * downloading) draws through it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration, formatProgress, Progress, progressWanted } from '../src/terminal/progress.js';
import { repoRoot } from './helpers/shared-data.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writeTinyBertModelDir } from './helpers/tiny-models.js';
import { OnnxEmbedder } from '../src/embed/onnx-embedder.js';
import { CachedEmbedder } from '../src/embed/cached-embedder.js';
import { corpusFileSource, type CorpusSource } from '../src/corpus/corpus-source.js';
import { RejectPolicy } from '../src/io/jsonl.js';
import { ensureDocStore } from '../src/corpus/doc-store-part.js';
import type { ProgressReporter } from '../src/index/parts.js';
import { resolveCorpusSource } from '../src/run/resolve-corpus-source.js';

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
    ['src/run/mine-stream.ts', "'mining'"],
    ['src/embed/hub-download.ts', '`downloading'],
  ]) {
    assert.ok(users.get(file)?.includes(`new Progress(${label}`), `${file} draws ${label} through Progress`);
  }
  // Index builds report through the reporter they are given (src/index/parts.ts); the CLI's draws with Progress.
  for (const [file, label] of [
    ['src/corpus/doc-store-part.ts', "'reading corpus'"],
    ['src/bm25/bm25-part.ts', "'indexing BM25'"],
    ['src/dense/dense-part.ts', "'embedding'"],
  ]) {
    assert.ok(users.get(file)?.includes(`progress(${label}`), `${file} reports ${label} through its ProgressReporter`);
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

/** Build a doc store from `source`, drawing its phases on a fake terminal; what the reporter was told, and the lines. */
async function readingPhases(source: CorpusSource, indexDir: string) {
  const phases: { label: string; total?: number; itemLabel: string; unit?: string; bytes: (number | undefined)[] }[] = [];
  const lines: string[] = [];
  let clock = 0;
  const reporter: ProgressReporter = (label, total, itemLabel, unit) => {
    const phase = { label, total, itemLabel, unit, bytes: [] as (number | undefined)[] };
    phases.push(phase);
    const line = new Progress(label, { total, itemLabel, unit, stream: { isTTY: true, write: (text: string) => lines.push(text) }, env: {}, now: () => clock });
    return {
      tick: (count?: number, bytesDone?: number) => {
        phase.bytes.push(bytesDone);
        clock += 250;
        line.tick(count, bytesDone);
      },
      done: () => line.done(),
    };
  };
  await ensureDocStore(indexDir, source, { rebuild: false, rebuildHint: 'rebuild', progress: reporter });
  return { phases, lines };
}

test('reading a corpus of known size: the line shows a percentage and an ETA by bytes read (JSONL, JSON array, DataFlow input)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-reading-progress-'));
  const docs = Array.from({ length: 40 }, (_, i) => ({ _id: `d${i}`, title: '', text: `document ${i} ${'word '.repeat(i + 1)}é` }));
  const jsonl = join(dir, 'corpus.jsonl');
  writeFileSync(jsonl, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const json = join(dir, 'corpus.json');
  writeFileSync(json, '[\n' + docs.map((d) => JSON.stringify(d)).join(',\n') + '\n]\n');
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, docs.map((d) => JSON.stringify({ question: `q ${d._id}`, text: d.text })).join('\n') + '\n');
  const keys = { idKey: '_id', textKey: 'text', titleKey: 'title' };
  const sources: [string, CorpusSource, number][] = [
    ['jsonl', await corpusFileSource(jsonl, keys, new RejectPolicy('fail')), 0],
    ['json', await corpusFileSource(json, keys, new RejectPolicy('fail')), '\n]\n'.length],
    ['dataflow', (await resolveCorpusSource({ corpusIdKey: '_id', corpusTextKey: 'text', corpusTitleKey: 'title', rebuild: false, textKey: 'text' }, input, new RejectPolicy('fail')))!, 0],
  ];
  for (const [name, source, tail] of sources) {
    const size = statSync(name === 'jsonl' ? jsonl : name === 'json' ? json : input).size;
    const { phases, lines } = await readingPhases(source, join(dir, `idx-${name}`));
    assert.deepEqual(phases.map((p) => [p.label, p.total, p.itemLabel, p.unit]), [['reading corpus', size, 'documents', 'bytes']], `${name}: the total is the file's size in bytes`);
    const bytes = phases[0].bytes;
    assert.equal(bytes.length, docs.length, `${name}: one tick a document`);
    assert.ok(bytes.every((b, i) => b !== undefined && b > 0 && (i === 0 || b > bytes[i - 1]!)), `${name}: bytes read only grow: ${bytes.join(',')}`);
    assert.equal(bytes[bytes.length - 1], size - tail, `${name}: the last document ends where the file's records end`);
    const drawn = lines.filter((l) => l.startsWith('\rreading corpus'));
    assert.ok(drawn.length > 0, `${name}: drawn on the terminal`);
    assert.match(drawn[drawn.length - 1], /^\rreading corpus \[#+\.*\] +\d+% [\d.]+\/[\d.]+ kB · \d+ documents · [\d.]+ kB\/s · \d+ documents\/s · ETA \d+:\d\d/, `${name}: ${drawn[drawn.length - 1]}`);
  }
  // A source of unknown size (a library caller's iterable) still shows a count and a rate.
  const unsized: CorpusSource = { description: 'two documents', fingerprint: 'two', async *documents() { yield { id: 'a', title: '', text: 'alpha' }; yield { id: 'b', title: '', text: 'beta' }; } };
  const { phases, lines } = await readingPhases(unsized, join(dir, 'idx-unsized'));
  assert.deepEqual(phases.map((p) => [p.label, p.total, p.unit]), [['reading corpus', undefined, undefined]]);
  assert.match(lines.find((l) => l.startsWith('\rreading corpus')) ?? '', /^\rreading corpus \d+ documents · \d+ documents\/s · \d+:\d\d/);
});
