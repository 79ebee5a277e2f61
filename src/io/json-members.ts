/**
 * Where each member of a JSON object sits in its text: the byte-exact view of a record that JSON.parse throws away.
 * It lets the record format splice new keys in before the final `}` and replace a value in place, and lets ids be
 * the exact digits the input wrote (`12345678901234567890` stays so, never 12345678901234567000). What must hold:
 * the text was already accepted by JSON.parse as one object (the scanner trusts its grammar); spans are UTF-16
 * indices into that text, and every character outside a replaced span is kept as it was.
 */

/** One `"key": value` member: the decoded key and where its value's text starts and ends (exclusive). */
export interface JsonMember {
  key: string;
  valueStart: number;
  valueEnd: number;
}

export interface JsonObjectLayout {
  members: JsonMember[];
  /** Index of the object's closing `}`. */
  closeBrace: number;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

function skipWhitespace(text: string, at: number): number {
  while (at < text.length && WHITESPACE.has(text[at])) at++;
  return at;
}

/** Index just past the string literal starting at `at` (a `"`). */
function skipString(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '"') return i + 1;
  }
  throw new Error('unterminated string in text JSON.parse accepted');
}

/** Index just past the JSON value starting at `at`. */
function skipValue(text: string, at: number): number {
  const first = text[at];
  if (first === '"') return skipString(text, at);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let i = at; i < text.length; i++) {
      const c = text[i];
      if (c === '"') i = skipString(text, i) - 1;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    throw new Error('unbalanced brackets in text JSON.parse accepted');
  }
  let i = at;
  while (i < text.length && !WHITESPACE.has(text[i]) && text[i] !== ',' && text[i] !== '}' && text[i] !== ']') i++;
  return i;
}

/** The members of the JSON object `text` (as JSON.parse accepted it), in text order, duplicates included. */
export function objectLayout(text: string): JsonObjectLayout {
  let at = skipWhitespace(text, 0);
  if (text[at] !== '{') throw new Error('not a JSON object');
  at = skipWhitespace(text, at + 1);
  const members: JsonMember[] = [];
  while (text[at] !== '}') {
    const keyEnd = skipString(text, at);
    const key = JSON.parse(text.slice(at, keyEnd)) as string;
    at = skipWhitespace(text, keyEnd) + 1; // the ':'
    const valueStart = skipWhitespace(text, at);
    const valueEnd = skipValue(text, valueStart);
    members.push({ key, valueStart, valueEnd });
    at = skipWhitespace(text, valueEnd);
    if (text[at] === ',') at = skipWhitespace(text, at + 1);
  }
  return { members, closeBrace: at };
}

/**
 * The text of a member's value exactly as written (the last member of that name, as JSON.parse keeps the last),
 * or undefined when the object has no such key.
 */
export function rawMemberText(text: string, key: string): string | undefined {
  const members = objectLayout(text).members.filter((member) => member.key === key);
  const last = members[members.length - 1];
  return last === undefined ? undefined : text.slice(last.valueStart, last.valueEnd);
}

/**
 * An id field's value as a string: a JSON string as decoded, a JSON number as the digits the input wrote (never
 * rounded through a double). `value` is the parsed field; `text` the record's text, read only for numbers.
 */
export function exactIdText(text: string, key: string, value: string | number): string {
  if (typeof value === 'string') return value;
  return rawMemberText(text, key) ?? String(value);
}
