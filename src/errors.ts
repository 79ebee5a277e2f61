/**
 * The typed error hierarchy. Every error a user can cause or meet is one of these; src/cli/main.ts is the
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
