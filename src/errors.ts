/**
 * The typed error hierarchy. Every error a user can cause or meet is one of these; src/app/main.ts is the
 * one place that turns them into messages and exit codes. A message says what happened and what to do;
 * the original error is kept as `cause` and shown with --debug.
 */

export abstract class RareMineError extends Error {
  abstract readonly exitCode: number;
  /** What the user can do about it, printed after the message. */
  readonly hint?: string;
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options?.hint;
  }
}

/** Bad flags or flag combinations. */
export class UsageError extends RareMineError {
  readonly exitCode = 2;
}

/** Bad input data; carries the file and 1-based line number when known. */
export class InputError extends RareMineError {
  readonly exitCode = 1;
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(line === undefined ? `${file}: ${reason}` : `${file}:${line}: ${reason}`, options);
  }
}

/**
 * Bad data in one row (record) of a binary input such as a vector file, where rows have no line numbers. `row` is
 * 0-based, as array indexes are; the message also counts it from 1 ("row 4 (the 5th record)"), since a reader
 * matching it to a corpus counts lines from 1. Exit 1, like every InputError.
 */
export class InputRowError extends InputError {
  constructor(
    file: string,
    readonly row: number,
    reason: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(file, undefined, `${rowWords(row)}: ${reason}`, options);
  }
}

/** "row 0 (the 1st record)", "row 11 (the 12th record)", "row 21 (the 22nd record)". */
export function rowWords(row: number): string {
  const n = row + 1;
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `row ${row} (the ${n}${suffix} record)`;
}

/** A missing, corrupt, stale or incompatible on-disk index. */
export class IndexError extends RareMineError {
  readonly exitCode = 3;
}

/**
 * An index part that is absent or does not fit this run (built with another model, corpus or doc store build)
 * but is not damaged: a derived part (bm25/, dense/) may be rebuilt for it without losing anything.
 */
export class StaleIndexError extends IndexError {}

/** A model that cannot be found, downloaded, loaded or run. */
export class ModelError extends RareMineError {
  readonly exitCode = 4;
}

/**
 * A file or directory rare-mine cannot read or write for an ordinary reason (missing directory, a directory where a
 * file is wanted, disk full, permission): the user's or the machine's condition, not a bug. Exit 1. Raw errno
 * errors (ENOENT, ENOSPC, ...) that reach src/app/main.ts are reported the same way.
 */
export class FileError extends RareMineError {
  readonly exitCode = 1;
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(`${path === '' ? "''" : path}: ${reason}`, options);
  }
}

/** What each system error code means, in words; an errno error with one of these codes is the user's or the machine's condition. */
const SYSTEM_ERROR_CAUSES: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EROFS: 'read-only file system',
  EEXIST: 'already exists',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EBUSY: 'device or resource busy',
  ENXIO: 'no such device or address',
  ESPIPE: 'cannot seek (a pipe or FIFO)',
  EXDEV: 'cannot move across file systems',
};

/**
 * A system error (Node's errno errors: `code`, `path`, `dest`) with a code of SYSTEM_ERROR_CAUSES as a FileError
 * naming the path and the cause; undefined for anything else (a bug). `fallbackPath` names the file when the error
 * carries none (a write to stdout, a stream write).
 */
export function fileErrorFrom(error: unknown, fallbackPath?: string): FileError | undefined {
  if (!(error instanceof Error)) return undefined;
  const system = error as NodeJS.ErrnoException & { dest?: string };
  const cause = system.code === undefined ? undefined : SYSTEM_ERROR_CAUSES[system.code];
  if (cause === undefined) return undefined;
  const path = system.path ?? fallbackPath ?? '<unknown file>';
  const where = system.dest === undefined ? path : `${path} -> ${system.dest}`;
  return new FileError(where, `${cause} (${system.code}${system.syscall ? ` in ${system.syscall}` : ''})`, { cause: error });
}
