/**
 * Lease locks that work on shared filesystems and never hang. A lock is a file created exclusively (O_EXCL)
 * naming its holder (host, pid, PID namespace, process start time); its mtime is the heartbeat, renewed every
 * lease/4 by a worker thread (src/io/heartbeat-worker.ts), so a main thread busy building an index still renews it.
 * A lock is stale — and may be taken over — when its heartbeat is older than the lease (RARE_MINE_LOCK_LEASE_SECONDS,
 * default 60), whatever its pid says (a pid means nothing on another host, or as PID 1 in another container).
 * On the holder's own host and PID namespace, a holder that is gone, or whose pid now names another process, is
 * stale at once. An empty or unparsable lock (a crash or ENOSPC between create and write) is stale once older
 * than a short grace. Clocks of hosts sharing a filesystem must agree within the lease (NTP); a waiter also
 * counts a heartbeat it has watched stand still for a whole lease on its own clock as stale.
 * Invariant: a takeover moves the stale file aside first, so of two processes taking over one lock, one wins.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeAllSync } from './fs.js';
import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UsageError } from '../errors.js';
import { log } from '../log.js';
import { runScope, type Ownership } from '../run-scope.js';

/** What a lock file holds. The heartbeat is the file's mtime. */
export interface LockHolder {
  host: string;
  pid: number;
  /** `/proc/self/ns/pid` of the holder: pids compare only within one PID namespace. */
  pidNamespace?: string;
  /** Start time of the holder process (field 22 of /proc/PID/stat): a reused pid has another. */
  processStart?: string;
  /** What the lock guards, for messages: "building idx/", "writing out.jsonl". */
  purpose: string;
  acquiredAt: string;
  /** Unique per acquisition: a renewal that finds another token knows the lock was taken over. */
  token: string;
}

export type LockState =
  | { kind: 'free' }
  | { kind: 'held'; holder?: LockHolder; heartbeatAgeMs: number; raw: string; mtimeMs: number }
  | { kind: 'stale'; reason: string; holder?: LockHolder; raw: string };

const DEFAULT_LEASE_SECONDS = 60;

/** The lease in ms: RARE_MINE_LOCK_LEASE_SECONDS (0.2 .. 86400), default 60 s. */
export function leaseMs(): number {
  const value = process.env.RARE_MINE_LOCK_LEASE_SECONDS;
  if (value === undefined || value === '') return DEFAULT_LEASE_SECONDS * 1000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0.2 || seconds > 86_400) {
    throw new UsageError(`RARE_MINE_LOCK_LEASE_SECONDS must be a number of seconds in 0.2..86400, got "${value}"`);
  }
  return seconds * 1000;
}

/** An empty or unparsable lock younger than this may be one being written right now. */
function garbageGraceMs(lease: number): number {
  return Math.min(lease, 2000);
}

function readOrUndefined(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

const selfPidNamespace = readOrUndefined(() => readlinkSync('/proc/self/ns/pid'));

/** Start time of a process in clock ticks since boot, or undefined where /proc cannot tell. */
function processStartOf(pid: number): string | undefined {
  const stat = readOrUndefined(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(raw) as LockHolder;
    if (typeof holder.host === 'string' && Number.isInteger(holder.pid) && typeof holder.token === 'string') return holder;
  } catch {
    // not JSON: handled as garbage by the caller
  }
  return undefined;
}

/** Inspect a lock file: free, held (live), or stale (with the reason). */
export function inspectLock(path: string, lease = leaseMs(), now = Date.now()): LockState {
  let raw: string;
  let mtimeMs: number;
  try {
    raw = readFileSync(path, 'utf8');
    mtimeMs = statSync(path).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'free' };
    throw error;
  }
  const ageMs = Math.max(0, now - mtimeMs);
  const holder = parseHolder(raw);
  if (!holder) {
    if (ageMs > garbageGraceMs(lease)) {
      return { kind: 'stale', reason: `the lock file is ${raw.trim().length === 0 ? 'empty' : 'not a rare-mine lock'} (${(ageMs / 1000).toFixed(1)} s old; a crash or a full disk while it was written)`, raw };
    }
    return { kind: 'held', heartbeatAgeMs: ageMs, raw, mtimeMs };
  }
  if (holder.host === hostname() && holder.pidNamespace !== undefined && holder.pidNamespace === selfPidNamespace) {
    const mine = holder.pid === process.pid && holder.processStart === processStartOf(process.pid) && !heldTokens.has(holder.token);
    if (mine) return { kind: 'stale', holder, reason: `left by an earlier lock of this same process (pid ${holder.pid})`, raw };
    if (!processAlive(holder.pid)) return { kind: 'stale', holder, reason: `its process (pid ${holder.pid} on ${holder.host}) is gone`, raw };
    const start = processStartOf(holder.pid);
    if (holder.processStart !== undefined && start !== undefined && start !== holder.processStart) {
      return { kind: 'stale', holder, reason: `pid ${holder.pid} on ${holder.host} now belongs to another process`, raw };
    }
  }
  if (ageMs > lease) {
    return { kind: 'stale', holder, reason: `no heartbeat for ${(ageMs / 1000).toFixed(1)} s (lease ${(lease / 1000).toFixed(1)} s; RARE_MINE_LOCK_LEASE_SECONDS)`, raw };
  }
  return { kind: 'held', holder, heartbeatAgeMs: ageMs, raw, mtimeMs };
}

/** "host X, pid Y, since T (heartbeat 2.0 s ago)" for messages. */
export function describeHolder(state: Extract<LockState, { kind: 'held' }>): string {
  const age = `heartbeat ${(state.heartbeatAgeMs / 1000).toFixed(1)} s ago`;
  if (!state.holder) return `a process still writing its lock file (${age})`;
  return `host ${state.holder.host}, pid ${state.holder.pid}, since ${state.holder.acquiredAt} (${age})`;
}

/** Tokens of the locks this process holds (released at exit, renewed by the heartbeat worker). */
const heldTokens = new Map<string, string>();
let heartbeat: Worker | undefined;
let exitHookInstalled = false;

function heartbeatWorker(): Worker {
  if (!heartbeat) {
    heartbeat = new Worker(new URL('./heartbeat-worker.js', import.meta.url), { workerData: { intervalMs: Math.max(50, leaseMs() / 4) } });
    heartbeat.on('message', (message: { lost: string; token: string }) => {
      const lock = LeaseLock.byToken.get(message.token);
      if (lock && !lock.released) {
        lock.lost = true;
        log().error({ lock: message.lost }, 'this lock was taken over by another process (its heartbeat could not be renewed in time)');
      }
    });
    // After the listener: adding a 'message' listener refs the worker again.
    heartbeat.unref();
  }
  return heartbeat;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [token, path] of heldTokens) removeIfOurs(path, token);
  });
}

function removeIfOurs(path: string, token: string): void {
  const raw = readOrUndefined(() => readFileSync(path, 'utf8'));
  if (raw !== undefined && parseHolder(raw)?.token === token) rmSync(path, { force: true });
}

/**
 * Move a stale lock aside and remove it. When the file moved is no longer the one judged stale (another process
 * took it over meanwhile), it is put back; either way the caller looks again.
 */
function takeOver(path: string, stale: Extract<LockState, { kind: 'stale' }>): void {
  const aside = `${path}.stale-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else moved it first
    throw error;
  }
  const moved = readOrUndefined(() => readFileSync(aside, 'utf8'));
  if (moved !== stale.raw) {
    try {
      linkSync(aside, path); // not the lock we judged: give it back unless a newer one is there already
    } catch {
      // a newer lock is in place; the one we moved is that holder's loss, reported by its heartbeat
    }
  } else {
    log().warn({ lock: path, holder: stale.holder ? `${stale.holder.host}:${stale.holder.pid}` : undefined, reason: stale.reason }, 'taking over a stale lock');
  }
  rmSync(aside, { force: true });
}

export class LeaseLock {
  static readonly byToken = new Map<string, LeaseLock>();
  /** True once another process took this lock over (our heartbeat failed for a whole lease). */
  lost = false;
  released = false;
  /** The run scope's handle (src/run-scope.ts): the scope releases a lock its run did not. */
  private ownership?: Ownership;

  private constructor(
    readonly path: string,
    readonly holder: LockHolder,
  ) {}

  /** Take the lock if it is free or stale; otherwise return the live holder's state. Never waits. */
  static tryAcquire(path: string, purpose: string): LeaseLock | Extract<LockState, { kind: 'held' }> {
    const lease = leaseMs();
    for (;;) {
      const holder: LockHolder = {
        host: hostname(),
        pid: process.pid,
        pidNamespace: selfPidNamespace,
        processStart: processStartOf(process.pid),
        purpose,
        acquiredAt: new Date().toISOString(),
        token: randomBytes(12).toString('hex'),
      };
      let fd: number;
      try {
        fd = openSync(path, 'wx');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const state = inspectLock(path, lease);
        if (state.kind === 'held') return state;
        if (state.kind === 'stale') takeOver(path, state);
        continue;
      }
      try {
        writeAllSync(fd, JSON.stringify(holder) + '\n', path);
      } catch (error) {
        // ENOSPC and friends: leave no empty lock behind for others to wait on.
        closeSync(fd);
        rmSync(path, { force: true });
        throw error;
      }
      closeSync(fd);
      const lock = new LeaseLock(path, holder);
      heldTokens.set(holder.token, path);
      LeaseLock.byToken.set(holder.token, lock);
      installExitHook();
      heartbeatWorker().postMessage({ hold: path, token: holder.token });
      lock.ownership = runScope().own(`lock ${path}`, () => lock.release());
      return lock;
    }
  }

  /**
   * Take the lock, waiting while a live holder renews it: logged when the wait starts and every 30 s
   * ("waiting for <purpose> by host X, pid Y, since ..."). The wait ends when the holder releases it, when its
   * heartbeat goes stale (at most one lease after the holder stops), or after `maxWaitMs` (then `onTimeout` throws).
   */
  static async acquire(path: string, purpose: string, options: { maxWaitMs: number; waitingFor: string; onTimeout: (holder: string) => Error }): Promise<LeaseLock> {
    const lease = leaseMs();
    const started = Date.now();
    let lastLog = 0;
    let watched: { raw: string; mtimeMs: number; since: number } | undefined;
    for (;;) {
      const result = LeaseLock.tryAcquire(path, purpose);
      if (result instanceof LeaseLock) {
        if (lastLog > 0) log().info({ lock: path, waitedSeconds: Number(((Date.now() - started) / 1000).toFixed(1)) }, 'lock acquired after waiting');
        return result;
      }
      const now = Date.now();
      // A heartbeat we watched stand still for a whole lease on our own clock is stale, whatever the clocks say.
      if (!watched || watched.raw !== result.raw || watched.mtimeMs !== result.mtimeMs) watched = { raw: result.raw, mtimeMs: result.mtimeMs, since: now };
      else if (now - watched.since > lease) {
        takeOver(path, { kind: 'stale', raw: result.raw, holder: result.holder, reason: `heartbeat unchanged for ${((now - watched.since) / 1000).toFixed(1)} s on this host's clock` });
        watched = undefined;
        continue;
      }
      if (now - started > options.maxWaitMs) throw options.onTimeout(describeHolder(result));
      if (now - lastLog >= 30_000) {
        lastLog = now;
        log().info({ lock: path }, `waiting for ${options.waitingFor} by ${describeHolder(result)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, lease / 4)));
    }
  }

  /**
   * Whether this process still holds the lock: not released, not reported lost by the heartbeat, and the file
   * still names our token (read now: after the process was frozen, the main thread may run before the heartbeat
   * notices). A lock found lost stays lost.
   */
  stillHeld(): boolean {
    if (this.released || this.lost) return false;
    const raw = readOrUndefined(() => readFileSync(this.path, 'utf8'));
    if (raw !== undefined && parseHolder(raw)?.token === this.holder.token) return true;
    this.lost = true;
    return false;
  }

  /** Stop the heartbeat and remove the lock (if it is still ours). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.ownership?.disown();
    heartbeat?.postMessage({ drop: this.path, token: this.holder.token });
    heldTokens.delete(this.holder.token);
    LeaseLock.byToken.delete(this.holder.token);
    removeIfOurs(this.path, this.holder.token);
  }
}
