/**
 * Encode-path benchmark (issue 3, "tokenization must not be the bottleneck"). On the same model and the
 * same passages: passages/s of rare-mine's whole encode path (tokenize, sort by length, pad, run, pool,
 * normalise) against a bare onnxruntime loop that only runs the model on tensors built beforehand; the
 * effect of length sorting (padded vs real tokens, passages/s); and RSS sampled while many passages stream
 * through the encoder into a vector file (it must stay flat, not grow with N). Whole path and bare loop are
 * timed in alternation over several rounds and the fastest round of each is kept, so a busy machine
 * disturbs the ratio less. Each part runs in its own child process (clean RSS baseline).
 * Prints ONE JSON object on stdout. Single-threaded by default.
 *
 *   npm run build && node dist/bench/dense-encode.js                       # bge-small-shaped random model
 *   node dist/bench/dense-encode.js --passages 64 --rss-passages 20000     # shorter
 *   node dist/bench/dense-encode.js --model DIR                            # a real model directory
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { OnnxEmbedder } from '../src/embed/onnx-embedder.js';
import { emptyEncodeStats } from '../src/embed/embedder.js';
import { documentEmbeddingText } from '../src/dense/dense-index.js';
import { writeTinyBertModelDir } from '../test/helpers/tiny-models.js';
import { VectorFileWriter } from '../src/vector/vector-file.js';
import { newBuildId } from '../src/storage/manifest.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const sharedData = process.env.RARE_MINE_SHARED_DATA ?? resolve(repoRoot, '..', 'shared', 'data');
const corpusFile = (name: string) => join(sharedData, name, 'corpus.jsonl');

const { values: args } = parseArgs({
  options: {
    part: { type: 'string', default: 'all' },
    model: { type: 'string' },
    'work-dir': { type: 'string' },
    passages: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '3' },
    'max-length': { type: 'string', default: '128' },
    'batch-size': { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    'rss-passages': { type: 'string', default: '200000' },
    'rss-layers': { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(`usage: node dist/bench/dense-encode.js [options]
  --model DIR          a model directory; default: a random-weight BERT shaped like bge-small-en-v1.5
  --passages N         passages per speed measurement (default 256), from SciFact and linux-doc-passages
  --rounds N           alternating rounds of whole path vs bare loop; the fastest of each is kept (default 3)
  --max-length N       tokens per passage (default 128)    --batch-size N (default 32)    --threads N (default 1)
  --rss-passages N     passages streamed for the RSS samples (default 200000: SciFact + linux-doc + gcide,
                       read again from the start if they hold fewer)
  --rss-layers N       layers of the 384-wide model used for the RSS stream (default 1, to keep it short)
  --part speed|rss|all (default all: each part in a child process)\n`);
  process.exit(0);
}
process.env.RARE_MINE_LOG_LEVEL ??= 'warn';
const threads = Number(args.threads);
const batchSize = Number(args['batch-size']);
const maxLength = Number(args['max-length']);

/**
 * Passages of BEIR corpora in file order, as "title text", up to `limit`; with `cycle`, the corpora are
 * read again from the start until `limit` is reached (for the RSS stream where fewer corpora are at hand).
 */
async function* passages(files: string[], limit: number, cycle = false): AsyncGenerator<string> {
  let count = 0;
  const present = files.filter((file) => existsSync(file));
  do {
    for (const file of present) {
      for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
        if (!line) continue;
        const doc = JSON.parse(line) as { title?: string; text: string };
        yield documentEmbeddingText(doc.title ?? '', doc.text);
        if (++count >= limit) return;
      }
    }
  } while (cycle && present.length > 0);
}

async function collect(files: string[], limit: number): Promise<string[]> {
  const out: string[] = [];
  for await (const text of passages(files, limit)) out.push(text);
  return out;
}

const perSecond = (count: number, ms: number) => Math.round((count / ms) * 1000 * 10) / 10;

async function bareLoopMs(embedder: OnnxEmbedder, texts: string[], session: InferenceSession): Promise<number> {
  const sequences = embedder.tokenize(texts, 'document');
  const order = sequences.map((_, i) => i).sort((a, b) => sequences[a].length - sequences[b].length || a - b);
  const feeds: Record<string, Tensor>[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const batch = embedder.tokenizer.pad(order.slice(start, start + batchSize).map((i) => sequences[i]));
    const shape = [batch.batchSize, batch.sequenceLength];
    const feed: Record<string, Tensor> = {
      input_ids: new Tensor('int64', batch.inputIds, shape),
      attention_mask: new Tensor('int64', batch.attentionMask, shape),
    };
    if (session.inputNames.includes('token_type_ids')) feed.token_type_ids = new Tensor('int64', batch.tokenTypeIds, shape);
    feeds.push(feed);
  }
  const started = performance.now();
  for (const feed of feeds) (await session.run(feed, ['last_hidden_state'])).last_hidden_state.dispose();
  return performance.now() - started;
}

async function speedPart(modelDir: string) {
  const rounds = Number(args.rounds);
  const inputs: Record<string, string[]> = {
    scifact: await collect([corpusFile('scifact')], Number(args.passages)),
    'linux-doc-passages': await collect([corpusFile('linux-doc-passages')], Number(args.passages)),
  };
  const sortedEmbedder = OnnxEmbedder.open(modelDir, { threads, batchSize, maxLength, sortByLength: true });
  const unsortedEmbedder = OnnxEmbedder.open(modelDir, { threads, batchSize, maxLength, sortByLength: false });
  const session = await InferenceSession.create(sortedEmbedder.config.onnxPath, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableMemPattern: false,
  });
  const warm = inputs.scifact.slice(0, batchSize);
  await sortedEmbedder.embedDocuments(warm);
  await unsortedEmbedder.embedDocuments(warm);
  await bareLoopMs(sortedEmbedder, warm, session);

  const results: Record<string, unknown> = {};
  for (const [name, texts] of Object.entries(inputs)) {
    let wholeMs = Infinity;
    let bareMs = Infinity;
    let unsortedMs = Infinity;
    let sortedStats = emptyEncodeStats();
    let unsortedStats = emptyEncodeStats();
    for (let round = 0; round < rounds; round++) {
      Object.assign(sortedEmbedder.stats, emptyEncodeStats());
      let started = performance.now();
      await sortedEmbedder.embedDocuments(texts);
      const ms = performance.now() - started;
      if (ms < wholeMs) [wholeMs, sortedStats] = [ms, { ...sortedEmbedder.stats }];
      bareMs = Math.min(bareMs, await bareLoopMs(sortedEmbedder, texts, session));
      Object.assign(unsortedEmbedder.stats, emptyEncodeStats());
      started = performance.now();
      await unsortedEmbedder.embedDocuments(texts);
      const unsortedRound = performance.now() - started;
      if (unsortedRound < unsortedMs) [unsortedMs, unsortedStats] = [unsortedRound, { ...unsortedEmbedder.stats }];
    }
    let tokens = 0;
    const tokenizeStarted = performance.now();
    for (const text of texts) tokens += sortedEmbedder.tokenizer.encode(text).ids.length;
    const tokenizeMs = performance.now() - tokenizeStarted;
    results[name] = {
      passages: texts.length,
      truncated: sortedStats.textsTruncated,
      wholePath: {
        passagesPerSecond: perSecond(texts.length, wholeMs),
        ms: Math.round(wholeMs),
        tokenizeMs: Math.round(sortedStats.tokenizeMs),
        modelMs: Math.round(sortedStats.modelMs),
        poolMs: Math.round(sortedStats.poolMs),
        realTokens: sortedStats.realTokens,
        paddedTokens: sortedStats.paddedTokens,
        paddedPerReal: +(sortedStats.paddedTokens / sortedStats.realTokens).toFixed(3),
      },
      bareOnnxruntime: { passagesPerSecond: perSecond(texts.length, bareMs), ms: Math.round(bareMs) },
      overheadVsBare: +((wholeMs - bareMs) / bareMs).toFixed(3),
      overheadMet: (wholeMs - bareMs) / bareMs <= 0.15,
      unsorted: {
        passagesPerSecond: perSecond(texts.length, unsortedMs),
        paddedPerReal: +(unsortedStats.paddedTokens / unsortedStats.realTokens).toFixed(3),
        sortedSpeedup: +(unsortedMs / wholeMs).toFixed(2),
      },
      tokenizerAlone: { tokensPerSecond: Math.round((tokens / tokenizeMs) * 1000), passagesPerSecond: perSecond(texts.length, tokenizeMs) },
    };
  }
  await session.release();
  await sortedEmbedder.close();
  await unsortedEmbedder.close();
  return { maxLength, batchSize, threads, rounds, overheadTarget: 0.15, inputs: results };
}

async function rssPart(workDir: string) {
  const limit = Number(args['rss-passages']);
  const layers = Number(args['rss-layers']);
  const modelDir = join(workDir, 'rss-model');
  await writeTinyBertModelDir(modelDir, { hiddenSize: 384, layers, heads: 12, intermediate: 1536, maxPosition: 512, pooling: 'cls', seed: 2 });
  const embedder = OnnxEmbedder.open(modelDir, { threads, batchSize, maxLength });
  const vectors = new VectorFileWriter(join(workDir, 'vectors.bin'), embedder.dims, newBuildId());
  const samples: { passages: number; rssMB: number; heapMB: number }[] = [];
  const sample = (passagesSoFar: number) => {
    const memory = process.memoryUsage();
    samples.push({ passages: passagesSoFar, rssMB: Math.round(memory.rss / 2 ** 20), heapMB: Math.round(memory.heapUsed / 2 ** 20) });
    // Also to stderr as it goes, so a run cut short still shows the trend.
    process.stderr.write(`rss sample ${JSON.stringify(samples[samples.length - 1])}\n`);
  };
  const sampleEvery = Math.max(1024, Math.floor(limit / 20));
  let block: string[] = [];
  let streamed = 0;
  let nextSample = 0;
  const started = performance.now();
  const flush = async () => {
    vectors.append(await embedder.embedDocuments(block));
    streamed += block.length;
    block = [];
    if (streamed >= nextSample) {
      sample(streamed);
      nextSample += sampleEvery;
    }
  };
  for await (const text of passages(['scifact', 'linux-doc-passages', 'gcide-definitions'].map(corpusFile), limit, true)) {
    block.push(text);
    if (block.length === 1024) await flush();
  }
  if (block.length > 0) await flush();
  sample(streamed);
  vectors.finish();
  const ms = performance.now() - started;
  await embedder.close();
  const tail = samples.filter((s) => s.passages >= streamed * 0.25);
  return {
    model: `random-weight BERT, 384 hidden, ${layers} layer(s): same width as bge-small, shallower so the stream is short`,
    passages: streamed,
    passagesPerSecond: perSecond(streamed, ms),
    peakRssMB: Math.max(...samples.map((s) => s.rssMB)),
    rssRangeAfterFirstQuarterMB: Math.max(...tail.map((s) => s.rssMB)) - Math.min(...tail.map((s) => s.rssMB)),
    samples,
  };
}

async function bgeSmallShapedModel(workDir: string): Promise<string> {
  const dir = join(workDir, 'bge-small-shaped');
  if (!existsSync(dir)) await writeTinyBertModelDir(dir, { hiddenSize: 384, layers: 12, heads: 12, intermediate: 1536, maxPosition: 512, pooling: 'cls', seed: 1 });
  return dir;
}

if (!existsSync(corpusFile('scifact'))) {
  process.stderr.write(`${corpusFile('scifact')} not found: the benchmark reads ../shared/data (or $RARE_MINE_SHARED_DATA)\n`);
  process.exit(2);
}

if (args.part === 'speed') {
  const workDir = args['work-dir']!;
  process.stdout.write(JSON.stringify(await speedPart(args.model ?? (await bgeSmallShapedModel(workDir)))));
} else if (args.part === 'rss') {
  process.stdout.write(JSON.stringify(await rssPart(args['work-dir']!)));
} else {
  const workDir = mkdtempSync(join(tmpdir(), 'rare-mine-dense-encode-'));
  try {
    const self = fileURLToPath(import.meta.url);
    const passThrough = process.argv.slice(2).filter((arg) => !arg.startsWith('--part'));
    const child = (part: string) =>
      JSON.parse(execFileSync(process.execPath, [self, ...passThrough, '--part', part, '--work-dir', workDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 }));
    const report = {
      bench: 'dense-encode',
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadAverage1m: loadavg()[0] },
      model: args.model ?? 'random-weight BERT shaped like bge-small-en-v1.5 (384 hidden, 12 layers, 12 heads, 1536 FFN; bert-base-uncased WordPiece)',
      speed: child('speed'),
      rss: child('rss'),
    };
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
