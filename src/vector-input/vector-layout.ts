/**
 * What every vector-file format reduces to once its header is read (npy-format.ts, safetensors-format.ts,
 * fvecs-format.ts), and the bounded header reads they share. Row r occupies bytes
 *
 *   [dataOffsetBytes + r × rowStrideBytes, dataOffsetBytes + (r + 1) × rowStrideBytes)
 *
 * of which the first rowPrefixBytes are not values (fvecs' int32 dimension) and the rest are `dims` little-endian
 * values of `dtype`. What must hold once a layout is returned: rows ≥ 1, 1 ≤ dims ≤ MAX_DIMS, and the rows end
 * within the file (each format checks more: npy and fvecs end exactly at the end of the file).
 */
import { readSync } from '../io/fs.js';
import { InputError, InputRowError } from '../errors.js';

/** Element types read; both are decoded to float32. */
export type VectorDtype = 'float32' | 'float16';

/** Bytes of one element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<VectorDtype, number>> = { float32: 4, float16: 2 };

export type VectorFileFormat = 'npy' | 'safetensors' | 'fvecs';

/**
 * Most dimensions a row may have: one row is read whole, so this bounds one read (4 MiB of float32). Embedding
 * models have hundreds to a few thousand.
 */
export const MAX_DIMS = 1 << 20;

export interface VectorLayout {
  format: VectorFileFormat;
  dtype: VectorDtype;
  rows: number;
  dims: number;
  /** The safetensors tensor read. */
  tensor?: string;
  /** File offset of row 0's first byte. */
  dataOffsetBytes: number;
  /** Bytes from one row's first byte to the next's. */
  rowStrideBytes: number;
  /** Bytes at the start of each row that are not values (fvecs: the int32 dimension; otherwise 0). */
  rowPrefixBytes: number;
}

/** An open file whose header is being read. */
export interface HeaderSource {
  path: string;
  fd: number;
  /** The file's size when it was opened. */
  sizeBytes: number;
}

/** Quote text from a file for a message: escaped (no control characters reach the terminal) and cut to `max` characters. */
export function quote(text: string, max = 80): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

/**
 * Bytes [position, position + length) of the header, which the caller has checked lie within the file's size at
 * open; a short read means the file shrank since (never loops on a 0-byte read).
 */
export function readHeaderBytes(source: HeaderSource, position: number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(source.fd, bytes, done, length - done, position + done);
    if (n === 0) throw new InputError(source.path, undefined, `the file ended at byte ${position + done} while its header was read; it is shorter than when it was opened (changed while being read?)`);
    done += n;
  }
  return bytes;
}

/** `value` as a row or dimension count: a safe integer in [1, max], or an InputError saying what `what` declared. */
export function checkCount(path: string, what: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new InputError(path, undefined, `${what} is ${value}, not a count`);
  if (value === 0) throw new InputError(path, undefined, `${what} is 0: the file holds no vectors`, { hint: 'write the vectors as a 2-D (rows, dims) array with at least one row' });
  if (value > max) throw new InputError(path, undefined, `${what} is ${value}, more than the ${max} rare-mine reads`);
  return value;
}

/**
 * Check that `layout`'s rows fit in the file, and (when `exactEnd`) that nothing follows them. A file too short is
 * reported at its first incomplete row; bytes after the last row are an error, since they mean the header does
 * not describe the file (a wrong shape, or two arrays written into one file). `declaredBy` names what gave the
 * row count ("its header", "its first row's dimension and its size").
 */
export function checkRowsFit(source: HeaderSource, layout: VectorLayout, exactEnd: boolean, declaredBy: string): void {
  const { dataOffsetBytes, rowStrideBytes, rows, dims, dtype } = layout;
  const endBytes = dataOffsetBytes + rows * rowStrideBytes;
  const declared = `${rows} rows of ${dims} ${dtype} values (${rowStrideBytes} bytes each) that ${declaredBy} declares`;
  if (!Number.isSafeInteger(endBytes)) throw new InputError(source.path, undefined, `the ${declared} are larger than any file`);
  if (source.sizeBytes < endBytes) {
    const available = Math.max(0, source.sizeBytes - dataOffsetBytes);
    const wholeRows = Math.floor(available / rowStrideBytes);
    const partial = available - wholeRows * rowStrideBytes;
    throw new InputRowError(
      source.path,
      wholeRows,
      `incomplete: the file is truncated, holding ${wholeRows} whole rows of the ${declared} and ${partial} bytes of this one (${source.sizeBytes} bytes where ${endBytes} are needed)`,
      { hint: 'the file was cut short (an interrupted copy or write?): write or copy it again' },
    );
  }
  if (exactEnd && source.sizeBytes > endBytes) {
    throw new InputError(
      source.path,
      undefined,
      `${source.sizeBytes - endBytes} trailing bytes follow the last row (row ${rows - 1}): the ${declared} end at byte ${endBytes} of ${source.sizeBytes}`,
      { hint: 'the header does not describe the whole file: check that one 2-D array was written and nothing appended' },
    );
  }
}
