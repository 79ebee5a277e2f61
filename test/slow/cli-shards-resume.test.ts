/**
 * Scale-out and crash safety, end to end: 4 shards + merge equal one run byte for byte; a run SIGKILLed midway
 * and resumed with --resume ends with exactly the bytes of an uninterrupted run; SIGTERM keeps a resumable partial.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { cliPath, repoRoot } from '../helpers/shared-data.js';

const fixtureLines = readFileSync(join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl'), 'utf8').trimEnd().split('\n');

/** A bigger input: the fixture repeated, with a unique question per record, a blank line and a bad line inside. */
function makeInput(dir: string, copies: number): string {
  const lines: string[] = [];
  for (let c = 0; c < copies; c++) {
    fixtureLines.forEach((line, i) => {
      const record = JSON.parse(line);
      lines.push(JSON.stringify({ id: `${c}-${i}`, question: `${record.question} (${c})`, text: record.text }));
    });
    if (c === 1) lines.push('');
    if (c === 2) lines.push('{"question": 5}');
  }
  const path = join(dir, 'input.jsonl');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

test('4 shards + merge equal a single run byte for byte', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-shards-'));
  const input = makeInput(dir, 25);
  const indexDir = join(dir, 'idx');
  const common = ['bm25', '--num-neg', '3', '--sample', 'random', '--with-ids', '--on-error', 'skip', '--index-dir', indexDir, input];
  const single = runCli([...common, '-o', join(dir, 'single.jsonl')]);
  assert.equal(single.status, 0, single.stderr);
  const outputs: string[] = [];
  for (let i = 0; i < 4; i++) {
    const out = join(dir, `shard-${i}.jsonl`);
    const run = runCli([...common, '--shard', `${i}/4`, '-o', out]);
    assert.equal(run.status, 0, run.stderr);
    assert.ok(run.logs().some((l) => l.msg === 'reusing BM25 index: corpus and settings match'), 'the index is built once and read by every shard');
    outputs.push(out);
  }
  const merged = join(dir, 'merged.jsonl');
  const merge = runCli(['merge', '-o', merged, ...outputs.reverse()]);
  assert.equal(merge.status, 0, merge.stderr);
  const expected = readFileSync(join(dir, 'single.jsonl'));
  assert.equal(expected.toString().split('\n').length - 1, 25 * 40);
  assert.ok(readFileSync(merged).equals(expected), 'merged shards equal the single run');
  const incomplete = runCli(['merge', outputs[0], outputs[1]]);
  assert.equal(incomplete.status, 2);
  assert.match(incomplete.messages(), /missing shard/);
});

test('a run killed with SIGKILL midway and resumed ends byte-identical to an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-resume-'));
  const input = makeInput(dir, 600);
  const indexDir = join(dir, 'idx');
  const args = ['bm25', '--num-neg', '3', '--with-scores', '--batch-size', '64', '--on-error', 'skip', '--rejects', join(dir, 'rejects.jsonl'), '--index-dir', indexDir, input];
  const reference = join(dir, 'reference.jsonl');
  const full = runCli([...args, '-o', reference]);
  assert.equal(full.status, 0, full.stderr);

  const out = join(dir, 'out.jsonl');
  const child = spawn(process.execPath, [cliPath, ...args, '-o', out, '--log-level', 'silent'], { stdio: 'ignore' });
  const journal = `${out}.partial.journal`;
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (existsSync(journal) && readFileSync(journal, 'utf8').split('\n').length > 20) {
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
  assert.ok(statSync(`${out}.partial`).size > 0);

  const resumed = runCli([...args, '-o', out, '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.ok(resumed.logs().some((l) => l.msg === 'resuming an interrupted run'));
  assert.ok(readFileSync(out).equals(readFileSync(reference)), 'resumed output equals the uninterrupted one');
  assert.ok(!existsSync(`${out}.partial`) && !existsSync(journal));
});

test('SIGTERM stops the run, keeps a resumable partial, exits 143', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-sigterm-'));
  const input = makeInput(dir, 600);
  const out = join(dir, 'out.jsonl');
  const args = ['bm25', '--batch-size', '64', '--on-error', 'skip', '--index-dir', join(dir, 'idx'), input, '-o', out];
  const child = spawn(process.execPath, [cliPath, ...args, '--log-level', 'silent'], { stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => {
    const timer = setInterval(() => {
      if (existsSync(`${out}.partial.journal`)) {
        clearInterval(timer);
        child.kill('SIGTERM');
      }
    }, 5);
    child.on('exit', (status) => {
      clearInterval(timer);
      resolve(status);
    });
  });
  assert.equal(code, 143);
  assert.ok(existsSync(`${out}.partial`) && !existsSync(out));
  const resumed = runCli([...args, '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const reference = runCli(args.map((a) => (a === out ? join(dir, 'ref.jsonl') : a)));
  assert.equal(reference.status, 0);
  assert.ok(readFileSync(out).equals(readFileSync(join(dir, 'ref.jsonl'))));
});
