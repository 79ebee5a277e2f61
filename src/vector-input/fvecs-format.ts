/**
 * The TEXMEX .fvecs format (the SIFT/GIST ANN benchmarks' vectors), a header-less run of rows:
 *
 *   row r, at byte r × (4 + 4d):
 *     offset  bytes  field
 *     0       4      d: the row's dimension, int32 little-endian
 *     4       4d     d float32 values, little-endian
 *
 * What must hold: d is taken from row 0 and is in [1, MAX_DIMS]; the file's size is a whole number of rows
 * (else the first incomplete row is named); every row's own d equals row 0's, which the reader checks as each row is
 * read (an fvecs file has no header to check it against up front).
 */
import { InputError, InputRowError } from '../errors.js';
import { MAX_DIMS, readHeaderBytes, type HeaderSource, type VectorLayout } from './vector-layout.js';

/** Bytes of the dimension prefix of each row. */
export const FVECS_PREFIX_BYTES = 4;

/** The layout of the .fvecs file `source`, from its first row's dimension and its size. */
export function readFvecsLayout(source: HeaderSource): VectorLayout {
  const { path, sizeBytes } = source;
  if (sizeBytes === 0) throw new InputError(path, undefined, 'the file is empty: it holds no vectors');
  if (sizeBytes < FVECS_PREFIX_BYTES) throw new InputRowError(path, 0, `incomplete: the file has ${sizeBytes} bytes, fewer than the 4 of the row's dimension`);
  const dims = readHeaderBytes(source, 0, FVECS_PREFIX_BYTES).readInt32LE(0);
  if (dims < 1 || dims > MAX_DIMS) {
    throw new InputRowError(path, 0, `its dimension prefix is ${dims}, not in 1..${MAX_DIMS}`, { hint: 'is this an .fvecs file? each row is an int32 dimension d, then d float32 values' });
  }
  const rowStrideBytes = FVECS_PREFIX_BYTES + dims * 4;
  const rows = Math.floor(sizeBytes / rowStrideBytes);
  const partialBytes = sizeBytes - rows * rowStrideBytes;
  if (partialBytes !== 0) {
    throw new InputRowError(
      path,
      rows,
      `incomplete: the file ends ${partialBytes} bytes into this row, whose rows are ${rowStrideBytes} bytes each (a 4-byte dimension, then ${dims} float32 values, as row 0 says)`,
      { hint: `the file is truncated, or not every row has ${dims} values: write or copy it again` },
    );
  }
  const layout: VectorLayout = { format: 'fvecs', dtype: 'float32', rows, dims, dataOffsetBytes: 0, rowStrideBytes, rowPrefixBytes: FVECS_PREFIX_BYTES };
  return layout;
}
