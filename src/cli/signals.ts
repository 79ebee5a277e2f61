/**
 * SIGINT/SIGTERM: flush what was written and keep `<output>.partial` (so --resume can continue it), then exit
 * with the conventional 128 + signal number. Only the output sink of the running command is touched.
 */
import type { OutputSink } from '../io/output.js';

let active: OutputSink | undefined;

export function setActiveOutput(sink: OutputSink | undefined): void {
  active = sink;
}

export function installSignalHandlers(): void {
  const handle = (signal: NodeJS.Signals, code: number) => {
    process.once(signal, () => {
      const sink = active;
      const finish = () => process.exit(128 + code);
      if (sink) {
        process.stderr.write(`\n${signal}: stopping; partial output kept${sink.path ? ` in ${sink.path}.partial` : ''}\n`);
        sink.detach().then(finish, finish);
      } else finish();
    });
  };
  handle('SIGINT', 2);
  handle('SIGTERM', 15);
}
