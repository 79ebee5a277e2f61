/**
 * Vectors computed elsewhere (`--corpus-vectors`, `--query-vectors`): rows of a vector file (src/vector-input/)
 * standing in for what the model would embed. Row i of the corpus file is doc ordinal i (the i-th corpus record;
 * in DataFlow mode the i-th text of the input, a list's texts in order); row i of the query file is the i-th record
 * of the query file (src/io/record-rows.ts). What must hold: a file never stands for another — its fingerprint
 * (SHA-256, format, dtype, shape, tensor) is the "model" fingerprint of an index built from it and part of the run
 * fingerprint; a row count or dims that cannot match are refused, naming the file, before the vectors are used.
 */
import { createHash } from 'node:crypto';
import { statSync } from '../io/fs.js';
import { basename } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { log } from '../log.js';
import type { RecordRows } from '../io/record-rows.js';
import { openVectorFile, vectorFileFingerprint, type VectorFileFingerprint, type VectorInputReader as VectorFileReader } from '../vector-input/vector-input-reader.js';

/** The vector files of a run, as the options name them. */
export interface VectorInputOptions {
  corpusVectors?: string;
  queryVectors?: string;
  /** --vectors-tensor: the tensor of a safetensors file holding several. */
  vectorsTensor?: string;
}

/** Memo of file digests by identity: a file read twice in one process (index build, run fingerprint) is hashed once. */
const digests = new Map<string, VectorFileFingerprint>();

function identityKey(path: string, tensor: string | undefined): string {
  const stat = statSync(path);
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${tensor ?? ''}`;
}

/** What identifies the vectors of a file: its fingerprint (computed once per file and process). */
export function fingerprintOf(reader: VectorFileReader, tensor?: string): VectorFileFingerprint {
  const key = identityKey(reader.info.path, tensor);
  let fingerprint = digests.get(key);
  if (!fingerprint) {
    const started = performance.now();
    fingerprint = vectorFileFingerprint(reader);
    digests.set(key, fingerprint);
    log().debug({ file: reader.info.path, sha256: fingerprint.sha256.slice(0, 12), ms: Math.round(performance.now() - started) }, 'vector file fingerprint');
  }
  return fingerprint;
}

/** The fingerprint's fields as one hex digest (the index manifest's model fingerprint). */
function digestOf(role: string, fingerprint: VectorFileFingerprint): string {
  const { sha256, format, dtype, rows, dims, tensor } = fingerprint;
  return createHash('sha256').update(JSON.stringify({ role, sha256, format, dtype, rows, dims, tensor: tensor ?? null })).digest('hex');
}

/** The corpus side: rows by doc ordinal. */
export class CorpusVectors {
  /** The name recorded as the index's model (and its folder: dense/vectors_<file>-<precision>). */
  readonly name: string;
  readonly fingerprint: string;

  private constructor(readonly reader: VectorFileReader, readonly file: VectorFileFingerprint) {
    this.name = `vectors:${basename(reader.info.path)}`;
    this.fingerprint = digestOf('corpus', file);
  }

  static open(path: string, tensor?: string): CorpusVectors {
    const reader = openVectorFile(path, { tensor });
    return new CorpusVectors(reader, fingerprintOf(reader, tensor));
  }

  get dims(): number {
    return this.reader.info.dims;
  }

  get rows(): number {
    return this.reader.info.rows;
  }

  /** Refuse a file whose rows are not the corpus's documents, one for one. */
  checkDocCount(docCount: number): void {
    if (this.rows !== docCount) {
      throw new InputError(this.reader.info.path, undefined, `holds ${this.rows.toLocaleString('en-US')} rows, the corpus ${docCount.toLocaleString('en-US')} documents (--corpus-vectors: row i is the i-th corpus document)`, {
        hint: 'write one row per corpus record, in corpus order (DataFlow mode: one per text of the input, a list of positives giving one row per text, in order)',
      });
    }
  }

  /** Rows `first`..`first + count − 1`, L2-normalised. */
  block(first: number, count: number): Float32Array[] {
    const flat = this.reader.readRows(first, count);
    const dims = this.dims;
    const rows: Float32Array[] = [];
    for (let i = 0; i < count; i++) rows.push(flat.subarray(i * dims, (i + 1) * dims));
    return rows;
  }

  close(): void {
    this.reader.close();
  }
}

/** The query side: rows by the query's line in its file. */
export class QueryVectors {
  readonly fingerprint: string;
  private records?: RecordRows;

  private constructor(readonly reader: VectorFileReader, readonly file: VectorFileFingerprint) {
    this.fingerprint = digestOf('query', file);
  }

  static open(path: string, tensor?: string): QueryVectors {
    const reader = openVectorFile(path, { tensor });
    return new QueryVectors(reader, fingerprintOf(reader, tensor));
  }

  get dims(): number {
    return this.reader.info.dims;
  }

  /** Tie the rows to the records of the query file; refused unless there is one row per record. */
  bind(records: RecordRows): void {
    if (this.reader.info.rows !== records.records) {
      throw new InputError(this.reader.info.path, undefined, `holds ${this.reader.info.rows.toLocaleString('en-US')} rows, ${records.displayName} ${records.records.toLocaleString('en-US')} records (--query-vectors: row i is the i-th record)`, {
        hint: 'write one row per input record, in input order (blank lines are no records)',
      });
    }
    this.records = records;
  }

  /** The rows of the queries on these lines, L2-normalised (runs of consecutive rows are read in one go). */
  vectorsOf(lines: readonly number[]): Float32Array[] {
    const records = this.records;
    if (!records) throw new Error('QueryVectors.vectorsOf before bind');
    const dims = this.dims;
    const rows = lines.map((line) => records.rowOfLine(line));
    const out: Float32Array[] = new Array(rows.length);
    for (let i = 0; i < rows.length; ) {
      let j = i + 1;
      while (j < rows.length && rows[j] === rows[j - 1] + 1) j++;
      const flat = this.reader.readRows(rows[i], j - i);
      for (let r = i; r < j; r++) out[r] = flat.subarray((r - i) * dims, (r - i + 1) * dims);
      i = j;
    }
    return out;
  }

  /** Up to `count` rows at evenly spaced positions over the whole file, L2-normalised. */
  spread(count: number): Float32Array[] {
    const rows = this.reader.info.rows;
    const n = Math.min(count, rows);
    return Array.from({ length: n }, (_, i) => this.reader.readRows(Math.floor((i * rows) / n), 1).slice());
  }

  close(): void {
    this.reader.close();
  }
}

/** The two files of a run, opened and checked against each other (dims), or none. */
export interface OpenedVectorInputs {
  corpus?: CorpusVectors;
  query?: QueryVectors;
}

/**
 * Open the vector files the options name; their dims must agree.
 * @throws UsageError for --vectors-tensor without a file; InputError/FileError from the files
 */
export function openVectorInputs(options: VectorInputOptions): OpenedVectorInputs {
  if (options.vectorsTensor !== undefined && options.corpusVectors === undefined && options.queryVectors === undefined) {
    throw new UsageError('--vectors-tensor names a tensor of --corpus-vectors or --query-vectors; neither was given');
  }
  const corpus = options.corpusVectors === undefined ? undefined : CorpusVectors.open(options.corpusVectors, options.vectorsTensor);
  let query: QueryVectors | undefined;
  try {
    query = options.queryVectors === undefined ? undefined : QueryVectors.open(options.queryVectors, options.vectorsTensor);
  } catch (error) {
    corpus?.close();
    throw error;
  }
  if (corpus && query && corpus.dims !== query.dims) {
    corpus.close();
    query.close();
    throw new UsageError(`--corpus-vectors ${options.corpusVectors} has ${corpus.dims}-d rows, --query-vectors ${options.queryVectors} ${query.dims}-d: both sides must come from one model`);
  }
  if (corpus) log().info({ file: corpus.reader.info.path, rows: corpus.rows, dims: corpus.dims, dtype: corpus.file.dtype, format: corpus.file.format, sha256: corpus.file.sha256.slice(0, 12) }, 'corpus vectors');
  if (query) log().info({ file: query.reader.info.path, rows: query.reader.info.rows, dims: query.dims, dtype: query.file.dtype, format: query.file.format, sha256: query.file.sha256.slice(0, 12) }, 'query vectors');
  return { corpus, query };
}

/** The content identity of the run's vector files (for the run fingerprint: --resume, shards and merge see a changed file). */
export function vectorFilesIdentity(options: VectorInputOptions): Record<string, unknown> {
  const identity: Record<string, unknown> = {};
  for (const [key, path] of [
    ['corpusVectors', options.corpusVectors],
    ['queryVectors', options.queryVectors],
  ] as const) {
    if (path === undefined) continue;
    const reader = openVectorFile(path, { tensor: options.vectorsTensor });
    try {
      const { sha256, format, dtype, rows, dims, tensor } = fingerprintOf(reader, options.vectorsTensor);
      identity[key] = { sha256, format, dtype, rows, dims, tensor: tensor ?? null };
    } finally {
      reader.close();
    }
  }
  return identity;
}
