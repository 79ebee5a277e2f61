/**
 * What --dedup-threshold costs under --sample random (issue 23 item 5: within 1.5× of the same run without it).
 * Builds the DataFlow-style SciFact file (question = claim, text = a judged abstract; train and test qrels: 1,258
 * records), indexes the corpus once, then runs `rare-mine bm25 --sample random --num-neg 3` with and without
 * `--dedup-threshold J` in alternating rounds, each in a fresh process, and prints one JSON object: medians of wall
 * time, CPU time (user + system, all threads, read by the child itself at exit) and the mining stage's own seconds
 * (--stats-json), their ratios, and whether both runs wrote the same bytes (they do on SciFact at 0.5, where no
 * window holds a near-duplicate; that is a property of the data, not asserted).
 * Usage: node dist/bench/dedup-cost.js [--data DIR] [--rounds N] [--threshold J] [--num-neg N] [--cpu-prof DIR]
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(repoRoot, 'bin', 'rare-mine.js');

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const data = flag('--data', resolve(repoRoot, '..', 'shared', 'data', 'scifact'));
const rounds = Number(flag('--rounds', '3'));
const threshold = flag('--threshold', '0.5');
const numNeg = flag('--num-neg', '3');
const cpuProfDir = flag('--cpu-prof', '');
const work = mkdtempSync(join(tmpdir(), 'rare-mine-dedup-cost-'));

function readJsonl(path: string): Array<Record<string, string>> {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

interface RunResult {
  wallSeconds: number;
  cpuSeconds: number;
  mineSeconds: number;
  outputSha256: string;
}

/** Run the CLI with a preload that writes the process's own rusage to fd 3 at exit; `mine` adds --stats-json. */
function run(args: string[], mine: boolean, profileName?: string): Promise<RunResult> {
  const preload = join(work, 'rusage.mjs');
  const statsPath = join(work, 'stats.json');
  const prof = cpuProfDir && profileName ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `${profileName}.cpuprofile`] : [];
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...prof, '--import', pathToFileURL(preload).href, cli, ...args, ...(mine ? ['--stats-json', statsPath] : [])], { stdio: ['ignore', 'pipe', 'inherit', 'pipe'] });
    const hash = createHash('sha256');
    let usage = '';
    child.stdout!.on('data', (chunk: Buffer) => hash.update(chunk));
    child.stdio[3]!.on('data', (chunk: Buffer) => (usage += chunk.toString()));
    child.on('close', (status) => {
      if (status !== 0) return fail(new Error(`rare-mine ${args.join(' ')} exited ${status}`));
      const rusage = JSON.parse(usage) as { userCPUTime: number; systemCPUTime: number };
      const stats = mine ? (JSON.parse(readFileSync(statsPath, 'utf8')) as { run: { timings: { mine_seconds: number } } }) : undefined;
      done({
        wallSeconds: (performance.now() - started) / 1000,
        cpuSeconds: (rusage.userCPUTime + rusage.systemCPUTime) / 1e6,
        mineSeconds: stats?.run.timings.mine_seconds ?? 0,
        outputSha256: hash.digest('hex'),
      });
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round3 = (value: number) => Number(value.toFixed(3));

function summary(results: RunResult[]) {
  return {
    wall_seconds: round3(median(results.map((r) => r.wallSeconds))),
    cpu_seconds: round3(median(results.map((r) => r.cpuSeconds))),
    mine_seconds: round3(median(results.map((r) => r.mineSeconds))),
    runs_wall_seconds: results.map((r) => round3(r.wallSeconds)),
  };
}

async function main() {
  writeFileSync(join(work, 'rusage.mjs'), "import { writeSync } from 'node:fs';\nprocess.on('exit', () => writeSync(3, JSON.stringify(process.resourceUsage())));\n");
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const corpusPath = join(data, 'corpus.jsonl');
  const corpus = new Map(readJsonl(corpusPath).map((d) => [d._id, d.text]));
  const claims = new Map(readJsonl(join(data, 'queries.jsonl')).map((q) => [q._id, q.text]));
  const lines: string[] = [];
  for (const split of ['train', 'test']) {
    for (const row of readFileSync(join(data, 'qrels', `${split}.tsv`), 'utf8').trim().split('\n').slice(1)) {
      const [queryId, docId] = row.split('\t');
      if (claims.has(queryId) && corpus.has(docId)) lines.push(JSON.stringify({ question: claims.get(queryId), text: corpus.get(docId) }));
    }
  }
  const input = join(work, 'records.jsonl');
  writeFileSync(input, lines.join('\n') + '\n');
  const indexDir = join(work, 'idx');
  await run(['index', 'bm25', '--corpus', corpusPath, '--index-dir', indexDir, '--log-level', 'warn'], false);
  const common = ['bm25', '--index-dir', indexDir, '--sample', 'random', '--num-neg', numNeg, '--log-level', 'warn', input];
  const load = [loadavg()[0]];
  const without: RunResult[] = [];
  const withDedup: RunResult[] = [];
  for (let r = 0; r < rounds; r++) {
    without.push(await run(common, true, r === 0 ? 'without-dedup' : undefined));
    withDedup.push(await run([...common, '--dedup-threshold', threshold], true, r === 0 ? 'with-dedup' : undefined));
    load.push(loadavg()[0]);
  }
  rmSync(work, { recursive: true, force: true });
  const a = summary(without);
  const b = summary(withDedup);
  process.stdout.write(
    JSON.stringify(
      {
        machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, load_average_1m: load.map((l) => Number(l.toFixed(2))) },
        date: new Date().toISOString(),
        records: lines.length,
        corpus_docs: corpus.size,
        command: `rare-mine bm25 --sample random --num-neg ${numNeg} [--dedup-threshold ${threshold}]`,
        rounds,
        without_dedup: a,
        with_dedup: b,
        ratio: { wall: round3(b.wall_seconds / a.wall_seconds), cpu: round3(b.cpu_seconds / a.cpu_seconds), mine: round3(b.mine_seconds / a.mine_seconds) },
        target_ratio: 1.5,
        same_output: without.every((r) => r.outputSha256 === withDedup[0].outputSha256) && withDedup.every((r) => r.outputSha256 === withDedup[0].outputSha256),
      },
      null,
      2,
    ) + '\n',
  );
}

await main();
