/**
 * Readers for BEIR files: queries JSONL (`{"_id","text"}`) and qrels TSV (`query-id corpus-id score`, with a
 * header line). Malformed lines are InputErrors with file and line.
 */
import { InputError } from '../errors.js';
import { readLines } from '../io/line-reader.js';
import { readRecords, RejectPolicy, requireString } from '../io/jsonl.js';
import { exactIdText } from '../io/json-members.js';
import type { Qrels } from './metrics.js';

export interface Query {
  id: string;
  text: string;
}

export async function readQueries(path: string): Promise<Query[]> {
  const queries: Query[] = [];
  for await (const record of readRecords(path, { policy: new RejectPolicy('fail') })) {
    const key = record.value._id !== undefined && record.value._id !== null ? '_id' : 'id';
    const rawId = record.value[key];
    if (typeof rawId !== 'string' && typeof rawId !== 'number') throw new InputError(path, record.lineNumber, 'missing field "_id"');
    queries.push({ id: exactIdText(record.raw, key, rawId), text: requireString(path, record, 'text') });
  }
  return queries;
}

export async function readQrels(path: string): Promise<Qrels> {
  const qrels: Qrels = new Map();
  for await (const line of readLines(path)) {
    const fields = line.text.split('\t');
    if (line.text.trim().length === 0) continue;
    if (line.lineNumber === 1 && fields[0] === 'query-id') continue;
    if (fields.length < 3) throw new InputError(path, line.lineNumber, `expected "query-id<TAB>corpus-id<TAB>score", found ${fields.length} field(s)`);
    const grade = Number(fields[2]);
    if (!Number.isFinite(grade)) throw new InputError(path, line.lineNumber, `score "${fields[2]}" is not a number`);
    let judged = qrels.get(fields[0]);
    if (!judged) qrels.set(fields[0], (judged = new Map()));
    judged.set(fields[1], grade);
  }
  return qrels;
}
