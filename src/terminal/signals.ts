/**
 * SIGINT/SIGTERM: flush what was written and keep `<output>.partial` (so --resume can continue it), then exit
 * with the conventional 128 + signal number. Only the output sinks of the running command are touched: a format's
 * side files (colbert's TSVs), which no --resume continues, are removed rather than kept.
 * While a step runs that blocks the event loop (reading and hashing a model, onnxruntime loading it: native
 * and synchronous), a JS handler could only run after it; withDefaultSignals lets the OS default act instead,
 * so the process ends at once, by the signal (exit status 128 + signal number as the shell reports it).
 */
import type { OutputSink } from '../io/output.js';
import { log, logFormat } from '../log.js';

let active: OutputSink | undefined;
let activeSides: readonly OutputSink[] = [];

/** The running command's output, and the side files it writes beside it (removed on a signal). */
export function setActiveOutput(sink: OutputSink | undefined, sides: readonly OutputSink[] = []): void {
  active = sink;
  activeSides = sides;
}

export function installSignalHandlers(): void {
  const handle = (signal: NodeJS.Signals, code: number) => {
    process.once(signal, () => {
      const sink = active;
      const finish = () => process.exit(128 + code);
      if (sink) {
        const message = `${signal}: stopping; partial output kept${sink.path ? ` in ${sink.path}.partial` : ''}`;
        // On its own line after a progress line in pretty mode; one JSON object under --log-format json.
        if (logFormat() === 'json') log().warn({ signal, partial: sink.path ? `${sink.path}.partial` : null }, message);
        else process.stderr.write(`\n${message}\n`);
        Promise.all(activeSides.map((side) => side.abort()))
          .then(() => sink.detach())
          .then(finish, finish);
      } else finish();
    });
  };
  handle('SIGINT', 2);
  handle('SIGTERM', 15);
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Run `work` with SIGINT and SIGTERM at their default action (the process ends at once, killed by the signal),
 * then put the listeners back. For steps that block the event loop, such as loading a model. A signal already
 * pending is delivered to the listeners first (the event loop polls once), so none is lost at the switch.
 * Output written before stays consistent: the resume journal never claims bytes the OS has not got.
 */
export async function withDefaultSignals<T>(work: () => T | Promise<T>): Promise<T> {
  // Two turns: an immediate queued from a poll callback runs before the next poll, the second one after it,
  // and that poll reads the signal pipe.
  for (let turn = 0; turn < 2; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
  const saved = STOP_SIGNALS.map((signal) => [signal, process.rawListeners(signal)] as const);
  for (const [signal, listeners] of saved) for (const listener of listeners) process.removeListener(signal, listener as NodeJS.SignalsListener);
  try {
    return await work();
  } finally {
    for (const [signal, listeners] of saved) for (const listener of listeners) process.on(signal, listener as NodeJS.SignalsListener);
  }
}
