/**
 * The exact vectors of a dense index: float32 rows in doc-ordinal order, in one container file
 * (`vectors.bin`, kind "DVEC"; names, versions and row offsets from format.ts). The HNSW graph may store vectors at lower
 * precision; these rows are what scores, rescoring and exact search read, so a cosine similarity reported
 * for a document is the same whichever path found it. What must hold: row i is document ordinal i; the
 * payload is exactly count × dims × 4 bytes. Rows are read by position (pread), never all at once.
 */
import { IndexError } from '../errors.js';
import { ContainerReader, ContainerWriter } from '../storage/container.js';
import { rowBytes, rowOffset, VECTOR_FILE_KIND, VECTOR_FILE_VERSIONS } from './format.js';

/** Streams rows into vectors.bin. */
export class VectorFileWriter {
  private readonly container: ContainerWriter;
  count = 0;

  /** `buildId`: the index directory's (its manifest's), written into the container header. */
  constructor(readonly path: string, readonly dims: number, buildId: string) {
    this.container = new ContainerWriter(path, VECTOR_FILE_KIND, VECTOR_FILE_VERSIONS.current, buildId);
  }

  /** Append rows; row i of this call gets ordinal `count + i`. */
  append(rows: readonly Float32Array[]): void {
    for (const row of rows) {
      if (row.length !== this.dims) throw new IndexError(`vector of ${row.length} dims appended to a ${this.dims}-d vector file`);
      this.container.write(new Uint8Array(row.buffer, row.byteOffset, row.byteLength));
    }
    this.count += rows.length;
  }

  finish(): void {
    this.container.finish();
  }

  /** Close without finishing (a failed build). */
  abort(): void {
    this.container.abort();
  }
}

/** Positional access to the rows of vectors.bin. */
export class VectorFileReader {
  private readonly container: ContainerReader;
  readonly count: number;
  private readonly rowBytes: number;

  /** Open and verify (magic, version, length, build id, checksum); `rebuildHint` is quoted in errors. */
  constructor(readonly path: string, readonly dims: number, expectedCount: number, rebuildHint: string, buildId: string) {
    this.container = new ContainerReader(path, VECTOR_FILE_KIND, VECTOR_FILE_VERSIONS, rebuildHint, buildId);
    this.rowBytes = rowBytes(dims);
    this.count = this.container.payloadBytes / this.rowBytes;
    if (this.count !== expectedCount) {
      this.container.close();
      throw new IndexError(`${path}: holds ${this.count} ${dims}-d vectors where the manifest says ${expectedCount}`, { hint: `rebuild the index: ${rebuildHint}` });
    }
  }

  /** Row `ordinal` as a fresh Float32Array. */
  row(ordinal: number): Float32Array {
    if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= this.count) throw new RangeError(`doc ordinal ${ordinal} outside 0..${this.count - 1}`);
    const out = new Float32Array(this.dims);
    this.container.read(rowOffset(ordinal, this.dims), this.rowBytes, Buffer.from(out.buffer));
    return out;
  }

  /**
   * Rows [first, first + rows) into `into` (a Float32Array of at least rows × dims, byteOffset 0), which is
   * returned trimmed to the rows read.
   */
  readRows(first: number, rows: number, into: Float32Array): Float32Array {
    const length = rows * this.dims;
    this.container.read(rowOffset(first, this.dims), rows * this.rowBytes, Buffer.from(into.buffer, into.byteOffset, length * Float32Array.BYTES_PER_ELEMENT));
    return into.subarray(0, length);
  }

  close(): void {
    this.container.close();
  }
}
