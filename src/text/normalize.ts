/**
 * Text normalisation for equality tests (positive exclusion, duplicate removal): Unicode NFKC, lower case,
 * every run of whitespace collapsed to one space, trimmed. Two texts are "the same" for rare-mine exactly when
 * their normalised forms are equal; the 64-bit hash below is what indexes store to test it without reading texts.
 */
import { createHash } from 'node:crypto';

// ASCII text is already in NFKC: skip the (comparatively slow) normalisation pass for it.
const NON_ASCII = /[^\x00-\x7f]/;

export function normalizeText(text: string): string {
  const composed = NON_ASCII.test(text) ? text.normalize('NFKC') : text;
  return composed.toLowerCase().replace(/\s+/gu, ' ').trim();
}

// The same text is hashed several times while one record is mined (exclusion, then positive scoring): keep the
// last few hashes. A Map lookup costs one pass over the string at most; normalising and hashing cost several.
const recent = new Map<string, bigint>();
const RECENT_ENTRIES = 256;

/** First 8 bytes of the MD5 of the normalised text's UTF-8, as an unsigned bigint. */
export function normalizedTextHash(text: string): bigint {
  const known = recent.get(text);
  if (known !== undefined) return known;
  const hash = createHash('md5').update(normalizeText(text)).digest().readBigUInt64LE(0);
  if (recent.size >= RECENT_ENTRIES) recent.delete(recent.keys().next().value!);
  recent.set(text, hash);
  return hash;
}
