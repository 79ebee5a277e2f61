/**
 * The fault-injection loop, as SQLite tests its I/O errors (issue 25): each command is run once with the counting
 * hook of src/io/fs.ts (RARE_MINE_FAULT=count:FILE) to learn how many filesystem operations it does, then again
 * with the k-th operation failing (ENOSPC, EIO, EMFILE, a short write or read) or with SIGTERM delivered at it.
 * Every run starts from the same files (a snapshot of the command's work dir, restored before each run), so the
 * count repeats run to run. What every faulted run must show:
 *   - it ends within RUN_LIMIT_MS;
 *   - it succeeds with every output complete (a fault the code absorbs: a short write continued, a failed directory
 *     fsync), or exits 1 (3 for an index it cannot read, 4 for a model) with a message naming a path of the run,
 *     or dies of the signal (SIGTERM): never 70 (internal), never silently;
 *   - inputs, and on failure every previous output, byte-identical;
 *   - whatever temporary files it left are gone after the next, fault-free run.
 * test/fault-injection.test.ts runs a sample of k per command (npm test); test/slow/fault-injection.test.ts
 * runs every k of the small commands and an even sample of the large ones (npm run test:quality).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { cliPath, repoRoot } from './shared-data.js';
import { writeTinyBertModelDir } from './tiny-models.js';

/** A run that takes longer than this did not end after its fault (a hang, or a process kept alive). */
export const RUN_LIMIT_MS = 20_000;

export const FAULT_MODES = ['ENOSPC', 'EIO', 'EMFILE', 'short', 'SIGTERM'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** One command under the loop: its work dir is prepared once, snapshotted, and restored before every run. */
export interface FaultScenario {
  name: string;
  /** Command line, with `{work}` standing for the work dir and `{shared}` for the read-only shared dir. */
  args: string[];
  /** Paths under the work dir (a trailing '/' for a whole folder) the command may change when it succeeds. */
  outputs: string[];
  /**
   * A command that reads back what a succeeding run wrote (mining from a rebuilt index): its stdout must be the same
   * as after the fault-free run, so an output that differs run to run (build ids) is still checked to be whole.
   */
  readBack?: string[];
  /** The lines of readBack's stdout compared (the others hold timings). */
  readBackLines?: RegExp;
  /** Operations tried in the full loop when the command does more (default: every one). */
  sample?: number;
  /** Paths it may change however it ends: caches that are appended to and verified on read (the embedding cache). */
  caches?: string[];
  env?: Record<string, string>;
  /** Fill the work dir (inputs, previous outputs, a prebuilt index) before the snapshot. */
  prepare(work: string, shared: string): Promise<void> | void;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  signal: NodeJS.Signals | null;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** Run the built CLI without blocking the event loop (two runs go at once), killed after `limitMs`. */
export function runCliAsync(args: string[], env: Record<string, string>, limitMs = RUN_LIMIT_MS): Promise<RunResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { ...process.env, RARE_MINE_LOG_FORMAT: 'json', RARE_MINE_NO_PROGRESS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < 1 << 24) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 1 << 20) stderr += chunk;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: performance.now() - started, timedOut });
    });
  });
}

/** SHA-256 of every file under `dir`, by path relative to it. */
export function treeHashes(dir: string): Map<string, string> {
  const hashes = new Map<string, string>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) hashes.set(relative(dir, path), createHash('sha256').update(readFileSync(path)).digest('hex'));
      else hashes.set(relative(dir, path), `<${entry.isSymbolicLink() ? 'link' : 'special'}>`);
    }
  };
  if (existsSync(dir)) walk(dir);
  return hashes;
}

/** Names the tool gives its temporary files: partials, asides, spools, locks, sorted runs. */
const TEMPORARY = /\.partial|\.building-|\.old-|\.new$|\.tmp|\.lock$|rare-mine-spool-|\.run-\d|\.journal$/;

/** The error message of a failed run (the last JSON line with an exit code), or its whole stderr. */
export function errorMessage(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line.startsWith('{'));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const entry = JSON.parse(lines[i]) as { msg?: unknown; exit_code?: unknown };
      if (entry.exit_code !== undefined) return String(entry.msg);
    } catch {
      // not a log line
    }
  }
  return stderr;
}

/** Every k if there are at most `most`, else `most` values of 1..count spread evenly (the first and last included). */
export function sampleOperations(count: number, most: number): number[] {
  if (count <= most) return Array.from({ length: count }, (_, i) => i + 1);
  const ks = new Set<number>();
  for (let i = 0; i < most; i++) ks.add(1 + Math.round((i * (count - 1)) / (most - 1)));
  return [...ks];
}

/** A prepared scenario: its snapshot, two work slots (two runs at once), the baseline count and outputs. */
export class FaultBench {
  private constructor(
    readonly scenario: FaultScenario,
    readonly root: string,
    readonly shared: string,
    /** Operations the fault-free run does. */
    readonly count: number,
    /** What the fault-free run wrote at each output path (relative), to compare a succeeding faulted run with. */
    readonly baseline: Map<string, string>,
    /** Outputs that hold the same bytes in two fault-free runs (no timings, no random build ids). */
    readonly repeatable: Set<string>,
    /** The operation trace of the counting run ("k name target" per line), to say what the k-th operation was. */
    readonly trace: string[],
    /** The scenario's readBack stdout after the fault-free run. */
    readonly readBack: string | undefined,
  ) {}

  private get snapshot(): string {
    return join(this.root, 'snapshot');
  }

  /**
   * Prepare `scenario`, count its operations, and run it once more fault-free to learn which outputs repeat byte for
   * byte (`repeatCheck: false` skips that run and takes every output as repeatable).
   */
  static async open(scenario: FaultScenario, shared: string, options: { repeatCheck?: boolean } = {}): Promise<FaultBench> {
    const root = mkdtempSync(join(tmpdir(), `rare-mine-faults-${scenario.name.replace(/[^a-z0-9]+/gi, '-')}-`));
    const snapshot = join(root, 'snapshot');
    mkdirSync(snapshot);
    await scenario.prepare(snapshot, shared);
    const work = join(root, 'count');
    cpSync(snapshot, work, { recursive: true });
    const countFile = join(root, 'count.txt');
    const run = await runCliAsync(expand(scenario.args, work, shared), { ...env(scenario, work, root), RARE_MINE_FAULT: `count:${countFile}` }, 120_000);
    if (run.status !== 0) throw new Error(`${scenario.name}: the fault-free run failed (${run.status}): ${run.stderr}`);
    const [first, ...trace] = readFileSync(countFile, 'utf8').trimEnd().split('\n');
    const baseline = new Map<string, string>();
    for (const [path, hash] of treeHashes(work)) if (isOutput(scenario, path)) baseline.set(path, hash);
    let second = treeHashes(work);
    if (options.repeatCheck !== false) {
      const again = join(root, 'again');
      cpSync(snapshot, again, { recursive: true });
      await runCliAsync(expand(scenario.args, again, shared), env(scenario, again, root), 120_000);
      second = treeHashes(again);
      rmSync(again, { recursive: true, force: true });
    }
    const repeatable = new Set([...baseline].filter(([path, hash]) => second.get(path) === hash).map(([path]) => path));
    const readBack = scenario.readBack ? await readBackRun(scenario, work, shared, root) : undefined;
    return new FaultBench(scenario, root, shared, Number(first), baseline, repeatable, trace, readBack);
  }

  /** What the k-th operation of the fault-free run was ("write 24", "rename /tmp/.../out.jsonl.partial"). */
  operation(k: number): string {
    return this.trace[k - 1]?.replace(/^\d+ /, '').replaceAll(this.root, '…') ?? '?';
  }

  /**
   * Run with `mode` at operation `k` in work slot `slot` and check what it left. Returns the problems found (empty
   * when the run behaved), each naming the command, k, the operation and the mode.
   */
  async inject(k: number, mode: FaultMode, slot: number): Promise<string[]> {
    const work = join(this.root, `slot-${slot}`);
    const temp = join(this.root, `tmp-${slot}`);
    rmSync(work, { recursive: true, force: true });
    rmSync(temp, { recursive: true, force: true });
    cpSync(this.snapshot, work, { recursive: true });
    mkdirSync(temp);
    const before = treeHashes(work);
    const fault = mode === 'SIGTERM' ? `signal:${k}:SIGTERM` : `fail:${k}:${mode}`;
    const vars = { ...env(this.scenario, work, this.root), TMPDIR: temp, RARE_MINE_FAULT: fault };
    const args = expand(this.scenario.args, work, this.shared);
    const run = await runCliAsync(args, vars);
    const problems: string[] = [];
    const where = `${this.scenario.name}, ${mode} at operation ${k}/${this.count} (${this.operation(k)})`;
    const problem = (what: string) => problems.push(`${where}: ${what}`);
    if (run.timedOut) problem(`did not end within ${RUN_LIMIT_MS} ms (killed)`);
    const succeeded = run.status === 0;
    const signalled = run.signal === 'SIGTERM' || run.status === 143;
    if (!run.timedOut && !succeeded) {
      if (mode === 'SIGTERM' && !signalled) problem(`SIGTERM ended it with exit ${run.status}: ${errorMessage(run.stderr).slice(0, 300)}`);
      if (mode !== 'SIGTERM' && ![1, 3, 4].includes(run.status ?? -1)) problem(`exit ${run.status ?? run.signal}, not 1: ${errorMessage(run.stderr).slice(0, 400)}`);
      if (mode !== 'SIGTERM' && run.status !== null && run.status !== 0) {
        const message = errorMessage(run.stderr);
        if (!/(^|[\s'"(])\/[^\s/]+\//.test(message)) problem(`the message names no path: ${message.slice(0, 300)}`);
        if (message.includes('<unknown file>')) problem(`the message says <unknown file>: ${message.slice(0, 300)}`);
      }
    }
    const after = treeHashes(work);
    for (const [path, hash] of before) {
      if (isCache(this.scenario, path) || after.get(path) === hash) continue;
      // A file at an output path is its previous content or complete: a failed run (or a signal after the rename)
      // may have committed an output before it stopped, never a part of one.
      if (isOutput(this.scenario, path) && (succeeded || this.complete(path, after.get(path)))) continue;
      problem(`${path} ${after.has(path) ? 'changed' : 'is gone'}${succeeded ? '' : ' after a failed run'}`);
    }
    if (succeeded) {
      for (const path of this.baseline.keys()) {
        if (!after.has(path)) problem(`succeeded without writing ${path}`);
        else if (!this.complete(path, after.get(path))) problem(`succeeded but ${path} differs from the fault-free run's`);
      }
      if (this.readBack !== undefined && (await readBackRun(this.scenario, work, this.shared, this.root)) !== this.readBack) {
        problem(`succeeded but reading back what it wrote (${this.scenario.readBack!.join(' ')}) gives another result`);
      }
    }
    // What it left must be gone after the next, fault-free run.
    const left = [...after.keys()].filter((path) => !before.has(path) && TEMPORARY.test(path));
    const leftTemp = readdirSync(temp).filter((name) => name.startsWith('rare-mine'));
    if (left.length > 0 || leftTemp.length > 0) {
      const next = await runCliAsync(args, { ...env(this.scenario, work, this.root), TMPDIR: temp }, 120_000);
      if (next.status !== 0) problem(`the next fault-free run failed (exit ${next.status}): ${errorMessage(next.stderr).slice(0, 300)}`);
      const still = [...treeHashes(work).keys()].filter((path) => left.includes(path));
      if (still.length > 0) problem(`left ${still.join(', ')}, still there after the next run`);
      const stillTemp = readdirSync(temp).filter((name) => leftTemp.includes(name));
      if (stillTemp.length > 0) problem(`left ${stillTemp.join(', ')} in TMPDIR, still there after the next run`);
    }
    return problems;
  }

  /**
   * Whether `hash` is a complete output at `path`: the fault-free run's bytes, or, for an output that differs run
   * to run (timings, build ids), any content at a path the fault-free run wrote (its atomic writer never shows a part).
   */
  private complete(path: string, hash: string | undefined): boolean {
    if (hash === undefined) return false;
    return this.repeatable.has(path) ? this.baseline.get(path) === hash : this.baseline.has(path);
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The scenario's readBack command on `work`: its stdout, or its failure. */
async function readBackRun(scenario: FaultScenario, work: string, shared: string, root: string): Promise<string> {
  const run = await runCliAsync(expand(scenario.readBack!, work, shared), env(scenario, work, root), 120_000);
  if (run.status !== 0) return `exit ${run.status}: ${errorMessage(run.stderr)}`;
  const keep = scenario.readBackLines;
  return keep ? run.stdout.split('\n').filter((line) => keep.test(line)).join('\n') : run.stdout;
}

function matches(paths: readonly string[], path: string): boolean {
  return paths.some((output) => (output.endsWith('/') ? path.startsWith(output) : path === output));
}

function isOutput(scenario: FaultScenario, path: string): boolean {
  return matches(scenario.outputs, path);
}

function isCache(scenario: FaultScenario, path: string): boolean {
  return matches(scenario.caches ?? [], path);
}

function expand(args: string[], work: string, shared: string): string[] {
  return args.map((arg) => arg.replaceAll('{work}', work).replaceAll('{shared}', shared));
}

function env(scenario: FaultScenario, work: string, root: string): Record<string, string> {
  const vars: Record<string, string> = { RARE_MINE_CACHE_DIR: join(work, 'cache'), HF_HUB_CACHE: join(work, 'hub'), HF_HUB_OFFLINE: '1' };
  for (const [name, value] of Object.entries(scenario.env ?? {})) vars[name] = value.replaceAll('{work}', work).replaceAll('{root}', root);
  return vars;
}

/**
 * Run `tasks` two at a time (the machine's cores), in order of submission; resolves with every result.
 */
export async function twoAtATime<T>(tasks: Array<(slot: number) => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async (slot: number) => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i](slot);
    }
  };
  await Promise.all([worker(0), worker(1)]);
  return results;
}

// ---- The commands under the loop. ----

const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');

/** The shared, read-only inputs: the fixture, a BEIR set made of it, a tiny BERT model (unless `model: false`). */
export async function prepareShared(options: { model?: boolean } = {}): Promise<string> {
  const shared = mkdtempSync(join(tmpdir(), 'rare-mine-faults-shared-'));
  const records = readFileSync(fixture, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { question: string; text: string });
  writeFileSync(join(shared, 'input.jsonl'), readFileSync(fixture));
  writeFileSync(join(shared, 'corpus.jsonl'), records.map((r, i) => JSON.stringify({ _id: `d${i}`, title: '', text: r.text })).join('\n') + '\n');
  writeFileSync(join(shared, 'queries.jsonl'), records.map((r, i) => JSON.stringify({ _id: `q${i}`, text: r.question })).join('\n') + '\n');
  writeFileSync(join(shared, 'qrels.tsv'), 'query-id\tcorpus-id\tscore\n' + records.map((_, i) => `q${i}\td${i}\t1`).join('\n') + '\n');
  if (options.model !== false) await writeTinyBertModelDir(join(shared, 'tiny-bert'), { seed: 5, pooling: 'mean' });
  return shared;
}

/** Run the CLI to prepare a work dir (no fault); a failure throws. */
async function prepareRun(args: string[], work: string, shared: string): Promise<void> {
  const run = await runCliAsync(expand(args, work, shared), { RARE_MINE_CACHE_DIR: join(work, 'cache'), HF_HUB_CACHE: join(work, 'hub'), HF_HUB_OFFLINE: '1' }, 120_000);
  if (run.status !== 0) throw new Error(`preparing ${args.join(' ')}: exit ${run.status}: ${run.stderr}`);
}

const PREVIOUS = 'a previous output the failed run must leave as it was\n';

export const FAULT_SCENARIOS: FaultScenario[] = [
  {
    name: 'bm25 -o',
    sample: 16,
    args: ['bm25', '{shared}/input.jsonl', '--index-dir', '{work}/idx', '--with-scores', '--with-ids', '-o', '{work}/out.jsonl', '--stats-json', '{work}/stats.json'],
    outputs: ['out.jsonl', 'stats.json'],
    async prepare(work, shared) {
      await prepareRun(['index', 'bm25', '--corpus', '{shared}/input.jsonl', '--index-dir', '{work}/idx'], work, shared);
      writeFileSync(join(work, 'out.jsonl'), PREVIOUS);
      writeFileSync(join(work, 'stats.json'), PREVIOUS);
    },
  },
  {
    name: 'dense -o (tiny model)',
    sample: 12,
    args: ['dense', '--model', '{shared}/tiny-bert', '{shared}/input.jsonl', '--index-dir', '{work}/idx', '--with-ids', '-o', '{work}/out.jsonl'],
    outputs: ['out.jsonl'],
    caches: ['cache/'],
    async prepare(work, shared) {
      await prepareRun(['index', 'dense', '--model', '{shared}/tiny-bert', '--corpus', '{shared}/input.jsonl', '--index-dir', '{work}/idx'], work, shared);
      writeFileSync(join(work, 'out.jsonl'), PREVIOUS);
    },
  },
  {
    name: 'index bm25 --rebuild',
    sample: 16,
    args: ['index', 'bm25', '--corpus', '{shared}/corpus.jsonl', '--index-dir', '{work}/idx', '--rebuild'],
    outputs: ['idx/'],
    readBack: ['eval', '--retriever', 'bm25', '--corpus', '{shared}/corpus.jsonl', '--queries', '{shared}/queries.jsonl', '--qrels', '{shared}/qrels.tsv', '--index-dir', '{work}/idx', '--run', '/dev/stdout'],
    readBackLines: / Q0 /,
    async prepare(work, shared) {
      await prepareRun(['index', 'bm25', '--corpus', '{shared}/corpus.jsonl', '--index-dir', '{work}/idx'], work, shared);
    },
  },
  {
    name: 'index dense --rebuild (tiny model)',
    sample: 12,
    args: ['index', 'dense', '--model', '{shared}/tiny-bert', '--corpus', '{shared}/corpus.jsonl', '--index-dir', '{work}/idx', '--rebuild'],
    outputs: ['idx/'],
    readBack: ['eval', '--retriever', 'dense', '--model', '{shared}/tiny-bert', '--corpus', '{shared}/corpus.jsonl', '--queries', '{shared}/queries.jsonl', '--qrels', '{shared}/qrels.tsv', '--index-dir', '{work}/idx', '--run', '/dev/stdout'],
    readBackLines: / Q0 /,
    caches: ['cache/'],
    async prepare(work, shared) {
      await prepareRun(['index', 'dense', '--model', '{shared}/tiny-bert', '--corpus', '{shared}/corpus.jsonl', '--index-dir', '{work}/idx'], work, shared);
    },
  },
  {
    name: 'merge -o',
    args: ['merge', '-o', '{work}/merged.jsonl', '{work}/part1.jsonl', '{work}/part0.jsonl'],
    outputs: ['merged.jsonl'],
    async prepare(work, shared) {
      for (const shard of [0, 1]) {
        await prepareRun(['bm25', '{shared}/input.jsonl', '--corpus', '{shared}/corpus.jsonl', '--index-dir', '{work}/idx', '--shard', `${shard}/2`, '-o', `{work}/part${shard}.jsonl`], work, shared);
      }
      rmSync(join(work, 'idx'), { recursive: true, force: true });
      writeFileSync(join(work, 'merged.jsonl'), PREVIOUS);
    },
  },
  {
    name: 'report -o',
    args: ['report', '{work}/out.jsonl', '--stats-json', '{work}/stats.json', '--qrels', '{shared}/qrels.tsv', '--queries-key', 'qid', '-o', '{work}/report.html'],
    outputs: ['report.html'],
    async prepare(work, shared) {
      const records = readFileSync(join(shared, 'input.jsonl'), 'utf8').trimEnd().split('\n').map((line, i) => JSON.stringify({ ...JSON.parse(line), qid: `q${i}` }));
      writeFileSync(join(work, 'input.jsonl'), records.join('\n') + '\n');
      await prepareRun(['bm25', '{work}/input.jsonl', '--corpus', '{shared}/corpus.jsonl', '--corpus-id-key', '_id', '--with-ids', '--with-scores', '--with-ranks', '-o', '{work}/out.jsonl', '--stats-json', '{work}/stats.json'], work, shared);
      writeFileSync(join(work, 'report.html'), PREVIOUS);
    },
  },
  {
    name: 'eval --run',
    sample: 16,
    args: ['eval', '--retriever', 'bm25', '--corpus', '{shared}/corpus.jsonl', '--queries', '{shared}/queries.jsonl', '--qrels', '{shared}/qrels.tsv', '--index-dir', '{work}/idx', '--run', '{work}/run.txt', '--json'],
    outputs: ['run.txt'],
    async prepare(work, shared) {
      await prepareRun(['index', 'bm25', '--corpus', '{shared}/corpus.jsonl', '--index-dir', '{work}/idx'], work, shared);
      writeFileSync(join(work, 'run.txt'), PREVIOUS);
    },
  },
  {
    name: 'stats --stats-json',
    args: ['stats', '{work}/out.jsonl', '--stats-json', '{work}/summary.json'],
    outputs: ['summary.json'],
    prepare(work) {
      // A mined output written here rather than by a run: the sampled loop in npm test must stay cheap.
      const records = Array.from({ length: 40 }, (_, i) =>
        JSON.stringify({ query: `query ${i}`, pos: [`positive ${i}`], neg: [0, 1, 2].map((j) => `negative ${i}.${j}`), pos_scores: [10 + (i % 7)], neg_scores: [9, 8, 7 - (i % 3)] }),
      );
      writeFileSync(join(work, 'out.jsonl'), records.join('\n') + '\n');
      writeFileSync(join(work, 'summary.json'), PREVIOUS);
    },
  },
  {
    name: 'models prepare use-lite',
    sample: 8,
    args: ['models', 'prepare', 'use-lite', '--force'],
    outputs: ['cache/'],
    prepare(work) {
      mkdirSync(join(work, 'cache'));
    },
  },
];

/** A scenario by name (the sampled test picks some). */
export function scenario(name: string): FaultScenario {
  const found = FAULT_SCENARIOS.find((s) => s.name === name);
  if (!found) throw new Error(`no fault scenario ${name}`);
  return found;
}

