/**
 * Ordered output with backpressure, to stdout or to a file written atomically.
 * A file target is written to `<path>.partial` and renamed onto `<path>` only by commit(), so a file at
 * `<path>` is always complete. abort() removes the partial (bad input: nothing half-written is left);
 * detach() keeps it (SIGINT/SIGTERM: the partial is what --resume continues from).
 * A closed stdout (`rare-mine ... | head`) is not an error: writes become no-ops and `closed` turns true.
 */
import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

export function partialPath(path: string): string {
  return `${path}.partial`;
}

export class OutputSink {
  private readonly stream: Writable;
  private readonly file?: WriteStream;
  /** True once the reader went away (EPIPE): stop producing output, exit 0. */
  closed = false;
  private failure?: Error;
  /** Bytes in the output so far (including a resumed partial's). */
  bytesWritten: number;

  /** `path` undefined or "-" means stdout. `append` continues an existing partial (for --resume). */
  constructor(readonly path: string | undefined, options: { append?: boolean; startBytes?: number } = {}) {
    this.bytesWritten = options.startBytes ?? 0;
    if (path === undefined || path === '-') {
      this.stream = process.stdout;
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') this.closed = true;
        else this.failure = error;
      });
    } else {
      this.file = createWriteStream(partialPath(path), { flags: options.append ? 'a' : 'w', highWaterMark: 1 << 20 });
      this.file.on('error', (error) => (this.failure = error));
      this.stream = this.file;
    }
  }

  get isFile(): boolean {
    return this.file !== undefined;
  }

  private lastWrite: Promise<void> = Promise.resolve();

  /** Resolves when every byte written so far has been handed to the OS (for resume checkpoints). */
  settled(): Promise<void> {
    return this.lastWrite;
  }

  /** Write text; resolves at once unless the stream asks us to wait (backpressure). */
  write(text: string): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.closed) return undefined;
    this.bytesWritten += Buffer.byteLength(text);
    let ok: boolean;
    if (this.file) {
      this.lastWrite = new Promise((resolve) => (ok = this.stream.write(text, () => resolve())));
    } else ok = this.stream.write(text);
    if (ok!) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        this.stream.off('error', done);
        resolve();
      };
      this.stream.once('drain', done);
      this.stream.once('close', done);
      this.stream.once('error', done);
    });
  }

  private async end(): Promise<void> {
    if (this.stream === process.stdout) {
      if (this.closed) return;
      await new Promise<void>((resolve) => (process.stdout.write('', () => resolve())));
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.file!.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
  }

  /** Flush everything and, for a file, rename the partial onto the final path. */
  async commit(): Promise<void> {
    await this.end();
    if (this.failure) throw this.failure;
    if (this.file) renameSync(partialPath(this.path!), this.path!);
  }

  /** Flush and keep the partial file (interrupted run, resumable). */
  async detach(): Promise<void> {
    await this.end().catch(() => undefined);
  }

  /** Give up: remove the partial file so nothing half-written is left behind. */
  async abort(): Promise<void> {
    await this.end().catch(() => undefined);
    if (this.file) rmSync(partialPath(this.path!), { force: true });
  }
}
