/**
 * The run scope's own rules (src/run-scope.ts): what is still owned is released newest first, each once; a handle's
 * release or disown takes a resource out; a release that hangs is named at the deadline instead of holding the
 * close; the signal for network requests is aborted. (The CLI on every way out: test/slow/run-scope.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunScope } from '../src/run-scope.js';

test('closing releases what is still owned, newest first and once; released and disowned resources are left out', async () => {
  const scope = new RunScope();
  const released: string[] = [];
  scope.own('threads', () => void released.push('threads'));
  const lock = scope.own('lock', () => void released.push('lock'));
  const partial = scope.own('partial', async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    released.push('partial');
  });
  const committed = scope.own('committed output', () => void released.push('committed output'));
  scope.own('spool', () => void released.push('spool'));
  await lock.release();
  await lock.release();
  committed.disown();
  assert.deepEqual(scope.labels(), ['threads', 'partial', 'spool']);
  assert.equal(scope.signal.aborted, false);
  assert.deepEqual(await scope.close(1000), []);
  assert.deepEqual(released, ['lock', 'spool', 'partial', 'threads']);
  assert.equal(scope.signal.aborted, true, 'network requests taking the signal are aborted');
  await partial.release();
  assert.equal(released.length, 4, 'a handle run after the close releases nothing again');
});

test('a release that hangs or throws does not hold the close: the hanging one is named at the deadline, the rest released', async () => {
  const scope = new RunScope();
  const released: string[] = [];
  scope.own('first', () => void released.push('first'));
  scope.own('stuck worker', () => new Promise<void>(() => {}));
  scope.own('failing', () => {
    throw new Error('EIO');
  });
  const started = Date.now();
  assert.deepEqual(await scope.close(50), ['stuck worker']);
  assert.ok(Date.now() - started < 1000, 'bounded by the deadline');
  assert.deepEqual(released, ['first'], 'what comes after a hanging release is still released');
});
