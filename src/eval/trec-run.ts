/**
 * TREC run files (`query-id Q0 doc-id rank score tag`, one line each, fields split on whitespace, as trec_eval
 * reads them with scanf's %s). What must hold: an id that would break that format — empty, or holding a space, a
 * tab or a newline, which would shift every later field or start a new line — never goes into a run file; it is an
 * InputError naming the file the id came from (and the line, for a query), found before a byte is written.
 */
import { InputError } from '../errors.js';

/** Why `id` cannot be a field of a TREC run file, or undefined when it can. */
export function trecIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'is empty';
  const space = /\s/u.exec(id);
  if (space) return `holds whitespace (${JSON.stringify(space[0])} at character ${space.index})`;
  return undefined;
}

/** Throw an InputError for an id a run file cannot hold: `what` is "query id" or "document id", `file` and `line` where it came from. */
export function checkTrecId(id: string, what: string, file: string, line?: number): void {
  const problem = trecIdProblem(id);
  if (problem) {
    throw new InputError(file, line, `${what} ${JSON.stringify(id)} ${problem}: it cannot be a field of the TREC run file (fields are split on whitespace)`, {
      hint: 'give the ids without whitespace, or leave out --run',
    });
  }
}

/** One line of a run file: ranks count from 1, the score with 6 decimals. */
export function trecRunLine(queryId: string, docId: string, rank: number, score: number, tag: string): string {
  return `${queryId} Q0 ${docId} ${rank + 1} ${score.toFixed(6)} ${tag}`;
}
