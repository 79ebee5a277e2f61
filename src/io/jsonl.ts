/**
 * JSONL records with their line numbers, and the bad-input policy. Each non-blank line must be one JSON object;
 * anything else is an InputError naming file and line. Under `--on-error skip` a bad line is written with its
 * reason to the rejects file and counted instead, so records in = records out + rejected, always.
 * Blank lines (empty or whitespace only) are not records: they are counted and reported, never an error.
 * Text policy (the same for the JSON-array corpus reader): a text field read as text (query, positives, corpus text
 * and title) must be well-formed Unicode — a lone surrogate escape (`"\udc00"`) is an InputError naming the field,
 * never silently turned into U+FFFD. (The record format still writes the line's own bytes back untouched.)
 */
import { closeSync, constants, openSync, writeAllSync } from './fs.js';
import { directOutput } from './output.js';
import { runScope } from '../run-scope.js';
import { fileErrorFrom, InputError } from '../errors.js';
import { inputName, readLines, type LineReaderOptions, type RawLine } from './line-reader.js';

export type OnError = 'fail' | 'skip';

export interface JsonRecord {
  lineNumber: number;
  byteOffset: number;
  /** Where the next line starts (resume point after this record). */
  endOffset: number;
  /** The line exactly as read (without its terminator). */
  raw: string;
  value: Record<string, unknown>;
}

/**
 * Decides what happens to a bad line: throw (fail) or record it in the rejects file and count it (skip). The
 * rejects file is emptied when the first file is read through the policy (`begin`), not before: a run that reads
 * nothing through it (an index reused, its corpus not read again) leaves the rejects of the build that wrote it.
 * It is opened once for the run: a FIFO or a device (`--rejects /dev/stderr`) is never truncated, and its reader
 * sees one stream, not one per line.
 */
export class RejectPolicy {
  /** Every line rejected, of every file read through the policy. */
  rejected = 0;
  blankLines = 0;
  private readonly rejectedByFile = new Map<string, number>();
  private begun = false;
  private fd?: number;
  constructor(readonly onError: OnError = 'fail', readonly rejectsPath?: string, private readonly options: { append?: boolean } = {}) {}

  /** A file is about to be read through the policy: the rejects file is opened now, once (emptied, unless appended to or special). */
  begin(): void {
    if (this.begun) return;
    this.begun = true;
    if (this.rejectsPath === undefined || this.onError === 'fail') return;
    try {
      // A FIFO or a device is opened as it is (never truncated or created), as -o's direct output is.
      const mode = directOutput(this.rejectsPath) ? 0 : this.options.append ? constants.O_APPEND | constants.O_CREAT : constants.O_TRUNC | constants.O_CREAT;
      const fd = openSync(this.rejectsPath, constants.O_WRONLY | mode, 0o644);
      this.fd = fd;
      // Closed with the run (src/run-scope.ts): every way out, not only the process's exit.
      runScope().own(`--rejects ${this.rejectsPath}`, () => closeSync(fd));
    } catch (error) {
      throw fileErrorFrom(error, this.rejectsPath) ?? error;
    }
  }

  /** The lines rejected from `file` (as errors name it: the input's display name, the corpus path). */
  rejectedIn(file: string): number {
    return this.rejectedByFile.get(file) ?? 0;
  }

  /** Rejections kept back by hold() (not yet counted or written), in input order. */
  private held?: Array<{ error: InputError; raw: string | undefined }>;

  /** Handle a bad line: throws the error under `fail`. */
  reject(error: InputError, raw: string | undefined): void {
    if (this.onError === 'fail') throw error;
    if (this.held) {
      this.held.push({ error, raw });
      return;
    }
    this.begin();
    this.rejected++;
    this.rejectedByFile.set(error.file, this.rejectedIn(error.file) + 1);
    if (this.fd !== undefined) {
      const bytes = Buffer.from(JSON.stringify({ file: error.file, line: error.line, reason: error.reason, raw: raw ?? null }) + '\n', 'utf8');
      try {
        writeAllSync(this.fd, bytes, this.rejectsPath!);
      } catch (cause) {
        throw fileErrorFrom(cause, this.rejectsPath) ?? cause;
      }
    }
  }

  /**
   * Keep the coming rejections back (lines read ahead of a batch still to be written), so that the rejects file
   * and the count stay in input order and a checkpoint taken meanwhile does not claim them. `fail` still throws.
   */
  hold(): void {
    this.held ??= [];
  }

  /** Stop holding; the rejections held so far, for rejectHeld once what comes before them is written. */
  stopHolding(): ReadonlyArray<{ error: InputError; raw: string | undefined }> {
    const held = this.held ?? [];
    this.held = undefined;
    return held;
  }

  /** Count and write rejections returned by stopHolding, in their order. */
  rejectHeld(held: ReadonlyArray<{ error: InputError; raw: string | undefined }>): void {
    for (const { error, raw } of held) this.reject(error, raw);
  }
}

/**
 * Parse one line as a JSON object with no prototype (its own fields only), or throw an InputError naming file and
 * line (`what` prefixes the reason).
 */
export function parseRecordLine(file: string, line: RawLine, what?: string): Record<string, unknown> {
  const prefix = what === undefined ? '' : `${what}: `;
  let value: unknown;
  try {
    value = JSON.parse(line.text);
  } catch (cause) {
    const detail = (cause as Error).message.replace(/^Unexpected/, 'unexpected');
    throw new InputError(file, line.lineNumber, `${prefix}malformed JSON (${detail})`, { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new InputError(file, line.lineNumber, `${prefix}expected a JSON object, found ${kind}`);
  }
  // Without a prototype, `record[key]` reads the record's own fields only: "constructor", "toString" or
  // "__proto__" name a field when the line has one, never Object.prototype's members (every reader of a record
  // field, of every command, gets this from here).
  return Object.setPrototypeOf(value, null) as Record<string, unknown>;
}

export interface ReadRecordsOptions extends Pick<LineReaderOptions, 'maxLineBytes' | 'startByte' | 'endByte' | 'startLine'> {
  policy: RejectPolicy;
  /** Name used in messages instead of the path (e.g. "<stdin>" for a spooled copy). */
  displayName?: string;
}

/** Every JSON object record of a JSONL file (or stdin), in order, with bad lines handled by the policy. */
export async function* readRecords(path: string | undefined, options: ReadRecordsOptions): AsyncGenerator<JsonRecord> {
  const file = options.displayName ?? inputName(path);
  const { policy } = options;
  policy.begin();
  for await (const line of readLines(path, { ...options, onBadLine: (error, bad) => policy.reject(error, bad.text || undefined) })) {
    if (line.text.trim().length === 0) {
      policy.blankLines++;
      continue;
    }
    let value: Record<string, unknown>;
    try {
      value = parseRecordLine(file, line);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      policy.reject(error, line.text);
      continue;
    }
    yield { lineNumber: line.lineNumber, byteOffset: line.byteOffset, endOffset: line.endOffset, raw: line.text, value };
  }
}

/** The record's own field `key` (never one inherited from Object.prototype, such as "constructor"); undefined when absent. */
export function ownField(value: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(value, key) ? value[key] : undefined;
}

/** A required non-empty string field. */
export function requireString(file: string, record: JsonRecord, key: string, option?: string): string {
  const value = ownField(record.value, key);
  if (value === undefined) {
    // Name the option that chose the key, and the keys there are: a wrong --question-key is the usual cause.
    const keys = Object.keys(record.value);
    const present = keys.length === 0 ? 'the record has no fields' : `the record has ${keys.slice(0, 20).map((k) => JSON.stringify(k)).join(', ')}${keys.length > 20 ? `, … (${keys.length} in all)` : ''}`;
    throw new InputError(file, record.lineNumber, option ? `missing field "${key}" (${option}); ${present}` : `missing field "${key}"; ${present}`, option ? { hint: `pass ${option} KEY naming the field that holds it` } : undefined);
  }
  if (typeof value !== 'string') throw new InputError(file, record.lineNumber, `field "${key}" must be a string, found ${describe(value)}`);
  if (value.trim().length === 0) throw new InputError(file, record.lineNumber, `field "${key}" is empty`);
  return wellFormedText(file, record.lineNumber, key, value);
}

/** An optional field holding a string or a list of strings; returns [] when absent or null. */
export function optionalStrings(file: string, record: JsonRecord, key: string): string[] {
  const value = ownField(record.value, key);
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [wellFormedText(file, record.lineNumber, key, value)];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return (value as string[]).map((text) => wellFormedText(file, record.lineNumber, key, text));
  throw new InputError(file, record.lineNumber, `field "${key}" must be a string or a list of strings, found ${describe(value)}`);
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Whether `text` is well-formed Unicode: no lone surrogate (a `\udc00` escape naming half a character). */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** `text` itself when it is well-formed Unicode; else an InputError naming the field and the escape. */
export function wellFormedText(file: string, lineNumber: number, key: string, text: string): string {
  const match = LONE_SURROGATE.exec(text);
  if (match === null) return text;
  const escape = `\\u${match[0].charCodeAt(0).toString(16).padStart(4, '0')}`;
  throw new InputError(file, lineNumber, `field "${key}" holds a lone surrogate escape (${escape}, half of a UTF-16 pair) at character ${match.index}: not Unicode text`, {
    hint: 'fix the producer of the file: a character outside the BMP is written as a pair of escapes (\\ud83d\\ude00) or as UTF-8',
  });
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
