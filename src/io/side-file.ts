/**
 * A whole small file a command writes beside its data (report -o, eval --run, stats --stats-json): atomically
 * (written aside and renamed, src/io/output.ts) when it is a regular file or does not exist yet; written directly —
 * opened once, never truncated, no partial, no rename — when it is a FIFO or a device; and through fd 1, as
 * stdout is written (a closed reader is no error), when it is this process's stdout (`-o /dev/stdout`,
 * `/proc/self/fd/1`: opening those fails when stdout is a socket).
 */
import { isOwnStdout, writeFileAtomically } from './output.js';
import { writeStdout } from './write-stdout.js';

/** Write `text` to `path`: atomically, or directly to a FIFO or device, or to stdout. Errors name the path. */
export async function writeSideFile(path: string, text: string): Promise<void> {
  if (isOwnStdout(path)) {
    await writeStdout(text);
    return;
  }
  writeFileAtomically(path, text); // a FIFO or a device is written directly there: opened once, never replaced
}
