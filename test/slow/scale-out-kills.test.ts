/**
 * Scale-out under kills (slow: each case kills a run mid-way and finishes it): a partial shorter than its journal,
 * or changed, is recovered to the last checkpoint it matches; a shard task killed mid-way and then started twice at
 * once still merges to the single run's bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { cliPath } from '../helpers/shared-data.js';
import { killMidway, makeInput, tempDir } from '../helpers/scale-out.js';

test('a partial shorter than its journal, or changed, is recovered to the last checkpoint it matches, never appended to', async () => {
  const dir = tempDir('short-partial');
  const input = makeInput(dir, 40);
  const args = ['bm25', '--index-dir', join(dir, 'idx'), '--batch-size', '8', '--with-scores', input];
  const reference = join(dir, 'reference.jsonl');
  assert.equal(runCli([...args, '-o', reference]).status, 0);
  const expected = readFileSync(reference);

  const out = join(dir, 'out.jsonl');
  await killMidway(args, out, 8);
  // Power loss: the last 5,000 bytes never reached the disk (cutting a line in the middle).
  truncateSync(`${out}.partial`, statSync(`${out}.partial`).size - 5000);
  const shorter = runCli([...args, '-o', out, '--resume']);
  assert.equal(shorter.status, 0, shorter.stderr);
  assert.ok(readFileSync(out).equals(expected), 'recovered and finished: the bytes of an uninterrupted run');
  assert.ok(shorter.logs().some((l) => /does not hold what its journal recorded last/.test(l.msg)), 'the recovery is logged');

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

test('a shard task killed mid-way, then started twice at once: one writes, the other refuses; the merge equals a single run', async () => {
  const dir = tempDir('twice');
  const input = makeInput(dir, 40);
  const common = ['bm25', '--index-dir', join(dir, 'idx'), '--batch-size', '8', '--sample', 'random', '--with-ids'];
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
