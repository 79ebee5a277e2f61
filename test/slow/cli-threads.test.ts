/**
 * `--threads N` for every mining command: bm25, dense and hybrid write byte-identical output, rejects and
 * statistics for N = 1, 2, 3, over a whole input, a shard and a run killed midway and resumed with another N.
 * Slow (about 15 CLI runs, two with tiny ONNX models): `node --test dist/test/slow/cli-threads.test.js`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBertModelDir } from '../helpers/tiny-models.js';
import { runCli } from '../helpers/cli.js';
import { cliPath, repoRoot } from '../helpers/shared-data.js';

const fixtureLines = readFileSync(join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl'), 'utf8').trimEnd().split('\n');

/** The fixture repeated with distinct questions, plus a blank line and a bad line (rejected under skip). */
function makeInput(dir: string, copies: number): string {
  const lines: string[] = [];
  for (let c = 0; c < copies; c++) {
    fixtureLines.forEach((line, i) => {
      const record = JSON.parse(line);
      lines.push(JSON.stringify({ id: `${c}-${i}`, question: `${record.question} (${c})`, text: record.text }));
      // Bad lines in many batches, so rejections read ahead of a batch being written must keep their order.
      if (c % 2 === 0 && c > 0 && i === (c * 7) % fixtureLines.length) lines.push(`{"question": ${c}}`);
    });
    if (c === 1) lines.push('');
  }
  const path = join(dir, `input-${copies}.jsonl`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

interface RunFiles {
  output: Buffer;
  rejects: Buffer;
  stats: Buffer;
}

function mine(dir: string, name: string, args: string[], env?: Record<string, string>): RunFiles {
  const output = join(dir, `${name}.jsonl`);
  const rejects = join(dir, `${name}.rejects.jsonl`);
  const stats = join(dir, `${name}.stats.json`);
  const run = runCli([...args, '-o', output, '--rejects', rejects, '--stats-json', stats], { env });
  assert.equal(run.status, 0, run.stderr);
  return { output: readFileSync(output), rejects: readFileSync(rejects), stats: readFileSync(stats) };
}

/** The statistics of --stats-json; its `run` section describes the run itself (command line, --threads, timings). */
function statistics(stats: Buffer): unknown {
  const { run, ...rest } = JSON.parse(stats.toString()) as { run?: unknown };
  assert.ok(run !== undefined, 'the run section is written');
  return rest;
}

function assertSameRun(actual: RunFiles, expected: RunFiles, what: string): void {
  assert.ok(actual.output.equals(expected.output), `${what}: output bytes`);
  assert.ok(actual.rejects.equals(expected.rejects), `${what}: rejects bytes`);
  assert.deepEqual(statistics(actual.stats), statistics(expected.stats), `${what}: statistics`);
}

test('bm25, dense and hybrid: byte-identical output, rejects and statistics for --threads 1, 2, 3, whole input and a shard', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-threads-'));
  const input = makeInput(dir, 5);
  const model = join(dir, 'tiny-bert');
  await writeTinyBertModelDir(model, { seed: 7, pooling: 'mean' });
  const env = { RARE_MINE_CACHE_DIR: join(dir, 'cache') };
  const commands: Record<string, string[]> = {
    bm25: ['bm25', '--num-neg', '3', '--sample', 'random', '--with-scores', '--with-ids'],
    dense: ['dense', '--model', model, '--with-scores', '--with-ids'],
    hybrid: ['hybrid', '--model', model, '--with-scores', '--with-ids'],
  };
  for (const [name, command] of Object.entries(commands)) {
    const common = [...command, '--batch-size', '48', '--on-error', 'skip', '--index-dir', join(dir, `idx-${name}`), input];
    const one = mine(dir, `${name}-1`, [...common, '--threads', '1'], env);
    assert.ok(one.output.toString().split('\n').length - 1 === 5 * 40, `${name}: every good record written`);
    assert.ok(one.rejects.length > 0, `${name}: the bad line is rejected`);
    for (const threads of ['2', '3']) assertSameRun(mine(dir, `${name}-${threads}`, [...common, '--threads', threads], env), one, `${name} --threads ${threads}`);
    const shardOne = mine(dir, `${name}-shard-1`, [...common, '--shard', '1/2', '--threads', '1'], env);
    assertSameRun(mine(dir, `${name}-shard-3`, [...common, '--shard', '1/2', '--threads', '3'], env), shardOne, `${name} shard 1/2 --threads 3`);
  }
});

test('bm25 --threads 2 killed midway and resumed with --threads 3 ends byte-identical to a --threads 1 run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-threads-resume-'));
  const input = makeInput(dir, 150);
  const args = ['bm25', '--num-neg', '3', '--with-scores', '--batch-size', '16', '--on-error', 'skip', '--index-dir', join(dir, 'idx'), input];
  const reference = mine(dir, 'reference', [...args, '--threads', '1']);

  const out = join(dir, 'out.jsonl');
  const rejects = join(dir, 'out.rejects.jsonl');
  const child = spawn(process.execPath, [cliPath, ...args, '--threads', '2', '--rejects', rejects, '-o', out, '--log-level', 'silent'], { stdio: 'ignore' });
  const journal = `${out}.partial.journal`;
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (existsSync(journal) && readFileSync(journal, 'utf8').split('\n').length > 12) {
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve();
      }
    }, 5);
    child.on('exit', () => {
      clearInterval(timer);
      reject(new Error('the run finished before it could be killed; make the input bigger'));
    });
  });
  await new Promise((resolve) => child.on('exit', resolve));
  assert.ok(!existsSync(out), 'no final output after a kill');
  const resumed = runCli([...args, '--threads', '3', '--rejects', rejects, '-o', out, '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.ok(resumed.logs().some((l) => l.msg === 'resuming an interrupted run'));
  assert.ok(readFileSync(out).equals(reference.output), 'resumed output equals the one-thread run');
  assert.ok(readFileSync(rejects).equals(reference.rejects), 'rejects equal the one-thread run');
});
