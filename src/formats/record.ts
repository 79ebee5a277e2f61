/**
 * The `record` output format's splice: the input line itself, every original byte kept (big integers, `1.10`, key
 * order, whitespace, `\u` escapes), with the mined fields spliced in before the final `}`. What must hold: an
 * existing key is never overwritten silently — the caller decides (--if-key-exists): `fail` refuses the record,
 * `replace` puts the new value in place of the old one's text (the last of duplicate keys, the one JSON.parse
 * reads), leaving every other byte as it was.
 */
import { objectLayout } from '../io/json-members.js';

/** What to do when the record already has a key the format writes (--if-key-exists). */
export const IF_KEY_EXISTS = ['fail', 'replace'] as const;
export type IfKeyExists = (typeof IF_KEY_EXISTS)[number];

/** The names in `fields` that `value` (the parsed record) already has. */
export function existingKeys(value: Record<string, unknown>, fields: Record<string, unknown>): string[] {
  return Object.keys(fields).filter((name) => Object.prototype.hasOwnProperty.call(value, name));
}

function isWhitespace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/**
 * `raw` (one JSON object, as JSON.parse accepted it) with `fields` set: new keys spliced in after the last member,
 * keys `value` already has replaced in place. The caller has applied the --if-key-exists policy.
 */
export function withFields(raw: string, value: Record<string, unknown>, fields: Record<string, unknown>): string {
  const replaced = new Set(existingKeys(value, fields));
  let text = raw;
  if (replaced.size > 0) {
    // Right to left, so earlier spans stay valid.
    const layout = objectLayout(raw);
    const lastOf = new Map(layout.members.map((member) => [member.key, member]));
    const spans = [...replaced].map((name) => lastOf.get(name)!).sort((a, b) => b.valueStart - a.valueStart);
    for (const span of spans) text = text.slice(0, span.valueStart) + JSON.stringify(fields[span.key]) + text.slice(span.valueEnd);
  }
  const added = Object.keys(fields).filter((name) => !replaced.has(name));
  if (added.length === 0) return text;
  const closeBrace = text.lastIndexOf('}');
  let at = closeBrace;
  while (at > 0 && isWhitespace(text[at - 1])) at--;
  const members = added.map((name) => `${JSON.stringify(name)}:${JSON.stringify(fields[name])}`).join(',');
  const separator = text[at - 1] === '{' ? '' : ',';
  return text.slice(0, at) + separator + members + text.slice(at);
}
