/**
 * The ends of a run. SIGINT/SIGTERM/SIGHUP: flush what was written and keep `<output>.partial` (so --resume can
 * continue it), release everything the run scope owns (src/run-scope.ts: threads, locks, temporary dirs and spool
 * copies, other partials such as merge's), then exit with the conventional 128 + signal number. Only the output
 * sink of the running mining command is kept: a format's side files (colbert's TSVs), which no --resume continues,
 * are removed rather than kept. The end of a command, successful or not (`endRun`), closes the run scope the same
 * way and then makes sure the process exits: an error after worker threads started never leaves it alive.
 * `beginRun` sweeps what killed runs left (every kind of temporary dir, src/io/temp-dirs.ts).
 * While a step runs that blocks the event loop (reading and hashing a model, onnxruntime loading it, the BM25
 * build: native or synchronous), a JS handler could only run after it; withDefaultSignals lets the OS default act
 * instead, so the process ends at once, by the signal (exit status 128 + signal number as the shell reports it);
 * what it leaves is swept by the next run.
 */
import type { OutputSink } from '../io/output.js';
import { sweepAllTempDirs } from '../io/temp-dirs.js';
import { log, logFormat } from '../log.js';
import { runScope } from '../run-scope.js';

/** How long the run scope's releases may take in all when a run ends (an error, a signal, success). */
export const RELEASE_DEADLINE_MS = 1000;
/** After the releases: how long the process may stay alive before it is ended (its exit code kept). */
export const EXIT_GRACE_MS = 500;

let active: OutputSink | undefined;
let activeSides: readonly OutputSink[] = [];
let stopping: NodeJS.Signals | undefined;

/**
 * The signal the process is stopping for, if any: while the run scope is released, work still under way fails
 * (its threads are gone); its error path must then keep what the signal handler kept (the resumable partial).
 */
export function stoppingSignal(): NodeJS.Signals | undefined {
  return stopping;
}

/** The running command's output, and the side files it writes beside it (removed on a signal). */
export function setActiveOutput(sink: OutputSink | undefined, sides: readonly OutputSink[] = []): void {
  active = sink;
  activeSides = sides;
}

/** The signals that stop a run, and their numbers (the exit status is 128 + the number). */
const STOP_SIGNALS: ReadonlyArray<readonly [NodeJS.Signals, number]> = [
  ['SIGINT', 2],
  ['SIGTERM', 15],
  ['SIGHUP', 1],
];

export function installSignalHandlers(): void {
  for (const [signal, code] of STOP_SIGNALS) {
    process.once(signal, () => {
      stopping = signal;
      const sink = active;
      const finish = () => process.exit(128 + code);
      if (sink) {
        const message = `${signal}: stopping; partial output kept${sink.path ? ` in ${sink.path}.partial` : ''}`;
        // On its own line after a progress line in pretty mode; one JSON object under --log-format json.
        if (logFormat() === 'json') log().warn({ signal, partial: sink.path ? `${sink.path}.partial` : null }, message);
        else process.stderr.write(`\n${message}\n`);
      } else log().debug({ signal }, `${signal}: stopping`);
      Promise.all(activeSides.map((side) => side.abort()))
        .then(() => sink?.detach())
        .then(releaseRun)
        .then(finish, finish);
    });
  }
}

/** Close the run scope within RELEASE_DEADLINE_MS; what could not be released in time is named. */
async function releaseRun(): Promise<void> {
  const unreleased = await runScope().close(RELEASE_DEADLINE_MS);
  if (unreleased.length > 0) log().warn({ resources: unreleased }, 'the run ended before these were released');
}

/** At the start of a command: remove what runs that are gone left behind (every kind of temporary dir). */
export function beginRun(): void {
  sweepAllTempDirs();
}

/**
 * At the end of a command, whatever its outcome (process.exitCode already set): release everything the run scope
 * still owns, then give the process EXIT_GRACE_MS to end on its own; if something still holds it (a thread or handle
 * nothing owns: a bug), it is ended with its exit code. Output still being flushed to stdout's reader is waited for.
 */
export async function endRun(): Promise<void> {
  await releaseRun();
  const watchdog = (): void => {
    const timer = setTimeout(() => {
      if (process.stdout.writableLength > 0) return watchdog(); // a reader still taking the output
      log().debug({ handles: process.getActiveResourcesInfo() }, 'the command ended but something kept the process alive: exiting');
      process.exit();
    }, EXIT_GRACE_MS);
    timer.unref();
  };
  watchdog();
}

/**
 * Run `work` with SIGINT, SIGTERM and SIGHUP at their default action (the process ends at once, killed by the signal),
 * then put the listeners back. For steps that block the event loop, such as loading a model. A signal already
 * pending is delivered to the listeners first (the event loop polls once), so none is lost at the switch; when the
 * process is already stopping, the step is not started.
 * Output written before stays consistent: the resume journal never claims bytes the OS has not got.
 */
export async function withDefaultSignals<T>(work: () => T | Promise<T>): Promise<T> {
  // Two turns: an immediate queued from a poll callback runs before the next poll, the second one after it,
  // and that poll reads the signal pipe.
  for (let turn = 0; turn < 2; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
  // Once a stop is under way (a signal came before this step, or in the turns above), no blocking step starts: it
  // would hold the event loop while the handler's releases wait, and the run would go on into work it must not do.
  // The handler ends the process (exit 128 + the signal's number); this step never settles.
  if (stopping) return new Promise<never>(() => undefined);
  const saved = STOP_SIGNALS.map(([signal]) => [signal, process.rawListeners(signal)] as const);
  for (const [signal, listeners] of saved) for (const listener of listeners) process.removeListener(signal, listener as NodeJS.SignalsListener);
  try {
    return await work();
  } finally {
    for (const [signal, listeners] of saved) for (const listener of listeners) process.on(signal, listener as NodeJS.SignalsListener);
  }
}
