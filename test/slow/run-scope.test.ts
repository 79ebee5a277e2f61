/**
 * The run scope (src/run-scope.ts) on every way out, as a user meets it: an error at any stage after the BM25 search
 * threads started ends the process within 2 s (it used to print the error and stay alive); SIGHUP stops a run like
 * SIGINT/SIGTERM, releasing its spool copy of stdin and its locks; what a SIGKILLed run leaves in TMPDIR is swept by
 * the next run; two shards sharing one --rejects file cannot both write it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { cliPath, repoRoot } from '../helpers/shared-data.js';
import { killMidway, makeInput, tempDir } from '../helpers/scale-out.js';
import { writeTinyBertModelDir } from '../helpers/tiny-models.js';

const corpusFixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');
/** BM25 with its search pool (threads > 1): the threads that kept a failed run alive. */
const MINE = ['bm25', '--threads', '2', '--corpus-id-key', 'question'];
const HANG_MS = 60_000;

interface Ended {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** From the error message on stderr to the process's exit; undefined without an error message. */
  errorToExitMs?: number;
}

function start(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, RARE_MINE_LOG_FORMAT: 'json', RARE_MINE_NO_PROGRESS: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Wait for `child` to end (killed after HANG_MS: a hang fails the test, not the suite), timing error → exit. */
function ended(child: ChildProcess): Promise<Ended> {
  let stderr = '';
  let errorAt: number | undefined;
  child.stdout!.resume();
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (errorAt === undefined && /"exit_code"/.test(stderr)) errorAt = Date.now();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
  return new Promise((resolve) =>
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stderr, errorToExitMs: errorAt === undefined ? undefined : Date.now() - errorAt });
    }),
  );
}

async function until(condition: () => boolean, what: string, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + HANG_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    if (child && child.exitCode !== null) throw new Error(`the run ended before ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The first error message on stderr (json logs). */
function errorMessage(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.includes('"exit_code"'));
  return line === undefined ? '' : String((JSON.parse(line) as { msg: unknown }).msg);
}

test('an error at any stage after the search threads started ends the process within 2 s, with its exit code', async () => {
  const dir = tempDir('scope-errors');
  const input = makeInput(dir, 1);
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(corpus, readFileSync(corpusFixture));
  const cases: Array<{ what: string; args: string[]; prepare?: () => Promise<void> | void; status: number; message: RegExp }> = [
    {
      what: 'open: the journal cannot be created',
      args: ['-o', join(dir, 'journal', 'out.jsonl')],
      prepare: () => {
        mkdirSync(join(dir, 'journal', 'out.jsonl.partial.journal.new'), { recursive: true });
      },
      status: 1,
      message: /out\.jsonl\.partial\.journal\.new/,
    },
    {
      what: 'open: a resume refused once the index is open (the corpus changed since the partial)',
      args: ['--resume', '-o', join(dir, 'resume', 'out.jsonl')],
      prepare: async () => {
        mkdirSync(join(dir, 'resume'));
        const big = makeInput(join(dir, 'resume'), 60, 'input.jsonl');
        await killMidway([...MINE, '--corpus', corpus, '--batch-size', '8', big], join(dir, 'resume', 'out.jsonl'), 2);
        appendFileSync(corpus, JSON.stringify({ question: 'a document added since', text: 'it changes the index' }) + '\n');
      },
      status: 2,
      message: /resume/,
    },
    { what: 'stream: the disk is full', args: ['-o', '/dev/full'], status: 1, message: /\/dev\/full/ },
    { what: 'report: --stats-json cannot be written', args: ['-o', join(dir, 'stats-out.jsonl'), '--stats-json', '/dev/full'], status: 1, message: /\/dev\/full/ },
  ];
  for (const { what, args, prepare, status, message } of cases) {
    await prepare?.();
    const inputArg = what.startsWith('open: a resume') ? join(dir, 'resume', 'input.jsonl') : input;
    const run = await ended(start([...MINE, '--corpus', corpus, ...args, inputArg]));
    assert.equal(run.signal, null, `${what}: ended by ${run.signal} (it hung)\n${run.stderr}`);
    assert.equal(run.status, status, `${what}: ${run.stderr}`);
    assert.match(errorMessage(run.stderr), message, what);
    assert.ok(run.errorToExitMs !== undefined && run.errorToExitMs < 2000, `${what}: exited ${run.errorToExitMs} ms after the error`);
  }
});

/** A mining run reading stdin with no --corpus (the input is the corpus, so stdin is spooled), its stdin held open. */
async function runHoldingItsSpool(tmp: string, out: string): Promise<{ child: ChildProcess; spool: () => string[]; done: Promise<Ended> }> {
  const child = start(['bm25', '--threads', '2', '-o', out], { TMPDIR: tmp });
  const done = ended(child);
  // More than the 1,000 records the key check peeks at: the spool copy starts, and waits for the rest of stdin.
  child.stdin!.on('error', () => {}); // EPIPE once the run is killed with bytes still on their way
  child.stdin!.write(readFileSync(makeInput(tempDir('scope-input'), 30)));
  const spool = () => readdirSync(tmp).filter((name) => name.startsWith('rare-mine-spool-'));
  await until(() => spool().length === 1, 'the spool copy of stdin', child);
  return { child, spool, done };
}

test('SIGHUP stops a run as SIGINT and SIGTERM do: exit 129, no spool copy of the input or lock left behind', async () => {
  const tmp = tempDir('scope-hup');
  const out = join(tmp, 'out.jsonl');
  const { child, spool, done } = await runHoldingItsSpool(tmp, out);
  child.kill('SIGHUP');
  const run = await done;
  assert.equal(run.signal, null, `handled, not killed by the OS default (which leaves the spool copy for good)\n${run.stderr}`);
  assert.equal(run.status, 129, run.stderr);
  assert.deepEqual(spool(), [], 'the spool copy of stdin is removed');
  assert.ok(!existsSync(`${out}.lock`), 'the output lock is released');
});

test("a SIGKILLed run's spool copy is swept by the next run, whatever that run does", async () => {
  const tmp = tempDir('scope-kill');
  const { child, spool, done } = await runHoldingItsSpool(tmp, join(tmp, 'out.jsonl'));
  child.kill('SIGKILL');
  await done;
  assert.equal(spool().length, 1, 'SIGKILL leaves it (nothing can run)');
  // The next run makes no spool of its own (a file input, --corpus): the sweep covers every kind of temp at start.
  const next = runCli([...MINE, '--corpus', corpusFixture, makeInput(tmp, 1)], { env: { TMPDIR: tmp }, timeoutMs: HANG_MS });
  assert.equal(next.status, 0, next.stderr);
  assert.deepEqual(spool(), [], 'swept');
  assert.ok(next.logs().some((l) => l.msg === 'removing a temporary dir left by a run that is gone'), 'the sweep is logged');
});

test('two shards sharing one --rejects file: the second refuses at once (exit 2), the first writes every rejected line', async () => {
  const dir = tempDir('scope-rejects');
  const input = makeInput(dir, 2);
  appendFileSync(input, '{not json\n');
  const rejects = join(dir, 'rejects.jsonl');
  const fifo = join(dir, 'corpus.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  const shardArgs = (shard: string, corpus: string, out: string) => [...MINE, '--corpus', corpus, '--shard', shard, '--on-error', 'skip', '--rejects', rejects, '-o', join(dir, out), input];
  // Shard 1/2 (which holds the bad line) holds its locks while it waits for its corpus on a FIFO.
  const first = start(shardArgs('1/2', fifo, 'part-1.jsonl'));
  const firstDone = ended(first);
  await until(() => existsSync(`${rejects}.lock`), 'the first shard to lock --rejects', first);
  const second = runCli(shardArgs('0/2', corpusFixture, 'part-0.jsonl'), { timeoutMs: HANG_MS });
  assert.equal(second.status, 2, second.stderr);
  assert.match(second.messages(), /--rejects .*rejects\.jsonl is being written by another rare-mine run/);
  writeFileSync(fifo, readFileSync(corpusFixture));
  const run = await firstDone;
  assert.equal(run.status, 0, run.stderr);
  const lines = readFileSync(rejects, 'utf8').split('\n').filter((line) => line.length > 0);
  assert.equal(lines.length, 1, 'the bad line, once, not truncated by the other shard');
  assert.match(lines[0], /not json/);
});

test('SIGINT while the search threads mine: exit 130, the partial and its journal kept, the temporary index dir removed, no error reported', async () => {
  const tmp = tempDir('scope-int');
  const input = makeInput(tmp, 300);
  const out = join(tmp, 'out.jsonl');
  const child = start([...MINE, '--corpus', corpusFixture, '--batch-size', '16', '-o', out, input], { TMPDIR: tmp });
  const done = ended(child);
  const indexDirs = () => readdirSync(tmp).filter((name) => name.startsWith('rare-mine-index-'));
  await until(() => existsSync(`${out}.partial.journal`) && readFileSync(`${out}.partial.journal`, 'utf8').split('\n').length > 3, 'a few checkpoints', child);
  assert.equal(indexDirs().length, 1);
  child.kill('SIGINT');
  const run = await done;
  assert.equal(run.status, 130, run.stderr);
  assert.equal(errorMessage(run.stderr), '', `the search threads' end is not reported as an error:\n${run.stderr}`);
  assert.ok(existsSync(`${out}.partial`) && existsSync(`${out}.partial.journal`), 'kept for --resume');
  assert.deepEqual(indexDirs(), [], 'the temporary index dir is removed');
  assert.ok(!existsSync(`${out}.lock`));
});

/** Every path under `dir` (relative), for what a build left. */
function allPaths(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

test('SIGTERM during a dense build (async embedding): exit 143, its aside folder removed, the cache writer lock released', async () => {
  const root = tempDir('scope-dense');
  const model = join(root, 'tiny-bert');
  await writeTinyBertModelDir(model, { seed: 3, pooling: 'mean', hiddenSize: 32 });
  const corpus = join(root, 'corpus.jsonl');
  writeFileSync(corpus, Array.from({ length: 4000 }, (_, i) => JSON.stringify({ _id: `d${i}`, text: `document ${i} about ${'kernel memory page '.repeat(1 + (i % 9))}` })).join('\n') + '\n');
  const cache = join(root, 'cache');
  const indexDir = join(root, 'idx');
  const child = start(['index', 'dense', '--model', model, '--corpus', corpus, '--index-dir', indexDir, '--threads', '1'], { RARE_MINE_CACHE_DIR: cache });
  const done = ended(child);
  const building = () => (existsSync(indexDir) ? allPaths(indexDir).filter((path) => /\.building-\d+$/.test(path)) : []);
  const cacheLocks = () => (existsSync(cache) ? allPaths(cache).filter((path) => path.endsWith('writer.lock')) : []);
  // Embedding, past the model's load: that load runs with the signals at their default action (withDefaultSignals:
  // the process ends at once, killed by the signal), so the signal must come once rows reach the cache.
  const cacheRows = () => (existsSync(cache) ? allPaths(cache).filter((path) => path.endsWith('vectors.bin') && statSync(join(cache, path)).size > 32) : []);
  await until(() => building().some((path) => path.includes('dense')) && cacheLocks().length === 1 && cacheRows().length > 0, 'the dense part to be built aside, embedding', child);
  child.kill('SIGTERM');
  const run = await done;
  assert.equal(run.status, 143, run.stderr);
  assert.deepEqual(building(), [], 'no aside folder left');
  assert.deepEqual(cacheLocks(), [], "the embedding cache's writer lock is released");
  assert.ok(!existsSync(join(indexDir, '.build.lock')), 'the build lock is released');
});
