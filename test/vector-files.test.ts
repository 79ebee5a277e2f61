/**
 * src/vector-input/: vector files a user brings (.npy v1/v2/v3, .safetensors, .fvecs; float32 and float16) read as
 * L2-normalised float32 rows. Files are written here by small writers of our own (and, when python3-numpy is
 * installed, by NumPy itself as the trusted reference); every refusal is checked for its class, the row it names and
 * what it says to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileError, InputError, InputRowError, rowWords, UsageError } from '../src/errors.js';
import { float16BitsToNumber, float16Table } from '../src/vector-input/float16.js';
import { parsePythonLiteral, PythonLiteralError, pythonRepr } from '../src/vector-input/python-literal.js';
import { openVectorFile, READ_CHUNK_BYTES, vectorFileFingerprint, type VectorInputReader } from '../src/vector-input/vector-input-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'rare-mine-vector-files-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function file(bytes: Buffer, name: string): string {
  const path = join(dir, `${counter++}-${name}`);
  writeFileSync(path, bytes);
  return path;
}

// ---- writers of our own -------------------------------------------------------------------------------------------

function f32Bytes(values: readonly number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes;
}

/** The bits of the half whose value is exactly `value` (found in the table; the test values are chosen representable). */
function halfBits(value: number): number {
  const table = float16Table();
  for (let bits = 0; bits <= 0xffff; bits++) if (Object.is(table[bits], value)) return bits;
  throw new Error(`${value} is not a float16`);
}

function f16Bytes(values: readonly number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 2);
  values.forEach((value, i) => bytes.writeUInt16LE(halfBits(value), i * 2));
  return bytes;
}

/** A .npy file as numpy.lib.format writes it: prefix, dict header padded with spaces to a multiple of 64 and '\n'. */
function npyBytes(header: string, data: Buffer, version: 1 | 2 | 3 = 1): Buffer {
  const prefixBytes = version === 1 ? 10 : 12;
  const text = Buffer.from(header, version === 3 ? 'utf8' : 'latin1');
  const padded = Math.ceil((prefixBytes + text.length + 1) / 64) * 64 - prefixBytes;
  const headerBytes = Buffer.concat([text, Buffer.alloc(padded - text.length - 1, 0x20), Buffer.from('\n')]);
  const prefix = Buffer.alloc(prefixBytes);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(prefix);
  if (version === 1) prefix.writeUInt16LE(headerBytes.length, 8);
  else prefix.writeUInt32LE(headerBytes.length, 8);
  return Buffer.concat([prefix, headerBytes, data]);
}

function npyHeader(descr: string, shape: string, fortran = false): string {
  return `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;
}

function npyF32(rows: readonly number[][], version: 1 | 2 | 3 = 1): Buffer {
  return npyBytes(npyHeader('<f4', `(${rows.length}, ${rows[0].length})`), f32Bytes(rows.flat()), version);
}

interface TensorSpec {
  dtype: string;
  shape: number[];
  data: Buffer;
}

/** A safetensors file: u64 header length, JSON header padded with spaces to 8 bytes, then the tensors' bytes in order. */
function safetensorsBytes(tensors: Record<string, TensorSpec>, metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = metadata === undefined ? {} : { __metadata__: metadata };
  let offset = 0;
  for (const [name, spec] of Object.entries(tensors)) {
    header[name] = { dtype: spec.dtype, shape: spec.shape, data_offsets: [offset, offset + spec.data.length] };
    offset += spec.data.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([length, Buffer.from(json), ...Object.values(tensors).map((spec) => spec.data)]);
}

function fvecsBytes(rows: readonly number[][], prefixOf: (row: number) => number = (row) => rows[row].length): Buffer {
  return Buffer.concat(
    rows.map((values, row) => {
      const prefix = Buffer.alloc(4);
      prefix.writeInt32LE(prefixOf(row));
      return Buffer.concat([prefix, f32Bytes(values)]);
    }),
  );
}

// ---- expectations ---------------------------------------------------------------------------------------------------

/** Rows of small integers and halves (exact in float16 too), none zero. */
const ROWS = [
  [1, 2, 2, 0],
  [0.5, -0.5, 0.5, -0.5],
  [3, 0, 0, 4],
  [-1, 0.25, 8, 2],
  [0, 0, 0, 7],
];

/** Each row divided by its L2 norm, computed independently of the reader (float64, then float32). */
function normalised(rows: readonly (readonly number[])[]): number[] {
  return rows.flatMap((row) => {
    const norm = Math.sqrt(row.reduce((sum, value) => sum + value * value, 0));
    return row.map((value) => Math.fround(value / norm));
  });
}

function assertClose(actual: Float32Array, expected: readonly number[], tolerance = 1e-6, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i] - expected[i]) > tolerance) assert.fail(`${what}[${i}]: ${actual[i]} where ${expected[i]} was expected`);
  }
}

function readAll(path: string, options?: { tensor?: string }): { reader: VectorInputReader; values: Float32Array } {
  const reader = openVectorFile(path, options);
  try {
    return { reader, values: reader.readRows(0, reader.info.rows) };
  } finally {
    reader.close();
  }
}

/** The error `run` throws, checked to be a `Class` whose message matches every pattern. */
function thrown<E extends Error>(run: () => unknown, Class: abstract new (...args: any[]) => E, ...patterns: RegExp[]): E {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Class, `expected a ${Class.name}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  for (const pattern of patterns) assert.match(caught.message, pattern);
  return caught;
}

function openFails<E extends Error>(bytes: Buffer, name: string, Class: abstract new (...args: any[]) => E, ...patterns: RegExp[]): E {
  const path = file(bytes, name);
  return thrown(() => openVectorFile(path).close(), Class, new RegExp(escape(path)), ...patterns);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---- float16 ------------------------------------------------------------------------------------------------------

test('float16: known bit patterns, including subnormals, signed zero, infinities and NaN', () => {
  const known: Array<[number, number]> = [
    [0x0000, 0],
    [0x8000, -0],
    [0x0001, 2 ** -24], // smallest subnormal, 5.96e-8
    [0x8001, -(2 ** -24)],
    [0x0200, 2 ** -15], // a subnormal with one fraction bit
    [0x03ff, 1023 * 2 ** -24], // largest subnormal, 6.0976e-5
    [0x0400, 2 ** -14], // smallest normal, 6.1035e-5
    [0x3555, 0.333251953125],
    [0x3800, 0.5],
    [0x3bff, 0.99951171875],
    [0x3c00, 1],
    [0x3c01, 1.0009765625],
    [0xbc00, -1],
    [0xc000, -2],
    [0x7bff, 65504], // largest finite
    [0xfbff, -65504],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  for (const [bits, value] of known) assert.ok(Object.is(float16BitsToNumber(bits), value), `0x${bits.toString(16)} → ${float16BitsToNumber(bits)}, expected ${value}`);
  for (const nan of [0x7c01, 0x7e00, 0x7fff, 0xfc01, 0xfe00]) assert.ok(Number.isNaN(float16BitsToNumber(nan)), `0x${nan.toString(16)} is NaN`);
  const table = float16Table();
  for (let bits = 0; bits <= 0xffff; bits++) {
    const value = float16BitsToNumber(bits);
    assert.ok(Object.is(table[bits], value) || (Number.isNaN(table[bits]) && Number.isNaN(value)), `table[0x${bits.toString(16)}]`);
  }
  assert.throws(() => float16BitsToNumber(0x10000), RangeError);
});

test('rowWords counts rows from 0 and records from 1, with English ordinals', () => {
  assert.equal(rowWords(0), 'row 0 (the 1st record)');
  assert.equal(rowWords(1), 'row 1 (the 2nd record)');
  assert.equal(rowWords(2), 'row 2 (the 3rd record)');
  assert.equal(rowWords(3), 'row 3 (the 4th record)');
  assert.equal(rowWords(10), 'row 10 (the 11th record)');
  assert.equal(rowWords(11), 'row 11 (the 12th record)');
  assert.equal(rowWords(12), 'row 12 (the 13th record)');
  assert.equal(rowWords(20), 'row 20 (the 21st record)');
  assert.equal(rowWords(110), 'row 110 (the 111th record)');
  assert.equal(rowWords(121), 'row 121 (the 122nd record)');
  const error = new InputRowError('v.npy', 4, 'value 0 of 3 is NaN');
  assert.equal(error.message, 'v.npy: row 4 (the 5th record): value 0 of 3 is NaN');
  assert.equal(error.exitCode, 1);
  assert.ok(error instanceof InputError);
});

// ---- the .npy header parser ---------------------------------------------------------------------------------------

test('python literals: the header subset parses; code and other syntax are refused, never evaluated', () => {
  const header = parsePythonLiteral("{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4), }   \n");
  assert.equal(pythonRepr(header), "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)}");
  assert.equal(pythonRepr(parsePythonLiteral('(7,)')), '(7,)');
  assert.equal(pythonRepr(parsePythonLiteral('(7)')), '7');
  assert.equal(pythonRepr(parsePythonLiteral('()')), '()');
  assert.equal(pythonRepr(parsePythonLiteral(`[("a", '<f4'), None, True, -3]`)), "[('a', '<f4'), None, True, -3]");
  assert.equal(pythonRepr(parsePythonLiteral(`'it\\'s'`)), "'it\\'s'");
  for (const bad of [
    "__import__('os').system('true')",
    "{'a': 1, 'a': 2}",
    "{'shape': (3, 4.5)}",
    '{1: 2}',
    "{'shape': (99999999999999999999, 4)}",
    "{'descr': '<f4'",
    "'\\x41'",
    "{'a': 1} {'b': 2}",
    '['.repeat(40) + ']'.repeat(40),
  ]) {
    assert.throws(() => parsePythonLiteral(bad), PythonLiteralError, bad);
  }
});

// ---- round trips --------------------------------------------------------------------------------------------------

test('.npy versions 1.0, 2.0 and 3.0, float32: info and normalised rows', () => {
  for (const version of [1, 2, 3] as const) {
    const path = file(npyF32(ROWS, version), `v${version}.npy`);
    const { reader, values } = readAll(path);
    assert.deepEqual(reader.info, { path, format: 'npy', dtype: 'float32', rows: 5, dims: 4 });
    assertClose(values, normalised(ROWS), 1e-7, `v${version}`);
  }
});

test('.npy float16: halves decoded exactly, then normalised; a float16 file without extension is recognised by content', () => {
  const halves = [
    [1, 2, 2, 0],
    [2 ** -24, 0, 0, 0], // a subnormal row still has a direction
    [65504, -65504, 0.333251953125, 1],
  ];
  const bytes = npyBytes(npyHeader('<f2', '(3, 4)'), f16Bytes(halves.flat()));
  for (const name of ['halves.npy', 'halves']) {
    const { reader, values } = readAll(file(bytes, name));
    assert.equal(reader.info.dtype, 'float16');
    assert.equal(reader.info.format, 'npy');
    assertClose(values, normalised(halves), 1e-7, name);
    assert.deepEqual([...values.subarray(4, 8)], [1, 0, 0, 0], 'a subnormal row normalises to a unit vector');
  }
});

test("'=' byte order is read as little-endian on a little-endian machine", { skip: endianness() === 'BE' ? 'a big-endian machine refuses "="' : false }, () => {
  const { values } = readAll(file(npyBytes(npyHeader('=f4', '(5, 4)'), f32Bytes(ROWS.flat())), 'native.npy'));
  assertClose(values, normalised(ROWS));
});

test('safetensors: the only tensor, F32 and F16, with __metadata__; several tensors by name', () => {
  const single = file(safetensorsBytes({ embeddings: { dtype: 'F32', shape: [5, 4], data: f32Bytes(ROWS.flat()) } }, { format: 'pt' }), 'one.safetensors');
  const one = readAll(single);
  assert.deepEqual(one.reader.info, { path: single, format: 'safetensors', dtype: 'float32', rows: 5, dims: 4, tensor: 'embeddings' });
  assertClose(one.values, normalised(ROWS));

  const half = readAll(file(safetensorsBytes({ v: { dtype: 'F16', shape: [5, 4], data: f16Bytes(ROWS.flat()) } }), 'half.safetensors'));
  assert.equal(half.reader.info.dtype, 'float16');
  assertClose(half.values, normalised(ROWS));

  const other = [
    [9, 0, 0, 0, 1],
    [0, 1, 0, 0, 0],
  ];
  const several = file(
    safetensorsBytes({
      ids: { dtype: 'I64', shape: [5], data: Buffer.alloc(40) },
      queries: { dtype: 'F32', shape: [2, 5], data: f32Bytes(other.flat()) },
      docs: { dtype: 'F16', shape: [5, 4], data: f16Bytes(ROWS.flat()) },
    }),
    'several.safetensors',
  );
  const docs = readAll(several, { tensor: 'docs' });
  assert.deepEqual(docs.reader.info, { path: several, format: 'safetensors', dtype: 'float16', rows: 5, dims: 4, tensor: 'docs' });
  assertClose(docs.values, normalised(ROWS));
  const queries = readAll(several, { tensor: 'queries' });
  assertClose(queries.values, normalised(other));

  const noName = thrown(() => openVectorFile(several), UsageError, /holds 3 tensors: "ids", "queries", "docs"; which one holds the vectors\?/);
  assert.match(noName.hint ?? '', /--vectors-tensor/);
  thrown(() => openVectorFile(several, { tensor: 'passages' }), UsageError, /has no tensor "passages"; its tensors: "ids", "queries", "docs"/);
  thrown(() => openVectorFile(several, { tensor: '__metadata__' }), UsageError, /has no tensor "__metadata__"/);
  thrown(() => openVectorFile(several, { tensor: 'toString' }), UsageError, /has no tensor "toString"/);
  thrown(() => openVectorFile(several, { tensor: 'ids' }), InputError, /tensor "ids" has dtype "I64", which is not read; supported: F32 \(float32\), F16 \(float16\)/);
  thrown(() => openVectorFile(several, { tensor: '' }), UsageError, /tensor name is empty/);
});

test('safetensors is recognised by content whatever the extension', () => {
  const { reader } = readAll(file(safetensorsBytes({ v: { dtype: 'F32', shape: [5, 4], data: f32Bytes(ROWS.flat()) } }), 'vectors.bin'));
  assert.equal(reader.info.format, 'safetensors');
});

test('.fvecs: rows with their dimension prefixes', () => {
  const path = file(fvecsBytes(ROWS), 'rows.fvecs');
  const { reader, values } = readAll(path);
  assert.deepEqual(reader.info, { path, format: 'fvecs', dtype: 'float32', rows: 5, dims: 4 });
  assertClose(values, normalised(ROWS));
});

test('normalisation: every row returned has norm 1 and keeps its direction', () => {
  const rows = [
    [3e30, 4e30, 0], // large values: the norm is taken in float64, so nothing overflows
    [1e-40, 0, 0], // a float32 subnormal
    [-0.001, 0.002, -0.002],
  ];
  const { values } = readAll(file(npyF32(rows), 'scales.npy'));
  assertClose(values, [0.6, 0.8, 0, 1, 0, 0, -1 / 3, 2 / 3, -2 / 3]);
  for (let r = 0; r < 3; r++) {
    const row = values.subarray(r * 3, r * 3 + 3);
    assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-6, `row ${r} norm ${Math.hypot(...row)}`);
  }
});

// ---- reading in parts ---------------------------------------------------------------------------------------------

test('readRows at any position and rowsInBlocks across block boundaries give the same rows as one read', () => {
  const rows = Array.from({ length: 11 }, (_, r) => [r + 1, -r, (r % 3) + 0.5]);
  const reader = openVectorFile(file(npyF32(rows), 'eleven.npy'));
  try {
    const whole = reader.readRows(0, 11);
    assertClose(whole, normalised(rows));
    assert.deepEqual([...reader.readRows(4, 3)], [...whole.subarray(12, 21)]);
    assert.equal(reader.readRows(11, 0).length, 0);

    const out = new Float32Array(100).fill(7);
    const into = reader.readRows(9, 2, out);
    assert.equal(into.buffer, out.buffer, 'written into the array given');
    assert.deepEqual([...into], [...whole.subarray(27, 33)]);
    assert.equal(out[6], 7, 'nothing written past the rows read');

    for (const blockRows of [1, 3, 4, 11, 50]) {
      const blocks = [...reader.rowsInBlocks(blockRows)];
      assert.deepEqual(
        blocks.map((block) => block.firstRow),
        Array.from({ length: Math.ceil(11 / blockRows) }, (_, i) => i * blockRows),
        `block starts for ${blockRows}`,
      );
      assert.deepEqual(blocks.map((block) => block.rows.length / 3), blocks.map((block) => Math.min(blockRows, 11 - block.firstRow)));
      const joined = new Float32Array(blocks.flatMap((block) => [...block.rows]));
      assert.deepEqual([...joined], [...whole], `blocks of ${blockRows}`);
    }
    assert.throws(() => reader.readRows(10, 2), RangeError);
    assert.throws(() => reader.readRows(-1, 1), RangeError);
    assert.throws(() => reader.readRows(0, 2, new Float32Array(5)), RangeError);
    assert.throws(() => reader.rowsInBlocks(0), RangeError);
  } finally {
    reader.close();
  }
  reader.close(); // again: a no-op
  assert.throws(() => reader.readRows(0, 1), /is closed/);
});

/** Rows enough for more than one READ_CHUNK_BYTES chunk: 1,100 rows of 1,024 float32 (4.5 MB). */
const BIG_DIMS = 1024;
const BIG_ROWS = Math.ceil((READ_CHUNK_BYTES * 1.05) / (4 * BIG_DIMS));
let big: number[][] | undefined;
function bigRows(): number[][] {
  big ??= Array.from({ length: BIG_ROWS }, (_, r) => Array.from({ length: BIG_DIMS }, (_, d) => ((r * 31 + d * 17) % 97) - 48 + (d === r % BIG_DIMS ? 100 : 0)));
  return big;
}

test('reads spanning several chunks: one read, blocks, and an fvecs row with a wrong dimension beyond the first chunk', () => {
  const rows = bigRows();
  const expected = normalised(rows);
  const reader = openVectorFile(file(npyF32(rows), 'big.npy'));
  try {
    assertClose(reader.readRows(0, BIG_ROWS), expected, 1e-6, 'one read');
    let next = 0;
    for (const block of reader.rowsInBlocks(333)) {
      assert.equal(block.firstRow, next);
      assertClose(block.rows, expected.slice(next * BIG_DIMS, next * BIG_DIMS + block.rows.length), 1e-6, `block at ${next}`);
      next += block.rows.length / BIG_DIMS;
    }
    assert.equal(next, BIG_ROWS);
  } finally {
    reader.close();
  }

  const wrongRow = BIG_ROWS - 3; // past the first chunk of ⌊4 MiB / 4,100⌋ = 1,023 rows
  const fvecs = openVectorFile(file(fvecsBytes(rows, (row) => (row === wrongRow ? BIG_DIMS - 1 : BIG_DIMS)), 'big.fvecs'));
  try {
    assertClose(fvecs.readRows(0, 1023), expected.slice(0, 1023 * BIG_DIMS), 1e-6, 'the rows before');
    const error = thrown(() => fvecs.readRows(0, BIG_ROWS), InputRowError, new RegExp(`${rowWords(wrongRow).replace(/[()]/g, '\\$&')}: its dimension prefix says 1023 where row 0's says 1024`));
    assert.equal(error.row, wrongRow);
  } finally {
    fvecs.close();
  }
});

// ---- refusals -----------------------------------------------------------------------------------------------------

test('.npy refusals: byte order, dtype, order, shape, version, keys, magic, header size', () => {
  const data = f32Bytes(ROWS.flat());
  const bigEndian = openFails(npyBytes(npyHeader('>f4', '(5, 4)'), data), 'be.npy', InputError, /dtype ">f4" is big-endian float32; rare-mine reads little-endian only \('<f4' \(float32\), '<f2' \(float16\)/);
  assert.match(bigEndian.hint ?? '', /astype\('<f4'\)/);
  openFails(npyBytes(npyHeader('>f2', '(5, 4)'), data.subarray(0, 40)), 'be16.npy', InputError, /big-endian float16/);
  openFails(npyBytes(npyHeader('|f4', '(5, 4)'), data), 'pipe.npy', InputError, /meaningful only for one-byte types/);
  openFails(npyBytes(npyHeader('<f8', '(5, 2)'), data), 'f64.npy', InputError, /dtype "<f8" \(float64\) is not read; supported: '<f4' \(float32\), '<f2' \(float16\)/);
  openFails(npyBytes(npyHeader('<i4', '(5, 4)'), data), 'int.npy', InputError, /\(integer\) is not read/);
  openFails(npyBytes(npyHeader('|O', '(5, 4)'), data), 'obj.npy', InputError, /Python objects \(a pickle\)/);
  openFails(npyBytes("{'descr': [('v', '<f4', (4,))], 'fortran_order': False, 'shape': (5,), }", data), 'rec.npy', InputError, /structured \(record\) dtype/);
  const fortran = openFails(npyBytes(npyHeader('<f4', '(5, 4)', true), data), 'fortran.npy', InputError, /Fortran \(column-major\) order/);
  assert.match(fortran.hint ?? '', /np\.ascontiguousarray/);
  const oneD = openFails(npyBytes(npyHeader('<f4', '(20,)'), data), '1d.npy', InputError, /shape \(20,\) is 1-D; a vector file holds one 2-D \(rows, dims\) array/);
  assert.match(oneD.hint ?? '', /reshape\(1, -1\)/);
  openFails(npyBytes(npyHeader('<f4', '(5, 2, 2)'), data), '3d.npy', InputError, /shape \(5, 2, 2\) is 3-D/);
  openFails(npyBytes(npyHeader('<f4', '(0, 4)'), Buffer.alloc(0)), 'empty.npy', InputError, /shape\[0\] \(rows\) is 0: the file holds no vectors/);
  openFails(npyBytes(npyHeader('<f4', '(5, 4)'), data).fill(4, 6, 7), 'v4.npy', InputError, /\.npy format version 4\.0 is not read \(rare-mine reads 1\.0, 2\.0, 3\.0\)/);
  openFails(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (5, 4), 'extra': 1}", data), 'keys.npy', InputError, /its keys are "descr, extra, fortran_order, shape"/);
  openFails(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': __import__('os')}", data), 'code.npy', InputError, /not a valid \.npy header: expected a value/);
  openFails(npyBytes(npyHeader('<f4é', '(5, 4)'), data, 3), 'utf8.npy', InputError, /dtype "<f4é" is not read/); // v3: UTF-8
  const notUtf8 = npyBytes(npyHeader('<f4', '(5, 4)'), data, 3);
  notUtf8[notUtf8.indexOf('<f4') + 1] = 0xff;
  openFails(notUtf8, 'not-utf8.npy', InputError, /a version 3\.0 header that is not valid UTF-8/);
  const latin1 = npyBytes(npyHeader('<f4', '(5, 4)'), data, 2);
  latin1[latin1.indexOf('<f4') + 1] = 0xe9;
  openFails(latin1, 'latin1.npy', InputError, /dtype "<é4" is not read/); // v1, v2: latin-1
  const magic = npyF32(ROWS);
  magic[1] = 0x4f;
  openFails(magic, 'magic.npy', InputError, /not a \.npy file: it does not start with the magic \\x93NUMPY/);

  const huge = Buffer.alloc(12);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]).copy(huge);
  huge.writeUInt32LE(1_000_000, 8);
  openFails(huge, 'huge-header.npy', InputError, /header length is 1000000 bytes, more than the 65536 rare-mine reads/);
  openFails(npyF32(ROWS).subarray(0, 50), 'cut-header.npy', InputError, /runs past the end of the file/);
});

test('truncated files name the first incomplete row; trailing bytes are refused', () => {
  const whole = npyF32(ROWS); // 5 rows of 16 bytes after a 128-byte header
  const cutInRow = openFails(whole.subarray(0, whole.length - 10), 'cut.npy', InputRowError, /row 4 \(the 5th record\): incomplete: the file is truncated, holding 4 whole rows of the 5 rows of 4 float32 values \(16 bytes each\) that its header \(shape \(5, 4\)\) declares and 6 bytes of this one/);
  assert.equal(cutInRow.row, 4);
  const cutAtRow = openFails(whole.subarray(0, whole.length - 32), 'cut-row.npy', InputRowError, /row 3 \(the 4th record\): incomplete: .* holding 3 whole rows .* and 0 bytes of this one/);
  assert.equal(cutAtRow.row, 3);
  openFails(Buffer.concat([whole, Buffer.from([1, 2, 3])]), 'trailing.npy', InputError, /3 trailing bytes follow the last row \(row 4\)/);

  const fvecs = fvecsBytes(ROWS); // rows of 20 bytes
  const fvecsCut = openFails(fvecs.subarray(0, 50), 'cut.fvecs', InputRowError, /row 2 \(the 3rd record\): incomplete: the file ends 10 bytes into this row, whose rows are 20 bytes each \(a 4-byte dimension, then 4 float32 values, as row 0 says\)/);
  assert.equal(fvecsCut.row, 2);
  openFails(fvecs.subarray(0, 3), 'tiny.fvecs', InputRowError, /row 0 \(the 1st record\): incomplete/);
  openFails(fvecsBytes([[1, 2]], () => -5), 'negative.fvecs', InputRowError, /row 0 \(the 1st record\): its dimension prefix is -5/);

  const tensors = safetensorsBytes({ v: { dtype: 'F32', shape: [5, 4], data: f32Bytes(ROWS.flat()) } });
  const stCut = openFails(tensors.subarray(0, tensors.length - 17), 'cut.safetensors', InputRowError, /row 3 \(the 4th record\): incomplete: the file is truncated/);
  assert.equal(stCut.row, 3);
});

test('safetensors refusals: dtypes, shapes, offsets, header size, no tensors', () => {
  const data = f32Bytes(ROWS.flat());
  for (const dtype of ['BF16', 'F64', 'I8', 'F8_E4M3']) {
    const error = openFails(safetensorsBytes({ v: { dtype, shape: [5, 4], data } }), `${dtype}.safetensors`, InputError, new RegExp(`tensor "v" has dtype "${dtype}", which is not read; supported: F32 \\(float32\\), F16 \\(float16\\)`));
    assert.match(error.hint ?? '', /t\.float\(\)/);
  }
  openFails(safetensorsBytes({ v: { dtype: 'F32', shape: [20], data } }), '1d.safetensors', InputError, /has shape \[20\], 1-D; a vector file holds a 2-D \[rows, dims\] tensor/);
  openFails(safetensorsBytes({ v: { dtype: 'F32', shape: [5, 2, 2], data } }), '3d.safetensors', InputError, /has shape \[5, 2, 2\], 3-D/);
  openFails(safetensorsBytes({ v: { dtype: 'F32', shape: [4, 4], data } }), 'span.safetensors', InputError, /data_offsets \[0, 80\] span 80 bytes where its shape \[4, 4\] of F32 needs 64/);
  openFails(safetensorsBytes({}, { only: 'metadata' }), 'none.safetensors', InputError, /holds no tensors/);

  const huge = Buffer.alloc(16, 0x20);
  huge.writeBigUInt64LE(200_000_000n);
  openFails(huge, 'huge.safetensors', InputError, /header length is 200000000 bytes, more than the 100000000 rare-mine reads/);
  const past = Buffer.alloc(16, 0x20);
  past.writeBigUInt64LE(1000n);
  openFails(past, 'past.safetensors', InputError, /runs past the end of the file/);
  const notJson = Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"v": no')]);
  openFails(notJson, 'bad.safetensors', InputError, /not a valid safetensors header: not UTF-8 JSON/);
});

test('row values: NaN, ±Inf and all-zero rows are refused naming the file and the row', () => {
  const withRow = (row: number[], at: number) => ROWS.map((values, r) => (r === at ? row : values));
  const check = (bytes: Buffer, name: string, row: number, pattern: RegExp) => {
    const path = file(bytes, name);
    const reader = openVectorFile(path); // the header is fine: rows are checked when read
    try {
      const error = thrown(() => reader.readRows(0, 5), InputRowError, new RegExp(`^${escape(path)}: ${escape(rowWords(row))}: `), pattern);
      assert.equal(error.row, row);
      assert.equal(error.exitCode, 1);
      assert.ok(reader.readRows(0, row).length === row * 4, 'the rows before it read');
    } finally {
      reader.close();
    }
  };
  check(npyF32(withRow([1, NaN, 2, 3], 2)), 'nan.npy', 2, /value 1 of 4 is NaN; every vector must be finite/);
  check(npyF32(withRow([1, 2, Infinity, 3], 3)), 'inf.npy', 3, /value 2 of 4 is \+Inf/);
  check(fvecsBytes(withRow([-Infinity, 2, 0, 3], 1)), 'ninf.fvecs', 1, /value 0 of 4 is -Inf/);
  check(npyF32(withRow([0, -0, 0, 0], 4)), 'zero.npy', 4, /all 4 values are zero: a zero vector has no direction/);
  const halfRows = withRow([1, 1, 1, 1], 0).flat();
  const halves = f16Bytes(halfRows);
  halves.writeUInt16LE(0x7c00, 2 * 4 * 2 + 2); // row 2, value 1: +Inf
  check(npyBytes(npyHeader('<f2', '(5, 4)'), halves), 'inf16.npy', 2, /value 1 of 4 is \+Inf.*/);
  halves.writeUInt16LE(0x7e00, 2 * 4 * 2 + 2);
  check(safetensorsBytes({ v: { dtype: 'F16', shape: [5, 4], data: halves } }), 'nan16.safetensors', 2, /value 1 of 4 is NaN/);
});

test('paths that are not vector files: missing, a directory, a FIFO, unknown or unsupported formats, a misplaced tensor name', () => {
  const missing = join(dir, 'nowhere.npy');
  thrown(() => openVectorFile(missing), FileError, new RegExp(`${escape(missing)}: no such file or directory`));
  const folder = join(dir, 'a-folder.npy');
  mkdirSync(folder);
  thrown(() => openVectorFile(folder), FileError, /is a directory; a vector file/);
  const fifo = join(dir, 'pipe.npy');
  if (spawnSync('mkfifo', [fifo]).status === 0) thrown(() => openVectorFile(fifo), FileError, /is not a regular file \(a pipe, socket or device\)/);
  else console.log('# skipping the FIFO case: mkfifo failed');

  openFails(Buffer.alloc(0), 'empty.npy', InputError, /the file is empty/);
  const unknown = openFails(Buffer.from('0.1 0.2 0.3\n0.4 0.5 0.6\n'), 'vectors.txt', InputError, /not a vector file rare-mine recognises; rare-mine reads \.npy \(.*\), \.safetensors \(.*\), \.fvecs \(.*recognised by extension\)/);
  assert.match(unknown.hint ?? '', /\.fvecs file needs its extension/);
  openFails(Buffer.from('PK\x03\x04'), 'vectors.npz', InputError, /a NumPy \.npz archive is not read/);
  openFails(Buffer.from([0x80, 0x04]), 'vectors.pt', InputError, /a Python pickle, which rare-mine never loads/);
  thrown(() => openVectorFile(file(npyF32(ROWS), 'named.npy'), { tensor: 'v' }), UsageError, /a tensor name \("v"\) is given, but .* is a \.npy file/);
  thrown(() => openVectorFile(file(fvecsBytes(ROWS), 'named.fvecs'), { tensor: 'v' }), UsageError, /is an \.fvecs file/);
});

test('a file that shrinks after it was opened: a row error or a changed-file error, never a short read or a hang', () => {
  const path = file(npyF32(ROWS), 'shrinks.npy');
  const reader = openVectorFile(path);
  try {
    assert.equal(reader.readRows(0, 5).length, 20);
    truncateSync(path, 128 + 16 * 2 + 5);
    const error = thrown(() => reader.readRows(0, 5), InputRowError, /row 2 \(the 3rd record\): the file ended before this row was complete/);
    assert.equal(error.row, 2);
    thrown(() => reader.fingerprint(), InputError, /changed while it was read: it ended at byte 165, short of the 208 bytes/);
  } finally {
    reader.close();
  }
  const grows = file(npyF32(ROWS), 'grows.npy');
  const growing = openVectorFile(grows);
  try {
    writeFileSync(grows, Buffer.alloc(10), { flag: 'a' });
    thrown(() => growing.fingerprint(), InputError, /it grew beyond the 208 bytes/);
  } finally {
    growing.close();
  }
});

// ---- fingerprint --------------------------------------------------------------------------------------------------

test('fingerprint: the SHA-256 of every byte (over several chunks), what was read, and a change of one byte changes it', () => {
  const bytes = npyF32(bigRows()); // > 4 MiB: more than one fingerprint chunk
  const path = file(bytes, 'fingerprint.npy');
  const fingerprint = vectorFileFingerprint(path);
  assert.deepEqual(fingerprint, { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, format: 'npy', dtype: 'float32', rows: BIG_ROWS, dims: BIG_DIMS });
  const reader = openVectorFile(path);
  try {
    assert.deepEqual(vectorFileFingerprint(reader), fingerprint, 'of an open reader, the same');
    reader.readRows(0, 3);
    assert.deepEqual(reader.fingerprint(), fingerprint, 'reads in between change nothing');
  } finally {
    reader.close();
  }
  const changed = Buffer.from(bytes);
  changed[changed.length - 1] ^= 1;
  const other = vectorFileFingerprint(file(changed, 'fingerprint-changed.npy'));
  assert.notEqual(other.sha256, fingerprint.sha256);
  assert.equal(other.bytes, fingerprint.bytes);

  const several = file(
    safetensorsBytes({ a: { dtype: 'F32', shape: [5, 4], data: f32Bytes(ROWS.flat()) }, b: { dtype: 'F16', shape: [5, 4], data: f16Bytes(ROWS.flat()) } }),
    'fp.safetensors',
  );
  assert.deepEqual({ ...vectorFileFingerprint(several, { tensor: 'b' }), sha256: '' }, { sha256: '', bytes: readFileSync(several).length, format: 'safetensors', dtype: 'float16', rows: 5, dims: 4, tensor: 'b' });
});

// ---- NumPy as the reference ---------------------------------------------------------------------------------------

const NUMPY_SCRIPT = String.raw`
import json, sys
import numpy as np
out = sys.argv[1]
rng = np.random.default_rng(7)
a = rng.standard_normal((37, 12)).astype(np.float32)
h = (rng.standard_normal((21, 10)) * 30).astype(np.float16)
np.save(out + '/np-f32.npy', a)
np.save(out + '/np-f16.npy', h)
np.save(out + '/np-fortran.npy', np.asfortranarray(a))
np.save(out + '/np-big-endian.npy', a.astype('>f4'))
np.save(out + '/np-f64.npy', a.astype(np.float64))
versions = []
for major in (2, 3):
    try:
        with open(out + '/np-v%d.npy' % major, 'wb') as f:
            np.lib.format.write_array(f, a, version=(major, 0))
        versions.append(major)
    except Exception as e:
        print('# version %d.0 not written: %s' % (major, e), file=sys.stderr)
np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32).tofile(out + '/halves.f32')
def unit(x):
    x = x.astype(np.float64)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
print(json.dumps({'numpy': np.__version__, 'versions': versions,
                  'f32': unit(a).astype(float).tolist(), 'f16': unit(h).astype(float).tolist()}))
`;

test('NumPy interop: files numpy writes (np.save, write_array v2/v3, float16) read as numpy computes them', (t) => {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    const reason = `python3-numpy not installed: ${(probe.error?.message ?? probe.stderr ?? '').trim().split('\n').pop()}`;
    console.log(`# skipping: ${reason}`);
    t.skip(reason);
    return;
  }
  const out = join(dir, 'numpy');
  mkdirSync(out);
  const run = spawnSync('python3', ['-c', NUMPY_SCRIPT, out], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const expected = JSON.parse(run.stdout) as { numpy: string; versions: number[]; f32: number[][]; f16: number[][] };
  t.diagnostic(`numpy ${expected.numpy}; write_array versions written: ${expected.versions.join(', ')}`);

  const f32 = readAll(join(out, 'np-f32.npy'));
  assert.deepEqual({ ...f32.reader.info, path: '' }, { path: '', format: 'npy', dtype: 'float32', rows: 37, dims: 12 });
  assertClose(f32.values, expected.f32.flat(), 1e-6, 'np.save float32');
  const f16 = readAll(join(out, 'np-f16.npy'));
  assert.deepEqual({ ...f16.reader.info, path: '' }, { path: '', format: 'npy', dtype: 'float16', rows: 21, dims: 10 });
  assertClose(f16.values, expected.f16.flat(), 1e-6, 'np.save float16');
  assert.ok(expected.versions.includes(2), 'numpy writes version 2.0');
  for (const major of expected.versions) assertClose(readAll(join(out, `np-v${major}.npy`)).values, expected.f32.flat(), 1e-6, `write_array version ${major}.0`);

  thrown(() => openVectorFile(join(out, 'np-fortran.npy')), InputError, /Fortran \(column-major\) order/);
  thrown(() => openVectorFile(join(out, 'np-big-endian.npy')), InputError, /big-endian float32/);
  thrown(() => openVectorFile(join(out, 'np-f64.npy')), InputError, /\(float64\) is not read/);

  const raw = readFileSync(join(out, 'halves.f32'));
  const numpyHalves = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  const table = float16Table();
  assert.equal(numpyHalves.length, 0x10000);
  for (let bits = 0; bits <= 0xffff; bits++) {
    const same = Object.is(numpyHalves[bits], table[bits]) || (Number.isNaN(numpyHalves[bits]) && Number.isNaN(table[bits]));
    if (!same) assert.fail(`half 0x${bits.toString(16)}: numpy ${numpyHalves[bits]}, ours ${table[bits]}`);
  }
});
