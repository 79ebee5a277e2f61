/**
 * The project's filesystem calls, in one layer: every module of src/ that reads or writes data files imports its
 * fs functions from here (the same names and signatures as node:fs), so one test hook sees every operation.
 * The hook is the environment variable RARE_MINE_FAULT, read once on the main thread; unset, every export is
 * node:fs's own function (no wrapper, nothing to pay). Its forms, as SQLite tests its I/O errors:
 *   count:FILE          count the operations; at exit FILE holds the count, then one line per operation ("k name target")
 *   fail:K:CODE         the K-th operation (1-based) fails with CODE: ENOSPC, EIO, EMFILE or any errno name
 *   fail:K:short        the K-th operation, if it is a write or a read, moves half the bytes asked (a short write or
 *                       read, which the caller must continue); any other operation runs as usual
 *   signal:K:SIGNAL     the signal (SIGTERM, SIGINT, ...) is sent to this process at the K-th operation
 * Operations: open, read, write (sync, callback and stream forms), fsync, close, rename, unlink, rm, mkdir, mkdtemp,
 * truncate, link, symlink, copyFile and the whole-file forms (readFile, writeFile, appendFile). Errors injected look
 * as the OS's do: an operation on a path carries the path, one on a descriptor carries none (the caller must name it).
 * Streams (createReadStream, createWriteStream) name their path in read and write errors, hook or not.
 * Worker threads are not hooked (their operations run concurrently, so the count would not repeat run to run).
 */
import * as fs from 'node:fs';
import { isMainThread } from 'node:worker_threads';

export * from 'node:fs';

type Fault =
  | { kind: 'count'; file: string }
  | { kind: 'fail'; at: number; code: string }
  | { kind: 'signal'; at: number; signal: NodeJS.Signals };

/** The hook's setting, or undefined (unset, or a worker thread). A malformed setting is a bug of the test: thrown. */
function parseFault(spec: string | undefined): Fault | undefined {
  if (spec === undefined || spec === '' || !isMainThread) return undefined;
  const [kind, first, ...rest] = spec.split(':');
  const second = rest.join(':');
  if (kind === 'count' && first) return { kind, file: [first, ...rest].join(':') };
  const at = Number(first);
  if (!Number.isInteger(at) || at < 1) throw new Error(`RARE_MINE_FAULT: bad operation number in ${JSON.stringify(spec)}`);
  if (kind === 'fail' && /^(short|E[A-Z]+)$/.test(second)) return { kind, at, code: second };
  if (kind === 'signal' && /^SIG[A-Z]+$/.test(second)) return { kind, at, signal: second as NodeJS.Signals };
  throw new Error(`RARE_MINE_FAULT: expected count:FILE, fail:K:CODE or signal:K:SIGNAL, got ${JSON.stringify(spec)}`);
}

const fault = parseFault(process.env.RARE_MINE_FAULT);
let operations = 0;
const trace: string[] = [];
/** Under count: the path each open descriptor was opened at, so the trace names files, not numbers. */
const openPaths = new Map<number, string>();
const TRACE_LINES = 100_000;

if (fault?.kind === 'count') {
  process.on('exit', () => {
    fs.writeFileSync(fault.file, `${operations}\n${trace.join('\n')}\n`);
  });
}

/** What the hook does to the operation it is called for: nothing, or move half the bytes (a short write or read). */
type Step = 'go' | 'short';

/** Count one operation and apply the fault if it is this one's. `target` is a path or a descriptor. */
function step(name: string, target: unknown, transfers: boolean): Step {
  operations++;
  if (fault === undefined) return 'go';
  if (fault.kind === 'count') {
    const what = typeof target === 'number' ? `${openPaths.get(target) ?? target}` : typeof target === 'object' ? '' : String(target);
    if (trace.length < TRACE_LINES) trace.push(`${operations} ${name} ${what}`);
    return 'go';
  }
  if (operations !== fault.at) return 'go';
  if (fault.kind === 'signal') {
    process.kill(process.pid, fault.signal);
    return 'go';
  }
  if (fault.code === 'short') return transfers ? 'short' : 'go';
  const error = new Error(`${fault.code}: injected fault, ${name}${typeof target === 'string' ? ` '${target}'` : ''}`) as NodeJS.ErrnoException;
  error.code = fault.code;
  error.errno = -((fs.constants as unknown as Record<string, number>)[fault.code] ?? 5);
  error.syscall = name;
  if (typeof target === 'string') error.path = target;
  throw error;
}

/** Half of `length`, at least 1 (a short transfer still moves a byte: 0 would mean end of file to a reader). */
function half(length: number): number {
  return Math.max(1, Math.floor(length / 2));
}

/** A path-or-descriptor operation that moves no bytes, counted and failed as a whole. */
function hookPlain<F extends (...args: never[]) => unknown>(name: string, original: F): F {
  if (fault === undefined) return original;
  return ((...args: Parameters<F>) => {
    step(name, args[0], false);
    return original(...args);
  }) as F;
}

/** writeSync(fd, buffer, offset?, length?, position?) or writeSync(fd, string, position?, encoding?). */
function hookedWriteSync(fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]): number {
  if (step('write', fd, true) === 'go') return (fs.writeSync as (...args: unknown[]) => number)(fd, data, ...rest);
  if (typeof data === 'string') {
    const bytes = Buffer.from(data, (rest[1] as BufferEncoding | undefined) ?? 'utf8');
    return fs.writeSync(fd, bytes, 0, half(bytes.length), rest[0] as number | null | undefined);
  }
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const options = typeof rest[0] === 'object' && rest[0] !== null ? (rest[0] as { offset?: number; length?: number; position?: number | null }) : undefined;
  const offset = options ? (options.offset ?? 0) : ((rest[0] as number | undefined) ?? 0);
  const length = options ? (options.length ?? view.length - offset) : ((rest[1] as number | undefined) ?? view.length - offset);
  const position = options ? options.position : (rest[2] as number | null | undefined);
  return fs.writeSync(fd, view, offset, half(length), position);
}

/** readSync(fd, buffer, offset, length, position) or readSync(fd, buffer, { offset, length, position }). */
function hookedReadSync(fd: number, buffer: NodeJS.ArrayBufferView, ...rest: unknown[]): number {
  if (step('read', fd, true) === 'go') return (fs.readSync as (...args: unknown[]) => number)(fd, buffer, ...rest);
  const options = typeof rest[0] === 'object' && rest[0] !== null ? (rest[0] as { offset?: number; length?: number; position?: number | bigint | null }) : undefined;
  const offset = options ? (options.offset ?? 0) : ((rest[0] as number | undefined) ?? 0);
  const length = options ? (options.length ?? buffer.byteLength - offset) : ((rest[1] as number | undefined) ?? buffer.byteLength - offset);
  const position = options ? options.position : (rest[2] as number | bigint | null | undefined);
  return fs.readSync(fd, buffer, offset, half(length), position ?? null);
}

type Callback = (error: NodeJS.ErrnoException | null, ...results: unknown[]) => void;

/**
 * The callback forms a ReadStream or WriteStream calls (its options.fs): each names `path` in its errors (Node's
 * stream read and write errors carry no path: "<unknown file>" otherwise) and, under the hook, is counted and failed
 * like the sync forms.
 */
function streamFs(path: string | undefined) {
  const named = (callback: Callback): Callback => (error, ...results) => callback(error && path !== undefined ? withPath(error, path) : error, ...results);
  const hooked = fault !== undefined;
  return {
    open(file: fs.PathLike, flags: fs.OpenMode, mode: fs.Mode, callback: Callback): void {
      try {
        if (hooked) step('open', String(file), false);
      } catch (error) {
        process.nextTick(callback, error);
        return;
      }
      fs.open(file, flags, mode, callback);
    },
    read(fd: number, buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number | null, callback: Callback): void {
      let how: Step = 'go';
      try {
        if (hooked) how = step('read', fd, true);
      } catch (error) {
        process.nextTick(named(callback), error, 0, buffer);
        return;
      }
      fs.read(fd, buffer, offset, how === 'short' ? half(length) : length, position, named(callback));
    },
    write(fd: number, buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number | null, callback: Callback): void {
      let how: Step = 'go';
      try {
        if (hooked) how = step('write', fd, true);
      } catch (error) {
        process.nextTick(named(callback), error, 0, buffer);
        return;
      }
      fs.write(fd, buffer, offset, how === 'short' ? half(length) : length, position, named(callback));
    },
    writev(fd: number, buffers: NodeJS.ArrayBufferView[], position: number | null, callback: Callback): void {
      let how: Step = 'go';
      try {
        if (hooked) how = step('write', fd, true);
      } catch (error) {
        process.nextTick(named(callback), error, 0, buffers);
        return;
      }
      if (how === 'short') {
        const whole = Buffer.concat(buffers.map((view) => Buffer.from(view.buffer, view.byteOffset, view.byteLength)));
        fs.write(fd, whole, 0, half(whole.length), position, named(callback));
      } else fs.writev(fd, buffers, position, named(callback));
    },
    close(fd: number, callback: Callback): void {
      try {
        if (hooked) step('close', fd, false);
      } catch (error) {
        fs.close(fd, () => named(callback)(error as NodeJS.ErrnoException));
        return;
      }
      fs.close(fd, named(callback));
    },
  };
}

type StreamOptions = { fs?: unknown; fd?: unknown } & Record<string, unknown>;

/** A stream's options with the naming (and, under the hook, faulting) fs forms; a stream on a given fd is named by its caller. */
function withStreamFs(path: fs.PathLike, options: BufferEncoding | StreamOptions | undefined): StreamOptions {
  const object: StreamOptions = typeof options === 'string' ? { encoding: options } : { ...(options ?? {}) };
  const name = object.fd === undefined && path !== '' ? String(path) : undefined;
  return { ...object, fs: streamFs(name) };
}

export const openSync: typeof fs.openSync =
  fault?.kind === 'count'
    ? (path, ...rest) => {
        const fd = hookPlain('open', fs.openSync)(path, ...rest);
        openPaths.set(fd, String(path));
        return fd;
      }
    : hookPlain('open', fs.openSync);
export const closeSync = hookPlain('close', fs.closeSync);
export const fsyncSync = hookPlain('fsync', fs.fsyncSync);
export const renameSync = hookPlain('rename', fs.renameSync);
export const unlinkSync = hookPlain('unlink', fs.unlinkSync);
export const rmSync = hookPlain('rm', fs.rmSync);
export const mkdirSync = hookPlain('mkdir', fs.mkdirSync);
export const mkdtempSync = hookPlain('mkdtemp', fs.mkdtempSync);
export const truncateSync = hookPlain('truncate', fs.truncateSync);
export const ftruncateSync = hookPlain('ftruncate', fs.ftruncateSync);
export const linkSync = hookPlain('link', fs.linkSync);
export const symlinkSync = hookPlain('symlink', fs.symlinkSync);
export const copyFileSync = hookPlain('copyFile', fs.copyFileSync);
export const readFileSync = hookPlain('readFile', fs.readFileSync);
export const writeFileSync = hookPlain('writeFile', fs.writeFileSync);
export const appendFileSync = hookPlain('appendFile', fs.appendFileSync);
export const writeSync: typeof fs.writeSync = fault === undefined ? fs.writeSync : (hookedWriteSync as typeof fs.writeSync);
export const readSync: typeof fs.readSync = fault === undefined ? fs.readSync : (hookedReadSync as typeof fs.readSync);
export const createReadStream = ((path, options) => fs.createReadStream(path, withStreamFs(path, options as StreamOptions) as never)) as typeof fs.createReadStream;
export const createWriteStream = ((path, options) => fs.createWriteStream(path, withStreamFs(path, options as StreamOptions) as never)) as typeof fs.createWriteStream;

/** The promise forms the code uses (model preparation), counted and failed like the sync ones. */
export const fsPromises = {
  readFile: hookPlain('readFile', fs.promises.readFile),
  writeFile: hookPlain('writeFile', fs.promises.writeFile),
  rename: hookPlain('rename', fs.promises.rename),
  rm: hookPlain('rm', fs.promises.rm),
};

/**
 * An errno error with the path it concerns: errors of operations on a descriptor (write, read, fsync, close) carry
 * none, so every caller names its file through this before the error leaves it (src/errors.ts fileErrorFrom turns
 * it into "PATH: no space left on device (ENOSPC in write)", never "<unknown file>").
 */
export function withPath<E>(error: E, path: string): E {
  if (error instanceof Error) {
    const system = error as NodeJS.ErrnoException;
    if (system.code !== undefined && system.path === undefined) system.path = path;
  }
  return error;
}

/**
 * The one write loop: write all of `data` to `fd` (at `position`, or at the descriptor's offset when null), a short
 * write continued where it stopped. A write that moves no byte is an error (ENOSPC), never a spin. Errors name `path`.
 */
export function writeAllSync(fd: number, data: Uint8Array | string, path: string, position: number | null = null): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let done = 0;
  try {
    while (done < bytes.byteLength) {
      const n = writeSync(fd, bytes, done, bytes.byteLength - done, position === null ? null : position + done);
      if (n <= 0) throw Object.assign(new Error(`ENOSPC: no byte written, write '${path}'`), { code: 'ENOSPC', syscall: 'write' });
      done += n;
    }
  } catch (error) {
    throw withPath(error, path);
  }
}

/**
 * The one read loop: read up to `length` bytes into `buffer` at `offset` from `position` (or the descriptor's offset
 * when null), a short read continued. Returns the bytes read: fewer than `length` only at the end of the file (a read
 * of 0 bytes ends the loop, so it can never spin). Errors name `path`.
 */
export function readFullSync(fd: number, buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number | null, path: string): number {
  let done = 0;
  try {
    while (done < length) {
      const n = readSync(fd, buffer, offset + done, length - done, position === null ? null : position + done);
      if (n <= 0) break;
      done += n;
    }
  } catch (error) {
    throw withPath(error, path);
  }
  return done;
}

/** Run `operation` (fsync, close, ... on a descriptor of `path`), its errors naming `path`. */
export function onPath<T>(path: string, operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    throw withPath(error, path);
  }
}
