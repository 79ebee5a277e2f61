/**
 * Where a corpus comes from and how its records are read: a corpus JSONL (`--corpus`; BEIR layout
 * `{"_id","title","text"}`), a JSON array file read incrementally with stream-json, or — DataFlow style —
 * the distinct texts of the input records themselves. Every source has a fingerprint (SHA-256 of its bytes
 * and of the settings that change what is read) so an index built from it is reused only when it matches.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { InputError } from '../errors.js';
import { readRecords, RejectPolicy, describe, type JsonRecord } from '../io/jsonl.js';
import type { CorpusDoc } from './doc-store.js';
import type { CorpusSource } from '../index/index-dir.js';

export interface CorpusKeys {
  /** Id field; when absent on a record, `id` is tried, then the line number names the document. */
  idKey: string;
  textKey: string;
  titleKey: string;
}

export interface NumberedDoc extends CorpusDoc {
  /** 1-based line (or array element) the document came from. */
  lineNumber: number;
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
  const field = value[key];
  if (field === undefined || field === null) {
    if (required) throw new InputError(file, lineNumber, `missing field "${key}"`);
    return '';
  }
  if (typeof field !== 'string') throw new InputError(file, lineNumber, `field "${key}" must be a string, found ${describe(field)}`);
  return field;
}

/** One corpus record → a document, or an InputError. */
export function corpusDocFromRecord(file: string, lineNumber: number, value: Record<string, unknown>, keys: CorpusKeys): NumberedDoc {
  const text = textField(file, lineNumber, value, keys.textKey, true);
  const title = textField(file, lineNumber, value, keys.titleKey, false);
  if (text.trim().length === 0 && title.trim().length === 0) throw new InputError(file, lineNumber, `field "${keys.textKey}" is empty`);
  let rawId = value[keys.idKey];
  if ((rawId === undefined || rawId === null) && keys.idKey === '_id') rawId = value.id;
  let id: string;
  if (rawId === undefined || rawId === null) id = `line:${lineNumber}`;
  else if (typeof rawId === 'string' || typeof rawId === 'number') id = String(rawId);
  else throw new InputError(file, lineNumber, `field "${keys.idKey}" must be a string or number, found ${describe(rawId)}`);
  return { id, title, text, lineNumber };
}

/** A corpus file as an index source: its documents and a fingerprint of its bytes and the keys read. */
export async function corpusFileSource(path: string, keys: CorpusKeys, policy: RejectPolicy): Promise<CorpusSource> {
  return {
    description: path,
    fingerprint: await fingerprintFile(path, `corpus;${keys.idKey};${keys.textKey};${keys.titleKey}`),
    documents: () => readCorpusFile(path, keys, policy),
  };
}

/** The documents of a corpus file: JSONL, or a JSON array when the name ends in `.json`. */
export async function* readCorpusFile(path: string, keys: CorpusKeys, policy: RejectPolicy): AsyncGenerator<NumberedDoc> {
  const seen = new Set<string>();
  const check = (doc: NumberedDoc): boolean => {
    if (seen.has(doc.id)) {
      policy.reject(new InputError(path, doc.lineNumber, `duplicate corpus id "${doc.id}"`, { hint: 'corpus ids must be unique' }), undefined);
      return false;
    }
    seen.add(doc.id);
    return true;
  };
  if (path.endsWith('.json')) {
    for await (const { index, value } of readJsonArray(path)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        policy.reject(new InputError(path, index + 1, `array element ${index} is ${describe(value)}, expected an object`), undefined);
        continue;
      }
      try {
        const doc = corpusDocFromRecord(path, index + 1, value as Record<string, unknown>, keys);
        if (check(doc)) yield doc;
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        policy.reject(error, JSON.stringify(value));
      }
    }
    return;
  }
  for await (const record of readRecords(path, { policy })) {
    try {
      const doc = corpusDocFromRecord(path, record.lineNumber, record.value, keys);
      if (check(doc)) yield doc;
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      policy.reject(error, record.raw);
    }
  }
}

/** Elements of a top-level JSON array, streamed (stream-json), numbered from 0. */
async function* readJsonArray(path: string): AsyncGenerator<{ index: number; value: unknown }> {
  const { default: streamArray } = await import('stream-json/streamers/stream-array.js');
  const { default: parser } = await import('stream-json/parser.js');
  const source = createReadStream(path);
  const pipeline = source.pipe(parser.asStream()).pipe(streamArray.asStream());
  try {
    for await (const item of pipeline as AsyncIterable<{ key: number; value: unknown }>) yield { index: item.key, value: item.value };
  } catch (cause) {
    throw new InputError(path, undefined, `malformed JSON array: ${(cause as Error).message}`, { cause });
  }
}

/**
 * DataFlow style: the corpus is the distinct positive texts of the input records, in order of first
 * appearance; a text's id is the line of its first appearance ("line:12"). Exact-text duplicates collapse.
 */
export async function* corpusFromInput(
  inputPath: string,
  textKey: string,
  policy: RejectPolicy,
): AsyncGenerator<NumberedDoc> {
  const seen = new Set<string>();
  const quiet = new QuietPolicy(policy);
  for await (const record of readRecords(inputPath, { policy: quiet })) {
    if (quiet.stopped) return;
    const texts = positiveTexts(record, textKey);
    for (const text of texts) {
      if (text.trim().length === 0) continue;
      const key = createHash('sha1').update(text).digest('base64');
      if (seen.has(key)) continue;
      seen.add(key);
      yield { id: `line:${record.lineNumber}`, title: '', text, lineNumber: record.lineNumber };
    }
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

function positiveTexts(record: JsonRecord, key: string): string[] {
  const value = record.value[key];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}
