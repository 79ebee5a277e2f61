/**
 * RejectPolicy's held rejects (a mining run reads batch n+1 while batch n is written): held lines are neither
 * written nor counted until their batch releases them, lines of the batch being written go out at once, and
 * --on-error fail still throws at the bad line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/errors.js';
import { RejectPolicy } from '../src/io/jsonl.js';

const lines = (path: string) => readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { line: number }).line);

test('held rejects are written and counted only when released, after the ones written at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-rejects-'));
  try {
    const path = join(dir, 'rejects.jsonl');
    const policy = new RejectPolicy('skip', path);
    policy.reject(new InputError('in.jsonl', 1, 'bad'), 'x');
    policy.holdRejects();
    policy.reject(new InputError('in.jsonl', 5, 'bad'), 'y');
    policy.reject(new InputError('in.jsonl', 6, 'bad'), undefined);
    assert.deepEqual(lines(path), [1]);
    assert.equal(policy.rejected, 1);
    const held = policy.takeHeld();
    assert.deepEqual(held.map((r) => r.error.line), [5, 6]);
    assert.deepEqual(policy.takeHeld(), [], 'taken once');
    policy.rejectNow(new InputError('in.jsonl', 3, 'bad format'), 'z');
    policy.reject(new InputError('in.jsonl', 9, 'bad'), 'w'); // the next batch's, still held
    policy.release(held);
    assert.deepEqual(lines(path), [1, 3, 5, 6]);
    assert.equal(policy.rejected, 4);
    policy.release(policy.takeHeld());
    assert.deepEqual(lines(path), [1, 3, 5, 6, 9]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('under --on-error fail a bad line throws at once, held or not', () => {
  const policy = new RejectPolicy('fail');
  policy.holdRejects();
  assert.throws(() => policy.reject(new InputError('in.jsonl', 2, 'bad'), 'x'), /bad/);
  assert.throws(() => policy.rejectNow(new InputError('in.jsonl', 3, 'bad'), 'x'), /bad/);
  assert.equal(policy.rejected, 0);
});
