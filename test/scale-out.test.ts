/**
 * Scale-out under real schedulers, end to end: --resume refuses another run (naming what differs) and recovers a
 * partial shorter than its journal; merge refuses shards that are not what their run wrote; one writer per output;
 * a shard task killed mid-way and then started twice at once still merges to the single run's bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { cliPath } from './helpers/shared-data.js';
import { killMidway, makeInput } from './helpers/scale-out.js';
import { LeaseLock } from '../src/io/lease-lock.js';

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `rare-mine-${prefix}-`));
}

test('--resume refuses a partial of another run (exit 2, naming what differs) and leaves it as it was', async () => {
  const dir = tempDir('fingerprint');
  const input = makeInput(dir, 150);
  const other = makeInput(dir, 151, 'other.jsonl');
  const base = ['bm25', '--index-dir', join(dir, 'idx'), '--batch-size', '16'];
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
    assert.match(run.stderr, /--resume: .*out\.jsonl\.partial belongs to another run/);
    assert.match(run.stderr, reason);
    assert.equal(statSync(`${out}.partial`).size, partialBytes, 'a refused resume leaves the partial alone');
    assert.ok(!existsSync(out));
  }
  // The same input path with other content is another input too.
  copyFileSync(input, join(dir, 'saved.jsonl'));
  appendFileSync(input, readFileSync(input, 'utf8').split('\n')[0] + '\n');
  const changed = runCli([...base, '--num-neg', '5', input, '-o', out, '--resume']);
  assert.equal(changed.status, 2, changed.stderr);
  assert.match(changed.stderr, /input bytes: \d+ then, \d+ now/);
  copyFileSync(join(dir, 'saved.jsonl'), input);
  // The same run resumes.
  const same = runCli([...base, '--num-neg', '5', input, '-o', out, '--resume']);
  assert.equal(same.status, 0, same.stderr);
  const reference = runCli([...base, '--num-neg', '5', input, '-o', join(dir, 'reference.jsonl')]);
  assert.equal(reference.status, 0, reference.stderr);
  assert.ok(readFileSync(out).equals(readFileSync(join(dir, 'reference.jsonl'))));
});

test('a partial shorter than its journal, or changed, is recovered to the last checkpoint it matches, never appended to', async () => {
  const dir = tempDir('short-partial');
  const input = makeInput(dir, 150);
  const args = ['bm25', '--index-dir', join(dir, 'idx'), '--batch-size', '16', '--with-scores', input];
  const reference = join(dir, 'reference.jsonl');
  assert.equal(runCli([...args, '-o', reference]).status, 0);
  const expected = readFileSync(reference);

  const out = join(dir, 'out.jsonl');
  await killMidway(args, out, 8);
  // Power loss: the last 5,000 bytes never reached the disk (cutting a line in the middle).
  truncateSync(`${out}.partial`, statSync(`${out}.partial`).size - 5000);
  const shorter = runCli([...args, '-o', out, '--resume']);
  assert.equal(shorter.status, 0, shorter.stderr);
  assert.ok(shorter.logs().some((l) => /does not hold what its journal recorded last/.test(l.msg)), 'the recovery is logged');
  assert.ok(readFileSync(out).equals(expected), 'recovered and finished: the bytes of an uninterrupted run');

  await killMidway(args, join(dir, 'out2.jsonl'), 8);
  // Same length, other bytes (another writer, a bad sector): no checkpoint after the damage can be trusted.
  const partial = `${join(dir, 'out2.jsonl')}.partial`;
  const bytes = readFileSync(partial);
  bytes.fill(0x20, 100, 200);
  writeFileSync(partial, bytes);
  const changed = runCli([...args, '-o', join(dir, 'out2.jsonl'), '--resume']);
  assert.equal(changed.status, 0, changed.stderr);
  assert.ok(readFileSync(join(dir, 'out2.jsonl')).equals(expected));
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
  assert.match(mixed.stderr, /b-1\.jsonl \(shard 1\/2\) belongs to another run than .*a-0\.jsonl \(shard 0\/2\): --num-neg: 3 in .*a-0\.jsonl, 2 in .*b-1\.jsonl/);

  const twice = runCli(['merge', a0, a1, a1]);
  assert.equal(twice.status, 2);
  assert.match(twice.stderr, /shard 1\/2 given twice/);

  const damage = (how: (file: string) => void, reason: RegExp) => {
    copyFileSync(a1, join(dir, 'saved'));
    how(a1);
    const run = runCli(['merge', '-o', join(dir, 'merged.jsonl'), a0, a1]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, reason);
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
  assert.match(stale.stderr, /a-1\.jsonl: no .*a-1\.jsonl\.shard\.json/);
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
    assert.match(second.stderr, new RegExp(`out\\.jsonl is being written by another rare-mine run \\(host .+, pid ${process.pid}, since `));
    assert.ok(Date.now() - started < 15_000, 'refused at once, not after a wait');
    assert.ok(!existsSync(`${out}.partial`) && !existsSync(out), 'the second run wrote nothing');
  } finally {
    first.release();
  }
  const after = runCli(['bm25', '--index-dir', join(dir, 'idx'), input, '-o', out]);
  assert.equal(after.status, 0, after.stderr);
  assert.ok(!existsSync(`${out}.lock`), 'the lock is released at the end');
});

test('a shard task killed mid-way, then started twice at once: one writes, the other refuses; the merge equals a single run', async () => {
  const dir = tempDir('twice');
  const input = makeInput(dir, 150);
  const common = ['bm25', '--index-dir', join(dir, 'idx'), '--batch-size', '16', '--sample', 'random', '--with-ids'];
  const single = runCli([...common, input, '-o', join(dir, 'single.jsonl')]);
  assert.equal(single.status, 0, single.stderr);
  const part0 = join(dir, 'part-0.jsonl');
  const part1 = join(dir, 'part-1.jsonl');
  assert.equal(runCli([...common, '--shard', '0/2', '--resume', input, '-o', part0]).status, 0);
  await killMidway([...common, '--shard', '1/2', '--resume', input], part1, 4);
  assert.ok(existsSync(`${part1}.lock`), 'SIGKILL leaves the lock behind');

  const start = () =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cliPath, ...common, '--shard', '1/2', '--resume', input, '-o', part1], { env: { ...process.env, RARE_MINE_NO_PROGRESS: '1', RARE_MINE_LOG_FORMAT: 'json' } });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (status) => resolve({ status, stderr }));
    });
  const copies = await Promise.all([start(), start()]);
  const statuses = copies.map((c) => c.status).sort();
  // Both may finish when the first is done before the second looks (each then writes the same bytes in turn).
  assert.ok(statuses.join() === '0,2' || statuses.join() === '0,0', `exit codes ${statuses.join()}: ${copies.map((c) => c.stderr.slice(-400)).join('\n')}`);
  for (const copy of copies.filter((c) => c.status === 2)) assert.match(copy.stderr, /part-1\.jsonl is being written by another rare-mine run/);
  assert.ok(copies.some((c) => c.status === 0 && /resuming an interrupted run/.test(c.stderr)), 'the writer resumed the killed partial');

  const merged = join(dir, 'merged.jsonl');
  const merge = runCli(['merge', '-o', merged, part1, part0]);
  assert.equal(merge.status, 0, merge.stderr);
  assert.ok(readFileSync(merged).equals(readFileSync(join(dir, 'single.jsonl'))), 'merged output equals the single run byte for byte');
});
