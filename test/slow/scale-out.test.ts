/**
 * Scale-out under real schedulers, end to end: --resume refuses another run (naming what differs); merge refuses
 * shards that are not what their run wrote; one writer per output. The kill-and-recover cases are in
 * test/slow/scale-out-kills.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { killMidway, makeInput, tempDir } from '../helpers/scale-out.js';
import { LeaseLock } from '../../src/io/lease-lock.js';

test('--resume refuses a partial of another run (exit 2, naming what differs) and leaves it as it was', async () => {
  const dir = tempDir('fingerprint');
  const input = makeInput(dir, 40);
  const other = makeInput(dir, 41, 'other.jsonl');
  const base = ['bm25', '--index-dir', join(dir, 'idx'), '--batch-size', '8'];
  const out = join(dir, 'out.jsonl');
  await killMidway([...base, '--num-neg', '5', input], out);
  const partialBytes = statSync(`${out}.partial`).size;
  const cases: [string[], RegExp][] = [
    [[...base, '--num-neg', '2', input], /--num-neg: 5 then, 2 now/],
    [[...base, '--num-neg', '5', '--format', 'triplet', input], /--format: "record" then, "triplet" now/],
    [[...base, '--num-neg', '5', '--with-scores', input], /--with-scores: false then, true now/],
    [[...base, '--num-neg', '5', '--seed', '7', input], /--seed: 42 then, 7 now/],
    [[...base, '--num-neg', '5', '--shard', '1/2', input], /shard: null then, "1\/2" now/],
    [[...base, '--num-neg', '5', other], /input path: .*input\.jsonl" then, .*other\.jsonl" now/],
  ];
  for (const [args, reason] of cases) {
    const run = runCli([...args, '-o', out, '--resume']);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.messages(), /--resume: .*out\.jsonl\.partial belongs to another run/);
    assert.match(run.messages(), reason);
    assert.equal(statSync(`${out}.partial`).size, partialBytes, 'a refused resume leaves the partial alone');
    assert.ok(!existsSync(out));
  }
  // The same input path with other content is another input too.
  copyFileSync(input, join(dir, 'saved.jsonl'));
  appendFileSync(input, readFileSync(input, 'utf8').split('\n')[0] + '\n');
  const changed = runCli([...base, '--num-neg', '5', input, '-o', out, '--resume']);
  assert.equal(changed.status, 2, changed.stderr);
  assert.match(changed.messages(), /input bytes: \d+ then, \d+ now/);
  copyFileSync(join(dir, 'saved.jsonl'), input);
  // The same run resumes.
  const same = runCli([...base, '--num-neg', '5', input, '-o', out, '--resume']);
  assert.equal(same.status, 0, same.stderr);
  const reference = runCli([...base, '--num-neg', '5', input, '-o', join(dir, 'reference.jsonl')]);
  assert.equal(reference.status, 0, reference.stderr);
  assert.ok(readFileSync(out).equals(readFileSync(join(dir, 'reference.jsonl'))));
});

/** Two shards of `input` with `extra` options; returns the shard outputs. */
function mineShards(dir: string, input: string, name: string, extra: string[] = []): string[] {
  return [0, 1].map((i) => {
    const out = join(dir, `${name}-${i}.jsonl`);
    const run = runCli(['bm25', '--index-dir', join(dir, 'idx'), ...extra, '--shard', `${i}/2`, input, '-o', out]);
    assert.equal(run.status, 0, run.stderr);
    return out;
  });
}

test('merge refuses shards that are not what their run wrote, naming the shard and the reason', () => {
  const dir = tempDir('merge-verify');
  const input = makeInput(dir, 5);
  const [a0, a1] = mineShards(dir, input, 'a');
  const [, b1] = mineShards(dir, input, 'b', ['--num-neg', '2']);
  const good = runCli(['merge', a1, a0]);
  assert.equal(good.status, 0, good.stderr);

  const mixed = runCli(['merge', a0, b1]);
  assert.equal(mixed.status, 2);
  assert.match(mixed.messages(), /b-1\.jsonl \(shard 1\/2\) belongs to another run than .*a-0\.jsonl \(shard 0\/2\): --num-neg: 3 in .*a-0\.jsonl, 2 in .*b-1\.jsonl/);

  const twice = runCli(['merge', a0, a1, a1]);
  assert.equal(twice.status, 2);
  assert.match(twice.messages(), /shard 1\/2 given twice/);

  const damage = (how: (file: string) => void, reason: RegExp) => {
    copyFileSync(a1, join(dir, 'saved'));
    how(a1);
    const run = runCli(['merge', '-o', join(dir, 'merged.jsonl'), a0, a1]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.messages(), reason);
    assert.ok(!existsSync(join(dir, 'merged.jsonl')), 'nothing written');
    copyFileSync(join(dir, 'saved'), a1);
  };
  damage((f) => truncateSync(f, statSync(f).size - 5000), /a-1\.jsonl: shard 1\/2 holds \d+ bytes, but its run wrote \d+ \(cut short since\)/);
  damage((f) => truncateSync(f, 0), /a-1\.jsonl: shard 1\/2 holds 0 bytes/);
  damage((f) => appendFileSync(f, 'garbage\n'), /appended to since/);
  damage((f) => {
    const bytes = readFileSync(f);
    bytes[10] = bytes[10] === 0x61 ? 0x62 : 0x61;
    writeFileSync(f, bytes);
  }, /a-1\.jsonl: shard 1\/2 is not what its run wrote \(SHA-256 differs/);

  // A later unsharded run on a shard's output removes the stale sidecar: merge then says so.
  assert.equal(runCli(['bm25', '--index-dir', join(dir, 'idx'), input, '-o', a1]).status, 0);
  const stale = runCli(['merge', a0, a1]);
  assert.equal(stale.status, 2);
  assert.match(stale.messages(), /a-1\.jsonl: no .*a-1\.jsonl\.shard\.json/);
});

test('a second run on the same output refuses at once while the first holds it', () => {
  const dir = tempDir('one-writer');
  const input = makeInput(dir, 2);
  const out = join(dir, 'out.jsonl');
  // This test process plays the first run: it holds out.jsonl.lock and renews its heartbeat.
  const first = LeaseLock.tryAcquire(`${out}.lock`, `writing ${out}`);
  assert.ok(first instanceof LeaseLock);
  try {
    const started = Date.now();
    const second = runCli(['bm25', '--index-dir', join(dir, 'idx'), input, '-o', out, '--resume']);
    assert.equal(second.status, 2, second.stderr);
    assert.match(second.messages(), new RegExp(`out\\.jsonl is being written by another rare-mine run \\(host .+, pid ${process.pid}, since `));
    assert.ok(Date.now() - started < 15_000, 'refused at once, not after a wait');
    assert.ok(!existsSync(`${out}.partial`) && !existsSync(out), 'the second run wrote nothing');
  } finally {
    first.release();
  }
  const after = runCli(['bm25', '--index-dir', join(dir, 'idx'), input, '-o', out]);
  assert.equal(after.status, 0, after.stderr);
  assert.ok(!existsSync(`${out}.lock`), 'the lock is released at the end');
});
