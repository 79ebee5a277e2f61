/**
 * Keys checked before any work: the fields an option names (--question-key, --positive-ids-key, --corpus-text-key,
 * ...) are looked for in a bounded prefix of the records (the first PREFIX_RECORDS records or PREFIX_BYTES bytes,
 * whichever ends first) before any model, doc store or index is opened or built. What must hold: a key no record
 * of the prefix has is a UsageError naming the option, its value, the keys the records do have and the closest of
 * them; a key some records lack is not an error (only the run can count those); a key is present only as an own
 * property (`constructor` is not a field of `{}`); reading the prefix never loses a record of a one-pass input
 * (src/io/line-reader.ts peekInput replays it).
 */
import { UsageError } from '../errors.js';
import { readJsonArray } from './json-array-reader.js';
import { inputName, readHead, type InputHead } from './line-reader.js';

/** The prefix: at most this many records ... */
export const PREFIX_RECORDS = 1000;
/** ... and at most this many bytes. */
export const PREFIX_BYTES = 8 * 1024 * 1024;

/** What the prefix of a file holds: how many records were read, and how many of them have each key. */
export interface KeyCensus {
  /** The file as messages name it. */
  file: string;
  records: number;
  /** Key → records of the prefix that have it (own properties), in order of first appearance. */
  keys: Map<string, number>;
  /** True when the prefix is the whole file. */
  whole: boolean;
}

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });

/** Count the keys of the JSON object lines in `head` (lines that are not objects are left to the run to report). */
export function censusOfLines(file: string, head: InputHead, maxRecords = PREFIX_RECORDS): KeyCensus {
  const census: KeyCensus = { file, records: 0, keys: new Map(), whole: head.whole };
  const text = decoder.decode(head.bytes);
  const lines = text.split('\n');
  // The last piece is a whole line only when the head is the whole input.
  if (!head.whole) lines.pop();
  for (const line of lines) {
    if (census.records >= maxRecords) {
      census.whole = false;
      break;
    }
    if (line.trim().length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue; // reported, with its line number, when the run reads it
    }
    count(census, value);
  }
  return census;
}

function count(census: KeyCensus, value: unknown): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  census.records++;
  for (const key of Object.keys(value)) census.keys.set(key, (census.keys.get(key) ?? 0) + 1);
}

/** The key census of the prefix of a JSONL input (a one-pass input is peeked and replayed, not consumed). */
export async function censusOfInput(path: string | undefined, options: { seekable: boolean; startByte?: number; endByte?: number; displayName?: string }): Promise<KeyCensus> {
  const head = await readHead(path, { seekable: options.seekable, startByte: options.startByte ?? 0, endByte: options.endByte, maxLines: PREFIX_RECORDS, maxBytes: PREFIX_BYTES });
  return censusOfLines(options.displayName ?? inputName(path), head);
}

/** The key census of the first elements of a JSON array file (a `.json` corpus); `path` must be a regular file. */
export async function censusOfJsonArray(path: string, displayName = path): Promise<KeyCensus> {
  const census: KeyCensus = { file: displayName, records: 0, keys: new Map(), whole: true };
  let bytes = 0;
  try {
    for await (const element of readJsonArray(path, { maxElementBytes: PREFIX_BYTES, displayName })) {
      if (census.records >= PREFIX_RECORDS || bytes >= PREFIX_BYTES) {
        census.whole = false;
        break;
      }
      bytes += element.text.length;
      try {
        count(census, JSON.parse(element.text));
      } catch {
        // reported, with its place, when the corpus is read
      }
    }
  } catch {
    // An unreadable array is reported, with its place, when the corpus is read; the keys seen so far still count.
    census.whole = false;
  }
  return census;
}

/**
 * Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions, each substring edited once),
 * case-insensitive: the number of single-character edits from `a` to `b`.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[s.length][t.length];
}

/**
 * The key of `keys` closest to `wanted`, when one is close enough to be a likely slip: at most 2 edits, and at most
 * a third of the longer name (so "id" does not suggest "text"); ties go to the key more records have (the order of
 * `keys`).
 */
export function closestKey(wanted: string, keys: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const key of keys) {
    const distance = editDistance(wanted, key);
    const limit = Math.min(2, Math.max(1, Math.floor(Math.max(wanted.length, key.length) / 3)));
    if (distance <= limit && distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  return best;
}

/** One key an option names, and why the run needs it. */
export interface KeyUse {
  /** The option, e.g. "--positive-ids-key". */
  option: string;
  key: string;
  /** What the run reads it for, e.g. "the positive corpus ids". */
  what: string;
  /** Another key that is read when this one is absent (the corpus id's "_id" → "id"): either present is enough. */
  fallback?: string;
}

/** How many keys the message lists (the rest are counted). */
const LISTED_KEYS = 20;

/** The keys of a census, most frequent first, quoted: `"question" (40), "text" (40), …`. */
function listKeys(census: KeyCensus): string {
  const keys = [...census.keys.entries()].sort((a, b) => b[1] - a[1]);
  if (keys.length === 0) return 'no fields at all';
  const shown = keys.slice(0, LISTED_KEYS).map(([key, n]) => (n === census.records ? JSON.stringify(key) : `${JSON.stringify(key)} (${n.toLocaleString('en-US')} of them)`));
  return shown.join(', ') + (keys.length > LISTED_KEYS ? `, … (${keys.length} keys in all)` : '');
}

/**
 * Throw a UsageError for the first use whose key no record of the census has (nor its fallback). A census of no
 * records checks nothing: an empty input is reported by the run.
 */
export function checkKeys(census: KeyCensus, uses: readonly KeyUse[]): void {
  if (census.records === 0) return;
  for (const use of uses) {
    if (census.keys.has(use.key) || (use.fallback !== undefined && census.keys.has(use.fallback))) continue;
    const byFrequency = [...census.keys.entries()].sort((a, b) => b[1] - a[1]).map(([key]) => key);
    const closest = closestKey(use.key, byFrequency);
    const n = census.records.toLocaleString('en-US');
    const none = census.whole ? `no record of ${census.file} has` : `none of the first ${n} records of ${census.file} has`;
    const they = census.whole ? (census.records === 1 ? 'it has' : `its ${n} records have`) : 'they have';
    throw new UsageError(
      `${use.option} ${JSON.stringify(use.key)}: ${none} a field ${JSON.stringify(use.key)} (${use.what}); ${they} ${listKeys(census)}` +
        (closest === undefined ? '' : `; did you mean ${use.option} ${closest}?`),
      { hint: closest === undefined ? `pass ${use.option} KEY naming the field that holds ${use.what}` : `the closest key is ${JSON.stringify(closest)}: ${use.option} ${closest}` },
    );
  }
}
