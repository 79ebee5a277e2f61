/**
 * The NumPy .npy format (numpy.lib.format, versions 1.0, 2.0 and 3.0), read for a 2-D float32 or float16 array:
 *
 *   offset   bytes  field
 *   0        6      magic: \x93 N U M P Y
 *   6        1      major version: 1, 2 or 3
 *   7        1      minor version: 0
 *   8        2 | 4  header length H, little-endian: 2 bytes in version 1, 4 in versions 2 and 3
 *   10 | 12  H      header: a Python dict literal, latin-1 (v1, v2) or UTF-8 (v3), space-padded, ending '\n':
 *                   {'descr': '<f4', 'fortran_order': False, 'shape': (rows, dims), }
 *   10|12+H  …      data: rows × dims values in C (row-major) order; the file ends with the last one
 *
 * What must hold: the header is parsed, never evaluated (python-literal.ts), and at most NPY_MAX_HEADER_BYTES;
 * it has exactly the keys descr, fortran_order and shape, as NumPy's own reader requires; descr is one of
 * NPY_DESCRS; the file's size is exactly the data offset + rows × dims × item size.
 */
import { endianness } from 'node:os';
import { InputError } from '../errors.js';
import { parsePythonLiteral, PythonLiteralError, pythonRepr, type PythonValue } from './python-literal.js';
import { checkCount, checkRowsFit, DTYPE_BYTES, MAX_DIMS, quote, readHeaderBytes, type HeaderSource, type VectorDtype, type VectorLayout } from './vector-layout.js';

/** The six bytes every .npy file starts with. */
export const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** Largest header read. A 2-D float array's header is 118 bytes (128 with the prefix); NumPy itself refuses headers over 10,000 bytes by default. */
export const NPY_MAX_HEADER_BYTES = 64 * 1024;

/** Major versions read (their minor version is 0). */
export const NPY_VERSIONS: readonly number[] = [1, 2, 3];

/**
 * The descr values read. '=' is the writing machine's native order; NumPy writes '<' or '>' instead, but a
 * hand-made header may say '=' and is taken as little-endian only on a little-endian machine, where "native" on
 * a machine like this one is little-endian.
 */
export const NPY_DESCRS: ReadonlyMap<string, VectorDtype> = new Map<string, VectorDtype>([
  ['<f4', 'float32'],
  ['<f2', 'float16'],
  ...(endianness() === 'LE'
    ? ([
        ['=f4', 'float32'],
        ['=f2', 'float16'],
      ] as const)
    : []),
]);

/** Whether `prefix` (the file's first bytes) starts with the .npy magic. */
export function isNpy(prefix: Buffer): boolean {
  return prefix.length >= NPY_MAGIC.length && prefix.subarray(0, NPY_MAGIC.length).equals(NPY_MAGIC);
}

/** Type codes NumPy writes, in words, for refusals. */
const TYPE_KINDS: ReadonlyArray<[RegExp, string]> = [
  [/^f8$/, 'float64'],
  [/^f(12|16)$/, 'extended-precision float'],
  [/^[iu][1248]$/, 'integer'],
  [/^b1$/, 'boolean'],
  [/^c(8|16|32)$/, 'complex'],
  [/^O$/, 'Python objects (a pickle)'],
  [/^V\d+$/, 'raw bytes (bfloat16 from ml_dtypes is saved this way)'],
  [/^[SUa]\d*$/, 'string'],
  [/^[Mm]8/, 'datetime'],
];

const SUPPORTED = [...NPY_DESCRS].map(([descr, dtype]) => `'${descr}' (${dtype})`).join(', ');

function unsupportedDescr(path: string, descr: string): InputError {
  const order = descr[0];
  const code = '<>|='.includes(order) ? descr.slice(1) : descr;
  const float = code === 'f4' ? 'float32' : code === 'f2' ? 'float16' : undefined;
  if (float !== undefined && order === '>') {
    return new InputError(path, undefined, `dtype ${quote(descr)} is big-endian ${float}; rare-mine reads little-endian only (${SUPPORTED})`, {
      hint: `convert before saving: np.save(path, a.astype('<${code}'))`,
    });
  }
  if (float !== undefined) {
    const why = order === '|' ? "'|' (byte order not applicable) is meaningful only for one-byte types" : `'=' (the writing machine's native order) is ambiguous on this ${endianness() === 'LE' ? 'little' : 'big'}-endian machine`;
    return new InputError(path, undefined, `dtype ${quote(descr)}: ${why}; supported: ${SUPPORTED}`, { hint: `save with an explicit byte order: np.save(path, a.astype('<${code}'))` });
  }
  const kind = TYPE_KINDS.find(([pattern]) => pattern.test(code))?.[1];
  return new InputError(path, undefined, `dtype ${quote(descr)}${kind ? ` (${kind})` : ''} is not read; supported: ${SUPPORTED}`, {
    hint: 'convert before saving: np.save(path, a.astype(np.float32))',
  });
}

function headerError(path: string, reason: string): InputError {
  return new InputError(path, undefined, `not a valid .npy header: ${reason}`, { hint: 'write the file with numpy.save' });
}

/** Read and check the header of the .npy file `source`; the layout of its rows. */
export function readNpyLayout(source: HeaderSource): VectorLayout {
  const { path, sizeBytes } = source;
  if (sizeBytes < 10) throw headerError(path, `the file has ${sizeBytes} bytes, fewer than the 10 of the shortest header`);
  const prefix = readHeaderBytes(source, 0, Math.min(12, sizeBytes));
  if (!isNpy(prefix)) throw new InputError(path, undefined, `not a .npy file: it does not start with the magic \\x93NUMPY (it starts ${quote(prefix.subarray(0, 6).toString('latin1'))})`, { hint: 'write the file with numpy.save' });
  const major = prefix[6];
  const minor = prefix[7];
  if (!NPY_VERSIONS.includes(major) || minor !== 0) {
    throw new InputError(path, undefined, `.npy format version ${major}.${minor} is not read (rare-mine reads ${NPY_VERSIONS.map((v) => `${v}.0`).join(', ')})`, { hint: 'save with numpy.save, which writes 1.0 unless the header needs more' });
  }
  const lengthBytes = major === 1 ? 2 : 4;
  if (sizeBytes < 8 + lengthBytes) throw headerError(path, `the file ends inside the header length (${sizeBytes} bytes)`);
  const headerBytes = major === 1 ? prefix.readUInt16LE(8) : prefix.readUInt32LE(8);
  const headerStart = 8 + lengthBytes;
  if (headerBytes > NPY_MAX_HEADER_BYTES) {
    throw headerError(path, `its header length is ${headerBytes} bytes, more than the ${NPY_MAX_HEADER_BYTES} rare-mine reads (a 2-D float array's header is about 120 bytes)`);
  }
  if (headerStart + headerBytes > sizeBytes) throw headerError(path, `the header of ${headerBytes} bytes runs past the end of the file (${sizeBytes} bytes): the file is truncated`);
  const raw = readHeaderBytes(source, headerStart, headerBytes);
  let text: string;
  try {
    text = major === 3 ? new TextDecoder('utf-8', { fatal: true }).decode(raw) : raw.toString('latin1');
  } catch {
    throw headerError(path, 'a version 3.0 header that is not valid UTF-8');
  }

  let header: PythonValue;
  try {
    header = parsePythonLiteral(text);
  } catch (cause) {
    if (!(cause instanceof PythonLiteralError)) throw cause;
    throw headerError(path, `${cause.reason} at character ${cause.offset} of ${quote(text.trim())}`);
  }
  if (header.kind !== 'dict') throw headerError(path, `${quote(text.trim())} is not a dict`);
  const keys = [...header.entries.keys()].sort();
  if (keys.join() !== 'descr,fortran_order,shape') throw headerError(path, `its keys are ${quote(keys.join(', '))} where NumPy writes exactly descr, fortran_order and shape`);
  const descr = header.entries.get('descr')!;
  const fortranOrder = header.entries.get('fortran_order')!;
  const shape = header.entries.get('shape')!;

  if (descr.kind !== 'str') throw new InputError(path, undefined, `dtype ${quote(pythonRepr(descr))} is a structured (record) dtype, not a float array; supported: ${SUPPORTED}`, { hint: 'save the vectors alone as one 2-D float32 array' });
  const dtype = NPY_DESCRS.get(descr.value);
  if (dtype === undefined) throw unsupportedDescr(path, descr.value);
  if (fortranOrder.kind !== 'bool') throw headerError(path, `fortran_order is ${quote(pythonRepr(fortranOrder))}, not True or False`);
  if (fortranOrder.value) {
    throw new InputError(path, undefined, 'the array is stored in Fortran (column-major) order; rare-mine reads rows, so it needs C (row-major) order', {
      hint: 'save a C-ordered copy: np.save(path, np.ascontiguousarray(a))',
    });
  }
  if (shape.kind !== 'tuple' || shape.items.some((item) => item.kind !== 'int')) throw headerError(path, `shape ${quote(pythonRepr(shape))} is not a tuple of integers`);
  if (shape.items.length !== 2) {
    const repr = pythonRepr(shape);
    throw new InputError(path, undefined, `shape ${repr} is ${shape.items.length}-D; a vector file holds one 2-D (rows, dims) array`, {
      hint: shape.items.length === 1 ? 'one vector? save a.reshape(1, -1)' : `reshape to (rows, dims) before saving, e.g. a.reshape(-1, a.shape[-1])`,
    });
  }
  const [rowsValue, dimsValue] = shape.items.map((item) => (item as { value: number }).value);
  const rows = checkCount(path, `shape[0] (rows)`, rowsValue);
  const dims = checkCount(path, `shape[1] (dims)`, dimsValue, MAX_DIMS);
  const rowStrideBytes = dims * DTYPE_BYTES[dtype];
  const layout: VectorLayout = { format: 'npy', dtype, rows, dims, dataOffsetBytes: headerStart + headerBytes, rowStrideBytes, rowPrefixBytes: 0 };
  checkRowsFit(source, layout, true, `its header (shape ${pythonRepr(shape)})`);
  return layout;
}
