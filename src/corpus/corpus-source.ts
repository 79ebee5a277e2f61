/**
 * Where a corpus comes from and how its records are read: a corpus JSONL (`--corpus`; BEIR layout
 * `{"_id","title","text"}`), a JSON array file read element by element (src/io/json-array-reader.ts), or —
 * DataFlow style — the distinct texts of the input records themselves. Every source has a fingerprint (SHA-256
 * of its bytes and of the settings that change what is read) so an index built from it is reused only when it
 * matches. What must hold: both file readers apply one text policy (invalid UTF-8 and lone surrogate escapes are
 * InputErrors naming file and line; src/io/jsonl.ts wellFormedText) and ids are exact (a numeric id is the digits
 * as written, src/io/json-members.ts); a corpus that is a pipe or FIFO is spooled to a temporary file first, since
 * it is read twice (fingerprint, then documents).
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from '../io/fs.js';
import { InputError } from '../errors.js';
import { readRecords, RejectPolicy, describe, isWellFormedText, ownField, parseRecordLine, wellFormedText } from '../io/jsonl.js';
import { readJsonArray } from '../io/json-array-reader.js';
import { exactIdText } from '../io/json-members.js';
import { DEFAULT_MAX_LINE_BYTES, isSeekable, spoolInput } from '../io/line-reader.js';
import { log } from '../log.js';
import { censusOfInput, censusOfJsonArray, checkKeys, type KeyUse } from '../io/record-keys.js';
import type { CorpusDoc } from './doc-store.js';

/** A document as a source reads it: where in the source's bytes it ends, when the source knows (for progress). */
export interface SourceDoc extends CorpusDoc {
  /** Byte offset just past the record the document came from (a later record of the source ends later). */
  endByte?: number;
}

/**
 * A corpus to build a doc store from: what it is, its fingerprint, its size in bytes when known, and its documents
 * in corpus order.
 */
export interface CorpusSource {
  /** What the corpus is, for logs and manifests. */
  description: string;
  /** Changes whenever the documents read would change (bytes, keys, reader version): an index is reused only on a match. */
  fingerprint: string;
  /**
   * Bytes the documents are read from, when known (a regular file): with each document's `endByte` the reading
   * phase shows a percentage and an ETA, as mining does by input bytes.
   */
  totalBytes?: number;
  /** Documents in corpus order. Only called when the doc store must be (re)built. */
  documents(): AsyncIterable<SourceDoc>;
}

export interface CorpusKeys {
  /** Id field; when absent on a record, `id` is tried, then the line number names the document. */
  idKey: string;
  textKey: string;
  titleKey: string;
}

export interface NumberedDoc extends SourceDoc {
  /** 1-based line (or array element) the document came from. */
  lineNumber: number;
}

/** The size of `path` in bytes when it is a regular file (a pipe, FIFO or device has no size known ahead). */
export function regularFileBytes(path: string): number | undefined {
  try {
    const stats = statSync(path);
    return stats.isFile() ? stats.size : undefined;
  } catch {
    return undefined;
  }
}

/** SHA-256 of a file's bytes and the given settings. */
export async function fingerprintFile(path: string, settings: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(settings);
  hash.update('\0');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } catch (cause) {
    throw new InputError(path, undefined, `cannot read: ${(cause as Error).message}`, { cause });
  }
  return hash.digest('hex');
}

function textField(file: string, lineNumber: number, value: Record<string, unknown>, key: string, required: boolean): string {
  const field = ownField(value, key);
  if (field === undefined || field === null) {
    if (required) throw new InputError(file, lineNumber, `missing field "${key}"`);
    return '';
  }
  if (typeof field !== 'string') throw new InputError(file, lineNumber, `field "${key}" must be a string, found ${describe(field)}`);
  return wellFormedText(file, lineNumber, key, field);
}

/** One corpus record (parsed `value` of the text `raw`) → a document, or an InputError. */
export function corpusDocFromRecord(file: string, lineNumber: number, value: Record<string, unknown>, keys: CorpusKeys, raw: string): NumberedDoc {
  const text = textField(file, lineNumber, value, keys.textKey, true);
  const title = textField(file, lineNumber, value, keys.titleKey, false);
  if (text.trim().length === 0 && title.trim().length === 0) throw new InputError(file, lineNumber, `field "${keys.textKey}" is empty`);
  let idKey = keys.idKey;
  let rawId = value[idKey];
  if ((rawId === undefined || rawId === null) && idKey === '_id') rawId = value[(idKey = 'id')];
  let id: string;
  if (rawId === undefined || rawId === null) id = `line:${lineNumber}`;
  else if (typeof rawId === 'string' || typeof rawId === 'number') id = exactIdText(raw, idKey, rawId);
  else throw new InputError(file, lineNumber, `field "${keys.idKey}" must be a string or number, found ${describe(rawId)}`);
  return { id, title, text, lineNumber };
}

/** A corpus file as an index source: its documents and a fingerprint of its bytes and the keys read. */
export async function corpusFileSource(path: string, keys: CorpusKeys, policy: RejectPolicy, keyUses: readonly KeyUse[] = []): Promise<CorpusSource> {
  let readPath = path;
  if (!isSeekable(path)) {
    readPath = await spoolInput(path, { skipOverLong: policy.onError === 'skip' });
    log().debug({ corpus: path, spool: readPath }, 'corpus spooled to a temporary file (it is read twice)');
  }
  // The keys options name, looked for in the first records before the corpus is fingerprinted or indexed.
  if (keyUses.length > 0) {
    const census = path.endsWith('.json') ? await censusOfJsonArray(readPath, path) : await censusOfInput(readPath, { seekable: true, displayName: path });
    checkKeys(census, keyUses);
  }
  return {
    description: path,
    fingerprint: await fingerprintFile(readPath, `${CORPUS_READER_VERSION};${keys.idKey};${keys.textKey};${keys.titleKey}`),
    totalBytes: regularFileBytes(readPath),
    documents: () => readCorpusFile(readPath, keys, policy, path),
  };
}

/** In the corpus fingerprint: v2 keeps numeric ids as written and refuses lone surrogates (v1 rounded and replaced). */
const CORPUS_READER_VERSION = 'corpus-v2';

/** The documents of a corpus file: JSONL, or a JSON array when the name ends in `.json`. */
export async function* readCorpusFile(path: string, keys: CorpusKeys, policy: RejectPolicy, displayName = path): AsyncGenerator<NumberedDoc> {
  const file = displayName;
  const seen = new Set<string>();
  const check = (doc: NumberedDoc): boolean => {
    if (seen.has(doc.id)) {
      policy.reject(new InputError(file, doc.lineNumber, `duplicate corpus id "${doc.id}"`, { hint: 'corpus ids must be unique' }), undefined);
      return false;
    }
    seen.add(doc.id);
    return true;
  };
  if (displayName.endsWith('.json')) {
    policy.begin();
    for await (const element of readJsonArray(path, { maxElementBytes: DEFAULT_MAX_LINE_BYTES, displayName: file })) {
      const line = { lineNumber: element.lineNumber, byteOffset: element.byteOffset, endOffset: element.byteOffset, text: element.text };
      try {
        const value = parseRecordLine(file, line, `array element ${element.index}`);
        const doc = corpusDocFromRecord(file, element.lineNumber, value, keys, element.text);
        doc.endByte = element.byteOffset + Buffer.byteLength(element.text);
        if (check(doc)) yield doc;
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        policy.reject(error, element.text);
      }
    }
    return;
  }
  for await (const record of readRecords(path, { policy, displayName: file })) {
    try {
      const doc = corpusDocFromRecord(file, record.lineNumber, record.value, keys, record.raw);
      doc.endByte = record.endOffset;
      if (check(doc)) yield doc;
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      policy.reject(error, record.raw);
    }
  }
}

/**
 * DataFlow style: the corpus is the distinct positive texts of the input records, in order of first
 * appearance. A text's id names the place of its first appearance: `line:N` for a string positive on line N,
 * `line:N:i` for the i-th (0-based) text of a list of positives, so every id names one text. Exact-text
 * duplicates collapse; texts that are not well-formed Unicode are left out (the record is reported when mined).
 */
export async function* corpusFromInput(
  inputPath: string,
  textKey: string,
  policy: RejectPolicy,
  displayName = inputPath,
): AsyncGenerator<NumberedDoc> {
  const seen = new Set<string>();
  const quiet = new QuietPolicy(policy);
  let records = 0;
  for await (const record of readRecords(inputPath, { policy: quiet, displayName })) {
    if (quiet.stopped) return;
    records++;
    const value = Object.hasOwn(record.value, textKey) ? record.value[textKey] : undefined;
    const texts = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
    for (let i = 0; i < texts.length; i++) {
      const text: unknown = texts[i];
      if (typeof text !== 'string' || text.trim().length === 0 || !isWellFormedText(text)) continue;
      const key = createHash('sha1').update(text).digest('base64');
      if (seen.has(key)) continue;
      seen.add(key);
      const id = typeof value === 'string' ? `line:${record.lineNumber}` : `line:${record.lineNumber}:${i}`;
      yield { id, title: '', text, lineNumber: record.lineNumber, endByte: record.endOffset };
    }
  }
  // Records and no text: every negative would be [] (or a random fill). An input without records is reported by the run.
  if (seen.size === 0 && records > 0 && !quiet.stopped) {
    throw new InputError(displayName, undefined, `the corpus is empty: without --corpus the corpus is the --text-key texts of the input, and none of its ${records.toLocaleString('en-US')} records has a non-empty text under "${textKey}"`, {
      hint: 'pass --text-key naming the field that holds the positive passages, or --corpus FILE',
    });
  }
}

/**
 * Bad lines in the input are reported when the input is mined, not a second time while the corpus is gathered.
 * Under --on-error fail the gathering stops at the first unreadable line, so that the mining pass, which also
 * checks each record's fields, reports whichever bad line comes first (an invalid line 4 before a malformed line 5).
 */
class QuietPolicy extends RejectPolicy {
  stopped = false;
  constructor(private readonly outer: RejectPolicy) {
    super('skip');
  }
  override reject(error: InputError, raw: string | undefined): void {
    if (this.outer.onError === 'fail') this.stopped = true;
    void error;
    void raw;
  }
}

