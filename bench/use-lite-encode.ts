/**
 * Encoding throughput of the built-in use-lite model (issue 6): passages/s of rare-mine's whole use-lite encode
 * path (Unigram tokenizer, batching, ONNX Runtime, L2 norm) on real passages, length-sorted batches vs input
 * order, for queries (short claims) and passages (abstracts, mostly over the 128-piece clip). One JSON object.
 * Usage: node dist/bench/use-lite-encode.js [--passages 1000] [--threads 1] [--data DIR]
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareUseLite } from '../src/models/use-lite/prepare-use-lite.js';
import { UseLiteEncoder } from '../src/models/use-lite/use-lite-encoder.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const flag = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const count = Number(flag('--passages', '1000'));
const threads = Number(flag('--threads', '1'));
const data = flag('--data', resolve(repoRoot, '..', 'shared', 'data', 'scifact'));
const read = (file: string) => readFileSync(join(data, file), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

const passages = read('corpus.jsonl').slice(0, count).map((d) => `${d.title} ${d.text}`);
const queries = read('queries.jsonl').slice(0, count).map((q) => q.text as string);
// Shuffle deterministically so input order is not accidentally sorted.
const shuffle = <T>(items: T[]) => items.map((item, i) => ({ item, key: (i * 2654435761) % 4294967296 })).sort((a, b) => a.key - b.key).map((x) => x.item);

const { dir } = await prepareUseLite();
const results: Record<string, unknown> = {};
for (const [kind, texts] of [['passages', shuffle(passages)], ['queries', shuffle(queries)]] as const) {
  for (const sortByLength of [true, false]) {
    const encoder = await UseLiteEncoder.open(dir, { threads, sortByLength });
    await encoder.embedDocuments(texts.slice(0, 32)); // warm-up
    const started = performance.now();
    await encoder.embedDocuments(texts);
    const seconds = (performance.now() - started) / 1000;
    results[`${kind}_${sortByLength ? 'sorted' : 'unsorted'}_per_second`] = Math.round(texts.length / seconds);
    await encoder.close();
  }
}
process.stdout.write(JSON.stringify({ model: 'use-lite', threads, texts: count, machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version }, date: new Date().toISOString(), ...results }, null, 2) + '\n');
