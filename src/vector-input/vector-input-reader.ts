/**
 * Vectors a user brings, computed elsewhere: a .npy, .safetensors or .fvecs file of rows, read by position in
 * bounded chunks, decoded to float32 and L2-normalised (rare-mine's similarity is cosine). What must hold: opening
 * reads only the header and checks it against the file's size, never the rows; a read holds at most
 * READ_CHUNK_BYTES of the file (or one row, if larger) besides the rows returned; every row returned is finite and
 * of norm 1, and a row that cannot be (a NaN or ±Inf value, all zeros, an fvecs dimension unlike row 0's) is an
 * InputRowError naming the file and the row; a file that shrinks while read is an error, never a short result or
 * an endless loop. Byte layouts: npy-format.ts, safetensors-format.ts, fvecs-format.ts.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from '../io/fs.js';
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { extname } from 'node:path';
import { FileError, fileErrorFrom, InputError, InputRowError, UsageError } from '../errors.js';
import { float16Table } from './float16.js';
import { readFvecsLayout } from './fvecs-format.js';
import { isNpy, readNpyLayout } from './npy-format.js';
import { looksLikeSafetensors, readSafetensorsLayout } from './safetensors-format.js';
import { DTYPE_BYTES, readHeaderBytes, type HeaderSource, type VectorDtype, type VectorFileFormat, type VectorLayout } from './vector-layout.js';

export type { VectorDtype, VectorFileFormat } from './vector-layout.js';

/** Bytes of the file read at once by readRows (whole rows; one row when a row is larger). */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;
/** Bytes of the file hashed at once by the fingerprint. */
export const FINGERPRINT_CHUNK_BYTES = 4 * 1024 * 1024;

/** The formats read, how each is recognised and what it holds; the "which formats are read" message comes from here. */
export const VECTOR_FILE_FORMATS: ReadonlyArray<{ format: VectorFileFormat; extension: string; recognisedBy: 'content' | 'extension'; holds: string }> = [
  { format: 'npy', extension: '.npy', recognisedBy: 'content', holds: 'a 2-D float32 or float16 NumPy array (np.save)' },
  { format: 'safetensors', extension: '.safetensors', recognisedBy: 'content', holds: 'a 2-D F32 or F16 tensor (safetensors save_file)' },
  { format: 'fvecs', extension: '.fvecs', recognisedBy: 'extension', holds: 'TEXMEX float32 rows, each an int32 dimension then its values' },
];

/** Files people may have instead, by extension: what they are, and how to get a file that is read. */
const FORMATS_NOT_READ: ReadonlyArray<{ extensions: readonly string[]; what: string; instead: string }> = [
  { extensions: ['.npz'], what: 'a NumPy .npz archive', instead: "save the one array alone: np.save('vectors.npy', a)" },
  { extensions: ['.bvecs'], what: 'TEXMEX uint8 vectors', instead: 'convert to float32 and save as .fvecs or .npy' },
  { extensions: ['.ivecs'], what: 'TEXMEX int32 rows (usually ground-truth neighbour ids, not vectors)', instead: 'give the float32 vectors as .fvecs or .npy' },
  { extensions: ['.pt', '.pth', '.pkl', '.pickle'], what: 'a Python pickle, which rare-mine never loads (unpickling runs code)', instead: "save with safetensors (save_file({'vectors': t}, path)) or np.save(path, t.numpy())" },
  { extensions: ['.h5', '.hdf5'], what: 'an HDF5 file', instead: "export the dataset: np.save('vectors.npy', f['name'][:])" },
  { extensions: ['.parquet', '.arrow', '.feather'], what: 'a table file', instead: 'export the vector column as one 2-D float32 array with np.save' },
];

function formatsRead(): string {
  return `rare-mine reads ${VECTOR_FILE_FORMATS.map((entry) => `${entry.extension} (${entry.holds}; recognised by ${entry.recognisedBy})`).join(', ')}`;
}

/** What a vector file holds. */
export interface VectorFileInfo {
  path: string;
  format: VectorFileFormat;
  /** The stored element type; rows are returned as float32 whatever it is. */
  dtype: VectorDtype;
  rows: number;
  dims: number;
  /** The safetensors tensor read. */
  tensor?: string;
}

/** A vector file's identity, for manifests and run records: its bytes' SHA-256 and what they were read as. */
export interface VectorFileFingerprint {
  /** Hex SHA-256 of the whole file. */
  sha256: string;
  bytes: number;
  format: VectorFileFormat;
  dtype: VectorDtype;
  rows: number;
  dims: number;
  tensor?: string;
}

export interface OpenVectorFileOptions {
  /**
   * The safetensors tensor holding the vectors (the CLI's --vectors-tensor); needed only when the file holds several.
   * Naming one for another format is a UsageError, not ignored.
   */
  tensor?: string;
}

function statOrFail(path: string): Stats {
  try {
    return statSync(path);
  } catch (error) {
    throw fileErrorFrom(error, path) ?? error;
  }
}

/** Which format `source` is, from its first bytes and its extension; an InputError saying what is read when none. */
function detectFormat(source: HeaderSource): VectorFileFormat {
  const prefix = readHeaderBytes(source, 0, Math.min(16, source.sizeBytes));
  const extension = extname(source.path).toLowerCase();
  if (isNpy(prefix)) return 'npy';
  const byExtension = VECTOR_FILE_FORMATS.find((entry) => entry.extension === extension);
  if (byExtension) return byExtension.format; // a .npy without the magic is refused by its reader, saying so
  const notRead = FORMATS_NOT_READ.find((entry) => entry.extensions.includes(extension));
  if (notRead) throw new InputError(source.path, undefined, `${notRead.what} is not read; ${formatsRead()}`, { hint: notRead.instead });
  if (looksLikeSafetensors(prefix, source.sizeBytes)) return 'safetensors';
  throw new InputError(source.path, undefined, `not a vector file rare-mine recognises; ${formatsRead()}`, {
    hint: 'convert the vectors to one of these; an .fvecs file needs its extension',
  });
}

/**
 * Open the vector file at `path` and check its header against its size (nothing else is read). A missing path, a
 * directory or anything not a regular file is a FileError; an unknown or malformed format an InputError; a
 * safetensors tensor choice that cannot be made (several tensors and no `tensor`, a name the file lacks, a `tensor`
 * for another format) a UsageError.
 */
export function openVectorFile(path: string, options: OpenVectorFileOptions = {}): VectorInputReader {
  const stats = statOrFail(path);
  if (stats.isDirectory()) throw new FileError(path, 'is a directory; a vector file (.npy, .safetensors or .fvecs) is wanted');
  if (!stats.isFile()) throw new FileError(path, 'is not a regular file (a pipe, socket or device): vector files are read by position, so save the vectors to a file first');
  if (options.tensor !== undefined && options.tensor.length === 0) throw new UsageError('the tensor name is empty', { hint: 'name the safetensors tensor that holds the vectors with --vectors-tensor NAME' });
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw fileErrorFrom(error, path) ?? error;
  }
  try {
    const opened = fstatSync(fd);
    if (!opened.isFile() || opened.ino !== stats.ino || opened.dev !== stats.dev) throw new FileError(path, 'was replaced while being opened; open it again');
    const source: HeaderSource = { path, fd, sizeBytes: opened.size };
    if (source.sizeBytes === 0) throw new InputError(path, undefined, `the file is empty; ${formatsRead()}`);
    const format = detectFormat(source);
    if (options.tensor !== undefined && format !== 'safetensors') {
      throw new UsageError(`a tensor name (${JSON.stringify(options.tensor)}) is given, but ${path} is ${format === 'npy' ? 'a .npy' : 'an .fvecs'} file, which holds one array`, {
        hint: 'drop --vectors-tensor, which names a tensor of a .safetensors file',
      });
    }
    const layout = format === 'npy' ? readNpyLayout(source) : format === 'safetensors' ? readSafetensorsLayout(source, options.tensor) : readFvecsLayout(source);
    return new VectorInputReader(path, fd, source.sizeBytes, layout);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

const BIG_ENDIAN_HOST = endianness() === 'BE';

/**
 * One chunk of the file and typed views of it. Every offset a row is read at is a multiple of its element size (row
 * strides and prefixes are whole elements, and the chunk starts at a row), so the views index it directly; the
 * file's little-endian values are native on a little-endian machine and swapped in place on a big-endian one.
 */
class ChunkViews {
  private constructor(
    readonly bytes: Buffer,
    readonly float32s: Float32Array,
    readonly int32s: Int32Array,
    readonly uint16s: Uint16Array,
  ) {}

  static allocate(byteLength: number): ChunkViews {
    const bytes = Buffer.allocUnsafeSlow(byteLength); // its own ArrayBuffer, so byteOffset 0 and aligned views
    const whole = bytes.buffer;
    return new ChunkViews(bytes, new Float32Array(whole, 0, byteLength >> 2), new Int32Array(whole, 0, byteLength >> 2), new Uint16Array(whole, 0, byteLength >> 1));
  }

  /** Swap the first `byteLength` bytes from little-endian to this machine's order, in elements of `elementBytes`. */
  toNativeOrder(byteLength: number, elementBytes: number): void {
    const read = this.bytes.subarray(0, byteLength);
    if (elementBytes === 4) read.swap32();
    else read.swap16();
  }
}

/**
 * Rows of one open vector file, by position. Named apart from src/vector/vector-file.ts's VectorFileReader (rows of
 * an index's own vectors.bin), which a dense build may use beside this one.
 */
export class VectorInputReader {
  readonly info: VectorFileInfo;
  private fd: number | undefined;
  /** Scratch for one chunk of the file, allocated on first read and reused. */
  private chunk: ChunkViews | undefined;
  private readonly rowsPerChunk: number;

  /** Use openVectorFile, which checks the layout against the file. */
  constructor(
    path: string,
    fd: number,
    private readonly sizeBytes: number,
    private readonly layout: VectorLayout,
  ) {
    this.fd = fd;
    this.info = { path, format: layout.format, dtype: layout.dtype, rows: layout.rows, dims: layout.dims, ...(layout.tensor === undefined ? {} : { tensor: layout.tensor }) };
    this.rowsPerChunk = Math.max(1, Math.min(layout.rows, Math.floor(READ_CHUNK_BYTES / layout.rowStrideBytes)));
  }

  /**
   * Rows [firstRow, firstRow + count) as float32, L2-normalised, row-major, in `out` (at least count × dims long)
   * or a new array; returned trimmed to count × dims. A row with a NaN or ±Inf value, a zero row or (fvecs) a row
   * whose dimension prefix differs from row 0's is an InputRowError; rows outside the file are a RangeError.
   */
  readRows(firstRow: number, count: number, out?: Float32Array): Float32Array {
    const fd = this.openFd();
    const { rows, dims } = this.layout;
    if (!Number.isSafeInteger(firstRow) || !Number.isSafeInteger(count) || firstRow < 0 || count < 0 || firstRow + count > rows) {
      throw new RangeError(`rows [${firstRow}, ${firstRow + count}) outside the ${rows} rows of ${this.info.path}`);
    }
    const values = count * dims;
    const target = out ?? new Float32Array(values);
    if (target.length < values) throw new RangeError(`an output of ${target.length} floats cannot hold ${count} rows of ${dims}`);
    const stride = this.layout.rowStrideBytes;
    const chunk = (this.chunk ??= ChunkViews.allocate(this.rowsPerChunk * stride));
    for (let done = 0; done < count; ) {
      const chunkRows = Math.min(this.rowsPerChunk, count - done);
      const chunkFirstRow = firstRow + done;
      this.readExactly(fd, chunk.bytes, chunkRows * stride, chunkFirstRow);
      if (BIG_ENDIAN_HOST) chunk.toNativeOrder(chunkRows * stride, DTYPE_BYTES[this.layout.dtype]);
      for (let r = 0; r < chunkRows; r++) this.decodeRow(chunk, r * stride, chunkFirstRow + r, target, (done + r) * dims);
      done += chunkRows;
    }
    return target.subarray(0, values);
  }

  /**
   * Every row in order, `blockRows` at a time (the last block may be shorter), each block a new array of
   * rows × dims normalised floats (see readRows). Memory: one block and one chunk, whatever the file's size.
   */
  rowsInBlocks(blockRows: number): Iterable<{ firstRow: number; rows: Float32Array }> {
    if (!Number.isSafeInteger(blockRows) || blockRows < 1) throw new RangeError(`block of ${blockRows} rows: a positive integer is needed`);
    this.openFd();
    const total = this.layout.rows;
    const reader = this;
    return {
      *[Symbol.iterator]() {
        for (let firstRow = 0; firstRow < total; firstRow += blockRows) {
          yield { firstRow, rows: reader.readRows(firstRow, Math.min(blockRows, total - firstRow)) };
        }
      },
    };
  }

  /**
   * The SHA-256 of the whole file, read in FINGERPRINT_CHUNK_BYTES chunks, and what it was read as. A file whose size
   * changed since it was opened is an InputError (its rows may no longer be what the header said).
   */
  fingerprint(): VectorFileFingerprint {
    const fd = this.openFd();
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(Math.min(FINGERPRINT_CHUNK_BYTES, this.sizeBytes + 1));
    let position = 0;
    for (;;) {
      // Ask for one byte beyond the size at open, so a file that grew is noticed without reading on and on.
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, this.sizeBytes + 1 - position), position);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
      position += n;
      if (position > this.sizeBytes) break;
    }
    if (position !== this.sizeBytes) {
      throw new InputError(this.info.path, undefined, `the file changed while it was read: ${position > this.sizeBytes ? 'it grew beyond' : `it ended at byte ${position}, short of`} the ${this.sizeBytes} bytes it had when opened`, {
        hint: 'wait until whatever writes it has finished, then run again',
      });
    }
    const { format, dtype, rows, dims, tensor } = this.info;
    return { sha256: hash.digest('hex'), bytes: this.sizeBytes, format, dtype, rows, dims, ...(tensor === undefined ? {} : { tensor }) };
  }

  /** Close the file (again is a no-op); reading after is an error. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private openFd(): number {
    if (this.fd === undefined) throw new Error(`vector file ${this.info.path} is closed`);
    return this.fd;
  }

  /** `length` bytes of whole rows from row `firstRow` on into `chunk`; a 0-byte read before the end is an InputRowError. */
  private readExactly(fd: number, chunk: Buffer, length: number, firstRow: number): void {
    const position = this.layout.dataOffsetBytes + firstRow * this.layout.rowStrideBytes;
    let done = 0;
    while (done < length) {
      const n = readSync(fd, chunk, done, length - done, position + done);
      if (n === 0) {
        const row = firstRow + Math.floor(done / this.layout.rowStrideBytes);
        throw new InputRowError(this.info.path, row, `the file ended before this row was complete: it is shorter than the ${this.sizeBytes} bytes it had when opened (changed while being read?)`, {
          hint: 'wait until whatever writes it has finished, then run again',
        });
      }
      done += n;
    }
  }

  /** Decode row `row`, whose bytes start at `byteOffset` of `chunk`, into out[outOffset …], checked and normalised. */
  private decodeRow(chunk: ChunkViews, byteOffset: number, row: number, out: Float32Array, outOffset: number): void {
    const { dims, dtype, rowPrefixBytes } = this.layout;
    if (rowPrefixBytes > 0) {
      const rowDims = chunk.int32s[byteOffset / 4];
      if (rowDims !== dims) {
        throw new InputRowError(this.info.path, row, `its dimension prefix says ${rowDims} where row 0's says ${dims}; every row of an .fvecs file must have the same dimension`, {
          hint: 'the file mixes vectors of different models, or is damaged: write it again',
        });
      }
    }
    const valuesAt = byteOffset + rowPrefixBytes;
    let sumOfSquares = 0;
    if (dtype === 'float32') {
      const floats = chunk.float32s;
      const first = valuesAt / 4;
      for (let i = 0; i < dims; i++) {
        const value = floats[first + i];
        out[outOffset + i] = value;
        sumOfSquares += value * value;
      }
    } else {
      const halves = float16Table();
      const bits = chunk.uint16s;
      const first = valuesAt / 2;
      for (let i = 0; i < dims; i++) {
        const value = halves[bits[first + i]];
        out[outOffset + i] = value;
        sumOfSquares += value * value;
      }
    }
    // A NaN or ±Inf value makes the sum NaN or Infinity: one test per row, and the value is looked for only then.
    if (!Number.isFinite(sumOfSquares)) this.reportNonFinite(out, outOffset, row);
    if (sumOfSquares === 0) {
      throw new InputRowError(this.info.path, row, `all ${dims} values are zero: a zero vector has no direction, so its cosine similarity to anything is undefined`, {
        hint: 'drop or recompute this row where the vectors were made; row i must be the vector of record i',
      });
    }
    const scale = 1 / Math.sqrt(sumOfSquares);
    for (let i = 0; i < dims; i++) out[outOffset + i] *= scale;
  }

  private reportNonFinite(out: Float32Array, outOffset: number, row: number): never {
    const { dims } = this.layout;
    let column = 0;
    while (column < dims && Number.isFinite(out[outOffset + column])) column++;
    const value = out[outOffset + column];
    throw new InputRowError(this.info.path, row, `value ${column} of ${dims} is ${Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf'}; every vector must be finite`, {
      hint: `recompute this row where the vectors were made${this.layout.dtype === 'float16' ? ' (float16 overflows above 65504: save float32)' : ''}`,
    });
  }
}

/** The fingerprint of an open reader, or of the file at `path` (opened with `options`, then closed). */
export function vectorFileFingerprint(file: VectorInputReader | string, options?: OpenVectorFileOptions): VectorFileFingerprint {
  if (typeof file !== 'string') return file.fingerprint();
  const reader = openVectorFile(file, options);
  try {
    return reader.fingerprint();
  } finally {
    reader.close();
  }
}
