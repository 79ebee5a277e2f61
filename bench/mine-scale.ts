/**
 * Scale benchmark for the mining command, end to end through the built CLI (issue 5):
 *  1. Bounded memory: mine N generated records (default 2,000,000) against a fixed corpus (SciFact, 5,183 docs)
 *     with a prebuilt index, sampling the child's RSS (/proc/PID/status VmRSS) when 10%, 50% and 100% of the
 *     output has been produced. Flat means RSS is set by the index, not by the input size.
 *  2. Throughput: `rare-mine bm25 --num-neg 3` on the SciFact DataFlow-style file (question = claim, text = a
 *     cited abstract) repeated to M records (default 1,000,000), JSONL in to JSONL out, records/s.
 * Prints one JSON object. Usage: node dist/bench/mine-scale.js [--records N] [--throughput-records M] [--data DIR]
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(repoRoot, 'bin', 'rare-mine.js');

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const records = Number(flag('--records', '2000000'));
const throughputRecords = Number(flag('--throughput-records', '1000000'));
const data = flag('--data', resolve(repoRoot, '..', 'shared', 'data', 'scifact'));
const work = mkdtempSync(join(tmpdir(), 'rare-mine-scale-'));

function readJsonl(path: string): any[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

async function writeLines(path: string, count: number, make: (i: number) => string): Promise<void> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  for (let i = 0; i < count; i++) {
    if (!out.write(make(i) + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

function rssKb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

interface RunResult {
  seconds: number;
  userSeconds: number;
  lines: number;
  bytes: number;
  samples: Record<string, number>;
  peakRssMb: number;
  status: number | null;
}

/** Run the CLI, discarding stdout while counting it; sample RSS at the given fractions of `expectedLines`. */
function run(args: string[], expectedLines: number, fractions: number[]): Promise<RunResult> {
  return new Promise((done) => {
    const started = performance.now();
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let lines = 0;
    let bytes = 0;
    const samples: Record<string, number> = {};
    let next = 0;
    let peak = 0;
    const poll = setInterval(() => (peak = Math.max(peak, rssKb(child.pid!) || 0)), 200);
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      while (next < fractions.length && lines >= fractions[next] * expectedLines) {
        const rss = rssKb(child.pid!);
        peak = Math.max(peak, rss || 0);
        samples[`${Math.round(fractions[next] * 100)}%`] = Math.round(rss / 1024);
        next++;
      }
    });
    child.on('exit', (status) => {
      clearInterval(poll);
      const usage = process.resourceUsage();
      done({ seconds: (performance.now() - started) / 1000, userSeconds: usage.userCPUTime / 1e6, lines, bytes, samples, peakRssMb: Math.round(peak / 1024), status });
    });
  });
}

async function main() {
  const corpusPath = join(data, 'corpus.jsonl');
  const corpus = readJsonl(corpusPath);
  const claims = readJsonl(join(data, 'queries.jsonl'));
  const indexDir = join(work, 'idx');
  await run(['index', 'bm25', '--corpus', corpusPath, '--index-dir', indexDir, '--log-level', 'warn'], 0, []);

  // 1. Memory: 2M records against the fixed corpus, positives by id, ColBERT id triples out (small output; its
  //    queries and collection TSVs go to the work dir, and its numbering keeps 4 bytes per corpus document).
  const memoryInput = join(work, 'memory.jsonl');
  await writeLines(memoryInput, records, (i) => JSON.stringify({ _id: `q${i}`, question: `${claims[i % claims.length].text} ${i % 97}`, pos: corpus[(i * 7919) % corpus.length]._id }));
  const memory = await run(
    ['bm25', '--index-dir', indexDir, '--positive-ids-key', 'pos', '--num-neg', '3', '--format', 'colbert', '--colbert-dir', work, '--log-level', 'warn', memoryInput],
    records * 3,
    [0.1, 0.5, 0.999],
  );
  rmSync(memoryInput);

  // 2. Throughput: DataFlow-style SciFact file repeated to M records, JSONL in, JSONL out.
  const qrels = readFileSync(join(data, 'qrels', 'train.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  const byId = new Map(corpus.map((d) => [d._id, d.text]));
  const claimById = new Map(claims.map((q) => [q._id, q.text]));
  const base = qrels.filter(([q, d]) => claimById.has(q) && byId.has(d)).map(([q, d]) => JSON.stringify({ question: claimById.get(q), text: byId.get(d) }));
  const throughputInput = join(work, 'dataflow.jsonl');
  await writeLines(throughputInput, throughputRecords, (i) => base[i % base.length]);
  const throughput = await run(['bm25', '--num-neg', '3', '--log-level', 'warn', throughputInput], throughputRecords, [0.5, 0.999]);
  rmSync(work, { recursive: true, force: true });

  const flat = memory.samples['100%'] / memory.samples['10%'];
  process.stdout.write(
    JSON.stringify(
      {
        machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
        date: new Date().toISOString(),
        memory: {
          records,
          corpus_docs: corpus.length,
          output_lines: memory.lines,
          rss_mb_at: memory.samples,
          peak_rss_mb: memory.peakRssMb,
          rss_ratio_100_vs_10: Number(flat.toFixed(3)),
          flat: flat < 1.25,
          records_per_second: Math.round(records / memory.seconds),
          exit: memory.status,
        },
        throughput: {
          records: throughputRecords,
          distinct_positive_texts: new Set(base).size,
          output_lines: throughput.lines,
          output_mb: Math.round(throughput.bytes / 1e6),
          seconds: Number(throughput.seconds.toFixed(2)),
          records_per_second: Math.round(throughputRecords / throughput.seconds),
          peak_rss_mb: throughput.peakRssMb,
          exit: throughput.status,
        },
      },
      null,
      2,
    ) + '\n',
  );
}

await main();
