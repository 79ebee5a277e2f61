/**
 * IEEE 754 binary16 ("half", NumPy float16, safetensors F16) to a JavaScript number. Layout of the 16 bits, most
 * significant first: sign (1) | exponent (5, bias 15) | fraction (10).
 *
 *   exponent 0        zero or subnormal: (−1)^sign × fraction × 2^−24
 *   exponent 1..30    normal:            (−1)^sign × (1 + fraction / 1024) × 2^(exponent − 15)
 *   exponent 31       fraction 0: ±Infinity; otherwise NaN
 *
 * Every half is exactly representable as a float32, so the conversion is exact. The speed trick, in one sentence:
 * there are only 65,536 halves, so rows are decoded through a table of all of them built once (256 KiB).
 */

/** The value of the half with bits `bits` (0..0xffff), exactly. */
export function float16BitsToNumber(bits: number): number {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffff) throw new RangeError(`float16 bits ${bits} outside 0..0xffff`);
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

let table: Float32Array | undefined;

/** All 65,536 halves as float32, indexed by their bits (built on first use). */
export function float16Table(): Float32Array {
  if (table === undefined) {
    const built = new Float32Array(0x10000);
    for (let bits = 0; bits <= 0xffff; bits++) built[bits] = float16BitsToNumber(bits);
    table = built;
  }
  return table;
}
