/**
 * The `record` output format: the input line itself, every original field untouched, with the mined fields
 * appended. Appending to the raw text (rather than re-serialising the parsed object) keeps numbers, key order
 * and escapes byte for byte as the user wrote them. When the record already has a field of the same name
 * (e.g. `bm25 | dense` with one --output-key), the record is re-serialised with that field replaced.
 */

/** `raw` (one JSON object) with `fields` set; `value` is the parsed object. */
export function withFields(raw: string, value: Record<string, unknown>, fields: Record<string, unknown>): string {
  const names = Object.keys(fields);
  if (names.some((name) => Object.prototype.hasOwnProperty.call(value, name))) {
    return JSON.stringify({ ...value, ...fields });
  }
  const trimmed = raw.trimEnd();
  const body = trimmed.slice(0, -1); // drop the closing brace
  const empty = Object.keys(value).length === 0;
  let out = empty ? body.trimEnd() : body.trimEnd();
  let first = empty;
  for (const name of names) {
    out += `${first ? '' : ','}${JSON.stringify(name)}:${JSON.stringify(fields[name])}`;
    first = false;
  }
  return out + '}';
}
