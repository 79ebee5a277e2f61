/**
 * Token → term id memo for an index build: each distinct surface token is analyzed (stopwords, stemming) once,
 * and every later occurrence costs one probe of an open-addressing table. For an all-ASCII text the tokens are
 * found by scanning its char codes, hashed and compared in place, so no substring, match object or lower-cased
 * copy is made for a token already seen; any other text goes through the analyzer's own tokenizer.
 * Invariant: the ids visited for a text are exactly `termId(analyzer.termOf(t))` for each token t of
 * `analyzer.forEachToken(text)`, without the stopwords (test/token-ids.test.ts checks this against
 * `analyzer.terms` on random texts). The ASCII scan is the analyzer's WORD rule restricted to ASCII: a run of
 * [A-Za-z0-9_], joined across one ' or . that is followed by another run, lower-cased.
 */
import type { Analyzer } from './analyzer.js';

const ALL_ASCII = /^[\x00-\x7f]*$/;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;
/** Rough bytes of one memo entry beyond its characters (slot arrays, string header). */
const BYTES_PER_ENTRY = 48;

function isWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95;
}

export class TokenIds {
  private keys: Array<string | undefined> = new Array<string | undefined>(1 << 12);
  private hashes = new Int32Array(1 << 12);
  private values = new Int32Array(1 << 12);
  private count = 0;
  /** Approximate bytes held by the memo (for a build's memory budget). */
  bytes = 0;

  /**
   * `termId(term)`: the build's id for an index term ('' never reaches it: stopwords are −1 here).
   * `maxEntries`: distinct tokens memoised at most; tokens beyond are analyzed each time.
   */
  constructor(
    private readonly analyzer: Analyzer,
    private readonly termId: (term: string) => number,
    private readonly maxEntries = 2_000_000,
  ) {}

  /** Call `visit` with the term id of each token of `text` that yields a term, in order. */
  forEachId(text: string, visit: (id: number) => void): void {
    if (!ALL_ASCII.test(text)) {
      this.analyzer.forEachToken(text, (token) => {
        let hash = FNV_OFFSET;
        for (let i = 0; i < token.length; i++) hash = Math.imul(hash ^ token.charCodeAt(i), FNV_PRIME);
        const id = this.lookup(token, 0, token.length, hash, true);
        if (id >= 0) visit(id);
      });
      return;
    }
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (!isWordCode(text.charCodeAt(i))) {
        i++;
        continue;
      }
      const start = i;
      let hash = FNV_OFFSET;
      for (;;) {
        for (let c = text.charCodeAt(i); i < n && isWordCode(c); c = text.charCodeAt(++i)) hash = Math.imul(hash ^ (c >= 65 && c <= 90 ? c | 32 : c), FNV_PRIME);
        const joiner = i + 1 < n ? text.charCodeAt(i) : 0;
        if ((joiner === 39 || joiner === 46) && isWordCode(text.charCodeAt(i + 1))) {
          hash = Math.imul(hash ^ joiner, FNV_PRIME);
          i++;
          continue;
        }
        break;
      }
      const id = this.lookup(text, start, i, hash, false);
      if (id >= 0) visit(id);
    }
  }

  /** The id of the token text[start, end) (lower-cased unless `lowered`), memoised. */
  private lookup(text: string, start: number, end: number, hash: number, lowered: boolean): number {
    const length = end - start;
    const mask = this.keys.length - 1;
    let slot = hash & mask;
    for (let key = this.keys[slot]; key !== undefined; key = this.keys[(slot = (slot + 1) & mask)]) {
      if (this.hashes[slot] !== hash || key.length !== length) continue;
      let same = true;
      for (let j = 0; j < length; j++) {
        const c = text.charCodeAt(start + j);
        if (key.charCodeAt(j) !== (lowered || c < 65 || c > 90 ? c : c | 32)) {
          same = false;
          break;
        }
      }
      if (same) return this.values[slot];
    }
    const token = lowered ? text.slice(start, end) : text.slice(start, end).toLowerCase();
    const term = this.analyzer.termOf(token);
    const id = term.length === 0 ? -1 : this.termId(term);
    if (this.count < this.maxEntries) {
      this.keys[slot] = token;
      this.hashes[slot] = hash;
      this.values[slot] = id;
      this.bytes += 2 * token.length + BYTES_PER_ENTRY;
      if (++this.count * 2 > this.keys.length) this.grow();
    }
    return id;
  }

  private grow(): void {
    const { keys, hashes, values } = this;
    this.keys = new Array<string | undefined>(keys.length * 2);
    this.hashes = new Int32Array(keys.length * 2);
    this.values = new Int32Array(keys.length * 2);
    const mask = this.keys.length - 1;
    for (let old = 0; old < keys.length; old++) {
      if (keys[old] === undefined) continue;
      let slot = hashes[old] & mask;
      while (this.keys[slot] !== undefined) slot = (slot + 1) & mask;
      this.keys[slot] = keys[old];
      this.hashes[slot] = hashes[old];
      this.values[slot] = values[old];
    }
    this.bytes += 12 * keys.length;
  }
}
