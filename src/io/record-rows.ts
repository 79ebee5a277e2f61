/**
 * Which row of a vector file belongs to which record of a JSONL file: row i is the i-th record, counting every
 * non-blank line (a line the reader rejects — bad JSON, invalid UTF-8, too long — is a record too, so one bad line
 * never shifts the rows after it; blank lines are no records, as the JSONL reader skips them).
 * What must hold: `rowOfLine` is defined for every non-blank line of the file and gives 0..records−1 in line order;
 * the file is read once, in bounded memory (the blank lines' numbers are kept, nothing else).
 */
import { DEFAULT_MAX_LINE_BYTES, readLines } from './line-reader.js';

/** The records of a JSONL file, by line. */
export interface RecordRows {
  /** The file as messages name it. */
  readonly displayName: string;
  /** Records (non-blank lines) in the file. */
  readonly records: number;
  /** The 0-based row of the record on 1-based line `line`. */
  rowOfLine(line: number): number;
}

/** The first index in the sorted `values` whose value is ≥ `value`. */
function lowerBound(values: readonly number[], value: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Count the records of `path` and map their lines to rows (one pass with the JSONL reader's own line rules).
 * @throws InputError when the file cannot be read
 */
export async function recordRows(path: string, displayName = path, maxLineBytes = DEFAULT_MAX_LINE_BYTES): Promise<RecordRows> {
  const blankLines: number[] = [];
  let lastLine = 0;
  for await (const line of readLines(path, { displayName, maxLineBytes: Math.max(maxLineBytes, 1), onBadLine: (_error, bad) => (lastLine = bad.lineNumber) })) {
    lastLine = line.lineNumber;
    if (line.text.trim().length === 0) blankLines.push(line.lineNumber);
  }
  return rowsOf(displayName, lastLine, blankLines);
}

/** Rows of the lines 1..`lines` with the given (sorted) blank ones. */
export function rowsOf(displayName: string, lines: number, blankLines: readonly number[]): RecordRows {
  return {
    displayName,
    records: lines - blankLines.length,
    rowOfLine: (line) => line - 1 - lowerBound(blankLines, line),
  };
}

/** Rows of a list read in order (eval's --queries): row i is the i-th item, its "line" i + 1. */
export function rowsInOrder(displayName: string, count: number): RecordRows {
  return rowsOf(displayName, count, []);
}
