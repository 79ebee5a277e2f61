/**
 * A whole small file a command writes beside its data (report -o, eval --run, stats --stats-json): atomically
 * (written aside and renamed, src/io/output.ts) when it is a regular file or does not exist yet; written directly —
 * opened once, never truncated, no partial, no rename — when it is a FIFO or a device; and through fd 1, as
 * stdout is written (a closed reader is no error), when it is this process's stdout (`-o /dev/stdout`,
 * `/proc/self/fd/1`: opening those fails when stdout is a socket).
 */
import { closeSync, constants, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { fileErrorFrom } from '../errors.js';
import { directOutput, writeFileAtomically } from './output.js';
import { writeStdout } from './write-stdout.js';

/** Whether `path` is this process's stdout: the same device and inode as fd 1. */
export function isOwnStdout(path: string): boolean {
  try {
    const named = statSync(path);
    const stdout = fstatSync(1);
    return named.dev === stdout.dev && named.ino === stdout.ino;
  } catch {
    return false;
  }
}

/** Write `text` to `path`: atomically, or directly to a FIFO or device, or to stdout. Errors name the path. */
export async function writeSideFile(path: string, text: string): Promise<void> {
  if (isOwnStdout(path)) {
    await writeStdout(text);
    return;
  }
  if (!directOutput(path)) {
    writeFileAtomically(path, text);
    return;
  }
  try {
    const fd = openSync(path, constants.O_WRONLY);
    try {
      const bytes = Buffer.from(text, 'utf8');
      for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw fileErrorFrom(error, path) ?? error;
  }
}
