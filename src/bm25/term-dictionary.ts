/**
 * The term dictionary of a loaded BM25 index: term → term id through an open-addressing hash table over the
 * UTF-8 term bytes of terms.bin, all in typed arrays (SharedArrayBuffer-backed when the index is shared), so
 * search threads share one copy instead of each building a Map of millions of strings.
 * Invariant: `lookup(term)` is the id whose bytes equal the term's UTF-8 bytes, or -1.
 */

/** FNV-1a over bytes [from, to) of `bytes`, 32-bit. */
function fnv1a(bytes: Uint8Array, from: number, to: number): number {
  let hash = 0x811c9dc5;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  return hash >>> 0;
}

/** The typed arrays a dictionary consists of (all transferable to worker threads as they are). */
export interface TermDictionaryData {
  /** UTF-8 of every term, concatenated in term-id order. */
  termBytes: Uint8Array;
  /** Term t's bytes are termBytes[termOffsets[t], termOffsets[t + 1]). */
  termOffsets: Uint32Array;
  /** Open-addressing table (power of two slots, at most half full): term id + 1, 0 = empty. */
  slots: Uint32Array;
}

export function sharedArray<T extends Uint8Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array>(
  Type: { new (buffer: SharedArrayBuffer, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number },
  length: number,
): T {
  return new Type(new SharedArrayBuffer(length * Type.BYTES_PER_ELEMENT), 0, length);
}

/** Build the hash table over given term bytes and offsets (in shared memory). */
export function buildTermDictionary(termBytes: Uint8Array, termOffsets: Uint32Array): TermDictionaryData {
  const termCount = termOffsets.length - 1;
  let size = 16;
  while (size < termCount * 2) size *= 2;
  const slots = sharedArray(Uint32Array, size);
  const mask = size - 1;
  for (let t = 0; t < termCount; t++) {
    let slot = fnv1a(termBytes, termOffsets[t], termOffsets[t + 1]) & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = t + 1;
  }
  return { termBytes, termOffsets, slots };
}

export class TermDictionary {
  private readonly encoder = new TextEncoder();
  private scratch = new Uint8Array(256);

  constructor(readonly data: TermDictionaryData) {}

  get termCount(): number {
    return this.data.termOffsets.length - 1;
  }

  /** The id of `term`, or -1 when the index has no such term. */
  lookup(term: string): number {
    if (this.scratch.length < term.length * 3) this.scratch = new Uint8Array(term.length * 3);
    const length = this.encoder.encodeInto(term, this.scratch).written;
    const { termBytes, termOffsets, slots } = this.data;
    const mask = slots.length - 1;
    let slot = fnv1a(this.scratch, 0, length) & mask;
    for (;;) {
      const entry = slots[slot];
      if (entry === 0) return -1;
      const start = termOffsets[entry - 1];
      if (termOffsets[entry] - start === length) {
        let i = 0;
        while (i < length && termBytes[start + i] === this.scratch[i]) i++;
        if (i === length) return entry - 1;
      }
      slot = (slot + 1) & mask;
    }
  }
}
