/**
 * Ordered output with backpressure, to stdout or to a file written atomically.
 * A regular-file target is written to `<path>.partial` and renamed onto `<path>` only by commit(), so a file at
 * `<path>` is always complete. abort() removes the partial (bad input: nothing half-written is left);
 * detach() keeps it (SIGINT/SIGTERM: the partial is what --resume continues from).
 * What must hold: the partial is created exclusively (O_EXCL | O_NOFOLLOW), so a planted `<path>.partial` symlink
 * is never written through (a stale partial or link is unlinked first, never followed); a resumed partial must be
 * a regular file. A target that exists and is not a regular file (a FIFO, /dev/null, a character device) is
 * written to directly, without partial or rename, so a device node is never replaced by a regular file
 * (--resume and --shard refuse such a target: see directOutput()).
 * A closed stdout (`rare-mine ... | head`) is not an error: writes become no-ops and `closed` turns true.
 * Write errors (disk full, ...) are thrown with the target's name attached (src/errors.ts fileErrorFrom).
 * A file target also counts its lines and hashes its bytes (SHA-256) as they are written, for the resume journal
 * and the shard sidecar that `rare-mine merge` verifies.
 */
import { createHash, type Hash } from 'node:crypto';
import { dirname } from 'node:path';
import { closeSync, constants, createWriteStream, fstatSync, fsyncSync, lstatSync, onPath, openSync, renameSync, rmSync, statSync, unlinkSync, withPath, writeAllSync, type WriteStream } from './fs.js';
import type { Writable } from 'node:stream';
import { FileError } from '../errors.js';
import { log } from '../log.js';

export function partialPath(path: string): string {
  return `${path}.partial`;
}

/** Whether `-o path` is written directly: it exists and is not a regular file (a FIFO, /dev/null, a device). */
export function directOutput(path: string): boolean {
  try {
    const stats = statSync(path);
    return !stats.isFile() && !stats.isDirectory();
  } catch {
    return false;
  }
}

/**
 * Whether `path` is this process's stdout (`-o /dev/stdout`, `/proc/self/fd/1`): the same device and inode as fd 1.
 * Such a path is written through fd 1, as `-` is: opening it again fails when stdout is a socket (ENXIO).
 */
export function isOwnStdout(path: string): boolean {
  try {
    const named = statSync(path);
    const stdout = fstatSync(1);
    return named.dev === stdout.dev && named.ino === stdout.ino;
  } catch {
    return false;
  }
}

/** A partial to be resumed must be a regular file rare-mine wrote, never a link planted in its place. */
export function assertRegularPartial(partial: string): void {
  const stats = lstatSync(partial, { throwIfNoEntry: false });
  if (stats && !stats.isFile()) {
    throw new FileError(partial, `is ${stats.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}, not a partial output rare-mine wrote`, { hint: 'remove it, then run again' });
  }
}

/**
 * Create `partial` exclusively (never through an existing entry): a stale partial or a link at that name is
 * unlinked (the link itself, not its target) first; a directory there is an error.
 */
function openExclusive(partial: string): number {
  const stale = lstatSync(partial, { throwIfNoEntry: false });
  if (stale?.isDirectory()) throw new FileError(partial, 'is a directory where rare-mine writes its partial output', { hint: 'remove it, or choose another -o' });
  if (stale) {
    log().warn({ partial, kind: stale.isSymbolicLink() ? 'symbolic link' : stale.isFile() ? 'file' : 'other' }, 'removing a stale partial output (pass --resume to continue it instead)');
    unlinkSync(partial);
  }
  return openSync(partial, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666);
}

/**
 * The one atomic writer of a whole file: `data` goes to `aside` (created exclusively, never through a planted link),
 * every byte of it (a short write is continued), fsync'ed, then renamed onto `path` and the directory fsync'ed, so
 * `path` is either its old content or all of `data`, even after a crash. On any error the aside file is removed,
 * `path` is left as it was and the error names the file (src/errors.ts fileErrorFrom).
 */
export function writeFileAtomically(path: string, data: string | Uint8Array, aside = partialPath(path)): void {
  if (directOutput(path)) {
    writeDirectly(path, data);
    return;
  }
  try {
    const fd = openExclusive(aside);
    try {
      writeAllSync(fd, data, aside);
      onPath(aside, () => fsyncSync(fd));
    } finally {
      onPath(aside, () => closeSync(fd));
    }
    renameSync(aside, path);
  } catch (error) {
    try {
      rmSync(aside, { force: true });
    } catch {
      // the first error is the one to report; a leftover aside is removed by the next write of `path` (openExclusive)
    }
    throw withPath(error, path);
  }
  syncDir(dirname(path));
}

/**
 * A target that is not a regular file (a FIFO, /dev/stdout, a device) is written as it is, never replaced by a
 * regular file: opened once, every byte written, closed.
 */
function writeDirectly(path: string, data: string | Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    writeAllSync(fd, data, path);
  } finally {
    onPath(path, () => closeSync(fd));
  }
}

/**
 * fsync a directory after a rename in it, so the new name survives a crash. It cannot undo the rename, so a failure
 * here is a warning, not an error: the file is complete under its name, only the name's durability is the OS's.
 */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'ENOTSUP') log().warn({ dir, code }, 'could not fsync the directory after renaming a file into it');
  } finally {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // a read-only descriptor: nothing was buffered in it
      }
    }
  }
}

/** fsync the file at `path` (a stream's file, after the stream closed it), naming it in errors. */
function syncFile(path: string): void {
  const fd = onPath(path, () => openSync(path, 'r'));
  try {
    onPath(path, () => fsyncSync(fd));
  } finally {
    onPath(path, () => closeSync(fd));
  }
}

export class OutputSink {
  private readonly stream: Writable;
  private readonly file?: WriteStream;
  /** Written directly (no partial, no rename): the target is a FIFO or a device. */
  readonly direct: boolean = false;
  /** True once the reader went away (EPIPE): stop producing output, exit 0. */
  closed = false;
  private failure?: Error;
  /** Bytes in the output so far (including a resumed partial's). */
  bytesWritten: number;
  /** Newlines in the output so far (including a resumed partial's). */
  linesWritten: number;
  /** SHA-256 of the output so far (file targets only). */
  private readonly hash?: Hash;

  /**
   * `path` undefined or "-" means stdout. `append` continues an existing partial (for --resume) whose first
   * `startBytes` bytes (holding `startLines` lines) were hashed into `hash`.
   */
  constructor(readonly path: string | undefined, options: { append?: boolean; startBytes?: number; startLines?: number; hash?: Hash } = {}) {
    this.bytesWritten = options.startBytes ?? 0;
    this.linesWritten = options.startLines ?? 0;
    if (path === undefined || path === '-' || isOwnStdout(path)) {
      this.stream = process.stdout;
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') this.closed = true;
        else this.failure = named(error, '<stdout>');
      });
    } else if (directOutput(path)) {
      this.direct = true;
      this.file = createWriteStream(path, { flags: 'w', highWaterMark: 1 << 20 });
      this.file.on('error', (error) => (this.failure = named(error, path)));
      this.stream = this.file;
    } else {
      this.hash = options.hash ?? createHash('sha256');
      const partial = partialPath(path);
      let fd: number;
      if (options.append) {
        assertRegularPartial(partial);
        fd = openSync(partial, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW);
      } else fd = openExclusive(partial);
      this.file = createWriteStream('', { fd, highWaterMark: 1 << 20 });
      this.file.on('error', (error) => (this.failure = named(error, path)));
      this.stream = this.file;
    }
  }

  private lastWrite: Promise<void> = Promise.resolve();

  /** SHA-256 (hex) of the bytes written so far; undefined for stdout. */
  sha256(): string | undefined {
    return this.hash?.copy().digest('hex');
  }

  /** Resolves when every byte written so far has been handed to the OS (for resume checkpoints). */
  settled(): Promise<void> {
    return this.lastWrite;
  }

  /** Write text; resolves at once unless the stream asks us to wait (backpressure). */
  write(text: string): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.closed) return undefined;
    this.bytesWritten += Buffer.byteLength(text);
    if (this.hash) {
      this.hash.update(text);
      for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) this.linesWritten++;
    }
    let ok: boolean;
    if (this.file) {
      this.lastWrite = new Promise((resolve) => (ok = this.stream.write(text, (error) => {
        if (error) this.failure ??= named(error, this.path!);
        resolve();
      })));
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
      // stdout's write callback does not report errors: a full disk (`> /dev/full`) shows as an 'error' event.
      await new Promise<void>((resolve) => setImmediate(resolve));
      return;
    }
    if (this.file!.destroyed) {
      // Failed already; the 'error' event may not have been emitted yet, but `errored` holds the error.
      const errored = this.file!.errored;
      if (errored) this.failure ??= named(errored, this.path!);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.file!.end((error?: Error | null) => (error ? reject(named(error, this.path!)) : resolve()));
    });
  }

  /** Flush everything and, for a file, rename the partial onto the final path. */
  async commit(): Promise<void> {
    await this.end();
    if (this.failure) throw this.failure;
    if (this.file && !this.direct) {
      const partial = partialPath(this.path!);
      syncFile(partial);
      renameSync(partial, this.path!);
      syncDir(dirname(this.path!));
    }
  }

  /** Flush and keep the partial file (interrupted run, resumable). */
  async detach(): Promise<void> {
    await this.end().catch(() => undefined);
  }

  /**
   * Stop at once and leave the partial file as it is, dropping bytes not yet handed to the OS: another process
   * took over the output (its writer lock) and the partial is now its to continue.
   */
  abandon(): void {
    if (this.file && !this.file.destroyed) this.file.destroy();
  }

  /** Give up: remove the partial file so nothing half-written is left behind. */
  async abort(): Promise<void> {
    await this.end().catch(() => undefined);
    if (this.file && !this.direct) rmSync(partialPath(this.path!), { force: true });
  }
}

/** A write error with the target's name, for a one-line message (stream write errors carry no path). */
function named(error: NodeJS.ErrnoException, path: string): NodeJS.ErrnoException {
  if (error.path === undefined) error.path = path;
  return error;
}
