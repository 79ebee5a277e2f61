/**
 * Byte-exact line reading with 1-based line numbers and byte offsets, from a file or stdin.
 * Invariants: every line of the input is yielded exactly once, in order, with its number; the text is
 * validated UTF-8 (invalid bytes are an error, never replacement characters); a trailing "\r" (CRLF) is
 * removed; a UTF-8 BOM at the very start of the input is removed; no line longer than `maxLineBytes` is
 * ever buffered whole (memory stays bounded however long a line is).
 */
import { closeSync, createReadStream, createWriteStream, fstatSync, openSync, readFullSync, statSync } from './fs.js';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputError } from '../errors.js';
import { ownedTempDir } from './temp-dirs.js';

export interface RawLine {
  /** 1-based line number in the input. */
  lineNumber: number;
  /** Byte offset of the line's first byte in the input. */
  byteOffset: number;
  /** Byte offset just past the line's terminator: where the next line starts. */
  endOffset: number;
  /** The line's text without the line terminator (and without a trailing \r). */
  text: string;
}

export interface LineReaderOptions {
  /** Longest line accepted, in bytes; longer lines are an error naming the line. Default 16 MiB. */
  maxLineBytes?: number;
  /** Byte offset to start reading at (for --resume and shards); must be the start of a line. */
  startByte?: number;
  /** Byte offset to stop before (exclusive; a shard's end, always a line start). Default: end of input. */
  endByte?: number;
  /** Line number of the line at startByte. Default 1. */
  startLine?: number;
  /** Called when invalid UTF-8 or an over-long line is met; default throws the InputError. */
  onBadLine?: (error: InputError, line: RawLine) => void;
  /** Name used in messages instead of the path. */
  displayName?: string;
}

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * Bytes without a newline after which an input is not line-delimited at all (`/dev/zero`, a binary file): even
 * where over-long lines are skipped (--on-error skip), reading stops there with an InputError naming the line.
 */
export function lineWithoutEndBytes(maxLineBytes: number): number {
  return Math.max(maxLineBytes * 4, 64 * 1024 * 1024);
}

function overLongError(name: string, lineNumber: number, maxLineBytes: number): InputError {
  return new InputError(name, lineNumber, `line is longer than ${maxLineBytes} bytes`, { hint: 'raise --max-line-bytes if such lines are intended' });
}

function endlessLineError(name: string, lineNumber: number, bytes: number): InputError {
  return new InputError(name, lineNumber, `no end of line in ${bytes} bytes: this is not line-delimited text (JSONL)`, { hint: 'check the input file (is it binary, or a device such as /dev/zero?)' });
}

/** The display name of an input: its path, or "<stdin>". */
export function inputName(path: string | undefined): string {
  return path === undefined || path === '-' ? '<stdin>' : path;
}

export function openInput(path: string | undefined, startByte = 0, endByte?: number): Readable {
  const replay = peeked.get(peekKey(path));
  if (replay && startByte === 0 && endByte === undefined) {
    peeked.delete(peekKey(path));
    return replay;
  }
  if (path === undefined || path === '-') return process.stdin;
  // A whole-file read passes no position: positioned reads (pread) fail with ESPIPE on pipes and FIFOs.
  const whole = startByte === 0 && endByte === undefined;
  return createReadStream(path, { start: whole ? undefined : startByte, end: endByte === undefined ? undefined : endByte - 1, highWaterMark: 1 << 20 });
}

/**
 * Whether `path` can be read twice and at byte offsets: a regular file. Pipes, FIFOs, process substitutions
 * (`<(zcat ...)`) and devices cannot; a path that cannot be stat'ed counts as seekable (opening it reports why).
 */
export function isSeekable(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return true;
  }
}

/** One-pass inputs whose head was read by peekInput: the next openInput of the path gets the head, then the rest. */
const peeked = new Map<string, Readable>();

function peekKey(path: string | undefined): string {
  return path === undefined || path === '-' ? '-' : path;
}

/** The first bytes of an input: at least `maxLines` lines or `maxBytes` bytes, fewer only at its end. */
export interface InputHead {
  bytes: Buffer;
  /** True when `bytes` is the whole input (or the whole byte range read). */
  whole: boolean;
}

/**
 * Read the head of a one-pass input (stdin, a pipe, a FIFO) without losing it: reading stops once `maxLines`
 * newlines or `maxBytes` bytes have come, and the next openInput of the same path replays those bytes, then the
 * rest of the stream, so every line is still read exactly once by the run. (A regular file is read at an offset
 * instead: see readHead.)
 */
export async function peekInput(path: string | undefined, limits: { maxLines: number; maxBytes: number }): Promise<InputHead> {
  const stream = openInput(path);
  const chunks: Buffer[] = [];
  let bytes = 0;
  let lines = 0;
  let ended = false;
  try {
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        stream.off('readable', onReadable);
        stream.off('end', onEnd);
        stream.off('error', onError);
        resolve();
      };
      const onReadable = () => {
        let chunk: Buffer | null;
        while ((chunk = stream.read() as Buffer | null) !== null) {
          chunks.push(chunk);
          bytes += chunk.length;
          for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) lines++;
          if (bytes >= limits.maxBytes || lines >= limits.maxLines) return done();
        }
      };
      const onEnd = () => {
        ended = true;
        done();
      };
      const onError = (error: Error) => {
        stream.off('readable', onReadable);
        stream.off('end', onEnd);
        reject(error);
      };
      stream.on('readable', onReadable);
      stream.once('end', onEnd);
      stream.once('error', onError);
    });
  } catch (cause) {
    throw new InputError(inputName(path), undefined, `cannot read: ${(cause as Error).message}`, { cause });
  }
  const head = Buffer.concat(chunks);
  peeked.set(
    peekKey(path),
    Readable.from(
      (async function* () {
        if (head.length > 0) yield head;
        if (!ended) for await (const chunk of stream) yield chunk as Buffer;
      })(),
      { objectMode: false },
    ),
  );
  return { bytes: head, whole: ended };
}

/**
 * The head of `path` from byte `startByte` (a shard's or a resumed run's start): read at that offset from a regular
 * file, peeked (and kept for the run: peekInput) from a one-pass input. At most `maxBytes` bytes.
 */
export async function readHead(path: string | undefined, options: { seekable: boolean; startByte: number; endByte?: number; maxLines: number; maxBytes: number }): Promise<InputHead> {
  if (path === undefined || path === '-' || !options.seekable) return peekInput(path, options);
  return withInputFile(path, (fd) => {
    const size = fstatSync(fd).size;
    const end = Math.min(options.endByte ?? size, size);
    const length = Math.max(0, Math.min(options.maxBytes, end - options.startByte));
    const buffer = Buffer.alloc(length);
    const got = readFullSync(fd, buffer, 0, length, options.startByte, path);
    return { bytes: buffer.subarray(0, got), whole: options.startByte + got >= end };
  });
}

/**
 * Copy a one-pass input (stdin, a pipe, a FIFO) to a temporary file removed at exit, for inputs that must be read
 * twice (the input is also the corpus). The copy is created exclusively in a fresh private dir. Lines are bounded
 * while copying, so an endless line is never spooled until the disk is full: one longer than `maxLineBytes` stops
 * the copy (an InputError naming the line), or, with `skipOverLong` (--on-error skip: the reader rejects it
 * later), one without an end in lineWithoutEndBytes.
 */
export async function spoolInput(path: string | undefined, limits: { maxLineBytes?: number; skipOverLong?: boolean } = {}): Promise<string> {
  const dir = ownedTempDir('rare-mine-spool-'); // removed by the run scope, swept by the next run after a kill
  const spool = join(dir, 'input.jsonl');
  const maxLineBytes = limits.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const bound = limits.skipOverLong ? lineWithoutEndBytes(maxLineBytes) : maxLineBytes;
  const name = inputName(path);
  let lineNumber = 1;
  let lineBytes = 0;
  const bounded = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        if (lineBytes + (nl - start) > bound) break;
        lineNumber++;
        lineBytes = 0;
        start = nl + 1;
      }
      lineBytes += chunk.length - start;
      if (lineBytes > bound || chunk.indexOf(0x0a, start) !== -1) {
        throw limits.skipOverLong ? endlessLineError(name, lineNumber, lineBytes) : overLongError(name, lineNumber, maxLineBytes);
      }
      yield chunk;
    }
  };
  try {
    await pipeline(openInput(path), bounded, createWriteStream(spool, { flags: 'wx' }));
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    throw new InputError(name, undefined, `cannot read: ${(cause as Error).message}`, { cause });
  }
  return spool;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Yield the lines of `path` (or stdin for undefined / "-"). A final line without "\n" is yielded too.
 * Errors opening or reading the file become InputErrors naming the file.
 */
export async function* readLines(path: string | undefined, options: LineReaderOptions = {}): AsyncGenerator<RawLine> {
  const name = options.displayName ?? inputName(path);
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let lineNumber = options.startLine ?? 1;
  let offset = options.startByte ?? 0;
  const atStart = offset === 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overLong = false;
  /** The over-long line being skipped was reported when it passed the bound (not again at its end). */
  let reported = false;

  const emit = (bytes: Buffer, endOffset: number): RawLine | undefined => {
    let body = bytes;
    if (lineNumber === 1 && atStart && body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) {
      body = body.subarray(3);
    }
    if (body.length > 0 && body[body.length - 1] === 0x0d) body = body.subarray(0, body.length - 1);
    const line: RawLine = { lineNumber, byteOffset: offset, endOffset, text: '' };
    if (overLong) {
      if (!reported) fail(overLongError(name, lineNumber, maxLineBytes), line);
      return undefined;
    }
    try {
      line.text = decoder.decode(body);
    } catch (cause) {
      const at = firstInvalidUtf8(body);
      fail(new InputError(name, lineNumber, `invalid UTF-8 at byte ${at} of the line`, { cause, hint: 're-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)' }), line);
      return undefined;
    }
    return line;
  };
  const fail = (error: InputError, line: RawLine) => {
    if (options.onBadLine) options.onBadLine(error, line);
    else throw error;
  };

  let stream: Readable;
  try {
    if (options.endByte !== undefined && options.endByte <= offset) return;
    stream = openInput(path, offset, options.endByte);
  } catch (cause) {
    throw new InputError(name, undefined, `cannot open: ${(cause as Error).message}`, { cause });
  }
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl === -1) break;
        let bytes: Buffer;
        if (pendingBytes === 0) bytes = chunk.subarray(start, nl);
        else {
          if (!overLong) pending.push(chunk.subarray(start, nl));
          bytes = overLong ? Buffer.alloc(0) : Buffer.concat(pending);
          if (pendingBytes + (nl - start) > maxLineBytes) overLong = true;
        }
        if (bytes.length > maxLineBytes) overLong = true;
        const end = offset + pendingBytes + (nl - start) + 1;
        const line = emit(bytes, end);
        if (line) yield line;
        offset = end;
        lineNumber++;
        pending = [];
        pendingBytes = 0;
        overLong = false;
        reported = false;
        start = nl + 1;
      }
      if (start < chunk.length) {
        const rest = chunk.subarray(start);
        pendingBytes += rest.length;
        if (pendingBytes > maxLineBytes) {
          // Reported as soon as it passes the bound (under --on-error fail that stops the run now); a skipped
          // line is read to its end, but not for ever.
          if (!reported) {
            reported = true;
            fail(overLongError(name, lineNumber, maxLineBytes), { lineNumber, byteOffset: offset, endOffset: offset + pendingBytes, text: '' });
          }
          if (pendingBytes > lineWithoutEndBytes(maxLineBytes)) throw endlessLineError(name, lineNumber, pendingBytes);
          overLong = true;
          pending = [];
        } else {
          // Copy: the stream may reuse its chunk buffers.
          pending.push(Buffer.from(rest));
        }
      }
    }
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    throw new InputError(name, undefined, `cannot read: ${(cause as Error).message}`, { cause });
  }
  if (pendingBytes > 0 || overLong) {
    const line = emit(overLong ? Buffer.alloc(0) : Buffer.concat(pending), offset + pendingBytes);
    if (line) yield line;
  }
}

/** Byte index of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let need: number;
    let min: number;
    if (b < 0x80) { i++; continue; }
    else if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return bytes.length;
}

/**
 * Open the input file `path` for positioned reads, run `read` on its descriptor, and close it.
 * @throws InputError when the file cannot be opened (as reading it would)
 */
export function withInputFile<T>(path: string, read: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw new InputError(path, undefined, `cannot open: ${(cause as Error).message}`, { cause });
  }
  try {
    return read(fd);
  } finally {
    closeSync(fd);
  }
}
