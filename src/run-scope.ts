/**
 * The run scope: the one owner of every resource a command opens — worker threads (BM25's search pool), lease locks
 * (outputs, side files, the build lock, the embedding cache, temporary dirs' owner locks), temporary dirs (index
 * dirs, spool copies), partial files, network requests (through `signal`) — so that each is released on every way
 * out: success, an error at any stage, SIGINT/SIGTERM/SIGHUP (src/terminal/signals.ts `endRun`, `installSignalHandlers`).
 * A resource registers its release with `own` where it is opened, in whatever layer opens it (hence this file at the
 * root of src/: every layer may use it); its normal close goes through the handle `own` returned, so it is released
 * once. What must hold: closing the scope releases what is still owned, newest first, each release bounded by the
 * deadline (a release that hangs is named, never waited on for ever), and a network request taking `signal` is aborted.
 */
import { log } from './log.js';

/** The handle of one owned resource. */
export interface Ownership {
  /** Release it now (once; later calls return the same promise) and forget it: the resource's normal close. */
  release(): Promise<void>;
  /** Forget it without releasing it: it was handed on (a partial renamed into place, a file committed). */
  disown(): void;
}

interface Owned {
  readonly label: string;
  readonly release: () => void | Promise<void>;
  /** Set once released (or disowned): a resource is released once, by its handle or by the scope. */
  done?: Promise<void>;
}

/** Release `entry` unless that happened already; the one promise of its release. */
function settle(entry: Owned): Promise<void> {
  entry.done ??= (async () => entry.release())();
  return entry.done;
}

export class RunScope {
  private readonly owned = new Set<Owned>();
  private readonly controller = new AbortController();

  /** Aborted when the scope closes: a network request (the hub client) takes it so that no request outlives its run. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Labels of what the scope still owns, oldest first (for messages and tests). */
  labels(): string[] {
    return [...this.owned].map((entry) => entry.label);
  }

  /**
   * Own a resource: `release` runs when the scope closes unless the returned handle released or disowned it first.
   * The handle's `release` is the resource's normal close: call it (and only it) to release the resource early.
   */
  own(label: string, release: () => void | Promise<void>): Ownership {
    const entry: Owned = { label, release };
    this.owned.add(entry);
    return {
      release: () => {
        this.owned.delete(entry);
        return settle(entry);
      },
      disown: () => {
        this.owned.delete(entry);
        entry.done ??= Promise.resolve();
      },
    };
  }

  /**
   * Release everything still owned, newest first, within `deadlineMs` in all: a release still running at the
   * deadline is left (and named in the result); one that throws is logged. Aborts `signal` first.
   */
  async close(deadlineMs: number): Promise<string[]> {
    this.controller.abort(new Error('the run is ending'));
    const endsAt = Date.now() + deadlineMs;
    const unreleased: string[] = [];
    for (const entry of [...this.owned].reverse()) {
      this.owned.delete(entry);
      const left = endsAt - Date.now();
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        settle(entry).then(
          () => 'released' as const,
          (error: unknown) => {
            log().debug({ resource: entry.label, error: (error as Error)?.message ?? String(error) }, 'releasing a resource failed');
            return 'failed' as const;
          },
        ),
        // Not unref'd: the close itself keeps the process alive until it ends (a signal handler exits after it).
        new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, left)))),
      ]);
      clearTimeout(timer);
      if (outcome === 'late') unreleased.push(entry.label);
    }
    return unreleased;
  }
}

const processScope = new RunScope();

/**
 * The scope of the command this process runs (one per process: the CLI runs one command). Code that runs stages
 * in-process (tests) closes what it opens itself, through each resource's handle.
 */
export function runScope(): RunScope {
  return processScope;
}
