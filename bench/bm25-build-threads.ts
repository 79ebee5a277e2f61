/**
 * The BM25 build at each --threads value (issue 26: a build on every core), over the doc store of an index dir
 * already built (`rare-mine index bm25 --corpus C --index-dir DIR` once): only the BM25 part is built, each time
 * into a fresh folder, in a child process under GNU time (wall, CPU, peak RSS). The values take turns within each
 * of --rounds rounds, so a change of load falls on all of them; the files of every build are compared with the
 * first's (payloads: the container headers differ by build id). Reports medians and the per-round speed-ups.
 * Usage: node dist/bench/bm25-build-threads.js --index-dir DIR [--threads 1,2] [--rounds 2] [--memory-budget BYTES]
 *        [--work DIR] [--out F.json]
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DocStore } from '../src/corpus/doc-store.js';
import { buildBm25Index } from '../src/bm25/index-writer.js';
import { HEADER_BYTES } from '../src/storage/container.js';

/** SHA-256 of a container file's payload, read in chunks (postings.bin passes 2 GiB at 8.8M passages). */
function payloadSha256(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(1 << 24);
  for (let at = HEADER_BYTES; ; ) {
    const n = readSync(fd, chunk, 0, chunk.length, at);
    if (n === 0) break;
    hash.update(chunk.subarray(0, n));
    at += n;
  }
  closeSync(fd);
  return hash.digest('hex');
}

const { values } = parseArgs({
  options: {
    'index-dir': { type: 'string' },
    threads: { type: 'string', default: '1,2' },
    rounds: { type: 'string', default: '2' },
    'memory-budget': { type: 'string' },
    work: { type: 'string', default: '/tmp/rare-mine-bm25-build-threads' },
    out: { type: 'string' },
    // Internal: build once at --threads into --into (the child process the parent times).
    child: { type: 'boolean', default: false },
    into: { type: 'string' },
  },
});
if (!values['index-dir']) {
  process.stderr.write('usage: node dist/bench/bm25-build-threads.js --index-dir DIR [--threads 1,2] [--rounds 2] [--memory-budget BYTES] [--out F.json]\n');
  process.exit(2);
}
const indexDir = values['index-dir'];
const memoryBudget = values['memory-budget'] ? Number(values['memory-budget']) : undefined;

if (values.child) {
  const docs = new DocStore(join(indexDir, 'docs'), 'bench');
  const started = performance.now();
  const built = await buildBm25Index(values.into!, docs, {
    analyzer: 'en',
    settings: { k1: 0.9, b: 0.4, variant: 'lucene' },
    memoryBudget,
    corpusFingerprint: docs.manifest.corpusFingerprint,
    docsBuildId: docs.manifest.buildId,
    threads: Number(values.threads),
  });
  process.stdout.write(JSON.stringify({ seconds: (performance.now() - started) / 1000, runs: built.runs, docs: docs.docCount, postings: built.manifest.postingCount, terms: built.manifest.termCount }) + '\n');
  docs.close();
} else {
  const threadCounts = values.threads!.split(',').map(Number);
  const rounds = Number(values.rounds);
  const work = values.work!;
  mkdirSync(work, { recursive: true });
  const self = fileURLToPath(import.meta.url);
  const round = (x: number, digits = 2) => Number(x.toFixed(digits));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const results = new Map<number, Array<{ seconds: number; cpuSeconds: number; peakRssMb: number; runs: number; load: number }>>(threadCounts.map((t) => [t, []]));
  let reference: Record<string, string> | undefined;
  let identical = true;
  let shape: Record<string, number> = {};
  for (let r = 0; r < rounds; r++) {
    for (const threads of threadCounts) {
      const into = join(work, `t${threads}`);
      rmSync(into, { recursive: true, force: true });
      const load = loadavg()[0];
      const run = spawnSync('/usr/bin/time', ['-f', 'TIME %M %U %S', process.execPath, self, '--child', '--index-dir', indexDir, '--threads', String(threads), '--into', into, ...(memoryBudget ? ['--memory-budget', String(memoryBudget)] : [])], { encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`build at --threads ${threads} failed:\n${run.stderr}`);
      const time = /TIME (\d+) ([\d.]+) ([\d.]+)/.exec(run.stderr)!;
      const child = JSON.parse(run.stdout) as { seconds: number; runs: number; docs: number; postings: number; terms: number };
      shape = { docs: child.docs, terms: child.terms, postings: child.postings };
      results.get(threads)!.push({ seconds: round(child.seconds), cpuSeconds: round(Number(time[2]) + Number(time[3])), peakRssMb: round(Number(time[1]) / 1024, 0), runs: child.runs, load: round(load) });
      const files = Object.fromEntries(['terms.bin', 'postings.bin', 'lengths.bin', 'bounds.bin', 'impacts.bin'].map((f) => [f, payloadSha256(join(into, f))]));
      if (!reference) reference = files;
      else for (const f of Object.keys(files)) identical &&= files[f] === reference[f];
      process.stderr.write(`round ${r} threads ${threads}: ${JSON.stringify(results.get(threads)!.at(-1))}\n`);
    }
  }
  const report: Record<string, unknown> = {
    benchmark: 'bm25-build-threads',
    index_dir: indexDir,
    ...shape,
    machine: { cpus: cpus().length, model: cpus()[0]?.model },
    node: process.version,
    memory_budget: memoryBudget ?? 'default',
    rounds,
    identical_files: identical,
  };
  for (const threads of threadCounts) {
    const runs = results.get(threads)!;
    report[`threads${threads}`] = { seconds: median(runs.map((x) => x.seconds)), cpu_seconds: median(runs.map((x) => x.cpuSeconds)), peak_rss_mb: Math.max(...runs.map((x) => x.peakRssMb)), each_round: runs };
  }
  if (threadCounts.length > 1) {
    const first = results.get(threadCounts[0])!;
    const last = results.get(threadCounts.at(-1)!)!;
    const ratios = first.map((x, i) => x.seconds / last[i].seconds);
    report[`speedup_threads${threadCounts.at(-1)}_over_threads${threadCounts[0]}`] = round(median(ratios));
    report.speedup_each_round = ratios.map((x) => round(x));
  }
  const text = JSON.stringify(report, null, 2);
  if (values.out) writeFileSync(values.out, text + '\n');
  process.stdout.write(text + '\n');
}
