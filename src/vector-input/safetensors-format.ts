/**
 * The safetensors format (huggingface/safetensors), read for one 2-D F32 or F16 tensor:
 *
 *   offset  bytes  field
 *   0       8      N: header length, unsigned 64-bit little-endian
 *   8       N      header: a UTF-8 JSON object, possibly space-padded:
 *                  {"__metadata__": {"key": "value", …},                       (optional)
 *                   "<tensor name>": {"dtype": "F32", "shape": [rows, dims], "data_offsets": [begin, end]}, …}
 *   8 + N   …      byte buffer: a tensor's values, C order, little-endian, are bytes [8 + N + begin, 8 + N + end)
 *
 * What must hold: N ≤ SAFETENSORS_MAX_HEADER_BYTES (the bound of the reference implementation) and within the file;
 * the header is parsed as JSON, never evaluated; the tensor read is the only one, or the one named; its dtype is
 * in SAFETENSORS_DTYPES, its shape 2-D, end − begin = rows × dims × item size, and its bytes lie within the file.
 * Other tensors are not read (their names are listed when the choice is ambiguous).
 */
import { InputError, UsageError } from '../errors.js';
import { checkCount, checkRowsFit, DTYPE_BYTES, MAX_DIMS, quote, readHeaderBytes, type HeaderSource, type VectorDtype, type VectorLayout } from './vector-layout.js';

/** Largest header read (100 MB, the reference implementation's limit). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** The dtypes read. */
export const SAFETENSORS_DTYPES: ReadonlyMap<string, VectorDtype> = new Map<string, VectorDtype>([
  ['F32', 'float32'],
  ['F16', 'float16'],
]);

const SUPPORTED = [...SAFETENSORS_DTYPES].map(([name, dtype]) => `${name} (${dtype})`).join(', ');

/** Tensor names listed in a message at most. */
const NAMES_LISTED = 20;

/** Whether `prefix` (the file's first bytes; `sizeBytes` the file's size) looks like a safetensors file: a plausible length, then '{'. */
export function looksLikeSafetensors(prefix: Buffer, sizeBytes: number): boolean {
  if (prefix.length < 9) return false;
  const headerBytes = prefix.readBigUInt64LE(0);
  return headerBytes >= 2n && headerBytes <= BigInt(Math.min(SAFETENSORS_MAX_HEADER_BYTES, sizeBytes - 8)) && prefix[8] === 0x7b;
}

function headerError(path: string, reason: string): InputError {
  return new InputError(path, undefined, `not a valid safetensors header: ${reason}`, { hint: 'write the file with safetensors (save_file)' });
}

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, NAMES_LISTED).map((name) => quote(name, 60));
  return names.length > NAMES_LISTED ? `${shown.join(', ')} and ${names.length - NAMES_LISTED} more` : shown.join(', ');
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Read and check the header of the safetensors file `source`; the layout of tensor `tensor`, or of its only tensor.
 * Several tensors and no name, or a name the file lacks, is a UsageError (the choice is the user's, with
 * --vectors-tensor).
 */
export function readSafetensorsLayout(source: HeaderSource, tensor: string | undefined): VectorLayout {
  const { path, sizeBytes } = source;
  if (sizeBytes < 8) throw headerError(path, `the file has ${sizeBytes} bytes, fewer than the 8 of the header length`);
  const headerBytesBig = readHeaderBytes(source, 0, 8).readBigUInt64LE(0);
  if (headerBytesBig > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw headerError(path, `its header length is ${headerBytesBig} bytes, more than the ${SAFETENSORS_MAX_HEADER_BYTES} rare-mine reads`);
  }
  const headerBytes = Number(headerBytesBig);
  if (8 + headerBytes > sizeBytes) throw headerError(path, `the header of ${headerBytes} bytes runs past the end of the file (${sizeBytes} bytes): the file is truncated`);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readHeaderBytes(source, 8, headerBytes)));
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    throw new InputError(path, undefined, `not a valid safetensors header: not UTF-8 JSON (${cause instanceof Error ? cause.message : String(cause)})`, {
      cause,
      hint: 'write the file with safetensors (save_file)',
    });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw headerError(path, 'the header is not a JSON object');
  const entries = header as Record<string, unknown>;
  const metadata = entries.__metadata__;
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) throw headerError(path, '__metadata__ is not an object');
  const names = Object.keys(entries).filter((name) => name !== '__metadata__');
  if (names.length === 0) throw new InputError(path, undefined, 'the file holds no tensors', { hint: 'save the vectors as one 2-D tensor' });

  let name: string;
  if (tensor === undefined) {
    if (names.length > 1) {
      throw new UsageError(`${path} holds ${names.length} tensors: ${listNames(names)}; which one holds the vectors?`, { hint: 'name it with --vectors-tensor NAME' });
    }
    name = names[0];
  } else {
    if (tensor === '__metadata__' || !Object.hasOwn(entries, tensor)) {
      throw new UsageError(`${path} has no tensor ${quote(tensor, 60)}; its tensors: ${listNames(names)}`, { hint: 'name one of them with --vectors-tensor NAME' });
    }
    name = tensor;
  }

  const entry = entries[name];
  const where = `tensor ${quote(name, 60)}`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw headerError(path, `${where} is not an object`);
  const { dtype: dtypeName, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtypeName !== 'string') throw headerError(path, `${where} has no dtype string`);
  const dtype = SAFETENSORS_DTYPES.get(dtypeName);
  if (dtype === undefined) {
    throw new InputError(path, undefined, `${where} has dtype ${quote(dtypeName, 20)}, which is not read; supported: ${SUPPORTED}`, {
      hint: 'convert before saving, e.g. save_file({"vectors": t.float().contiguous()}, path)',
    });
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) throw headerError(path, `${where} has no shape list of counts`);
  if (shape.length !== 2) {
    throw new InputError(path, undefined, `${where} has shape [${shape.join(', ')}], ${shape.length}-D; a vector file holds a 2-D [rows, dims] tensor`, {
      hint: 'reshape to [rows, dims] before saving',
    });
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw headerError(path, `${where} has data_offsets ${quote(JSON.stringify(offsets) ?? String(offsets))}, not [begin, end] with begin ≤ end`);
  }
  const rows = checkCount(path, `${where}'s shape[0] (rows)`, shape[0]);
  const dims = checkCount(path, `${where}'s shape[1] (dims)`, shape[1], MAX_DIMS);
  const [begin, end] = offsets as [number, number];
  const rowStrideBytes = dims * DTYPE_BYTES[dtype];
  if (end - begin !== rows * rowStrideBytes) {
    throw headerError(path, `${where}'s data_offsets [${begin}, ${end}] span ${end - begin} bytes where its shape [${rows}, ${dims}] of ${dtypeName} needs ${rows * rowStrideBytes}`);
  }
  const layout: VectorLayout = { format: 'safetensors', dtype, rows, dims, tensor: name, dataOffsetBytes: 8 + headerBytes + begin, rowStrideBytes, rowPrefixBytes: 0 };
  checkRowsFit(source, layout, false, `the header (${where}, shape [${rows}, ${dims}])`);
  return layout;
}
