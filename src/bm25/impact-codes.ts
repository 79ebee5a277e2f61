/**
 * Impact codes (BM25 format 3): each posting holds a small integer code instead of its float32 impact, and term t's
 * codes index its own table of distinct impacts: impact = table[tableStart[t] + code]. A term's impact depends only
 * on the posting's tf and its document's effective length (the term's idf is one number), so a term has few
 * distinct impacts — on 8.8M generated passages, 2 bytes a posting hold every code, where the float32 impacts were
 * half of the postings' 2.3 GB in memory. Exact by construction: a table holds the very float32 values the writer
 * computed, so every score is the same bits as with the impacts themselves.
 * Deterministic: a term's codes are numbered in the order its distinct impacts first occur in its postings (docs
 * ascending), so the bytes depend on the postings only, not on how they were gathered (runs, threads).
 * Width: 2 bytes when every term can have at most 65,536 distinct impacts, which the writer knows before it
 * writes a code from an upper bound (codeBytesFor); otherwise 4 (a corpus of long documents under a variant with
 * exact lengths): the same layout, the same search code.
 */

/** A posting's code array: 16-bit codes, or 32-bit when some term may have more distinct impacts. */
export type CodeArray = Uint16Array | Uint32Array;

/** Postings' impacts as codes into per-term tables (see the module comment). */
export interface ImpactCodes {
  codes: CodeArray;
  /** Term t's table is impactTable[tableStart[t] .. tableStart[t + 1]). */
  tableStart: Float64Array;
  impactTable: Float32Array;
}

/** The most distinct impacts a term may have under 2-byte codes. */
export const MAX_NARROW_CODES = 1 << 16;

/**
 * Bytes a code takes: 2 if every term has at most MAX_NARROW_CODES distinct impacts. A term has at most as many
 * as postings (df), and at most (its largest tf) × (the corpus's distinct effective lengths), since its impact
 * is a function of those two.
 */
export function codeBytesFor(df: Uint32Array, maxTf: Uint32Array, distinctLengths: number): 2 | 4 {
  for (let t = 0; t < df.length; t++) {
    if (df[t] > MAX_NARROW_CODES && maxTf[t] * distinctLengths > MAX_NARROW_CODES) return 4;
  }
  return 2;
}

/** How many distinct values `effectiveLength` holds (codeBytesFor's corpus-wide factor). */
export function countDistinct(values: Float64Array): number {
  return new Set(values).size;
}

const floatBits = new Float32Array(1);
const floatWord = new Uint32Array(floatBits.buffer);

/**
 * Encodes terms one after another: codes out through the caller's array, each term's distinct impacts appended
 * to one growing table. An open-addressing table keyed by the float32 bits finds a value's code; its slots are
 * stamped with the term's number, so nothing is cleared between terms.
 */
export class ImpactEncoder {
  private slotKey = new Uint32Array(1 << 10);
  private slotCode = new Uint32Array(1 << 10);
  private slotStamp = new Uint32Array(1 << 10);
  /** 32 − log2(slots): a key's slot is the top bits of its multiplicative hash. */
  private shift = 22;
  private stamp = 0;
  private table = new Float32Array(1 << 16);
  private tableLength = 0;
  private readonly starts: number[] = [0];

  constructor(private readonly maxCode: number) {}

  /**
   * Code `count` impacts of the next term, impacts[from ..] into codes[to ..].
   * @throws RangeError when the term has more distinct impacts than the code width holds
   */
  addTerm(impacts: Float32Array, from: number, count: number, codes: CodeArray, to: number): void {
    const most = Math.min(count, this.maxCode);
    if (most * 2 > this.slotKey.length) this.growSlots(most * 2);
    const mask = this.slotKey.length - 1;
    const shift = this.shift;
    const stamp = ++this.stamp;
    const first = this.tableLength;
    for (let i = 0; i < count; i++) {
      const impact = impacts[from + i];
      floatBits[0] = impact;
      const key = floatWord[0];
      let slot = Math.imul(key, 0x9e3779b1) >>> shift;
      while (this.slotStamp[slot] === stamp && this.slotKey[slot] !== key) slot = (slot + 1) & mask;
      if (this.slotStamp[slot] !== stamp) {
        const code = this.tableLength - first;
        if (code >= this.maxCode) throw new RangeError(`impact codes: a term has more than ${this.maxCode} distinct impacts`);
        this.slotStamp[slot] = stamp;
        this.slotKey[slot] = key;
        this.slotCode[slot] = code;
        if (this.tableLength === this.table.length) {
          const grown = new Float32Array(this.table.length * 2);
          grown.set(this.table);
          this.table = grown;
        }
        this.table[this.tableLength++] = impact;
      }
      codes[to + i] = this.slotCode[slot];
    }
    this.starts.push(this.tableLength);
  }

  /** The tables of the terms added, in order. */
  finish(): { tableStart: Float64Array; impactTable: Float32Array } {
    return { tableStart: Float64Array.from(this.starts), impactTable: this.table.slice(0, this.tableLength) };
  }

  private growSlots(atLeast: number): void {
    let size = this.slotKey.length;
    while (size < atLeast) size *= 2;
    this.shift = 32 - Math.log2(size);
    this.slotKey = new Uint32Array(size);
    this.slotCode = new Uint32Array(size);
    this.slotStamp = new Uint32Array(size);
    this.stamp = 0;
  }
}

/**
 * Every term's codes from whole posting arrays (an index of format 1 or 2 opened, tests): 2-byte codes when every
 * term fits, else 4. `allocate` makes the code array (shared memory for an index searched on threads).
 */
export function encodeImpacts(
  starts: Float64Array,
  impacts: Float32Array,
  allocate: (bytes: 2 | 4, length: number) => CodeArray = (bytes, length) => (bytes === 2 ? new Uint16Array(length) : new Uint32Array(length)),
): ImpactCodes {
  const termCount = starts.length - 1;
  for (const bytes of [2, 4] as const) {
    const codes = allocate(bytes, impacts.length);
    const encoder = new ImpactEncoder(bytes === 2 ? MAX_NARROW_CODES : 2 ** 32);
    try {
      for (let t = 0; t < termCount; t++) encoder.addTerm(impacts, starts[t], starts[t + 1] - starts[t], codes, starts[t]);
    } catch (error) {
      if (bytes === 2 && error instanceof RangeError) continue;
      throw error;
    }
    return { codes, ...encoder.finish() };
  }
  throw new Error('unreachable');
}
