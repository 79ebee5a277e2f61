/**
 * Locks that never hang, and readers that take none: stale build locks (another program's live pid, PID 1, empty,
 * garbage — what a crash or ENOSPC leaves) are taken over after the lease; a live builder is waited for with a log
 * line naming it, and the wait is bounded; mining from a read-only index dir writes nothing there; leftovers of
 * interrupted builds and temporary dirs of runs that are gone are removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { cliPath, repoRoot } from '../helpers/shared-data.js';
import { inspectLock, LeaseLock } from '../../src/io/lease-lock.js';

const corpus = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');
/** Tests use a short lease; a run that would wait forever is stopped by spawnSync's timeout and fails. */
const LEASE = { RARE_MINE_LOCK_LEASE_SECONDS: '1' };
const TIMEOUT_MS = 60_000;

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `rare-mine-${prefix}-`));
}

function buildIndex(indexDir: string, env: Record<string, string> = LEASE) {
  return runCli(['index', 'bm25', '--corpus', corpus, '--corpus-id-key', 'question', '--index-dir', indexDir], { env, timeoutMs: TIMEOUT_MS });
}

/** Set a file's mtime two days back (older than any lease, and than the day an unowned temp dir is kept). */
function longAgo(path: string): void {
  const then = new Date(Date.now() - 2 * 86_400_000);
  utimesSync(path, then, then);
}

test('a stale build lock is taken over, whatever its pid says: another host, PID 1, empty, garbage, an old-format pid', () => {
  const locks: [string, string, boolean][] = [
    // [what, contents, make the heartbeat old]
    ['another host, a live pid of another program, old heartbeat', JSON.stringify({ host: 'node-elsewhere', pid: process.pid, purpose: 'x', acquiredAt: 'then', token: 't' }), true],
    ['PID 1 of another container, old heartbeat', JSON.stringify({ host: hostname(), pid: 1, pidNamespace: 'pid:[1]', purpose: 'x', acquiredAt: 'then', token: 't' }), true],
    ['empty (ENOSPC while it was written)', '', true],
    ['garbage', '\u0000\u0001 not a lock', true],
    ['the pid of PID 1, as rare-mine 0.1.0 wrote it, fresh', '1', false],
  ];
  for (const [what, contents, old] of locks) {
    const dir = tempDir('stale-lock');
    mkdirSync(join(dir, 'idx'));
    const lock = join(dir, 'idx', '.build.lock');
    writeFileSync(lock, contents);
    if (old) longAgo(lock);
    const run = buildIndex(join(dir, 'idx'));
    assert.equal(run.status, 0, `${what}: ${run.stderr}`);
    assert.ok(run.logs().some((l) => l.msg === 'taking over a stale lock'), `${what}: the takeover is logged`);
    assert.ok(!existsSync(lock), `${what}: released after the build`);
  }
});

test('a lock from PID 1 of another PID namespace whose heartbeat looks fresh (a clock ahead) is waited for, logged, then taken over once it stood still for a lease', () => {
  const dir = tempDir('lease');
  mkdirSync(join(dir, 'idx'));
  const lock = join(dir, 'idx', '.build.lock');
  writeFileSync(lock, JSON.stringify({ host: hostname(), pid: 1, pidNamespace: 'pid:[other]', purpose: 'building', acquiredAt: '2026-01-01T00:00:00Z', token: 't' }));
  // The holder's clock is 10 minutes ahead: by the clocks its heartbeat is fresh; it never moves, though.
  const ahead = new Date(Date.now() + 600_000);
  utimesSync(lock, ahead, ahead);
  const started = Date.now();
  const run = buildIndex(join(dir, 'idx'));
  assert.equal(run.status, 0, run.stderr);
  assert.ok(Date.now() - started < TIMEOUT_MS);
  const waiting = run.logs().find((l) => /^waiting for the build of/.test(l.msg));
  assert.ok(waiting, 'the wait is logged');
  assert.match(waiting.msg, new RegExp(`by host ${hostname()}, pid 1, since 2026-01-01T00:00:00Z \\(heartbeat`));
  assert.ok(run.logs().some((l) => l.msg === 'taking over a stale lock' && /heartbeat unchanged for/.test(l.reason)));
});

test('a live builder renewing its heartbeat is waited for, and the wait is bounded', () => {
  const dir = tempDir('live-builder');
  mkdirSync(join(dir, 'idx'));
  // This test process is the live builder: its heartbeat worker renews the lock while the CLI waits.
  process.env.RARE_MINE_LOCK_LEASE_SECONDS = '1';
  const holder = LeaseLock.tryAcquire(join(dir, 'idx', '.build.lock'), 'building');
  assert.ok(holder instanceof LeaseLock);
  try {
    const started = Date.now();
    const run = buildIndex(join(dir, 'idx'), { ...LEASE, RARE_MINE_BUILD_WAIT_SECONDS: '3' });
    assert.equal(run.status, 3, run.stderr);
    assert.ok(Date.now() - started >= 3000, 'it waited while the heartbeat was live (3 leases)');
    assert.match(run.messages(), new RegExp(`gave up waiting for the build of .*idx by host ${hostname()}, pid ${process.pid}, since`));
    assert.match(run.messages(), /hint: raise RARE_MINE_BUILD_WAIT_SECONDS/);
  } finally {
    holder.release();
  }
  assert.equal(buildIndex(join(dir, 'idx')).status, 0, 'free once released');
});

/** Every path under `dir` with its mtime. */
function snapshot(dir: string): string {
  const entries: string[] = [];
  const walk = (path: string) => {
    entries.push(`${path} ${statSync(path).mtimeMs}`);
    if (statSync(path).isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name));
  };
  walk(dir);
  return entries.join('\n');
}

test('mining from a read-only index dir takes no lock and writes nothing there', (t) => {
  const dir = tempDir('read-only');
  const indexDir = join(dir, 'idx');
  assert.equal(buildIndex(indexDir).status, 0);
  const before = snapshot(indexDir);
  const dirs = readdirSync(indexDir).map((name) => join(indexDir, name));
  for (const path of [indexDir, ...dirs]) chmodSync(path, 0o555);
  // Root ignores modes: make the dir immutable where chattr works, so that any write attempt fails.
  const immutable = spawnSync('chattr', ['-R', '+i', indexDir]).status === 0;
  if (!immutable) t.diagnostic('chattr +i is not available here: checking that nothing is written instead');
  try {
    const run = runCli(['bm25', '--index-dir', indexDir, '--num-neg', '2', corpus], { env: LEASE, timeoutMs: TIMEOUT_MS });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.json().length, 40);
    assert.equal(snapshot(indexDir), before, 'no lock file was created (the dir mtimes are unchanged)');
  } finally {
    if (immutable) spawnSync('chattr', ['-R', '-i', indexDir]);
    for (const path of [indexDir, ...dirs]) chmodSync(path, 0o755);
  }
});

test('leftovers of interrupted builds are removed by the next builder; temporary dirs of runs that are gone by any later run', () => {
  const dir = tempDir('leftovers');
  const indexDir = join(dir, 'idx');
  mkdirSync(join(indexDir, 'docs.building-99999999'), { recursive: true });
  mkdirSync(join(indexDir, 'bm25.old-12'));
  writeFileSync(join(indexDir, 'docs.building-99999999', 'texts.bin'), 'half');
  assert.equal(buildIndex(indexDir).status, 0);
  assert.deepEqual(readdirSync(indexDir).sort(), ['bm25', 'docs']);

  // TMPDIR of the run: one dir whose owner's heartbeat is old, one with no owner lock and two days old, one with no
  // owner lock made just now (a rare-mine before owner locks may still be using it), and one whose owner (this
  // test process) is alive.
  const temp = join(dir, 'tmp');
  mkdirSync(join(temp, 'rare-mine-index-gone1'), { recursive: true });
  writeFileSync(join(temp, 'rare-mine-index-gone1', '.owner.lock'), JSON.stringify({ host: 'elsewhere', pid: 4, purpose: 'x', acquiredAt: 'then', token: 't' }));
  longAgo(join(temp, 'rare-mine-index-gone1', '.owner.lock'));
  mkdirSync(join(temp, 'rare-mine-index-gone2', 'docs.building-5'), { recursive: true });
  longAgo(join(temp, 'rare-mine-index-gone2'));
  mkdirSync(join(temp, 'rare-mine-index-recent'));
  mkdirSync(join(temp, 'rare-mine-index-live'));
  process.env.RARE_MINE_LOCK_LEASE_SECONDS = '1';
  const owner = LeaseLock.tryAcquire(join(temp, 'rare-mine-index-live', '.owner.lock'), 'owning');
  assert.ok(owner instanceof LeaseLock);
  try {
    const run = runCli(['bm25', '--num-neg', '1', corpus], { env: { ...LEASE, TMPDIR: temp }, timeoutMs: TIMEOUT_MS });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(readdirSync(temp).sort(), ['rare-mine-index-live', 'rare-mine-index-recent'], 'the orphans are gone; the run’s own was removed at exit');
  } finally {
    owner.release();
  }
});

test('inspectLock: free, held, stale by heartbeat, by a gone pid on this host, garbage after a grace', () => {
  process.env.RARE_MINE_LOCK_LEASE_SECONDS = '1';
  const dir = tempDir('inspect');
  const path = join(dir, 'x.lock');
  assert.equal(inspectLock(path).kind, 'free');
  const lock = LeaseLock.tryAcquire(path, 'testing');
  assert.ok(lock instanceof LeaseLock);
  const held = inspectLock(path);
  assert.equal(held.kind, 'held');
  assert.equal(held.kind === 'held' && held.holder?.pid, process.pid);
  const second = LeaseLock.tryAcquire(path, 'testing');
  assert.ok(!(second instanceof LeaseLock), 'a held lock is not taken twice');
  lock.release();
  assert.equal(inspectLock(path).kind, 'free');

  const ours = JSON.parse(JSON.stringify(lock.holder)) as Record<string, unknown>;
  writeFileSync(path, JSON.stringify({ ...ours, pid: 99_999_999, token: 'other' }));
  const gone = inspectLock(path);
  assert.equal(gone.kind, 'stale');
  assert.match(gone.kind === 'stale' ? gone.reason : '', /its process \(pid 99999999 on .*\) is gone/);

  writeFileSync(path, '');
  assert.equal(inspectLock(path).kind, 'held', 'an empty lock may be one being written: not stale at once');
  longAgo(path);
  assert.match((inspectLock(path) as { reason: string }).reason, /the lock file is empty/);
  assert.ok(readFileSync(path, 'utf8') === '');
});

test('a run whose output lock was taken over stops writing: exit 1, nothing renamed, the partial and the lock left to the run that took it', async () => {
  const dir = tempDir('taken-over');
  const output = join(dir, 'out.jsonl');
  const child = spawn(process.execPath, [cliPath, 'bm25', '--num-neg', '1', '--corpus', corpus, '--corpus-id-key', 'question', '-o', output], {
    env: { ...process.env, ...LEASE, RARE_MINE_LOG_FORMAT: 'json', RARE_MINE_NO_PROGRESS: '1' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // The run takes the lock before it reads a line; another process then takes it over (as after a lease without
  // heartbeat: a frozen process, a stalled filesystem).
  const lock = `${output}.lock`;
  for (let waited = 0; !existsSync(lock); waited += 20) {
    assert.ok(waited < TIMEOUT_MS, `no ${lock}:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const theirs = JSON.stringify({ host: hostname(), pid: 1, purpose: `writing ${output}`, acquiredAt: new Date().toISOString(), token: 'the-run-that-took-over' });
  writeFileSync(lock, theirs);
  child.stdin.end(readFileSync(corpus));
  const code = await exited;
  assert.equal(code, 1, stderr);
  assert.match(stderr, /another rare-mine run took over this output/);
  assert.ok(!existsSync(output), 'not renamed onto the output');
  assert.ok(existsSync(`${output}.partial`), 'the partial is left to the run that took over');
  assert.equal(readFileSync(lock, 'utf8'), theirs, 'its lock is not removed');
});
