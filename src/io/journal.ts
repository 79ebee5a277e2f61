/**
 * The resume journal beside a partial output (`<out>.partial.journal`): after each batch whose output bytes
 * have reached the file, one line records how far the input was consumed and how long the output (and the
 * rejects file) then were. `--resume` truncates the partial back to the last entry and continues the input from
 * there, so an interrupted run — even by SIGKILL — finishes with the same bytes as an uninterrupted one.
 * Invariant: an entry is appended only after the output bytes it counts were handed to the OS.
 */
import { appendFileSync, existsSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';

export interface Checkpoint {
  /** Input byte offset where the next unread line starts. */
  inputByte: number;
  /** Line number of that line. */
  inputLine: number;
  outputBytes: number;
  rejectsBytes: number;
  recordsOut: number;
}

export function journalPath(partial: string): string {
  return `${partial}.journal`;
}

export class Journal {
  constructor(readonly path: string) {}

  record(checkpoint: Checkpoint): void {
    appendFileSync(this.path, JSON.stringify(checkpoint) + '\n');
  }

  /** The last complete checkpoint, or undefined when there is none. */
  last(): Checkpoint | undefined {
    if (!existsSync(this.path)) return undefined;
    const lines = readFileSync(this.path, 'utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const entry = JSON.parse(lines[i]) as Checkpoint;
        if (typeof entry.inputByte === 'number' && typeof entry.outputBytes === 'number') return entry;
      } catch {
        // A line cut short by a kill: the previous one is the last complete checkpoint.
      }
    }
    return undefined;
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}

/** Cut a file back to `bytes` (dropping output written after the checkpoint). */
export function truncateTo(path: string, bytes: number): void {
  if (existsSync(path) && statSync(path).size > bytes) truncateSync(path, bytes);
}
